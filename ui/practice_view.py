"""Practice in the UI: the course cards, the progress database, the learner of this browser
session, and one question as a form (the Practice page and the chat's "Check yourself")."""

from __future__ import annotations

import logging

import streamlit as st

from knowledge.cards import load_cards
from knowledge.common.errors import EricaError
from knowledge.course import Course
from tutor.practice.progress import ProgressStore, check_learner
from tutor.practice.session import Progress, answer, load_progress
from ui import resources

log = logging.getLogger(__name__)
LEARNER_KEY = "learner"  # the browser session's learner name (kept across pages)
NOT_AUTH = (
    "Your name only keeps your answers apart from other learners on this machine. It "
    "is **not** a login or a password: anyone who types the same name sees and adds to "
    "the same progress. Your answers stay in this machine's data folder."
)


@st.cache_resource(show_spinner=False)
def course() -> Course:
    """The course from its cards (no store or model needed), loaded once per process."""
    from tutor.practice.questions import course_from_cards

    return course_from_cards(load_cards(resources.settings().course_dirs))


@st.cache_resource(show_spinner=False)
def store() -> ProgressStore:
    return ProgressStore.in_data_dir(resources.settings().data_dir)


def learner() -> str | None:
    return st.session_state.get(LEARNER_KEY)


def progress(name: str) -> Progress | None:
    """The learner's progress, or None after showing why it cannot be read."""
    return resources.guarded(
        load_progress, store(), name, course().graph, resources.settings().mastery_threshold
    )


def learner_box() -> str | None:
    """Ask for the learner name (once per browser session); returns the valid name."""
    typed = st.text_input(
        "Your name", value=learner() or "", max_chars=60, placeholder="e.g. Ana", help=NOT_AUTH
    )
    st.caption(NOT_AUTH)
    if not typed.strip():
        st.session_state.pop(LEARNER_KEY, None)
        return None
    try:
        name = check_learner(typed)
    except EricaError as exc:
        resources.show_error(exc)
        return None
    st.session_state[LEARNER_KEY] = name
    return name


def question_form(question, key: str, name: str | None, client: str) -> tuple[bool, str] | None:
    """One question as a form. On submit the answer is checked and stored (when ``name``);
    returns (right, feedback), or None when nothing valid was sent in this run."""
    labels = [f"{i}. {option}" for i, option in enumerate(question.options, 1)]
    with st.form(f"q_{key}"):
        st.markdown(question.stem)
        picked = st.radio("Your answer", labels, index=None, key=f"choice_{key}")
        sent = st.form_submit_button("Check answer")
    if not sent:
        return None
    if picked is None:
        st.warning("Pick one of the options first.")
        return None
    choice = labels.index(picked)
    if name is not None:
        result = resources.guarded(answer, store(), name, question, choice, client=client)
        if result is not None:
            return result.correct, result.feedback
        st.caption("This answer was not saved.")  # the database failed; the error is shown
    return question.check(choice), question.feedback(choice)


def show_feedback(outcome: tuple[bool, str]) -> None:
    correct, text = outcome
    (st.success if correct else st.error)(text)


def client_id() -> str:
    """A random id of this browser session, stored with its answers (which tab sent what)."""
    import uuid

    return st.session_state.setdefault("practice_client", uuid.uuid4().hex[:12])


def check_yourself(course: Course | None, retrieval, key: str) -> None:
    """After a lesson: its main concept's prerequisites the learner has not mastered, then one
    question on the concept. Nothing here can break the lesson above it."""
    matched = getattr(retrieval, "matched", None)
    if course is None or not matched:
        return
    cid = matched[0].id
    with st.expander("Check yourself"):
        name = learner()
        if name is None:
            st.caption("Set your name on the Practice page to keep your progress.")
        else:
            mine = resources.guarded(
                load_progress, store(), name, course.graph, resources.settings().mastery_threshold
            )
            weak = [
                p
                for p in course.graph.predecessors(cid)
                if mine is not None and not mine.tracker.mastered(p)
            ]
            if weak:
                st.markdown(
                    "Not mastered yet, and needed here: "
                    + ", ".join(f"**{course.cards[p].name}**" for p in weak)
                    + " (practise them on the "
                    "Practice page)."
                )
        from tutor.practice.questions import questions_for

        questions = resources.guarded(questions_for, course, [cid], per_concept=3)
        if not questions:
            st.caption("The cards give no question for this concept.")
            return
        # "Which concept is described by ..." quotes the summary the lesson just showed:
        # right under the lesson it tests reading, not understanding; ask another kind.
        questions.sort(key=lambda q: q.kind == "choice")
        outcomes = st.session_state.setdefault("check_outcomes", {})
        form_key = f"chat_{key}"
        if form_key not in outcomes:
            outcome = question_form(questions[0], form_key, name, client_id())
            if outcome is not None:
                outcomes[form_key] = outcome
        if form_key in outcomes:
            show_feedback(outcomes[form_key])
