"""Simulated learners with known mastery, walking the course's prerequisite graph.

Every parameter is in :class:`SimParams` (written into the benchmark's JSON). A learner's
latent state per concept is known / not known:

- at the start, a concept without prerequisites is known with ``p_known_root``; one whose
  direct prerequisites are all known with ``p_known_ready``; otherwise with ``p_known_blocked``
  (skill on a concept depends on its prerequisites); each learner's start chances are shifted
  by an ability drawn once (``ability_sd``, on the logit scale);
- each question practised on an unknown concept teaches it with ``learn_ready`` if all its
  prerequisites are known, else ``learn_blocked``;
- an answer is right with 1 - ``slip`` when known, else with the question's guess chance,
  1/n for a question with n options. With ``options`` (per concept, the option counts of the
  questions ``questions_for`` makes for it, in the order it asks them) the k-th question on a
  concept has the k-th count, as in the app; without, a share ``two_options`` of questions
  has two options and the rest four (0.68 was the course's share before the four-option
  kinds).

A learner picks a target concept, and walks its prerequisites within ``path_depth`` steps in
learning-path order, skipping each prerequisite with ``skip`` (students skip what they think
they know), answering ``questions`` questions per concept, and now and then
(``review``) one question on a concept practised earlier.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import networkx as nx

from knowledge.graph import ancestors_within, learning_path
from tutor.practice.mastery import Answer


@dataclass(frozen=True)
class SimParams:
    p_known_root: float = 0.7
    p_known_ready: float = 0.75
    p_known_blocked: float = 0.1
    learn_ready: float = 0.3
    learn_blocked: float = 0.05
    slip: float = 0.1
    two_options: float = 0.68
    path_depth: int = 3
    skip: float = 0.35
    questions: tuple[int, int] = (2, 4)  # questions_for asks 3 per concept by default
    review: float = 0.15
    min_path: int = 4  # targets with fewer concepts on their path are not picked
    ability_sd: float = 1.0  # learners differ: a logit shift of the start chances, N(0, sd)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SimAnswer(Answer):
    """An answer with the simulator's truth: was the concept known when it was asked."""

    was_known: bool = False


class SimLearner:
    """One learner's latent knowledge, drawn lazily in prerequisite order."""

    def __init__(
        self,
        graph: nx.DiGraph,
        params: SimParams,
        rng: random.Random,
        options: Mapping[str, Sequence[int]] | None = None,
    ) -> None:
        self.graph, self.params, self.rng, self.options = graph, params, rng, options
        self.asked: dict[str, int] = {}  # questions asked so far per concept
        self.knows: dict[str, bool] = {}
        self.shift = rng.gauss(0.0, params.ability_sd) if params.ability_sd else 0.0

    def known(self, cid: str) -> bool:
        if cid not in self.knows:
            pres = list(self.graph.predecessors(cid))
            p = self.params
            if not pres:
                chance = p.p_known_root
            elif all(self.known(q) for q in pres):
                chance = p.p_known_ready
            else:
                chance = p.p_known_blocked
            self.knows[cid] = self.rng.random() < _shifted(chance, self.shift)
        return self.knows[cid]

    def answer(self, cid: str) -> SimAnswer:
        """Answer the next question on ``cid``."""
        p = self.params
        counts = self.options.get(cid) if self.options is not None else None
        if counts:
            guess = 1 / counts[self.asked.get(cid, 0) % len(counts)]
            self.asked[cid] = self.asked.get(cid, 0) + 1
        else:
            guess = 0.5 if self.rng.random() < p.two_options else 0.25
        knew = self.known(cid)
        correct = self.rng.random() < ((1 - p.slip) if knew else guess)
        if not knew:
            ready = all(self.known(q) for q in self.graph.predecessors(cid))
            if self.rng.random() < (p.learn_ready if ready else p.learn_blocked):
                self.knows[cid] = True
        return SimAnswer(cid, correct, guess, was_known=knew)


def _shifted(p: float, shift: float) -> float:
    if not shift:
        return p
    return 1 / (1 + math.exp(-(math.log(p / (1 - p)) + shift)))


def _targets(graph: nx.DiGraph, params: SimParams) -> list[str]:
    return sorted(
        n
        for n in graph
        if len(ancestors_within(graph, [n], params.path_depth)) + 1 >= params.min_path
    )


def simulate(
    graph: nx.DiGraph,
    learners: int,
    params: SimParams | None = None,
    seed: int = 0,
    options: Mapping[str, Sequence[int]] | None = None,
) -> list[list[SimAnswer]]:
    """Answers of ``learners`` simulated learners, one list per learner, in order. With
    ``options``, the k-th question a learner gets on a concept has ``options[cid][k]``
    options (cycling; a concept without any falls back to ``two_options``)."""
    params = params or SimParams()
    rng = random.Random(seed)
    targets = _targets(graph, params)
    out = []
    for _ in range(learners):
        learner = SimLearner(graph, params, rng, options)
        target = rng.choice(targets)
        ancestors = ancestors_within(graph, [target], params.path_depth)
        path = learning_path(
            graph, [*ancestors, target], rank=lambda n, a=ancestors: -a[n].depth if n in a else 0
        )
        answers: list[SimAnswer] = []
        for cid in path:
            if cid != target and rng.random() < params.skip:
                continue
            for _ in range(rng.randint(*params.questions)):
                answers.append(learner.answer(cid))
            if answers and rng.random() < params.review:
                answers.append(learner.answer(rng.choice(answers).concept_id))
        out.append(answers)
    return out
