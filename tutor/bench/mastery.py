"""``erica bench mastery``: how well mastery predicts the next answer, on simulated learners.

Simulated learners (tutor/practice/simulate.py, parameters in the JSON) walk the real course
graph. Both models are fitted the same way on one set of learners (coordinate search of each
parameter over a grid, maximising the log-likelihood of the answers, as pyBKT fits by
likelihood), then scored on *held-out* learners: each answer is predicted before the model
sees it; AUC is over all held-out answers. The graph-aware tracker must beat plain
per-concept BKT by >= 0.03 AUC.

Two reference rows bound what is possible: a Bayes filter that knows the simulator's own
structure and true parameters (the best any model can expect to do), and an oracle that sees
the learner's true state (not reachable: answers are noisy even when the state is known).

"Study next" is checked at every step of every held-out learner: a proposed concept with a
direct prerequisite below the mastery threshold is a violation.
"""

from __future__ import annotations

import argparse
import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, replace

import networkx as nx
import numpy as np

from knowledge.cards import load_cards
from knowledge.course import Course
from tutor.bench.report import write_results
from tutor.practice.mastery import BKTParams, GraphParams, MasteryTracker
from tutor.practice.questions import course_from_cards, questions_for
from tutor.practice.simulate import SimAnswer, SimParams, simulate
from tutor.practice.study_next import study_next
from tutor.settings import Settings

log = logging.getLogger(__name__)
GRID = {
    "prior": (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8),
    "learn": (0.05, 0.1, 0.15, 0.2, 0.3, 0.4),
    "slip": (0.05, 0.1, 0.15, 0.2),
    "prior_ready": (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
    "prior_blocked": (0.02, 0.05, 0.1, 0.2),
    "learn_blocked": (0.1, 0.3, 0.6, 1.0),
    "up": (0.0, 0.15, 0.3, 0.5, 0.75, 1.0),
    "blame": (0.0, 0.25, 0.5, 0.75, 1.0),
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--learners",
        type=int,
        default=400,
        help="simulated learners for fitting, and as many held out (default 400)",
    )
    p.add_argument("--seed", type=int, default=0, help="simulation seed (default 0)")


def auc(scores: Sequence[float], labels: Sequence[bool]) -> float:
    """Area under the ROC curve (Mann-Whitney, ties counted half)."""
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=bool)
    pos, neg = int(y.sum()), int((~y).sum())
    if not pos or not neg:
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s))
    sorted_s = s[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[y].sum() - pos * (pos + 1) / 2) / (pos * neg))


Factory = Callable[[], "MasteryTracker | TrueFilter"]


def predictions(learners: list[list[SimAnswer]], make: Factory) -> tuple[list[float], list[bool]]:
    """Each answer's predicted chance of being right, made before the model sees it."""
    scores, labels = [], []
    for answers in learners:
        tracker = make()
        for a in answers:
            scores.append(tracker.p_correct(a.concept_id, a.guess))
            labels.append(a.correct)
            tracker.observe(a)
    return scores, labels


def log_likelihood(scores: Sequence[float], labels: Sequence[bool]) -> float:
    return sum(math.log(max(1e-9, s if y else 1 - s)) for s, y in zip(scores, labels, strict=True))


def fit(
    learners: list[list[SimAnswer]], graph: nx.DiGraph | None, names: Sequence[str], rounds: int = 2
) -> tuple[BKTParams, GraphParams | None]:
    """Coordinate search over ``GRID`` for the named parameters (log-likelihood)."""
    bkt, gp = BKTParams(), GraphParams() if graph is not None else None

    def score(b: BKTParams, g: GraphParams | None) -> float:
        return log_likelihood(*predictions(learners, lambda: MasteryTracker(graph, b, g)))

    best = score(bkt, gp)
    for _ in range(rounds):
        for name in names:
            for value in GRID[name]:
                if name in BKTParams.__dataclass_fields__:
                    b, g = replace(bkt, **{name: value}), gp
                else:
                    b, g = bkt, replace(gp, **{name: value})
                ll = score(b, g)
                if ll > best:
                    best, bkt, gp = ll, b, g
    return bkt, gp


