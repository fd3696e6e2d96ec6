from knowledge.cards import load_cards
from knowledge.graph import (
    ancestor_counts,
    ancestors_within,
    build_graph,
    concept_depths,
    graph_stats,
    learning_path,
    neighbourhood,
    next_steps,
    to_dot,
)
from tests.conftest import MINI_COURSE

GRAPH = build_graph(load_cards([MINI_COURSE]))


def test_ancestors_respect_depth_and_record_who_needs_them():
    one = ancestors_within(GRAPH, ["clip"], 1)
    assert set(one) == {"contrastive-learning", "transformer", "cosine-similarity"}
    two = ancestors_within(GRAPH, ["clip"], 2)
    assert {"embedding", "cross-entropy", "softmax-function", "dot-product"} <= set(two)
    assert two["embedding"].depth == 2 and two["transformer"].depth == 1
    both = ancestors_within(GRAPH, ["clip", "transformer"], 1)
    assert "transformer" not in both  # a seed is never its own prerequisite
    assert both["embedding"].needed_by == {"transformer"}


def test_learning_path_puts_prerequisites_first_even_through_gaps():
    order = learning_path(GRAPH, ["zero-shot-classification", "clip", "vector"])
    assert order == ["vector", "clip", "zero-shot-classification"]


def test_next_steps_and_stats():
    assert next_steps(GRAPH, ["clip"]) == ["zero-shot-classification"]
    assert next_steps(GRAPH, ["clip"], exclude=["zero-shot-classification"]) == []
    stats = graph_stats(GRAPH)
    assert (stats.concepts, stats.units, stats.roots) == (15, 3, 2)
    assert stats.longest_chain == 6 and stats.longest_chain_ids[-1] == "zero-shot-classification"


def test_neighbourhood_and_dot():
    sub = neighbourhood(GRAPH, "clip", up=1, down=1)
    assert set(sub) == {"clip", "contrastive-learning", "transformer", "cosine-similarity",
                        "zero-shot-classification"}
    dot = to_dot(sub, {"clip": "#ff0000"})
    assert '"contrastive-learning" -> "clip";' in dot and 'fillcolor="#ff0000"' in dot


def test_concept_depths_count_all_ancestors_and_follow_the_longest_chain():
    (clip,) = concept_depths(GRAPH, ["clip", "no-such-card"])
    assert clip.ancestors == 8
    assert clip.chain == ("vector", "softmax-function", "cross-entropy", "contrastive-learning",
                          "clip")
    assert clip.depth == 4
    counts = ancestor_counts(GRAPH)
    assert counts["clip"] == 8 and counts["vector"] == 0 and counts["zero-shot-classification"] == 9
