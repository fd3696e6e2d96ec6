"""The CLIP lab: search with relevance feedback, zero-shot labels, the similarity matrix,
localisation, training a CLIP live, and video frames. A thin shell: each tab is a module
of ``ui.clip_lab``, and the work is in ``tutor.clip``."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))  # run as a file

import streamlit as st  # noqa: E402

from ui.clip_lab.labels import tab_labels  # noqa: E402
from ui.clip_lab.localize import tab_localize  # noqa: E402
from ui.clip_lab.search import tab_search  # noqa: E402
from ui.clip_lab.sidebar import model_sidebar  # noqa: E402
from ui.clip_lab.similarity import tab_similarity  # noqa: E402
from ui.clip_lab.train import tab_train  # noqa: E402
from ui.clip_lab.video import tab_video  # noqa: E402
from ui.resources import guarded, settings  # noqa: E402

with contextlib.suppress(Exception):  # already set by the app in some Streamlit versions
    st.set_page_config(page_title="Erica - CLIP lab", page_icon="🖼️", layout="wide")

TABS = ("Search", "Zero-shot labels", "Similarity matrix", "Localisation", "Train CLIP live",
        "Video frames")


def main() -> None:
    st.title("CLIP lab")
    st.caption("Images and text in one vector space: search, labels, similarity, "
               "localisation, feedback, and training a CLIP yourself.")
    config = guarded(settings)
    if config is None:
        return
    model = model_sidebar(config)
    search, labels, matrix, where, train, frames = st.tabs(TABS)
    with train:
        tab_train(config)
    if model is None:
        for tab in (search, labels, matrix, where, frames):
            with tab:
                st.info("Load a model first (see the sidebar).")
        return
    with search:
        tab_search(config, model)
    with labels:
        tab_labels(config, model)
    with matrix:
        tab_similarity(config, model)
    with where:
        tab_localize(config, model)
    with frames:
        tab_video(config, model)


main()
