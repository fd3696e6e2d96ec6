"""Erica's chat page: ask a course question, get a streamed lesson and its context.

Run with ``erica ui`` (binds to 127.0.0.1 unless told otherwise).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a file by streamlit

import streamlit as st  # noqa: E402

from knowledge.common.errors import EricaError  # noqa: E402
from knowledge.questions import MAX_QUESTION_CHARS  # noqa: E402
from tutor.conversation import Conversation  # noqa: E402
from tutor.lesson import ANSWER_HEADING  # noqa: E402
from tutor.settings import settings_bounds  # noqa: E402
from ui import resources  # noqa: E402
from ui.clip_demo_view import run_clip_demo, show_clip_demo  # noqa: E402
from ui.context_view import show_retrieved_context  # noqa: E402
from ui.practice_view import check_yourself  # noqa: E402

st.set_page_config(page_title="Erica - Your AI Tutor", page_icon="🎓", layout="wide")


# What the tutor explains beside a CLIP demo (its cards are linked in the retrieved context).
DEMO_LESSONS = {
    "search": "How does CLIP find images that match a text query?",
    "labels": "How does CLIP do zero-shot classification with prompt templates?",
}


def _state() -> None:
    if "messages" not in st.session_state:
        st.session_state.messages = []
    if "conversation" not in st.session_state:
        st.session_state.conversation = Conversation(resources.settings().history_turns)


def _slider(label: str, name: str, help_text: str) -> int:
    """A slider over the setting's declared range, starting at its configured value."""
    lo, hi = settings_bounds(name)
    return st.slider(label, int(lo), int(hi), getattr(resources.settings(), name),
                     help=help_text)


def sidebar(state: resources.Loading) -> tuple[int, int, int]:
    s = resources.settings()
    with st.sidebar:
        st.header("Settings")
        k = _slider("Semantic search results", "semantic_results",
                    "How many concepts the semantic search returns.")
        depth = _slider("Prerequisite depth", "prerequisite_depth",
                        "How many steps back along the prerequisite graph to go.")
        cap = _slider("Max concepts", "max_concepts",
                      "The most concepts a lesson is built from.")
        st.header("Knowledge Graph Stats")
        if not state.course_ready.is_set():
            st.metric("Concepts in ChromaDB", "loading...")
        else:
            count = None if state.error else resources.guarded(
                lambda: state.tutor.retriever.concepts.count())
            st.metric("Concepts in ChromaDB", count if count is not None else "unavailable")
            if count is not None:
                edges = state.tutor.retriever.course.graph.number_of_edges()
                st.caption(f"{edges:,} prerequisite links")
        st.session_state.demo_image = st.file_uploader(
            "Image for /labels", type=["png", "jpg", "jpeg", "webp", "gif", "bmp"],
            help="Then type e.g. /labels cat, dog, car. /images red circles searches the "
            "demo pictures.")
        if st.button("Clear Chat", width="stretch"):
            st.session_state.messages = []
            st.session_state.conversation.clear()
            st.rerun()
        st.caption(f"Model: {s.llm_model} ({s.llm_backend})")
    return k, depth, cap


# Shown on an empty chat; a click asks the question.
EXAMPLES = (
    "How does A* search find the shortest path?",
    "What is backpropagation?",
    "Co je CLIP a k čemu se používá?",
    "Что такое обучение с подкреплением?",
    "/images red circles",
)


def welcome() -> None:
    """Welcome text and clickable example questions (only while the chat is empty)."""
    with st.chat_message("assistant"):
        st.markdown(
            "Hello, I am **Erica**, the tutor of the *Introduction to AI* course. Ask me about "
            "any concept of the course: I explain it from the course cards, with what it "
            "builds on and what to learn next. You can write in English, Czech or Russian. "
            f"Questions may be up to {MAX_QUESTION_CHARS:,} characters.\n\n"
            "Try one of these:")
        for i, example in enumerate(EXAMPLES):
            if st.button(example, key=f"example_{i}"):
                st.session_state.pending_question = example
                st.rerun()
        st.caption("`/images red circles` searches the demo pictures with CLIP; upload an "
                   "image in the sidebar and type `/labels cat, dog, car` to label it.")


def loading_notice(state: resources.Loading) -> None:
    """Say what is still loading (the page reruns each second until it is done)."""
    if state.error is not None:
        resources.show_error(state.error)
    elif not state.done.is_set():
        st.info(state.message(), icon="⏳")


def show_history(tutor) -> None:
    for i, msg in enumerate(st.session_state.messages):
        with st.chat_message(msg["role"]):
            if msg.get("demo") is not None:
                show_clip_demo(msg["demo"])
            st.markdown(msg["content"])
            if msg.get("retrieval") is not None:
                with st.expander("View Retrieved Context"):
                    show_retrieved_context(tutor.retriever.course, msg["retrieval"], key=str(i),
                                           checks=msg.get("checks", []))
            if msg.get("check"):
                check_yourself(tutor.retriever.course, msg["retrieval"], key=str(i))


