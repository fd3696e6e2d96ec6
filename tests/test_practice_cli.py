"""``erica practice`` with the real course cards and a real progress file under tmp_path."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tutor.cli import main
from tutor.practice.progress import ProgressStore


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ERICA_DATA_DIR", str(tmp_path))
    return tmp_path


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def _answers(data_dir: Path, learner: str = "Ana"):
    return ProgressStore(data_dir / "progress.sqlite3").answers(learner)


def test_json_prints_questions_with_keys_and_stores_nothing(data_dir: Path, capsys):
    assert (
        main(
            [
                "practice",
                "--concept",
                "breadth-first-search",
                "--learner",
                "Ana",
                "--json",
                "--count",
                "4",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["concepts"][-1] == "breadth-first-search"
    assert out["concepts"][0] != "breadth-first-search"  # prerequisites first
    assert len(out["questions"]) == 4
    for q in out["questions"]:
        assert {"id", "concept_id", "kind", "stem", "options", "answer", "proof"} <= set(q)
        assert 0 <= q["answer"] < len(q["options"])
    assert _answers(data_dir) == []


def test_interactive_answers_are_stored_with_feedback(data_dir: Path, monkeypatch, capsys):
    main(
        [
            "practice",
            "--concept",
            "breadth-first-search",
            "--learner",
            "Ana",
            "--json",
            "--count",
            "3",
        ]
    )
    keys = [q["answer"] for q in json.loads(capsys.readouterr().out)["questions"]]
    # empty and out-of-range answers are asked again; then right, wrong, right
    wrong = (keys[1] + 1) % 2
    _stdin(monkeypatch, f"\n99\n{keys[0] + 1}\n{wrong + 1}\n{keys[2] + 1}\n")
    assert (
        main(["practice", "--concept", "breadth-first-search", "--learner", "Ana", "--count", "3"])
        == 0
    )
    out = capsys.readouterr().out
    assert "no answer given" in out and "'99' is not one of the options" in out
    assert "Right" in out and "Not quite" in out and "Study next:" in out
    assert [a.correct for a in _answers(data_dir)] == [True, False, True]
    assert {a.client for a in _answers(data_dir)} == {"cli"}


def test_end_of_input_stops_cleanly(data_dir: Path, monkeypatch, capsys):
    _stdin(monkeypatch, "")
    assert main(["practice", "--learner", "Ana", "--count", "2"]) == 0
    assert "(stopped)" in capsys.readouterr().out
    assert _answers(data_dir) == []


def test_progress_export_and_delete(data_dir: Path, monkeypatch, capsys):
    store = ProgressStore(data_dir / "progress.sqlite3")
    for _ in range(6):
        store.record(
            "Ana",
            question_id="q",
            concept_id="algorithm",
            kind="choice",
            choice=0,
            options=4,
            correct=True,
        )
    assert main(["practice", "--learner", "Ana", "--progress", "--json"]) == 0
    progress = json.loads(capsys.readouterr().out)
    assert progress["concepts"][0]["id"] == "algorithm" and progress["concepts"][0]["mastered"]
    assert progress["study_next"]
    assert main(["practice", "--learner", "Ana", "--export", "-"]) == 0
    assert len(json.loads(capsys.readouterr().out)["answers"]) == 6
    _stdin(monkeypatch, "Bob\n")
    assert main(["practice", "--learner", "Ana", "--delete"]) == 1  # not confirmed
    assert len(_answers(data_dir)) == 6
    _stdin(monkeypatch, "ana\n")
    assert main(["practice", "--learner", "Ana", "--delete"]) == 0
    assert _answers(data_dir) == []


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--concept", "no-such-concept-zz"], "no concept"),
        (["--count", "0"], "--count"),
        (["--learner", "../etc"], "characters other than"),
        (["--concept", "algorithm", "what is A*?"], "not both"),
    ],
)
def test_bad_input_is_a_message(data_dir: Path, capsys, argv, words):
    learner = [] if "--learner" in argv else ["--learner", "Ana"]
    assert main(["practice", *learner, *argv]) == 2
    assert words in capsys.readouterr().err


def test_damaged_database(data_dir: Path, monkeypatch, capsys):
    (data_dir / "progress.sqlite3").write_bytes(b"not a database " * 300)
    assert main(["practice", "--learner", "Ana", "--progress"]) == 7
    err = capsys.readouterr().err
    assert "damaged" in err and "mv " in err
    _stdin(monkeypatch, "1\n")
    assert main(["practice", "--learner", "Ana", "--count", "1"]) == 0  # asks, saves nothing
    captured = capsys.readouterr()
    assert "will not be saved" in captured.err and "Question 1 of 1" in captured.out


def test_a_question_text_practises_the_concept_that_answers_it(mini_store: Path, use_env, capsys):
    from tests.conftest import erica_env

    use_env(erica_env(mini_store))
    assert (
        main(
            [
                "practice",
                "What is breadth-first search?",
                "--learner",
                "Ana",
                "--json",
                "--count",
                "3",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["concepts"][-1] == "breadth-first-search" and out["questions"]
    assert main(["practice", "zzqx vlorp", "--learner", "Ana", "--json"]) == 2
    assert "does not cover" in capsys.readouterr().err


@pytest.mark.catalogue(
    case="practice: empty and out-of-range answers",
    expect="InvalidInputError with the valid range; nothing stored",
)
def test_empty_and_out_of_range_answers_store_nothing(tmp_path: Path):
    from knowledge.cards import load_cards
    from knowledge.common.errors import InvalidInputError
    from tutor.practice.questions import course_from_cards, questions_for
    from tutor.practice.session import answer
    from tutor.settings import SHIPPED_COURSE

    course = course_from_cards(load_cards([SHIPPED_COURSE]))
    q = questions_for(course, ["breadth-first-search"], per_concept=1)[0]
    store = ProgressStore(tmp_path / "p.sqlite3")
    for bad in (None, -1, len(q.options), 99):
        with pytest.raises(InvalidInputError):
            answer(store, "Ana", q, bad)
    assert store.answers("Ana") == []
    result = answer(store, "Ana", q, q.answer)
    assert result.correct and result.stored.concept_id == "breadth-first-search"
