"""Learners' answers in SQLite (the standard library's sqlite3) in the data folder.

One file, ``DATA_DIR/progress.sqlite3``, holds every learner of this machine; nothing leaves
it. Only answers are stored: mastery is recomputed from them (tutor/practice/mastery.py).

- WAL mode, a busy timeout and one ``BEGIN IMMEDIATE`` transaction per answer: two browser tabs
  (or the terminal and a tab) answering for one learner at once both get their answers stored.
- A damaged file is a :class:`ProgressError` that names the file and how to move it aside; the
  rest of Erica does not need this file.
- A learner name is only a label (see :func:`check_learner`): it is not authentication.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sqlite3
import threading
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from knowledge.common.errors import EricaError, InvalidInputError
from tutor.practice.mastery import Answer

log = logging.getLogger(__name__)
FILE_NAME = "progress.sqlite3"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 10.0
MAX_LEARNER_CHARS = 40
_LEARNER = re.compile(r"^\w[\w .'-]*$")  # letters (any script), digits, space . ' - _
_SCHEMA = """
CREATE TABLE IF NOT EXISTS learners (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    learner TEXT NOT NULL COLLATE NOCASE REFERENCES learners(name) ON DELETE CASCADE,
    question_id TEXT NOT NULL,
    concept_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    choice INTEGER NOT NULL,
    options INTEGER NOT NULL,
    correct INTEGER NOT NULL,
    answered REAL NOT NULL,
    client TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS answers_by_learner ON answers (learner, id);
"""


class ProgressError(EricaError):
    """The progress database cannot be used (damaged, locked, unwritable)."""

    exit_code = 7


@dataclass(frozen=True)
class StoredAnswer:
    """One answer as stored."""

    id: int
    learner: str
    question_id: str
    concept_id: str
    kind: str
    choice: int  # 0-based index of the chosen option
    options: int
    correct: bool
    answered: float  # seconds since the epoch
    client: str = ""

    def to_answer(self) -> Answer:
        """What the mastery tracker needs (a question with n options has guess 1/n)."""
        return Answer(
            self.concept_id, self.correct, 1 / self.options if self.options else None, self.answered
        )


def check_learner(name: str | None) -> str:
    """A learner name as stored: trimmed, NFC, 1-40 letters, digits, spaces, ``. ' - _``.

    Names compare without case ("Ana" and "ana" are one learner). A name is a label, not a
    password: anyone who types it sees and adds to that progress.
    """
    text = unicodedata.normalize("NFC", name or "").strip()
    text = re.sub(r"\s+", " ", text)
    if not text:
        raise InvalidInputError(
            "the learner name is empty",
            "type a name (letters, digits, spaces), e.g. your first name",
        )
    if len(text) > MAX_LEARNER_CHARS:
        raise InvalidInputError(
            f"the learner name is {len(text)} characters long (at most {MAX_LEARNER_CHARS})",
            "use a shorter name",
        )
    if not _LEARNER.match(text):
        raise InvalidInputError(
            f"the learner name {text!r} has characters other than letters, digits, spaces "
            "and . ' - _",
            "use letters, digits and spaces only",
        )
    return text


def progress_path(data_dir: Path) -> Path:
    return Path(data_dir) / FILE_NAME


def _damaged(path: Path, exc: Exception) -> ProgressError:
    return ProgressError(
        f"the progress database {path} is damaged ({exc})",
        f"move it aside (e.g. `mv {path} {path}.damaged`); Erica starts a new, empty one, and "
        f"`sqlite3 {path}.damaged .recover` may get the old answers back. Lessons and the rest "
        "of Erica work without it.",
    )


class ProgressStore:
    """Answers of every learner in one SQLite file. Safe to share between threads; each call
    opens its own short-lived connection."""

    def __init__(self, path: Path, busy_timeout_s: float = BUSY_TIMEOUT_S) -> None:
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        self._ready = False
        self._lock = threading.Lock()

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> ProgressStore:
        return cls(progress_path(data_dir))

    @contextlib.contextmanager
    def _opened(self, autocommit: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection with the busy timeout, always closed; SQLite's errors become a
        ProgressError that names the cause and the fix."""
        conn = None
        try:
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout_s,
                                   isolation_level=None if autocommit else "")
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_s * 1000)}")
            yield conn
        except sqlite3.OperationalError as exc:
            raise self._explain(exc) from exc
        except sqlite3.DatabaseError as exc:
            raise _damaged(self.path, exc) from exc
        finally:
            if conn is not None:
                conn.close()

    @contextlib.contextmanager
    def _connect(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection inside one transaction (``BEGIN IMMEDIATE`` for writes), committed on
        success."""
        self._prepare()
        with self._opened(autocommit=True) as conn:
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield conn
            except BaseException:
                with contextlib.suppress(sqlite3.Error):  # the first error is the one to report
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _explain(self, exc: sqlite3.OperationalError) -> ProgressError:
        text = str(exc)
        if "locked" in text or "busy" in text:
            return ProgressError(
                f"the progress database {self.path} stayed busy for {self.busy_timeout_s:.0f} s "
                f"({text})",
                "try again; if it persists, close other Erica windows",
            )
        if "unable to open" in text or "readonly" in text or "read-only" in text:
            return ProgressError(
                f"the progress database {self.path} cannot be written ({text})",
                "check that the data folder exists and is writable (ERICA_DATA_DIR)",
            )
        return _damaged(self.path, exc)

    def _prepare(self) -> None:
        """Create the folder and the schema once; check a file that is already there."""
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ProgressError(
                    f"cannot create the data folder {self.path.parent}: {exc}",
                    "set ERICA_DATA_DIR to a writable folder",
                ) from exc
            if self.path.is_dir():
                raise ProgressError(
                    f"the progress database {self.path} is a folder", "move that folder away"
                )
            with self._opened() as conn:
                check = conn.execute("PRAGMA quick_check").fetchone()[0]
                if check != "ok":
                    raise sqlite3.DatabaseError(f"integrity check: {check}")
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise ProgressError(
                        f"the progress database {self.path} is from a newer Erica "
                        f"(schema {version}, this one knows {SCHEMA_VERSION})",
                        "update Erica, or set ERICA_DATA_DIR to another folder",
                    )
                conn.execute("PRAGMA journal_mode = WAL")
                conn.executescript(_SCHEMA)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                conn.commit()
            self._ready = True

    def record(
        self,
        learner: str,
        *,
        question_id: str,
        concept_id: str,
        kind: str,
        choice: int,
        options: int,
        correct: bool,
        at: float | None = None,
        client: str = "",
    ) -> StoredAnswer:
        """Store one answer in its own transaction; returns it with its id."""
        name = check_learner(learner)
        at = time.time() if at is None else at
        with self._connect(write=True) as conn:
            conn.execute("INSERT OR IGNORE INTO learners (name, created) VALUES (?, ?)", (name, at))
            row = conn.execute("SELECT name FROM learners WHERE name = ?", (name,)).fetchone()
            cur = conn.execute(
                "INSERT INTO answers (learner, question_id, concept_id, kind, choice, options,"
                " correct, answered, client) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    row[0],
                    question_id,
                    concept_id,
                    kind,
                    int(choice),
                    int(options),
                    int(bool(correct)),
                    at,
                    client,
                ),
            )
            answer_id = cur.lastrowid
        return StoredAnswer(
            answer_id,
            row[0],
            question_id,
            concept_id,
            kind,
            int(choice),
            int(options),
            bool(correct),
            at,
            client,
        )

    def answers(self, learner: str) -> list[StoredAnswer]:
        """Every answer of ``learner``, oldest first (none for an unknown learner)."""
        name = check_learner(learner)
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT id, learner, question_id, concept_id, kind, choice, options, correct,"
                " answered, client FROM answers WHERE learner = ? ORDER BY id",
                (name,),
            ).fetchall()
        return [
            StoredAnswer(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7]), r[8], r[9])
            for r in rows
        ]

    def learners(self) -> list[str]:
        with self._connect() as conn:
            return [r[0] for r in conn.execute("SELECT name FROM learners ORDER BY name")]

    def export(self, learner: str) -> dict:
        """Everything stored about ``learner``, as JSON-ready data."""
        name = check_learner(learner)
        with self._connect() as conn:
            row = conn.execute(
                "SELECT name, created FROM learners WHERE name = ?", (name,)
            ).fetchone()
        answers = self.answers(name)
        return {
            "learner": row[0] if row else name,
            "created": row[1] if row else None,
            "database": str(self.path),
            "answers": [asdict(a) for a in answers],
        }

    def delete(self, learner: str) -> int:
        """Delete ``learner`` and all their answers; returns how many answers were deleted."""
        name = check_learner(learner)
        with self._connect(write=True) as conn:
            count = conn.execute(
                "SELECT COUNT(*) FROM answers WHERE learner = ?", (name,)
            ).fetchone()[0]
            conn.execute("DELETE FROM answers WHERE learner = ?", (name,))
            conn.execute("DELETE FROM learners WHERE name = ?", (name,))
        log.info("deleted learner %s (%d answers)", name, count)
        return count