class TrueFilter:
    """The best any model can do on the simulator (a reference row, not an app model): a
    particle filter over the learner's latent states that knows the simulator's own structure
    and true parameters (``SimParams``), ability included. Same interface as the trackers."""

    def __init__(
        self, graph: nx.DiGraph, sim: SimParams, particles: int = 500, seed: int = 0
    ) -> None:
        self.graph, self.sim, self.n = graph, sim, particles
        self.rng = np.random.default_rng(seed)
        self.weights = np.full(particles, 1.0 / particles)
        self.shift = (
            self.rng.normal(0.0, sim.ability_sd, particles)
            if sim.ability_sd
            else np.zeros(particles)
        )
        self.start: dict[str, np.ndarray] = {}  # known at the start, per particle
        self.now: dict[str, np.ndarray] = {}  # known now

    def _chance(self, p: float) -> np.ndarray:
        return 1 / (1 + np.exp(-(math.log(p / (1 - p)) + self.shift)))

    def _state(self, cid: str) -> np.ndarray:
        if cid not in self.start:
            pres = list(self.graph.predecessors(cid))
            if not pres:
                chance = self._chance(self.sim.p_known_root)
            else:
                ready = np.ones(self.n, bool)
                for pre in pres:
                    self._state(pre)
                    ready &= self.start[pre]
                chance = np.where(
                    ready,
                    self._chance(self.sim.p_known_ready),
                    self._chance(self.sim.p_known_blocked),
                )
            self.start[cid] = self.rng.random(self.n) < chance
            self.now[cid] = self.start[cid].copy()
        return self.now[cid]

    def p_correct(self, cid: str, guess: float | None = None) -> float:
        known = self._state(cid)
        return float(np.sum(self.weights * np.where(known, 1 - self.sim.slip, guess)))

    def observe(self, a: SimAnswer) -> None:
        known = self._state(a.concept_id)
        right = np.where(known, 1 - self.sim.slip, a.guess)
        self.weights *= right if a.correct else 1 - right
        self.weights /= self.weights.sum()
        ready = np.ones(self.n, bool)
        for pre in self.graph.predecessors(a.concept_id):
            ready &= self._state(pre)
        learns = self.rng.random(self.n) < np.where(
            ready, self.sim.learn_ready, self.sim.learn_blocked
        )
        self.now[a.concept_id] = known | learns
        if 1 / np.sum(self.weights**2) < self.n / 2:  # resample when the weights degenerate
            pick = self.rng.choice(self.n, self.n, p=self.weights)
            for states in (self.start, self.now):
                for cid in states:
                    states[cid] = states[cid][pick]
            self.shift = self.shift[pick]
            self.weights = np.full(self.n, 1.0 / self.n)


def study_next_violations(
    graph: nx.DiGraph, learners: list[list[SimAnswer]], make: Factory
) -> tuple[int, int]:
    """(violations, proposals) of study-next over every step of every learner."""
    violations = proposals = 0
    for answers in learners:
        tracker = make()
        for step, a in enumerate(answers):
            tracker.observe(a)
            for s in study_next(tracker, graph, now=float(step), limit=3):
                proposals += 1
                violations += any(not tracker.mastered(p) for p in graph.predecessors(s.concept_id))
    return violations, proposals


# The question mix decides how much one answer tells: a two-option question is guessed half
# the time. The first scenarios ask each concept's questions as ``questions_for`` makes them,
# in its order (what the Practice page and ``erica practice`` ask); the last is the course's
# mix before the four-option kinds (68% two-option), for comparison.
APP = "app's questions, 2-4 per concept"
APP_LONG = "app's questions, 4-6 per concept"
BEFORE = "before: 68% two-option questions"
FOUR = "four-option questions only"
SCENARIOS = {
    APP: SimParams(),
    APP_LONG: SimParams(questions=(4, 6)),
    BEFORE: SimParams(two_options=0.68),
    FOUR: SimParams(two_options=0.0),
}
USES_APP_QUESTIONS = (APP, APP_LONG)
OPTIONS_PER_CONCEPT = 6  # option counts of the first six questions of each concept


def app_options(course: Course) -> dict[str, tuple[int, ...]]:
    """Per concept, the option counts of the questions ``questions_for`` asks, in order."""
    counts: dict[str, list[int]] = {}
    for q in questions_for(course, sorted(course.cards), per_concept=OPTIONS_PER_CONCEPT):
        counts.setdefault(q.concept_id, []).append(len(q.options))
    return {cid: tuple(c) for cid, c in counts.items()}


