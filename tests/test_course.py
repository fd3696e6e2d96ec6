"""The shipped Introduction to AI course: size, structure and quality rules."""

import networkx as nx
import pytest

from knowledge.cards import load_cards
from knowledge.evaluation import load_eval_set
from knowledge.graph import build_graph
from knowledge.validate import graph_warnings, lint, validate
from tutor.settings import SHIPPED_COURSE

MIN_CONCEPTS = 1000


@pytest.fixture(scope="module")
def cards():
    return load_cards([SHIPPED_COURSE])


def test_course_is_valid_and_large_enough(cards):
    assert len(cards) >= MIN_CONCEPTS, f"only {len(cards)} concepts"
    assert validate(cards) == []


def test_quality_rules(cards):
    problems = lint(cards)
    assert problems == [], "\n".join(map(str, problems[:30]))


def test_every_card_is_reachable_from_a_root(cards):
    graph = build_graph(cards)
    roots = [n for n in graph if graph.in_degree(n) == 0]
    reached = set(roots)
    for root in roots:
        reached |= nx.descendants(graph, root)
    assert reached == set(graph)
    assert len(roots) <= 40


def test_units_required_by_the_syllabus(cards):
    ids = {c.id for c in cards}
    for must in ("dot-product", "chain-rule", "bayes-rule", "breadth-first-search",
                 "a-star-search", "alpha-beta-pruning", "monte-carlo-tree-search",
                 "arc-consistency", "resolution-inference", "bayesian-network",
                 "hidden-markov-model", "kalman-filter", "particle-filter", "value-iteration",
                 "q-learning", "sarsa", "policy-gradient", "cross-validation",
                 "support-vector-machine", "principal-component-analysis", "backpropagation",
                 "lstm", "transformer", "word2vec", "diffusion-model", "clip", "infonce-loss",
                 "zero-shot-classification", "typographic-attack", "algorithmic-fairness"):
        assert must in ids, must


def test_clip_has_the_direct_prerequisites_a_teacher_names(cards):
    # prerequisite lists are direct, so what a teacher names may come through a nearer card
    above = nx.ancestors(build_graph(cards), "clip")
    assert {"embedding", "contrastive-learning", "cosine-similarity"} <= above
    assert "recurrent-neural-network" not in above


def test_evaluation_set_points_at_real_cards(cards):
    ids = {c.id for c in cards}
    questions = load_eval_set()
    assert len(questions) >= 80
    missing = {e for q in questions for e in q.expect if e not in ids}
    assert not missing, missing
    assert sum(1 for q in questions if q.history) >= 10


def test_the_flagship_question_names_clip(cards):
    """"CLIP (Contrastive ...)" is named by "CLIP": the question's main concept gets the
    name bonus, not only "computer vision"."""
    from knowledge.lexical import LabelIndex

    named = LabelIndex(cards).mentioned("What is CLIP and how is it used in computer vision?")
    assert {"clip", "computer-vision"} <= set(named)


def test_learning_paths_follow_the_graph_rules(cards):
    """The reviewed shapes (issue 18, knowledge/courses/README.md) stay fixed."""
    assert [str(w) for w in graph_warnings(cards) if w.rule == "intro-needs-advanced"] == []
    graph = build_graph(cards)

    def above(cid: str) -> set[str]:
        return nx.ancestors(graph, cid)

    assert {"embedding", "tokenization", "self-attention"} <= above("transformer")
    assert "recurrent-neural-network" not in above("transformer")
    assert "search-problem" not in above("constraint-satisfaction-problem")
    assert "task-environment-properties" not in above("fully-vs-partially-observable-environment")
    assert "wumpus-world" not in above("limitations-of-propositional-logic")
    agent_theory = {"peas-description", "simple-reflex-agent", "problem-solving-agent"}
    assert not agent_theory & above("a-star-search")
    calculus = {"gradient", "partial-derivative", "multivariable-chain-rule"}
    assert calculus <= above("backpropagation")
    assert {"bellman-equation", "value-iteration"} <= above("q-learning")
    assert not {"lottery", "axioms-of-utility-theory"} & above("q-learning")
