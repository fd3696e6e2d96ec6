"""The sentence checker, with the real packaged embedder (int8 MiniLM)."""

import pytest

from knowledge.cards import load_cards
from knowledge.embeddings import load_embedder
from tests.conftest import MINI_COURSE, TEST_MODELS
from tutor.grounding import GroundingChecker, misconception_claim
from tutor.settings import SHIPPED_COURSE


@pytest.fixture(scope="module")
def checker():
    return GroundingChecker(load_embedder("minilm-l6-int8", TEST_MODELS))


@pytest.fixture(scope="module")
def evidence(checker):
    cards = {c.id: c for c in load_cards([MINI_COURSE])}
    return checker.evidence([cards["clip"], cards["zero-shot-classification"]],
                            "What is CLIP and how is it used in computer vision?")


@pytest.mark.parametrize("sentence", [
    "CLIP trains an image encoder and a text encoder so that matching images and captions "
    "get a high cosine similarity.",
    "Because of this, CLIP can label images with classes it was never trained on by comparing "
    "them with text prompts.",
])
def test_paraphrases_of_the_cards_are_supported(checker, evidence, sentence):
    check = checker.check(sentence, evidence)
    assert check.verdict == "supported", check
    assert check.card_id in {"clip", "zero-shot-classification"} and check.evidence


@pytest.mark.parametrize("sentence, verdict, reason", [
    ("CLIP can generate captions for images.", "contradicted", "contradicts"),
    ("No, CLIP is a captioning model.", "contradicted", "contradicts"),  # "No," answers
    ("CLIP was trained on 12 million image-caption pairs.", "unsupported", "numbers"),
    ("You can load it with `AutoModelForCLIP.from_pretrained`.", "unsupported", "names"),
    ("CLIP was invented at DeepMind by Geoffrey Hinton.", "unsupported", "names"),
    ("Transformers are a great way to cook pasta quickly.", "unsupported", "no card sentence"),
])
def test_claims_the_cards_do_not_make_are_caught(checker, evidence, sentence, verdict, reason):
    check = checker.check(sentence, evidence)
    assert check.verdict == verdict and reason in check.reason, check
    assert not check.shown


def test_negated_claim_agreeing_with_the_card_is_not_a_contradiction(checker, evidence):
    check = checker.check("CLIP does not write captions; it scores image-text pairs.", evidence)
    assert check.verdict != "contradicted", check


def test_talk_about_the_notes_is_meta(checker, evidence):
    check = checker.check("The course notes do not cover how CLIP is deployed on phones.",
                          evidence)
    assert check.verdict == "meta" and check.shown
    claim = checker.check("The course notes describe how CLIP writes captions for images.",
                          evidence)
    assert claim.verdict != "meta" and not claim.shown  # what "the notes say" is checked


def test_numbers_in_the_cards_are_accepted(checker, evidence):
    check = checker.check("CLIP was trained on 400 million image-caption pairs.", evidence)
    assert check.verdict == "supported", check


def test_a_misconception_the_card_names_is_a_contradiction_not_support(checker):
    """"A frequent mistake is to ... expect the cheapest path": saying BFS finds the cheapest
    path on weighted graphs restates the named mistake; saying it does not is fine."""
    bfs = next(c for c in load_cards([SHIPPED_COURSE]) if c.id == "breadth-first-search")
    evidence = checker.evidence([bfs], "Does BFS find the cheapest path?")
    claims = [u.text for u in evidence.units if u.misconception]
    assert claims and all("frequent mistake" not in claim for claim in claims)
    wrong = checker.check("On weighted graphs, BFS returns the lowest-cost path.", evidence)
    assert wrong.verdict == "contradicted" and "misconception" in wrong.reason
    assert "frequent mistake" in wrong.evidence  # the card's whole sentence is quoted
    right = checker.check("BFS does not find the cheapest path in a weighted graph.", evidence)
    assert right.verdict != "contradicted" or "misconception" not in right.reason


@pytest.mark.parametrize("sentence, claim", [
    ("A common misconception is that hill climbing backtracks; it never does.",
     "hill climbing backtracks"),
    ("Students often think A* is optimal with any heuristic; an overestimating h can make it "
     "return a suboptimal path.", "A* is optimal with any heuristic"),
    ("The error is computed as the difference between target and output.", ""),
    ("A confusion matrix is a table of predicted against true classes.", ""),
])
def test_misconception_claims_are_read_from_card_sentences(sentence, claim):
    assert misconception_claim(sentence) == claim
