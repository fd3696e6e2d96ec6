"""The sentence checker, with the real packaged embedder (int8 MiniLM)."""

import pytest

from knowledge.cards import load_cards
from knowledge.embeddings import load_embedder
from tests.conftest import MINI_COURSE, TEST_MODELS
from tutor.grounding import GroundingChecker


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


def test_numbers_in_the_cards_are_accepted(checker, evidence):
    check = checker.check("CLIP was trained on 400 million image-caption pairs.", evidence)
    assert check.verdict == "supported", check
