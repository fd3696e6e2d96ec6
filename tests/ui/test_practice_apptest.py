"""The Practice page under Streamlit's AppTest: the real course cards, a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from tutor.practice.progress import ProgressStore
from tutor.settings import SHIPPED_COURSE

PAGE = str(ROOT / "ui" / "pages" / "3_Practice.py")


def _page(tmp_path: Path, use_env, name: str | None = "Ana") -> AppTest:
    use_env({"ERICA_DATA_DIR": str(tmp_path), "ERICA_COURSE_DIRS": str(SHIPPED_COURSE)})
    st.cache_resource.clear()
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    if name is not None:
        at.text_input[0].set_value(name).run()
        assert not at.exception, at.exception
    return at


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def _answer(at: AppTest, right: bool) -> None:
    run = at.session_state["practice"]
    q = run["questions"][run["index"]]
    pick = q.answer if right else (q.answer + 1) % len(q.options)
    radio = next(r for r in at.radio if r.label == "Your answer")
    radio.set_value(radio.options[pick])
    _button(at, "Check answer").click().run()
    assert not at.exception, at.exception


def test_name_first_and_it_is_not_a_login(tmp_path: Path, use_env):
    at = _page(tmp_path, use_env, name=None)
    assert at.title[0].value == "Practice and progress"
    assert any("Type your name" in i.value for i in at.info)
    assert any("not** a login" in c.value for c in at.caption)
    at.text_input[0].set_value("Robert'); DROP TABLE answers;--").run()
    assert not at.exception
    assert any("characters other than letters" in e.value for e in at.error)


def test_practise_record_and_see_progress(tmp_path: Path, use_env):
    at = _page(tmp_path, use_env)
    # a fresh learner starts where the graph starts: suggestions are starting points
    assert "a starting point" in at.selectbox[0].value
    at.text_input[1].set_value("breadth-first search").run()
    assert at.selectbox[0].value.startswith("Breadth-first search")
    assert any("not mastered" in i.value and "Frontier" in i.value for i in at.info)
    _button(at, "Start practising").click().run()
    run = at.session_state["practice"]
    first = run["questions"][0].concept_id
    assert first != "breadth-first-search"  # a prerequisite comes first
    assert run["questions"][-1].concept_id == "breadth-first-search"
    _button(at, "Check answer").click().run()  # nothing picked
    assert any("Pick one of the options" in w.value for w in at.warning)
    _answer(at, right=True)
    assert any("Right" in s.value for s in at.success)
    _button(at, "Next question").click().run()
    _answer(at, right=False)
    assert any("Not quite" in e.value for e in at.error)
    answers = ProgressStore(tmp_path / "progress.sqlite3").answers("Ana")
    assert [a.correct for a in answers] == [True, False]
    assert answers[0].concept_id == first
    assert at.metric[0].label == "Concepts mastered"
    table = at.dataframe[0].value
    assert first in list(table["id"])


def test_export_and_delete_with_confirmation(tmp_path: Path, use_env):
    store = ProgressStore(tmp_path / "progress.sqlite3")
    store.record(
        "Ana",
        question_id="q",
        concept_id="queue-data-structure",
        kind="choice",
        choice=0,
        options=4,
        correct=True,
    )
    at = _page(tmp_path, use_env)
    download = at.get("download_button")[0]
    assert download.proto.label == "Export my data (JSON)"
    data = json.loads(json.dumps(store.export("Ana")))  # what the button serves
    assert data["answers"][0]["concept_id"] == "queue-data-structure"
    _button(at, "Delete all my answers").click().run()
    assert any("Type your name exactly" in w.value for w in at.warning)
    assert len(store.answers("Ana")) == 1
    next(t for t in at.text_input if t.label == "Type your name to confirm").set_value("ana")
    _button(at, "Delete all my answers").click().run()
    assert not at.exception
    assert any("Deleted 1 answers" in s.value for s in at.success)
    assert store.answers("Ana") == []


@pytest.mark.catalogue(
    case="practice page: damaged progress database",
    expect="error with the fix, no traceback; other pages unaffected",
)
def test_damaged_database_shows_the_fix_not_a_traceback(tmp_path: Path, use_env):
    (tmp_path / "progress.sqlite3").write_bytes(b"garbage, not SQLite " * 100)
    at = _page(tmp_path, use_env)
    assert not at.exception
    assert any("damaged" in e.value and "mv " in e.value for e in at.error)
    assert any("work without the progress database" in c.value for c in at.caption)


def test_check_yourself_after_a_lesson(mini_store: Path, use_env):
    """The chat's "Check yourself": the lesson's concept, its prerequisites the learner has
    not mastered, and one question whose answer is stored for the session's learner."""
    from tests.conftest import erica_env

    use_env(erica_env(mini_store))
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "ui" / "Chat.py"), default_timeout=180)
    at.session_state["learner"] = "Chat Tester"
    at.run()
    at.chat_input[0].set_value("What is breadth-first search?").run()
    assert not at.exception, at.exception
    check = next(e for e in at.expander if e.label == "Check yourself")
    assert any("Not mastered yet" in md.value for md in check.markdown)
    # not "which concept does this card sentence describe": the lesson above just quoted it
    assert not any("card sentence describe" in md.value for md in check.markdown)
    radio = check.radio[0]
    radio.set_value(radio.options[0])
    next(b for b in check.button if b.label == "Check answer").click().run()
    assert not at.exception, at.exception
    check = next(e for e in at.expander if e.label == "Check yourself")
    assert check.success or check.error  # the feedback, right or not
    answers = ProgressStore(mini_store / "progress.sqlite3").answers("Chat Tester")
    assert len(answers) == 1 and answers[0].concept_id == "breadth-first-search"