def _row(
    scenario: str, model: str, scores: list[float], labels: list[bool], first: list[bool]
) -> dict:
    pick = [(s, y) for s, y, f in zip(scores, labels, first, strict=True) if f]
    return {
        "scenario": scenario,
        "model": model,
        "held-out AUC": round(auc(scores, labels), 4),
        "AUC first answer per concept": round(auc(*zip(*pick, strict=True)), 4),
        "log-likelihood/answer": round(log_likelihood(scores, labels) / len(labels), 4),
    }


def run_scenario(
    graph: nx.DiGraph,
    name: str,
    sim: SimParams,
    learners: int,
    seed: int,
    options: Mapping[str, Sequence[int]] | None = None,
) -> tuple[list[dict], dict]:
    """Fit both models on one set of learners, score them on another; rows and details."""
    train = simulate(graph, learners, sim, seed=seed, options=options)
    test = simulate(graph, learners, sim, seed=seed + 1_000_003, options=options)
    bkt_names = ("prior", "learn", "slip")
    plain_bkt, _ = fit(train, None, bkt_names)
    graph_bkt, graph_gp = fit(train, graph, (*bkt_names, *GraphParams.__dataclass_fields__))
    models = {
        "per-concept BKT": lambda: MasteryTracker(None, plain_bkt, None),
        "graph-aware BKT": lambda: MasteryTracker(graph, graph_bkt, graph_gp),
        "graph-aware, default parameters": lambda: MasteryTracker(graph),
    }
    first = _first_answers(test)
    rows = [_row(name, model, *predictions(test, make), first) for model, make in models.items()]
    rows.append(
        _row(
            name,
            "Bayes filter, true simulator parameters (best possible)",
            *predictions(test, lambda: TrueFilter(graph, sim)),
            first,
        )
    )
    answers = sum(test, [])
    oracle = [(1 - sim.slip) if a.was_known else a.guess for a in answers]
    rows.append(
        _row(
            name,
            "oracle (sees the true state; not reachable)",
            oracle,
            [a.correct for a in answers],
            first,
        )
    )
    violations, proposals = study_next_violations(graph, test, models["graph-aware BKT"])
    details = {
        "simulator": sim.as_dict(),
        "learners_fit": len(train),
        "learners_held_out": len(test),
        "held_out_answers": len(answers),
        "right_share": round(sum(a.correct for a in answers) / len(answers), 3),
        "questions_for_option_counts": options is not None,
        "held_out_option_mix": {
            f"{n} options": round(share, 3) for n, share in sorted(_option_mix(answers).items())
        },
        "fitted_plain": asdict(plain_bkt),
        "fitted_graph": {**asdict(graph_bkt), **asdict(graph_gp)},
        "graph_gain_auc": round(rows[1]["held-out AUC"] - rows[0]["held-out AUC"], 4),
        "graph_gap_to_best_possible_auc": round(
            rows[3]["held-out AUC"] - rows[1]["held-out AUC"], 4
        ),
        "study_next_proposals": proposals,
        "study_next_violations": violations,
    }
    return rows, details


def _option_mix(answers: Sequence[SimAnswer]) -> dict[int, float]:
    counts = Counter(round(1 / a.guess) for a in answers)
    return {n: c / len(answers) for n, c in counts.items()}


def run(settings: Settings, args: argparse.Namespace) -> int:
    course = course_from_cards(load_cards(settings.course_dirs))
    graph = course.graph
    t0 = time.perf_counter()
    options = app_options(course)
    rows, details = [], {}
    for name, sim in SCENARIOS.items():
        scenario_rows, details[name] = run_scenario(
            graph,
            name,
            sim,
            args.learners,
            args.seed,
            options if name in USES_APP_QUESTIONS else None,
        )
        rows += scenario_rows
    write_results(
        "mastery", rows, scenarios=details, grid=GRID, seconds=round(time.perf_counter() - t0, 1)
    )
    for name, d in details.items():
        print(  # noqa: T201
            f"{name}: graph-aware minus per-concept AUC {d['graph_gain_auc']:+.4f}; "
            f"study-next violations {d['study_next_violations']} of "
            f"{d['study_next_proposals']} proposals"
        )
    return 0


def _first_answers(learners: list[list[SimAnswer]]) -> list[bool]:
    flags = []
    for answers in learners:
        seen: set[str] = set()
        for a in answers:
            flags.append(a.concept_id not in seen)
            seen.add(a.concept_id)
    return flags
