"""Search tab: text -> image and image -> image search, with relevance feedback.

The 👍 ticks are widgets keyed by a *generation* number: Bayes update, Reset and a new
search start a new generation, so every tick is cleared (a widget's own key cannot be reset
from the server once the browser holds its value).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from knowledge.common.errors import EricaError
from tutor.settings import Settings
from ui.clip_lab.common import inside_roots, read_upload, score_caption, show_image
from ui.resources import guarded


def _add_images(settings: Settings, model) -> None:
    from tutor.clip import index

    with st.expander("Add images to a set"):
        uploads = st.file_uploader("Upload images (added to the set 'uploads')",
                                   accept_multiple_files=True, key="search_uploads")
        if st.button("Index the uploads", key="index_uploads") and uploads:
            saved, problems = [], []
            for upload in uploads:
                try:
                    saved.append(index.save_upload(settings, read_upload(upload, settings),
                                                   upload.name))
                except EricaError as exc:
                    problems.append(f"{upload.name}: {exc.cause}")
            for problem in problems:
                st.warning(f"skipped {problem}")
            if saved:
                report = guarded(index.index_files, settings, model, "uploads", saved,
                                 progress=False, max_mb=settings.upload_max_mb)
                if report:
                    st.success(report.summary())
        folder = st.text_input("…or a folder on the server (inside the allowed roots)",
                               key="index_folder")
        set_name = st.text_input("Set name", value="my-images", key="index_set_name")
        if st.button("Index the folder", key="index_folder_btn"):
            def run() -> None:
                if not folder.strip():
                    st.warning("Type a folder path first.")
                    return
                path = inside_roots(settings, folder)
                bar = st.progress(0.0, text="indexing")
                report = index.index_folder(
                    settings, model, set_name, path, progress=False,
                    on_progress=lambda d, t: bar.progress(d / max(t, 1), text=f"{d}/{t}"))
                st.success(report.summary())
                for path_, reason in report.skipped:
                    st.warning(f"skipped {Path(path_).name}: {reason}")

            guarded(run)


def _start(settings: Settings, model, set_name: str, text: str, k: int, image=None,
           label: str = "") -> None:
    """A new feedback session (and a new generation of ticks)."""
    from tutor.clip import search

    with st.spinner("Searching…"):
        session = search.FeedbackSession(settings, model, set_name,
                                         text="" if image is not None else text,
                                         image=image, display=int(k), label=label)
    st.session_state.fb = session
    _next_generation()


def _next_generation() -> None:
    st.session_state.fb_gen = st.session_state.get("fb_gen", 0) + 1


def _show_gone(settings: Settings, model, session) -> None:
    from tutor.clip import index, search

    st.warning(search.gone_message(session.set_name, session.gone))
    if st.button("Remove deleted images from the set", key="fb_prune"):
        removed = guarded(index.prune_missing, settings, model, session.set_name)
        if removed is not None:
            st.session_state.fb_notice = (f"Removed {removed} deleted image(s) from set "
                                          f"{session.set_name!r}. Search again.")
            st.session_state.pop("fb", None)
            st.rerun()


def tab_search(settings: Settings, model) -> None:
    from tutor.clip import sets
    from tutor.clip.images import decode_bytes

    st.subheader("Text → image and image → image search")
    _add_images(settings, model)
    known = guarded(sets.list_sets, settings, model) or []
    names = sorted({sets.DEMO_SET, *(s.name for s in known)})
    cols = st.columns([2, 3, 1])
    set_name = cols[0].selectbox("Image set", names, index=names.index(sets.DEMO_SET),
                                 key="search_set")
    text = cols[1].text_input("Find images of…", value="", key="search_text",
                              placeholder="red circles, a horse, a cup of coffee")
    k = cols[2].number_input("Results", 4, 48, 12, step=4, key="search_k")
    query_image = st.file_uploader("…or search with an image (image → image)",
                                   key="search_query_image")
    if st.button("Search", type="primary", key="search_go"):
        if query_image is not None and not text:
            guarded(lambda: _start(settings, model, set_name, "", k, decode_bytes(
                read_upload(query_image, settings), query_image.name).image,
                f"images like {query_image.name}"))
        else:
            guarded(_start, settings, model, set_name, text, k)
    similar = st.session_state.pop("search_similar", None)
    if similar:
        path = Path(similar)
        guarded(_start, settings, model, set_name, "", k, path, f"images like {path.name}")
    notice = st.session_state.pop("fb_notice", None)
    if notice:
        st.success(notice)
    session = st.session_state.get("fb")
    if session is None:
        st.info("Type what to look for and press Search (the demo set is built on first "
                "use).")
        return
    _results(settings, model, session)


def _results(settings: Settings, model, session) -> None:
    gen = st.session_state.get("fb_gen", 0)
    st.caption(f"Query: {session.label!r} · set {session.set_name!r} · "
               f"{len(session.candidates)} candidates · model {model.label}")
    if session.gone:
        _show_gone(settings, model, session)
    shown = session.shown()
    cols = st.columns(4)
    liked = []
    for i, hit in enumerate(shown):
        with cols[i % 4]:
            show_image(hit.path, score_caption(hit, feedback=session.rounds > 0))
            if hit.caption:
                st.caption(hit.caption)
            if st.checkbox("👍 Like", key=f"like_{gen}_{hit.id}"):
                liked.append(hit.id)
            if st.button("More like this", key=f"similar_{hit.id}",
                         help="image → image search with this result as the query"):
                st.session_state.search_similar = hit.path
                st.rerun()
    c1, c2, c3 = st.columns([1, 1, 3])
    if c1.button("Bayes update", key="fb_update",
                 help="Re-rank with the PicHunter/SOMHunter rule (sigma = 0.1)"):
        if not liked:
            st.warning("Tick 👍 Like under at least one picture first: nothing was changed.")
        elif guarded(session.like, liked, [h.id for h in shown]) is not None:
            _next_generation()
            st.rerun()
    if c2.button("Reset", key="fb_reset"):
        session.reset()
        _next_generation()
        st.rerun()
    c3.caption(f"Feedback rounds: {session.rounds}. Scores after feedback are the Bayes "
               "scores (max = 1); before, exp(-(1 - cos)/0.1) normalised.")
