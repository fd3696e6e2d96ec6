"""Mastery per concept: Bayesian knowledge tracing (BKT) that shares evidence along the graph.

Each concept has P(known), updated from answers with the four BKT parameters (prior, learn,
slip, guess; Corbett & Anderson 1995, as pyBKT and OATutor use them). A concept counts as
mastered at P(known) >= 0.95 (OATutor's threshold).

The graph-aware tracker adds three rules (``GraphParams``), each a partial BKT update:

- an unseen concept's prior rises with the chance that all its direct prerequisites are known
  (``prior_blocked`` .. ``prior_ready``), and so does its learn rate;
- a right answer on a concept is weak evidence for each direct prerequisite (``up``);
- a wrong answer on a concept whose prerequisite is weak (not mastered) is evidence against
  that prerequisite (``blame``).

``erica bench mastery`` compares it with plain per-concept BKT on simulated learners
(tutor/practice/simulate.py). Mastery is always recomputed from the stored answers, so a
change of model needs no data migration.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import networkx as nx

MASTERY_THRESHOLD = 0.95


@dataclass(frozen=True)
class BKTParams:
    """The four BKT parameters. ``guess`` is used when a question does not say its own
    (a question with n options has guess 1/n)."""

    prior: float = 0.2
    learn: float = 0.15
    slip: float = 0.1
    guess: float = 0.25


@dataclass(frozen=True)
class GraphParams:
    """How much the prerequisite graph adds to per-concept tracing (see the module doc)."""

    prior_ready: float = 0.5
    prior_blocked: float = 0.05
    learn_blocked: float = 0.3  # share of ``learn`` left while no prerequisite is known
    up: float = 0.3
    blame: float = 0.5


@dataclass(frozen=True)
class Answer:
    """One recorded answer, as the tracker needs it."""

    concept_id: str
    correct: bool
    guess: float | None = None
    at: float = 0.0  # seconds since the epoch


def _posterior(p: float, correct: bool, slip: float, guess: float) -> float:
    if correct:
        right = p * (1 - slip)
        return right / (right + (1 - p) * guess)
    wrong = p * slip
    return wrong / (wrong + (1 - p) * (1 - guess))


@dataclass
class MasteryTracker:
    """P(known) per concept for one learner. ``graph`` None (or ``graph_params`` None) is
    plain per-concept BKT."""

    graph: nx.DiGraph | None = None
    bkt: BKTParams = field(default_factory=BKTParams)
    graph_params: GraphParams | None = field(default_factory=GraphParams)
    threshold: float = MASTERY_THRESHOLD
    known: dict[str, float] = field(default_factory=dict)  # concepts with evidence
    attempts: dict[str, list[int]] = field(default_factory=dict)  # id -> [answers, right]
    _cache: dict[str, float] = field(default_factory=dict, repr=False)

    @property
    def uses_graph(self) -> bool:
        return self.graph is not None and self.graph_params is not None

    def _prerequisites(self, concept_id: str) -> list[str]:
        if not self.uses_graph or concept_id not in self.graph:
            return []
        return list(self.graph.predecessors(concept_id))

    def _readiness(self, concept_id: str) -> float | None:
        """P(all direct prerequisites known), taking them as independent; None for a concept
        without any."""
        pres = self._prerequisites(concept_id)
        if not pres:
            return None
        ready = 1.0
        for pre in pres:
            ready *= self.p_known(pre)
        return ready

    def p_known(self, concept_id: str) -> float:
        """P(the learner knows the concept) now."""
        if concept_id in self.known:
            return self.known[concept_id]
        if concept_id in self._cache:
            return self._cache[concept_id]
        ready = self._readiness(concept_id)
        if ready is None:
            value = self.bkt.prior
        else:
            gp = self.graph_params
            value = gp.prior_blocked + (gp.prior_ready - gp.prior_blocked) * ready
        self._cache[concept_id] = value
        return value

    def p_correct(self, concept_id: str, guess: float | None = None) -> float:
        """Predicted chance of a right answer to the next question on the concept."""
        g = self.bkt.guess if guess is None else guess
        p = self.p_known(concept_id)
        return p * (1 - self.bkt.slip) + (1 - p) * g

    def mastered(self, concept_id: str) -> bool:
        return self.p_known(concept_id) >= self.threshold

    def observe(self, answer: Answer) -> None:
        """Update from one answer (the concept, then its direct prerequisites)."""
        cid, correct = answer.concept_id, answer.correct
        guess = self.bkt.guess if answer.guess is None else answer.guess
        slip = self.bkt.slip
        p = _posterior(self.p_known(cid), correct, slip, guess)
        learn = self.bkt.learn
        pres = self._prerequisites(cid)
        if pres:
            gp = self.graph_params
            ready = self._readiness(cid) or 0.0
            learn *= gp.learn_blocked + (1 - gp.learn_blocked) * ready
            for pre in pres:
                q = self.p_known(pre)
                if correct:
                    q += gp.up * (_posterior(q, True, slip, guess) - q)
                elif q < self.threshold:
                    q += gp.blame * (_posterior(q, False, slip, guess) - q)
                self.known[pre] = q
        self.known[cid] = p + (1 - p) * learn
        counts = self.attempts.setdefault(cid, [0, 0])
        counts[0] += 1
        counts[1] += int(correct)
        self._cache.clear()

    def observe_all(self, answers: Iterable[Answer]) -> MasteryTracker:
        for answer in answers:
            self.observe(answer)
        return self

    def practised(self) -> list[str]:
        """Concepts the learner answered questions on, in first-answer order."""
        return list(self.attempts)


def plain_tracker(
    bkt: BKTParams | None = None, threshold: float = MASTERY_THRESHOLD
) -> MasteryTracker:
    """Per-concept BKT without the graph (the baseline of ``erica bench mastery``)."""
    return MasteryTracker(None, bkt or BKTParams(), None, threshold)
