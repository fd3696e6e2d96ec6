from knowledge.cards import load_cards
from knowledge.lexical import LabelIndex, name_labels, normalise
from tests.conftest import MINI_COURSE

INDEX = LabelIndex(load_cards([MINI_COURSE]))


def test_names_and_acronyms_are_found_as_whole_words():
    assert INDEX.mentioned("whats the difference between bfs and dfs") == {
        "breadth-first-search": 1, "depth-first-search": 1}
    assert INDEX.mentioned("Explain Breadth-first search!") == {"breadth-first-search": 3}
    assert "clip" in INDEX.mentioned("how is CLIP trained")
    assert INDEX.mentioned("a clipboard of dfsx") == {}


def test_short_labels_are_ignored():
    assert normalise("A*  search") == "a search"
    assert "a-star-search" not in INDEX.mentioned("a b c")


def test_named_concept_is_ranked_first(mini_settings):
    from tutor import runtime

    retriever = runtime.retriever(mini_settings)
    hits = retriever.retrieve("bfs?", k=3, depth=0).matches
    assert hits[0].id == "breadth-first-search"


def test_parenthesised_names_give_their_parts():
    assert name_labels("CLIP (Contrastive Language-Image Pre-training)") == [
        "CLIP (Contrastive Language-Image Pre-training)", "CLIP",
        "Contrastive Language-Image Pre-training"]
    assert name_labels("Digital video (frames, shots and keyframes)") == [
        "Digital video (frames, shots and keyframes)", "Digital video"]
    assert name_labels("Breadth-first search") == ["Breadth-first search"]
