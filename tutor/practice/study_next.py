"""What to study next: reviews that are due, then the least-mastered concept whose direct
prerequisites are all mastered (never one with a prerequisite below the threshold).

Review timing is an expanding interval after the last answer on a mastered concept: 1, 3, 7,
16, 35, then 75 days, indexed by the run of right answers at the end of its history (as
SM-2/Leitner boxes do). FSRS would time reviews better, but it is fitted on review logs that
an offline course does not have yet; the intervals are in the open and easy to replace.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

import networkx as nx

from tutor.practice.mastery import Answer, MasteryTracker

DAY_S = 86_400.0
REVIEW_DAYS = (1, 3, 7, 16, 35, 75)


@dataclass(frozen=True)
class Suggestion:
    concept_id: str
    kind: str  # "review" | "next"
    mastery: float
    why: str

    def to_dict(self) -> dict:
        return {
            "concept_id": self.concept_id,
            "kind": self.kind,
            "mastery": round(self.mastery, 3),
            "why": self.why,
        }


def reviews_due(
    answers: Iterable[Answer],
    tracker: MasteryTracker,
    now: float,
) -> list[tuple[str, float]]:
    """(concept, seconds overdue) for mastered concepts whose review is due, most overdue
    first."""
    last: dict[str, float] = {}
    streak: dict[str, int] = {}
    for a in answers:
        last[a.concept_id] = a.at
        streak[a.concept_id] = streak.get(a.concept_id, 0) + 1 if a.correct else 0
    due = []
    for cid, at in last.items():
        if not tracker.mastered(cid) or not streak.get(cid):
            continue
        wait = REVIEW_DAYS[min(streak[cid], len(REVIEW_DAYS)) - 1] * DAY_S
        if now >= at + wait:
            due.append((cid, now - at - wait))
    return sorted(due, key=lambda item: -item[1])


def ready_concepts(tracker: MasteryTracker, graph: nx.DiGraph) -> list[str]:
    """Concepts not yet mastered whose direct prerequisites are all mastered."""
    mastered = {c for c, p in tracker.known.items() if p >= tracker.threshold and c in graph}
    frontier = {n for n in graph if graph.in_degree(n) == 0}
    for c in mastered:
        frontier.update(graph.successors(c))
    return [
        c
        for c in frontier
        if not tracker.mastered(c) and all(tracker.mastered(p) for p in graph.predecessors(c))
    ]


def study_next(
    tracker: MasteryTracker,
    graph: nx.DiGraph,
    *,
    now: float,
    answers: Sequence[Answer] = (),
    within: Collection[str] | None = None,
    limit: int = 5,
) -> list[Suggestion]:
    """Due reviews first, then ready concepts, least mastered first (within ``within``
    first, when given: e.g. the path to a concept the learner asked about)."""
    out = [
        Suggestion(
            cid,
            "review",
            tracker.p_known(cid),
            f"mastered; review due {late / DAY_S:.0f} day(s) ago"
            if late >= DAY_S
            else "mastered; review due now",
        )
        for cid, late in reviews_due(answers, tracker, now)
    ][:limit]
    scope = set(within or ())
    ready = sorted(
        ready_concepts(tracker, graph), key=lambda c: (c not in scope, tracker.p_known(c), c)
    )
    for cid in ready[: max(0, limit - len(out))]:
        pres = list(graph.predecessors(cid))
        why = "all its prerequisites are mastered" if pres else "a starting point"
        out.append(Suggestion(cid, "next", tracker.p_known(cid), why))
    return out


def unmastered_first(tracker: MasteryTracker, ids: Sequence[str]) -> list[str]:
    """``ids`` (e.g. a lesson's prerequisites) with the ones not mastered first, order kept
    otherwise."""
    return sorted(ids, key=lambda c: tracker.mastered(c))
