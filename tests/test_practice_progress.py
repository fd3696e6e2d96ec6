"""The progress database: a real SQLite file under tmp_path."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import threading
from pathlib import Path

import pytest

from knowledge.common.errors import InvalidInputError
from tutor.practice.progress import ProgressError, ProgressStore, check_learner


def _record(store: ProgressStore, learner: str, i: int, correct: bool = True, **kw):
    return store.record(
        learner,
        question_id=f"q{i}",
        concept_id=kw.get("concept", "queue"),
        kind="choice",
        choice=0,
        options=4,
        correct=correct,
        client=kw.get("client", ""),
    )


def test_answers_round_trip_per_learner(tmp_path: Path):
    store = ProgressStore(tmp_path / "progress.sqlite3")
    _record(store, "Ana", 1)
    _record(store, "ana", 2, correct=False)  # names compare without case
    _record(store, "Břetislav", 3)
    answers = store.answers("ANA")
    assert [(a.question_id, a.correct) for a in answers] == [("q1", True), ("q2", False)]
    assert answers[0].to_answer().guess == 0.25
    assert store.learners() == ["Ana", "Břetislav"]
    mode = (
        sqlite3.connect(tmp_path / "progress.sqlite3").execute("PRAGMA journal_mode").fetchone()[0]
    )
    assert mode == "wal"


@pytest.mark.catalogue(
    case="practice: bad learner name", expect="InvalidInputError naming the rule; nothing stored"
)
@pytest.mark.parametrize(
    "name",
    ["", "   ", "x" * 41, "Robert'); DROP TABLE answers;--", "a/b", "<script>", "nul\x00byte"],
)
def test_bad_learner_names_are_refused(tmp_path: Path, name: str):
    with pytest.raises(InvalidInputError) as err:
        _record(ProgressStore(tmp_path / "p.sqlite3"), name, 1)
    assert err.value.fix


def test_learner_names_are_normalised():
    assert check_learner("  Jana   Nováková ") == "Jana Nováková"
    assert check_learner("Ива-2") == "Ива-2"


def test_export_and_delete(tmp_path: Path):
    store = ProgressStore(tmp_path / "p.sqlite3")
    for i in range(3):
        _record(store, "Ana", i)
    _record(store, "Ben", 9)
    data = store.export("Ana")
    assert data["learner"] == "Ana" and len(data["answers"]) == 3
    json.dumps(data)  # JSON-ready
    assert store.delete("ana") == 3
    assert store.answers("Ana") == [] and store.learners() == ["Ben"]
    assert store.export("Ana")["answers"] == []


@pytest.mark.catalogue(
    case="practice: damaged progress database",
    expect="ProgressError naming the file and how to move it aside",
)
def test_damaged_file_names_cause_and_fix(tmp_path: Path):
    path = tmp_path / "progress.sqlite3"
    path.write_bytes(b"this is not a database, just some text " * 200)
    with pytest.raises(ProgressError) as err:
        ProgressStore(path).answers("Ana")
    assert "damaged" in err.value.cause and str(path) in err.value.cause
    assert "mv" in err.value.fix and "work without it" in err.value.fix


def test_truncated_database_is_damaged(tmp_path: Path):
    path = tmp_path / "progress.sqlite3"
    store = ProgressStore(path)
    for i in range(200):
        _record(store, "Ana", i)
    sqlite3.connect(path).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    data = path.read_bytes()
    path.write_bytes(data[:100] + b"\xff" * 4000 + data[4100:])
    with pytest.raises(ProgressError):
        ProgressStore(path).answers("Ana")


def test_two_threads_answering_for_one_learner_lose_nothing(tmp_path: Path):
    path = tmp_path / "p.sqlite3"
    errors: list[Exception] = []

    def tab(name: str) -> None:
        store = ProgressStore(path)  # each tab has its own store object
        try:
            for i in range(60):
                _record(store, "Ana", i, client=name)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=tab, args=(f"tab{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    answers = ProgressStore(path).answers("Ana")
    assert len(answers) == 120
    assert {a.client for a in answers} == {"tab0", "tab1"}


def _process_tab(path: str, name: str, n: int) -> None:
    store = ProgressStore(Path(path))
    for i in range(n):
        _record(store, "Ana", i, client=name)


@pytest.mark.catalogue(
    case="practice: two tabs answer for one learner at once",
    expect="every answer of both stored (WAL, one transaction each)",
)
def test_two_processes_answering_for_one_learner_lose_nothing(tmp_path: Path):
    path = tmp_path / "p.sqlite3"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_process_tab, args=(str(path), f"p{i}", 40)) for i in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    answers = ProgressStore(path).answers("Ana")
    assert len(answers) == 80 and {a.client for a in answers} == {"p0", "p1"}


def test_unwritable_folder_is_a_clear_error(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ProgressError) as err:
        ProgressStore(blocker / "sub" / "p.sqlite3").learners()
    assert "ERICA_DATA_DIR" in err.value.fix
