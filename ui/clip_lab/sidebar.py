"""The lab's sidebar: which CLIP model is active, and how good it is."""

from __future__ import annotations

import streamlit as st

from tutor.settings import Settings
from ui.clip_lab.common import get_model
from ui.resources import guarded


def model_sidebar(settings: Settings):
    """Choose and load the model; returns it, or None (with a message) if it cannot load."""
    from tutor.clip.models import MINI_CLIP, REGISTRY

    with st.sidebar:
        st.header("CLIP model")
        options = [settings.clip_model] + ([MINI_CLIP] if settings.clip_model != MINI_CLIP
                                           else [])
        choice = st.selectbox("Model", options, key="clip_model_choice",
                              help="mini-clip ships with Erica; other models need their "
                              "weights once (`erica clip get-weights`).")
        pretrained = settings.clip_pretrained if choice == settings.clip_model else ""
        model = guarded(get_model, choice, pretrained)
        if model is None:
            st.warning("No CLIP model loaded: the tabs need one.")
            return None
        st.success(f"Active model: **{model.label}**")
        info = REGISTRY.get(model.name)
        st.caption(info.description if info else model.description)
        zs = model.meta.get("zero_shot") or {}
        if zs.get("held_out_top1") is not None:
            st.caption(f"Zero-shot top-1 on colour-shape pairs never seen in training: "
                       f"{zs['held_out_top1']:.0%} (chance {zs['chance']:.1%}).")
        return model
