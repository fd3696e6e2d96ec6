"""Mastery tracing, study next and the simulator on the real course graph."""

from __future__ import annotations

import pytest

from knowledge.cards import load_cards
from knowledge.graph import build_graph
from tutor.bench.mastery import auc, predictions, study_next_violations
from tutor.practice.mastery import Answer, MasteryTracker, plain_tracker
from tutor.practice.simulate import SimParams, simulate
from tutor.practice.study_next import DAY_S, reviews_due, study_next, unmastered_first
from tutor.settings import SHIPPED_COURSE


@pytest.fixture(scope="module")
def graph():
    return build_graph(load_cards([SHIPPED_COURSE]))


def test_right_answers_reach_mastery_wrong_ones_lower_it(graph):
    t = MasteryTracker(graph)
    start = t.p_known("breadth-first-search")
    for _ in range(6):
        t.observe(Answer("breadth-first-search", True, 0.25))
    assert t.mastered("breadth-first-search") and t.p_known("breadth-first-search") > start
    high = t.p_known("breadth-first-search")
    t.observe(Answer("breadth-first-search", False, 0.25))
    assert t.p_known("breadth-first-search") < high  # one slip lowers it
    t.observe(Answer("breadth-first-search", False, 0.25))
    t.observe(Answer("breadth-first-search", False, 0.25))
    assert not t.mastered("breadth-first-search")
    assert t.attempts["breadth-first-search"] == [9, 6]


def test_right_answer_is_weak_evidence_for_prerequisites(graph):
    pres = list(graph.predecessors("breadth-first-search"))
    assert pres
    t = MasteryTracker(graph)
    before = {p: t.p_known(p) for p in pres}
    t.observe(Answer("breadth-first-search", True, 0.25))
    for p in pres:
        assert before[p] < t.p_known(p) < 0.95  # raised, but weakly


def test_wrong_answer_points_to_a_weak_prerequisite(graph):
    pre = next(iter(graph.predecessors("breadth-first-search")))
    weak, strong = MasteryTracker(graph), MasteryTracker(graph)
    for _ in range(8):
        strong.observe(Answer(pre, True, 0.25))
    weak.observe(Answer(pre, False, 0.25))
    weak_before, strong_before = weak.p_known(pre), strong.p_known(pre)
    for t in (weak, strong):
        t.observe(Answer("breadth-first-search", False, 0.25))
    assert weak.p_known(pre) < weak_before  # blamed: it was weak
    assert strong.p_known(pre) == strong_before  # mastered: not blamed


def test_plain_bkt_ignores_the_graph(graph):
    t = plain_tracker()
    t.observe(Answer("breadth-first-search", True, 0.25))
    assert set(t.known) == {"breadth-first-search"}


def test_unseen_concept_prior_follows_its_prerequisites(graph):
    cid = "breadth-first-search"
    t = MasteryTracker(graph)
    cold = t.p_known(cid)
    for pre in graph.predecessors(cid):
        for _ in range(8):
            t.observe(Answer(pre, True, 0.25))
    assert t.p_known(cid) > cold + 0.2


def test_study_next_only_proposes_ready_concepts(graph):
    t = MasteryTracker(graph)
    first = study_next(t, graph, now=0.0, limit=50)
    assert first and all(graph.in_degree(s.concept_id) == 0 for s in first)
    root = first[0].concept_id
    for _ in range(8):
        t.observe(Answer(root, True, 0.25, at=0.0))
    after = study_next(t, graph, now=0.0, limit=200)
    assert root not in [s.concept_id for s in after]
    unlocked = [s.concept_id for s in after if graph.in_degree(s.concept_id) > 0]
    assert unlocked and all(t.mastered(p) for c in unlocked for p in graph.predecessors(c))


def test_reviews_come_due_on_an_expanding_schedule(graph):
    t = MasteryTracker(graph)
    answers = [Answer("algorithm", True, 0.25, at=0.0) for _ in range(8)]
    t.observe_all(answers)
    assert reviews_due(answers, t, now=DAY_S) == []  # 8 right: the longest interval
    assert reviews_due(answers, t, now=76 * DAY_S)[0][0] == "algorithm"
    due = study_next(t, graph, now=76 * DAY_S, answers=answers)
    assert due[0].kind == "review" and due[0].concept_id == "algorithm"


def test_unmastered_prerequisites_first(graph):
    t = MasteryTracker(graph)
    for _ in range(8):
        t.observe(Answer("algorithm", True, 0.25))
    assert unmastered_first(t, ["algorithm", "set-theory"]) == ["set-theory", "algorithm"]


def test_auc_matches_the_definition():
    assert auc([0.1, 0.4, 0.35, 0.8], [False, False, True, True]) == 0.75
    assert auc([0.5, 0.5], [True, False]) == 0.5


def test_simulated_learners_graph_model_beats_per_concept(graph):
    """A small held-out run of the benchmark (default parameters, not fitted): the graph-aware
    model predicts better, and study-next never proposes a concept with a weak prerequisite."""
    learners = simulate(graph, 60, SimParams(), seed=7)
    assert all(learners) and all(a.concept_id in graph for a in sum(learners, []))
    plain = auc(*predictions(learners, plain_tracker))
    aware = auc(*predictions(learners, lambda: MasteryTracker(graph)))
    assert aware > plain
    violations, proposals = study_next_violations(
        graph, learners[:20], lambda: MasteryTracker(graph)
    )
    assert proposals > 0 and violations == 0


def test_simulation_is_reproducible(graph):
    a = simulate(graph, 5, seed=3)
    b = simulate(graph, 5, seed=3)
    assert a == b
