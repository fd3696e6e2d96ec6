"""Rendering a CLIP demonstration inside the chat (``/images``, ``/labels``, natural asks)."""

from __future__ import annotations

import streamlit as st

from tutor.clip.demo import ClipDemoResult


def show_clip_demo(demo: ClipDemoResult) -> None:
    st.markdown(f"**CLIP demo** · model `{demo.model}`"
                + (f" · image set `{demo.image_set}`" if demo.image_set else ""))
    if demo.explanation:
        st.caption(demo.explanation)
    for note in demo.notes:
        st.warning(note)
    if demo.kind == "search":
        columns = st.columns(min(3, max(1, len(demo.results))))
        for i, item in enumerate(demo.results):
            with columns[i % len(columns)]:
                when = f" @ {item.timestamp:.1f} s" if item.timestamp is not None else ""
                label = item.caption or item.label
                st.image(item.image_path, caption=f"{i + 1}. cos {item.score:.3f}{when} · {label}")
    else:
        st.bar_chart({item.label: item.score for item in demo.results}, horizontal=True,
                     x_label="probability")