def _error_reply(status, exc: EricaError) -> None:
    status.update(label="Could not answer", state="error")
    resources.show_error(exc)
    st.session_state.messages.append(
        {"role": "assistant", "content": f"⚠️ {exc.cause}\n\n{exc.fix}"})


def stream_lesson(lesson) -> dict:
    """Show the card sections at once and fill in the model's checked answer above them.

    The reply is saved in the chat history before the model starts, and kept up to date, so
    a question sent while this one streams keeps both answers.
    """
    reply = {"role": "assistant", "content": lesson.card_markdown(),
             "retrieval": lesson.retrieval, "checks": []}
    st.session_state.messages.append(reply)
    if lesson.cards is None:
        st.markdown(reply["content"])
        return reply
    st.markdown(f"# {lesson.cards.title}\n\n## {ANSWER_HEADING}")
    answer_box = st.empty()
    answer_box.markdown("_The model is writing its answer; each sentence appears once it is "
                        "checked against the course notes..._")
    st.markdown(lesson.cards.markdown())
    lesson.mark_shown()
    pieces = lesson.answer_pieces()
    finished = False
    try:
        for _ in pieces:
            answer_box.markdown(lesson.answer)
            reply["content"] = lesson.markdown()
        finished = True
    finally:
        if not finished:  # a new question interrupted this one (Streamlit reran the page)
            lesson.stop()
            pieces.close()
            lesson.answer += "\n\n_(interrupted: you asked another question)_"
        reply["content"] = lesson.markdown()
        reply["checks"] = [c.to_json() for c in lesson.checks]
    answer_box.markdown(lesson.answer or "_(no answer from the model)_")
    if lesson.error is not None:
        resources.show_error(lesson.error)
    return reply


def answer(tutor, question: str, k: int, depth: int, cap: int) -> None:
    st.session_state.messages.append({"role": "user", "content": question})
    with st.chat_message("user"):
        st.markdown(question)
    with st.chat_message("assistant"):
        upload = st.session_state.get("demo_image")
        try:
            demo = run_clip_demo(question, resources.settings(),
                                 upload.getvalue() if upload is not None else None)
        except EricaError as exc:
            resources.show_error(exc)
            st.session_state.messages.append(
                {"role": "assistant", "content": f"⚠️ {exc.cause}\n\n{exc.fix}"})
            return
        if demo is not None:
            show_clip_demo(demo)
        status = st.status("Retrieving course concepts...", expanded=False)
        try:
            lesson = tutor.ask(DEMO_LESSONS[demo.kind] if demo else question,
                               st.session_state.conversation, k=k, depth=depth,
                               max_concepts=cap,
                               on_status=lambda m: status.update(label=m, state="running"))
            reply = stream_lesson(lesson)
        except EricaError as exc:
            _error_reply(status, exc)
            return
        reply["demo"] = demo
        t = lesson.timings
        if not lesson.covered:
            label = "Not covered by the course"
        else:
            shown = sum(c.shown for c in lesson.checks)
            label = (f"Answered from the course · cards in {t.first_content_s:.1f} s · "
                     f"{shown} of {len(lesson.checks)} model sentences checked and shown")
            if t.total_s:
                label += f" · done in {t.total_s:.0f} s"
        status.update(label=label, state="complete")
        with st.expander("View Retrieved Context"):
            show_retrieved_context(tutor.retriever.course, lesson.retrieval, key="new",
                                   checks=reply["checks"])
        reply["check"] = lesson.covered  # a "Check yourself" question under the lesson
        if lesson.covered:
            check_yourself(tutor.retriever.course, lesson.retrieval, key=str(
                next(i for i, m in enumerate(st.session_state.messages) if m is reply)))
    st.session_state.conversation.add(question, lesson.answer or reply["content"])


def main() -> None:
    _state()
    st.title("Erica - Your AI Tutor")
    st.caption("Ask questions about AI/ML concepts from the Introduction to AI course")
    state = resources.loading()
    k, depth, cap = sidebar(state)
    pending = st.session_state.pop("pending_question", None)
    question = st.chat_input("Ask a question about AI/ML...",  # pinned to the bottom
                             max_chars=MAX_QUESTION_CHARS) or pending
    if not st.session_state.messages and not question:
        welcome()
    show_history(state.tutor)
    loading_notice(state)
    if question:
        resources.wait_for_course()
        answer(state.tutor, question, k, depth, cap)
    elif not state.done.is_set():
        state.start()  # the page is drawn: now load
        time.sleep(1)  # poll: rerun until loading is done (a new question interrupts this)
        st.rerun()


main()
