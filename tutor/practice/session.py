"""A learner's practice as the CLI and the UI use it: record an answer, read back mastery and
what to study next. The same functions serve ``erica practice`` and the Practice page."""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Protocol

import networkx as nx

from knowledge.cards import Concept
from knowledge.common.errors import InvalidInputError
from tutor.practice.mastery import MASTERY_THRESHOLD, MasteryTracker
from tutor.practice.progress import ProgressStore, StoredAnswer
from tutor.practice.study_next import Suggestion, study_next


class QuestionLike(Protocol):
    id: str
    concept_id: str
    kind: str
    options: tuple[str, ...]

    def check(self, choice: int) -> bool: ...

    def feedback(self, choice: int) -> str: ...


@dataclass(frozen=True)
class Result:
    """One answered question: right or not, the feedback, and the stored row."""

    correct: bool
    feedback: str
    stored: StoredAnswer


@dataclass
class Progress:
    """One learner's answers and the mastery they imply."""

    learner: str
    answers: list[StoredAnswer]
    tracker: MasteryTracker

    def next(
        self,
        graph: nx.DiGraph,
        *,
        now: float | None = None,
        within: Collection[str] | None = None,
        limit: int = 5,
    ) -> list[Suggestion]:
        """Study-next for this learner; by default concepts on the way to what they have
        practised (those concepts and their prerequisites, at any depth) come first."""
        if within is None:
            within = set(self.tracker.attempts)
            for cid in self.tracker.attempts:
                if cid in graph:
                    within |= nx.ancestors(graph, cid)
        return study_next(
            self.tracker,
            graph,
            now=time.time() if now is None else now,
            answers=[a.to_answer() for a in self.answers],
            within=within,
            limit=limit,
        )

    def rows(self, cards: Mapping[str, Concept]) -> list[dict]:
        """Per practised concept: name, mastery, answers, right, mastered (least first)."""
        out = []
        for cid, (n, right) in self.tracker.attempts.items():
            card = cards.get(cid)
            out.append(
                {
                    "concept": card.name if card else cid,
                    "id": cid,
                    "mastery": round(self.tracker.p_known(cid), 3),
                    "answers": n,
                    "right": right,
                    "mastered": self.tracker.mastered(cid),
                }
            )
        return sorted(out, key=lambda r: (r["mastery"], r["id"]))

    def to_dict(self, cards: Mapping[str, Concept], graph: nx.DiGraph) -> dict:
        return {
            "learner": self.learner,
            "answers": len(self.answers),
            "threshold": self.tracker.threshold,
            "concepts": self.rows(cards),
            "study_next": [s.to_dict() for s in self.next(graph)],
        }


def load_progress(
    store: ProgressStore, learner: str, graph: nx.DiGraph, threshold: float = MASTERY_THRESHOLD
) -> Progress:
    """Replay the learner's stored answers through the graph-aware tracker."""
    answers = store.answers(learner)
    tracker = MasteryTracker(graph, threshold=threshold)
    tracker.observe_all(a.to_answer() for a in answers)
    return Progress(learner, answers, tracker)


def parse_choice(text: str | None, options: int) -> int:
    """A typed answer (``1``..``n`` as shown to people) as a 0-based option index."""
    raw = (text or "").strip()
    if not raw:
        raise InvalidInputError("no answer given", f"type a number from 1 to {options}")
    if not raw.isdigit() or not 1 <= int(raw) <= options:
        raise InvalidInputError(
            f"{raw[:20]!r} is not one of the options", f"type a number from 1 to {options}"
        )
    return int(raw) - 1


def answer(
    store: ProgressStore, learner: str, question: QuestionLike, choice: int | None, client: str = ""
) -> Result:
    """Check ``choice`` (0-based), store the answer in one transaction, return feedback.

    An empty or out-of-range choice is an InvalidInputError and stores nothing."""
    if choice is None:
        raise InvalidInputError(
            "no answer given", f"pick one of the {len(question.options)} options"
        )
    try:
        correct = question.check(choice)
        text = question.feedback(choice)
    except InvalidInputError:
        raise
    except ValueError as exc:
        raise InvalidInputError(
            str(exc), f"pick one of the {len(question.options)} options"
        ) from exc
    stored = store.record(
        learner,
        question_id=question.id,
        concept_id=question.concept_id,
        kind=question.kind,
        choice=choice,
        options=len(question.options),
        correct=correct,
        client=client,
    )
    return Result(correct, text, stored)
