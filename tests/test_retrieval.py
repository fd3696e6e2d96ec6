"""Retrieval through the real embedder and a real ChromaDB folder (the mini course)."""

import pytest

from knowledge.common.errors import InvalidInputError
from knowledge.questions import MAX_QUESTION_CHARS, looks_like_follow_up
from tutor import runtime


@pytest.fixture
def retriever(mini_settings):
    return runtime.retriever(mini_settings)


def test_matches_then_prerequisites_in_learning_path_order(retriever):
    result = retriever.retrieve("What is CLIP and how is it used in computer vision?",
                                k=1, depth=2, max_concepts=10)
    assert [m.id for m in result.matches] == ["clip"]
    ids = [c.id for c in result.concepts]
    assert ids[-1] == "clip"
    assert {"contrastive-learning", "transformer", "cosine-similarity"} <= set(ids)
    position = {cid: i for i, cid in enumerate(ids)}
    graph = retriever.course.graph
    for a, b in graph.subgraph(ids).edges:
        assert position[a] < position[b], f"{a} must come before {b}"
    roles = {c.id: (c.role, c.depth) for c in result.concepts}
    assert roles["clip"] == ("match", 0) and roles["transformer"] == ("prerequisite", 1)
    assert roles["embedding"] == ("prerequisite", 2)


def test_cap_keeps_matches_and_nearest_prerequisites(retriever):
    result = retriever.retrieve("What is CLIP?", k=1, depth=3, max_concepts=4)
    kept = {c.id: c for c in result.concepts}
    assert len(kept) == 4 and "clip" in kept
    assert all(c.depth == 1 for c in kept.values() if c.role == "prerequisite")


def test_depth_zero_means_matches_only(retriever):
    result = retriever.retrieve("breadth first search queue", k=3, depth=0, max_concepts=10)
    assert all(c.role == "match" for c in result.concepts) and len(result.concepts) == 3
    assert result.matches[0].id == "breadth-first-search"


def test_json_shape(retriever):
    data = retriever.retrieve("A star heuristic", k=2, depth=1, max_concepts=5).to_json()
    assert set(data["matches"][0]) == {"id", "name", "score"}
    assert set(data["concepts"][0]) == {"id", "name", "role", "depth", "score"}
    assert data["matches"][0]["id"] == "a-star-search"


def test_follow_up_uses_the_previous_question(retriever):
    alone = retriever.retrieve("and how is it trained?", k=1, depth=0)
    follow = retriever.retrieve("and how is it trained?", k=1, depth=0,
                                history=["What is CLIP?"])
    assert follow.used_history and not alone.used_history
    assert follow.matches[0].id in {"clip", "contrastive-learning"}
    assert alone.matches[0].id != follow.matches[0].id or alone.matches[0].score < \
        follow.matches[0].score
    fresh = retriever.retrieve("Explain breadth-first search to me in detail", k=1, depth=0,
                               history=["What is CLIP?"])
    assert not fresh.used_history and fresh.matches[0].id == "breadth-first-search"


def test_follow_up_detector():
    assert looks_like_follow_up("and how is it trained?")
    assert looks_like_follow_up("why?")
    assert not looks_like_follow_up("Explain breadth-first search with an example")
    assert not looks_like_follow_up("What is CLIP?")


@pytest.mark.catalogue(case="question: empty, huge, control characters",
                       expect="InvalidInputError with a fix")
@pytest.mark.parametrize("bad, message", [
    ("", "empty"), ("   \n\t ", "empty"),
    ("x" * 100_000, "100,000 characters"),
    ("\x00\x01\x02\x03\x04\x05 binary \x06\x07\x08", "binary"),
], ids=["empty", "whitespace", "huge", "control-characters"])
def test_bad_questions_are_refused_clearly(retriever, bad, message):
    with pytest.raises(InvalidInputError, match=message) as err:
        retriever.retrieve(bad)
    assert err.value.fix


def test_limit_and_non_english(retriever):
    assert MAX_QUESTION_CHARS >= 1000
    result = retriever.retrieve("Co je prohledávání do šířky? Что такое поиск в ширину?", k=3)
    assert result.matches  # answered, not an error: quality is measured in the benchmark
