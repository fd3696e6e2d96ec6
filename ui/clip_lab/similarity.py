"""Similarity matrix tab: cosines of demo images against their captions."""

from __future__ import annotations

import streamlit as st

from tutor.settings import Settings
from ui.clip_lab.charts import heatmap_chart
from ui.resources import guarded


def tab_similarity(settings: Settings, model) -> None:
    from tutor.clip import similarity

    st.subheader("Image × caption similarity matrix")
    n = st.slider("Pairs", 2, 8, 5, key="sim_n")
    pairs = guarded(similarity.demo_pairs, settings, n)
    if not pairs:
        return
    paths, captions = pairs
    thumbs = st.columns(len(paths))
    for col, path in zip(thumbs, paths, strict=True):
        col.image(str(path), caption=path.name, width="stretch")
    edited = st.text_area("Captions (one per line, in the order of the images)",
                          value="\n".join(captions), key=f"sim_captions_{n}")
    if not st.button("Compute the matrix", type="primary", key="sim_go"):
        return
    lines = [line for line in edited.splitlines() if line.strip()]
    result = guarded(similarity.similarity_matrix, model, list(paths), lines)
    if not result:
        return
    rows = [p.name for p in paths]
    st.altair_chart(heatmap_chart(result.matrix, rows, result.captions,
                                  "cosine similarity (diagonal = matching pairs)"),
                    width="content")
    st.caption(f"The diagonal is the row maximum for {result.diagonal_hits} of "
               f"{len(rows)} images.")
