"""Prerequisite inference: profiles, RefD, the link model, selection, baselines, --llm."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from knowledge.ingest import prerequisites as P
from knowledge.ingest.prerequisites import Link, Unit


def _material():
    """Five concepts taught in order; each section names what it builds on."""
    sections = [
        ("queue", {}),
        ("graph", {}),
        ("bfs", {"queue": 2, "graph": 1}),
        ("heuristic", {"graph": 1}),
        ("astar", {"heuristic": 3, "bfs": 1, "graph": 1}),
    ]
    units = [Unit(i, frozenset([cid]), 0, Counter({cid: 1, **named}))
             for i, (cid, named) in enumerate(sections)]
    profiles = P.build_profiles([c for c, _ in sections] + ["unused"], units)
    vectors = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0.7, 0.6, 0.4, 0], [0, 0.5, 0, 0.9],
                        [0.1, 0.4, 0.5, 0.8]], dtype=np.float32)  # passage embeddings
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return P.material(profiles, ["/l1.md"] * 3 + ["/l2.md"] * 2, vectors)


def test_profiles_and_reference_distance():
    mat = _material()
    assert set(mat.profiles) == {"queue", "graph", "bfs", "heuristic", "astar"}
    assert mat.order == ["queue", "graph", "bfs", "heuristic", "astar"]
    assert mat.profiles["astar"].refs == Counter({"heuristic": 1, "bfs": 1, "graph": 1})
    assert P.refd(mat.profiles, "astar", "heuristic") > 0 > P.refd(mat.profiles, "heuristic",
                                                                   "astar")
    assert P.refd(mat.profiles, "bfs", "queue") == -P.refd(mat.profiles, "queue", "bfs")


def test_co_owners_do_not_count_as_references():
    unit = Unit(0, frozenset(["frontier", "branching"]), 1,
                Counter({"frontier": 1, "branching": 1}))
    profiles = P.build_profiles(["frontier", "branching"], [unit])
    assert profiles["frontier"].refs == Counter() == profiles["branching"].refs


def test_inferred_links_have_confidence_and_evidence():
    links = P.infer_links(_material())
    edges = {x.edge: x for x in links}
    assert ("heuristic", "astar") in edges and ("queue", "bfs") in edges
    link = edges[("heuristic", "astar")]
    assert 0 < link.confidence <= 1
    assert link.evidence["mentions"] == [1, 1] and link.evidence["refd"] > 0
    assert all(x.concept != "queue" for x in links)  # the first concept needs nothing
    assert max(Counter(x.concept for x in links).values()) <= P.MAX_PER_CONCEPT


def test_selection_refuses_cycles_and_respects_fixed_edges():
    scored = [Link("a", "b", 0.9), Link("b", "a", 0.8), Link("b", "c", 0.7),
              Link("c", "a", 0.6), Link("x", "y", 0.1)]
    kept = {x.edge for x in P.select_links(scored, threshold=0.2)}
    assert kept == {("a", "b"), ("b", "c")}
    kept = {x.edge for x in P.select_links(scored, threshold=0.2, fixed=[("c", "b")])}
    assert ("b", "c") not in kept and ("a", "b") in kept


def test_baselines_and_scores():
    mat = _material()
    assert P.order_baseline(mat.order) == {("queue", "graph"), ("graph", "bfs"),
                                           ("bfs", "heuristic"), ("heuristic", "astar")}
    assert ("heuristic", "astar") in P.refd_baseline(mat.profiles)
    score = P.prf({("a", "b"), ("b", "c")}, {("a", "b"), ("c", "d"), ("d", "e")})
    assert score["precision"] == 0.5 and score["recall"] == pytest.approx(0.3333, abs=1e-4)
    assert score["f1"] == pytest.approx(0.4)


def test_fit_weights_learns_the_signal():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, len(P.FEATURES)))
    y = (x[:, 0] - x[:, 3] + 0.2 * rng.normal(size=400) > 0).astype(float)
    w = P.fit_weights(x, y)
    assert w[P.FEATURES[0]] > 1 and w[P.FEATURES[3]] < -1 and set(w) == {*P.FEATURES, "bias"}


class _ScriptedModel:
    """Answers in turn (for the verdict parsing; the real model is tested below)."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.asked = []

    def stream_chat(self, messages, max_tokens=4, timeout_s=60.0):
        self.asked.append(messages[-1]["content"])
        yield self.answers.pop(0)


def test_llm_refinement_moves_uncertain_links_only():
    links = [Link("a", "b", 0.45), Link("c", "d", 0.3), Link("e", "f", 0.95),
             Link("g", "h", 0.2)]
    model = _ScriptedModel(["Yes.", " no, it is not", "maybe"])
    refine = P.llm_refiner(model, describe=lambda cid: f"{cid}: summary", band=(0.2, 0.5))
    out = {x.edge: x for x in refine(links)}
    assert len(model.asked) == 3 and "Concept B: a: summary" in model.asked[0]
    assert out[("a", "b")].confidence == pytest.approx(0.65) and out[("a", "b")].evidence[
        "llm"] == "yes"
    assert out[("c", "d")].confidence == pytest.approx(0.05)
    assert out[("g", "h")].evidence["llm"] == "unclear"
    assert out[("e", "f")].confidence == 0.95 and "llm" not in out[("e", "f")].evidence


@pytest.mark.slow
def test_llm_refinement_with_the_real_tiny_model(tiny_backend):
    links = [Link("gradient", "gradient-descent", 0.4)]
    describe = {"gradient": "Gradient: the vector of partial derivatives of a function.",
                "gradient-descent": "Gradient descent: an optimiser that steps against the "
                                    "gradient."}.__getitem__
    out = P.llm_refiner(tiny_backend, describe, band=(0.1, 0.9))(links)
    assert out[0].evidence["llm"] in ("yes", "no", "unclear")
    assert 0.0 < out[0].confidence < 1.0
