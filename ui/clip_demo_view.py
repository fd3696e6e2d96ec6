"""Rendering a CLIP demonstration inside the chat (``/images``, ``/labels``, natural asks)."""

from __future__ import annotations

import streamlit as st

from tutor.clip.demo import ClipDemoResult, chat_demo, parse_request


def run_clip_demo(question: str, settings, image_bytes: bytes | None
                  ) -> ClipDemoResult | None:
    """:func:`chat_demo` behind a spinner: the first demo loads CLIP and indexes the demo
    pictures, which takes seconds."""
    if parse_request(question) is None and image_bytes is None:
        return None  # not a demo request: nothing slow to wait for
    with st.spinner("CLIP is looking at the pictures..."):
        return chat_demo(question, settings, image_bytes)


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
        if demo.image is not None:
            st.image(demo.image, caption="the image you uploaded", width=220)
        st.bar_chart({item.label: item.score for item in demo.results}, horizontal=True,
                     x_label="probability")
