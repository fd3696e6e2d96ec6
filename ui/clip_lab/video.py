"""Video frames tab: sample a video's frames, index them, search them by text."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import streamlit as st

from tutor.settings import Settings
from ui.clip_lab.common import inside_roots, read_upload, score_caption, show_image
from ui.resources import guarded


def _video_path(settings: Settings, upload, path_text: str) -> tuple[Path, str] | None:
    """The video to index (an upload is kept under the data folder) and its name."""
    if upload is not None:
        data = read_upload(upload, settings)
        folder = Path(settings.data_dir) / "clip" / "videos"
        folder.mkdir(parents=True, exist_ok=True)
        suffix = Path(upload.name).suffix.lower() or ".mp4"
        path = folder / f"{hashlib.sha256(data).hexdigest()[:16]}{suffix}"
        if not path.exists():
            path.write_bytes(data)
        return path, Path(upload.name).stem
    if path_text.strip():
        path = inside_roots(settings, path_text)
        return path, path.stem
    return None


def set_name_for(video_name: str) -> str:
    name = ("video-" + re.sub(r"[^A-Za-z0-9_-]+", "-", video_name).strip("-_"))[:60]
    return name.strip("-_") or "video"


def tab_video(settings: Settings, model) -> None:
    from tutor.clip import search, video

    st.subheader("Search the frames of a video")
    upload = st.file_uploader("Upload a video", type=["mp4", "webm", "mkv", "mov", "avi"],
                              key="video_upload")
    path_text = st.text_input("…or a video path on the server (inside the allowed roots)",
                              key="video_path")
    every = st.slider("Sample a frame every N seconds", 0.5, 10.0, 1.0, 0.5, key="video_every")
    if st.button("Sample and index", key="video_go"):
        def run() -> None:
            found = _video_path(settings, upload, path_text)
            if found is None:
                st.warning("Upload a video or give a path.")
                return
            path, name = found
            set_name = set_name_for(name)
            with st.spinner("Decoding and embedding frames…"):
                report = video.index_video(settings, model, set_name, path, every_s=every,
                                           progress=False)
            st.session_state.video_set = set_name
            st.success(report.summary())

        guarded(run)
    set_name = st.session_state.get("video_set")
    if not set_name:
        return
    query = st.text_input("Find frames showing…", key="video_query")
    if st.button("Search frames", key="video_search"):
        hits = guarded(search.search_text, settings, model, set_name, query, 8)
        if hits is None:
            return
        if hits.gone:
            st.warning(search.gone_message(set_name, hits.gone))
        cols = st.columns(4)
        for i, hit in enumerate(hits):
            with cols[i % 4]:
                show_image(hit.path, score_caption(hit))
