"""Consistency of the labelled grounding data (issue 11) with the course cards.

The files are evaluation data for the sentence checker; these tests keep them honest when cards
change: card ids exist, evidence is quoted verbatim, and every probe pattern matches its own false
examples but not their negated forms or the true example (negation as the lessons scorer treats it).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from knowledge.cards import Concept, load_cards

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "knowledge" / "eval"
LABELS = {"supported", "unsupported", "contradicted"}
NEGATION = re.compile(
    r"\b(not|no|never|cannot|neither|nor|rather than|instead of)\b|n't", re.IGNORECASE
)


@pytest.fixture(scope="module")
def cards() -> dict[str, Concept]:
    return {c.id: c for c in load_cards([ROOT / "knowledge" / "courses" / "intro_ai"])}


def _load(name: str) -> list[dict]:
    data = yaml.safe_load((EVAL / name).read_text(encoding="utf-8"))
    assert isinstance(data, list) and data
    return data


def states_claim(patterns: list[str], sentence: str) -> bool:
    """True when some pattern matches the sentence with no negation inside the matched span."""
    for pattern in patterns:
        for match in re.finditer(pattern, sentence, re.IGNORECASE):
            if not NEGATION.search(match.group(0)):
                return True
    return False


def test_grounding_sentences_are_well_formed(cards: dict[str, Concept]):
    items = _load("grounding_sentences.yaml")
    labels: Counter[str] = Counter()
    units = set()
    assert len(items) >= 30
    for item in items:
        assert item["split"] in {"tune", "holdout"}
        assert 1 <= len(item["cards"]) <= 3
        for card_id in item["cards"]:
            assert card_id in cards, f"{item['question']}: unknown card {card_id}"
            units.add(cards[card_id].unit)
        assert 8 <= len(item["sentences"]) <= 10, item["question"]
        for sentence in item["sentences"]:
            assert sentence["label"] in LABELS, sentence
            assert sentence["text"].strip() and sentence["note"].strip(), sentence
            labels[sentence["label"]] += 1
    total = sum(labels.values())
    assert total >= 260 and len(units) >= 15
    assert 0.40 <= labels["supported"] / total <= 0.50
    assert 0.15 <= labels["contradicted"] / total <= 0.25


def test_contradiction_probes_quote_cards_and_match_their_examples(cards: dict[str, Concept]):
    probes = _load("contradiction_probes.yaml")
    assert len(probes) >= 24
    for probe in probes:
        card = cards[probe["card"]]
        texts = (card.summary, card.explanation, card.example)
        assert any(probe["evidence"] in text for text in texts), f"{card.id}: evidence not verbatim"
        assert probe["split"] in {"tune", "holdout"}
        pairs = [(probe["example_false"], probe["example_negated"])]
        pairs += [(more["text"], more["negated"]) for more in probe.get("more_examples", [])]
        for pattern in probe["patterns"]:
            regex = re.compile(pattern, re.IGNORECASE)
            assert any(regex.search(false) for false, _ in pairs), f"{pattern} matches no example"
        for false, negated in pairs:
            assert states_claim(probe["patterns"], false), false
            assert not states_claim(probe["patterns"], negated), negated
        assert not states_claim(probe["patterns"], probe["example_true"]), probe["example_true"]


def test_no_supported_sentence_states_a_probed_false_claim():
    probes = _load("contradiction_probes.yaml")
    for item in _load("grounding_sentences.yaml"):
        for sentence in item["sentences"]:
            if sentence["label"] != "supported":
                continue
            text = sentence["text"]
            hits = [p["false_claim"] for p in probes if states_claim(p["patterns"], text)]
            assert not hits, (text, hits)


NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
CZECH_LETTERS = re.compile(r"[áčďéěíňóřšťúůýž]", re.IGNORECASE)


@pytest.mark.parametrize("code, script", [("cs", CZECH_LETTERS), ("ru", CYRILLIC)])
def test_translations_keep_items_labels_and_numbers(code: str, script: re.Pattern):
    """The Czech/Russian files are translations with identical labels: same items in the same order,
    same cards/split/label/note per sentence, every sentence translated (short Czech sentences
    such as "Bagging zavedl Breiman v roce 1996." have no diacritics, hence the share), and the
    same numbers (a translation that changed, dropped or added a number could change the label)."""
    english = _load("grounding_sentences.yaml")
    translated = _load(f"grounding_sentences_{code}.yaml")
    assert len(translated) == len(english)
    in_script = total = 0
    for en, tr in zip(english, translated, strict=True):
        assert (tr["cards"], tr["split"]) == (en["cards"], en["split"]), tr["question"]
        assert len(tr["sentences"]) == len(en["sentences"]), tr["question"]
        pairs = [(en["question"], tr["question"])]
        for en_s, tr_s in zip(en["sentences"], tr["sentences"], strict=True):
            assert (tr_s["label"], tr_s["note"]) == (en_s["label"], en_s["note"]), tr_s["text"]
            pairs.append((en_s["text"], tr_s["text"]))
        for en_text, tr_text in pairs:
            assert tr_text.strip() and tr_text != en_text, tr_text
            assert Counter(NUMBER.findall(tr_text)) == Counter(NUMBER.findall(en_text)), (
                en_text, tr_text)
            in_script += bool(script.search(tr_text))
            total += 1
    assert in_script / total >= 0.95


def test_retrieval_eval_set_ignores_the_grounding_files():
    from knowledge.evaluation import load_eval_set

    grounding = {item["question"] for code in ("", "_cs", "_ru")
                 for item in _load(f"grounding_sentences{code}.yaml")}
    questions = load_eval_set(EVAL)
    assert questions and not grounding & {q.question for q in questions}
