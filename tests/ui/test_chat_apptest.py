"""The chat page under Streamlit's AppTest, with the real store and the real tiny model."""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT, erica_env

APP = str(ROOT / "ui" / "Chat.py")


def _app(env: dict[str, str], use_env) -> AppTest:
    use_env(env)
    st.cache_resource.clear()  # settings and tutor are cached per process
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception, at.exception
    return at


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def _slider(at: AppTest, label: str):
    return next(s for s in at.slider if s.label == label)


def test_layout_matches_the_reference(mini_store: Path, use_env):
    at = _app(erica_env(mini_store), use_env)
    assert at.title[0].value == "Erica - Your AI Tutor"
    assert "Introduction to AI course" in at.caption[0].value
    assert [s.label for s in at.slider] == ["Semantic search results", "Prerequisite depth",
                                            "Max concepts"]
    assert [s.value for s in at.slider] == [5, 2, 10]
    assert at.metric[0].label == "Concepts in ChromaDB" and at.metric[0].value == "15"
    assert any(b.label == "Clear Chat" for b in at.sidebar.button)
    assert at.chat_input[0].placeholder == "Ask a question about AI/ML..."


def test_welcome_examples_and_the_stated_limit(mini_store: Path, use_env):
    from knowledge.questions import MAX_QUESTION_CHARS

    at = _app(erica_env(mini_store), use_env)
    welcome = "\n".join(md.value for md in at.chat_message[0].markdown)
    assert "Erica" in welcome and f"{MAX_QUESTION_CHARS:,} characters" in welcome
    assert at.chat_input[0].proto.max_chars == MAX_QUESTION_CHARS
    examples = [b for b in at.button if b.key and b.key.startswith("example_")]
    assert len(examples) >= 3
    _button(at, "What is backpropagation?").click().run()
    assert not at.exception, at.exception
    assert [m["role"] for m in at.session_state["messages"]] == ["user", "assistant"]
    assert at.session_state["messages"][0]["content"] == "What is backpropagation?"
    assert not any(b.key and b.key.startswith("example_") for b in at.button)


def test_chat_answer_with_context_and_clear(mini_store: Path, use_env):
    at = _app(erica_env(mini_store), use_env)
    at.chat_input[0].set_value("What is CLIP and how is it used in computer vision?").run()
    assert not at.exception, at.exception
    assistant = [m for m in at.chat_message if m.name == "assistant"]
    assert len(assistant) == 1
    text = "\n".join(md.value for md in assistant[0].markdown)
    assert "# CLIP" in text and "## Prerequisites" in text and "## Next steps" in text
    expander = next(e for e in at.expander if e.label == "View Retrieved Context")
    checks, table = (d.value for d in expander.dataframe[:2])
    assert set(checks.columns) >= {"sentence", "verdict", "support", "closest card sentence"}
    assert len(checks) == len(at.session_state["messages"][-1]["checks"]) > 0
    assert "contrastive-learning" in list(table["id"]) and set(table["role"]) == {
        "match", "prerequisite"}
    assert any("digraph" in str(c.proto) for c in expander.get("graphviz_chart"))
    _button(at, "Clear Chat").click().run()
    assert not at.session_state["messages"]
    assert [m.name for m in at.chat_message] == ["assistant"]  # the welcome again


def test_sliders_reach_retrieval(mini_store: Path, use_env):
    at = _app(erica_env(mini_store), use_env)
    _slider(at, "Semantic search results").set_value(1)
    _slider(at, "Prerequisite depth").set_value(0)
    at.run()
    at.chat_input[0].set_value("What is breadth-first search?").run()
    retrieval = at.session_state["messages"][-1]["retrieval"]
    assert [c.id for c in retrieval.concepts] == ["breadth-first-search"]
    _slider(at, "Prerequisite depth").set_value(2)
    _slider(at, "Max concepts").set_value(2)
    at.run()
    at.chat_input[0].set_value("What is CLIP?").run()
    retrieval = at.session_state["messages"][-1]["retrieval"]
    assert len(retrieval.concepts) == 2 and retrieval.concepts[-1].id == "clip"


def test_missing_store_shows_the_fix(tmp_path: Path, use_env):
    at = _app(erica_env(tmp_path / "empty"), use_env)
    assert at.metric[0].value == "unavailable"
    assert any("erica kb build" in e.value for e in at.error)
    at.chat_input[0].set_value("What is CLIP?").run()
    assert not at.exception
    assert any("erica kb build" in e.value for e in at.error)


def test_bad_questions_show_messages(mini_store: Path, use_env):
    at = _app(erica_env(mini_store), use_env)
    at.chat_input[0].set_value("   ").run()
    assert not at.exception
    assert any("empty" in e.value for e in at.error)


def test_the_input_stops_at_the_tutors_limit(mini_store: Path, use_env):
    """The chat box holds at most the tutor's limit (the browser stops typing and pasting
    there; the server cuts what a client sends beyond it), and the welcome states it."""
    from knowledge.questions import MAX_QUESTION_CHARS

    at = _app(erica_env(mini_store), use_env)
    at.chat_input[0].set_value("x" * 100_000).run()
    assert not at.exception
    assert len(at.session_state["messages"][0]["content"]) == MAX_QUESTION_CHARS


def test_missing_model_shows_the_fix(mini_store: Path, tmp_path: Path, use_env):
    at = _app(erica_env(mini_store, ERICA_LLM_MODEL=str(tmp_path / "gone.gguf")), use_env)
    at.chat_input[0].set_value("What is CLIP?").run()
    assert not at.exception
    assert any("not found" in e.value and "ERICA_LLM_MODEL" in e.value for e in at.error), [
        e.value for e in at.error]


def test_images_command_shows_clip_results_and_a_lesson(mini_store: Path, use_env):
    at = _app(erica_env(mini_store, ERICA_CLIP_MODEL="mini-clip"), use_env)
    at.chat_input[0].set_value("/images red circles").run()
    assert not at.exception, at.exception
    assistant = [m for m in at.chat_message if m.name == "assistant"][0]
    assert any("CLIP demo" in md.value for md in assistant.markdown)
    assert len(assistant.get("image")) == 6  # the demo shows the six best pictures
    assert any("# CLIP" in md.value for md in assistant.markdown)


def test_labels_without_an_image_says_how(mini_store: Path, use_env):
    at = _app(erica_env(mini_store), use_env)
    at.chat_input[0].set_value("/labels cat, dog, car").run()
    assert not at.exception
    assert any("needs an image" in e.value for e in at.error)
