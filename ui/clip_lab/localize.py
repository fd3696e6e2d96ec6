"""Localisation tab: where in the image a phrase fits best, as a heatmap with its legend."""

from __future__ import annotations

import numpy as np
import streamlit as st

from tutor.settings import Settings
from ui.clip_lab.common import pick_image
from ui.resources import guarded


def legend_image(width: int = 360, height: int = 18):
    """The heatmap's colour ramp, left (fits least) to right (fits best)."""
    from PIL import Image

    from tutor.clip.localize import colormap

    ramp = np.tile(np.linspace(0.0, 1.0, width), (height, 1))
    return Image.fromarray(colormap(ramp), "RGB")


def tab_localize(settings: Settings, model) -> None:
    from tutor.clip import localize

    st.subheader("Where in the image does a phrase fit best?")
    image = pick_image(settings, "loc")
    phrase = st.text_input("Phrase", value="a cat", key="loc_phrase")
    patch = st.slider("Patch size (share of the shorter side)", 0.2, 0.8, 0.4, 0.05,
                      key="loc_patch")
    if not (st.button("Locate", type="primary", key="loc_go") and image is not None):
        return
    result = guarded(localize.localize, model, image, phrase, patch_fraction=patch)
    if not result:
        return
    c1, c2 = st.columns(2)
    c1.image(result.image, caption="image", width="stretch")
    x0, y0, x1, y1 = result.best_box
    c2.image(localize.overlay(result), caption=f"heatmap of {phrase!r} "
             f"({len(result.boxes)} overlapping patches; white box = best patch, "
             f"x {x0}-{x1}, y {y0}-{y1})", width="stretch")
    low, high = float(np.min(result.scores)), float(np.max(result.scores))
    c2.image(legend_image(), width="stretch")
    c2.caption(f"Colour legend: dark blue = fits {phrase!r} least (cosine {low:.3f}) → "
               f"cyan → yellow → red = fits best (cosine {high:.3f}). Each pixel shows the "
               "average cosine of the patches covering it, scaled to this image.")
