"""Is a sentence the model wrote supported by the course cards it was given?

The checker is deliberately transparent, so a teacher can see why a sentence was left out:

1. **Meaning**: the best cosine similarity between the sentence and a card sentence (or two
   consecutive card sentences, for a sentence that joins two facts), with the store's own
   sentence-embedding model, and the share of the sentence's content words found in its three
   nearest card sentences (or the question).
2. **Names, numbers and absolutes**: every number and every name-like token (an acronym, a
   capitalised term inside the sentence, a code identifier) must occur in the cards or the
   question, and an absolute or comparative word ("always", "only", "faster") in the three
   nearest card sentences.
3. **Contradiction**: a card sentence that denies something ("It is not a captioning model",
   "does not write text") while the model's sentence asserts it without a negation, or the
   reverse, about the same thing (similar sentences sharing the negated word); and a model
   sentence that restates a misconception the card names ("A common misconception is that
   hill climbing backtracks", "Students often think A* is optimal with any heuristic"): the
   named claim is kept apart, it never supports a sentence, and a sentence close to it that
   does not negate it contradicts the card.

A sentence is *supported* when 1 reaches the threshold and 2 and 3 find nothing; sentences that
say what the notes do not cover ("The course notes do not cover ...") are *meta* and may be
shown; a sentence that says what the notes do say is checked like any other.
The thresholds were chosen on the tune split of ``knowledge/eval/grounding_sentences.yaml``
(labelled sentences written independently of this module); ``erica bench grounding`` reports
precision and recall on both splits.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from knowledge.cards import Concept
from knowledge.embeddings import Embedder
from tutor.sentences import split_sentences, words

Verdict = Literal["supported", "unsupported", "contradicted", "meta"]

SUPPORT_THRESHOLD = 0.50  # cosine to the best card sentence (pair); tuned, see the docstring
COVERAGE = 0.8  # share of the sentence's content words found in its 3 nearest card sentences
# Czech and Russian answers are compared with the English cards by the multilingual embedder
# alone (the word rules are English); chosen on the Czech tune split for precision >= 0.95.
CROSS_LANGUAGE_THRESHOLD = 0.88

_NEGATION = re.compile(
    r"\b(not|no|never|cannot|can't|isn't|aren't|doesn't|don't|didn't|won't|without|neither|"
    r"nor|rather than|instead of|ne|není|nejsou|nelze|nikdy|не|нет|никогда|нельзя)\b|n't\b",
    re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?:\.\d+)?")
_IDENTIFIER = re.compile(r"`[^`]+`|\b[A-Za-z_]\w*(?:\.\w+)+\(?|\b[a-z]+_[a-z_]+\b|"
                         r"\b[A-Z][a-z]+[A-Z]\w*\b|\b[A-Z]{2,}[A-Za-z0-9-]*\b")
# Absolute and comparative words: "always", "faster", "only" change a claim; the card must say
# them too.
_ABSOLUTE = re.compile(
    r"\b(always|never|guarantee\w*|exactly|only|all|every|any|most|mostly|usually|typically|"
    r"faster|slower|better|worse|more|less|fewer|cheaper|larger|smaller|higher|lower|best|"
    r"worst|easy|easier|harder|impossible|must|cannot|no longer|same|identical|equivalent|"
    r"independent\w*|directly|whole|entire|than)\b", re.IGNORECASE)
_META = re.compile(
    r"course notes?|course materials?|the notes (?:do|don't|does)|not (?:covered|in the course)|"
    r"poznámk\w* (?:kurzu|z kurzu)|v kurzu|materiál\w* kurzu|"
    r"конспект\w*|материал\w* курса|в курсе не|заметк\w* курса",
    re.IGNORECASE)
_STOP = frozenset({
    "a", "an", "the", "of", "to", "in", "on", "for", "by", "with", "as", "at", "from", "and",
    "or", "but", "if", "then", "than", "that", "this", "these", "those", "it", "its", "is",
    "are", "was", "were", "be", "been", "being", "can", "could", "may", "might", "will",
    "would", "should", "must", "do", "does", "did", "has", "have", "had", "which", "who",
    "whom", "whose", "what", "when", "where", "why", "how", "there", "here", "such", "so",
    "also", "into", "over", "under", "about", "between", "both", "each", "other", "more",
    "most", "less", "many", "much", "very", "not", "no", "any", "some", "all", "one", "two",
    "used", "use", "uses", "using", "make", "makes", "made", "allow", "allows", "help", "helps",
    "called", "known", "way", "ways", "thing", "things", "e", "g", "i", "example", "instance",
    "like", "just", "only", "well", "often", "typically", "usually", "generally", "important",
    "key", "main", "while", "within", "without", "because", "therefore", "thus", "however"
})


@dataclass(frozen=True)
class SentenceCheck:
    """The verdict on one sentence, with the evidence behind it."""

    sentence: str
    verdict: Verdict
    support: float  # best cosine to a card sentence (or pair of sentences)
    evidence: str  # that card sentence
    card_id: str
    reason: str = ""  # why it is not supported

    @property
    def shown(self) -> bool:
        return self.verdict in ("supported", "meta")

    def to_json(self) -> dict[str, object]:
        return {"sentence": self.sentence, "verdict": self.verdict,
                "support": round(self.support, 3), "evidence": self.evidence,
                "card": self.card_id, "reason": self.reason}


def _number_key(token: str) -> str:
    token = token.replace(",", "") if re.fullmatch(r"\d{1,3}(,\d{3})+", token) else token
    return token.replace(",", ".").rstrip("0").rstrip(".") if "." in token or "," in token \
        else token


def _stem(word: str) -> str:
    """A crude English stem: enough to match caption/captions/captioning."""
    for suffix in ("ations", "ation", "ings", "ing", "ies", "ied", "es", "ed", "s", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def _content_stems(text: str) -> set[str]:
    return {_stem(w) for w in words(text) if w not in _STOP and not w[0].isdigit()
            and len(w) > 2}


@dataclass(frozen=True)
class _Unit:
    text: str
    card_id: str
    negated: frozenset[str]  # stems a negation in this sentence applies to
    misconception: str = ""  # the card sentence that names this claim as a misconception


# "A common misconception is that X", "Students often think X", "A frequent mistake is to
# assume X": X is a claim the card denies.
_MISCONCEPTION = re.compile(
    r"\b(?:(?:common|frequent|classic|typical|key|popular)\s+)?"
    r"(?:misconception|mistake|misunderstanding|myth|pitfall|confusion)\s+is\s+"
    r"(?:(?:to\s+)?(?:think|believe|assume|expect|say|claim)\w*\s+)?(?:that\s+)?"
    r"|\b(?:students|people|beginners|learners|many|newcomers)\s+(?:often\s+|commonly\s+|"
    r"sometimes\s+|usually\s+|tend\s+to\s+)?(?:think|believe|assume|expect|conclude)\w*\s+"
    r"(?:that\s+)?", re.IGNORECASE)
_CLAIM_END = re.compile(r"[;:]|,\s*(?:but|which|while|whereas)\b|\s+(?:but|whereas)\s+")
MISCONCEPTION_SIMILARITY = 0.70  # cosine of a model sentence to a named misconception


def misconception_claim(sentence: str) -> str:
    """The claim a card sentence names as a misconception ("" when it names none)."""
    found = _MISCONCEPTION.search(sentence)
    if not found:
        return ""
    claim = _CLAIM_END.split(sentence[found.end():], maxsplit=1)[0].strip(" .\"'")
    return claim if len(claim.split()) >= 3 else ""


class Evidence:
    """The card text a model was given, split into sentences and embedded once per lesson."""

    def __init__(self, cards: Sequence[Concept], embedder: Embedder, question: str = "",
                 extra_text: str = "") -> None:
        self.cards = list(cards)
        self.question = question
        self.embedder = embedder
        units: list[_Unit] = []
        texts: list[str] = []
        for card in self.cards:
            sentences = [s for field in (card.summary, card.explanation, card.example)
                         for s in split_sentences(field)]
            for i, sentence in enumerate(sentences):
                units.append(_Unit(sentence, card.id, _negated_stems(sentence)))
                texts.append(sentence)
                claim = misconception_claim(sentence)
                if claim:
                    units.append(_Unit(claim, card.id, frozenset(), misconception=sentence))
                    texts.append(claim)
                if i + 1 < len(sentences):  # a sentence may join two facts
                    joined = f"{sentence} {sentences[i + 1]}"
                    units.append(_Unit(joined, card.id, frozenset()))
                    texts.append(joined)
        self.units = units
        self.unit_stems = [_content_stems(u.text) for u in units]
        self.claim_mask = np.array([bool(u.misconception) for u in units], dtype=bool)
        self.question_stems = _content_stems(question)
        self.vectors = embedder.encode(texts) if texts else np.zeros((0, embedder.dim))
        all_text = " ".join([*(f"{c.name} {' '.join(c.aliases)} {c.summary} {c.explanation} "
                               f"{c.example} {c.code}" for c in self.cards), question,
                             extra_text])
        self.lower = all_text.lower()
        self.numbers = {_number_key(n) for n in _NUMBER.findall(all_text)}
        self.stems = _content_stems(all_text)


_ANSWER_PARTICLE = re.compile(r"^\W*(?:yes|no|ano|ne|да|нет)\b[,.!:;]?\s*", re.IGNORECASE)


def _negated_stems(sentence: str) -> frozenset[str]:
    """Content stems of the words right after each negation in the sentence (a leading
    "Yes,"/"No," answers the question; it does not negate the claim that follows)."""
    sentence = _ANSWER_PARTICLE.sub("", sentence)
    stems: set[str] = set()
    for match in _NEGATION.finditer(sentence):
        after = [w for w in words(sentence[match.end():])[:4]
                 if w not in _STOP and not w[0].isdigit() and len(w) > 2]
        stems.update(_stem(w) for w in after[:2])
    return frozenset(stems)


class GroundingChecker:
    """Checks model sentences against :class:`Evidence`; thread-safe (the embedder locks)."""

    def __init__(self, embedder: Embedder, threshold: float = SUPPORT_THRESHOLD,
                 coverage: float = COVERAGE, word_rules: bool = True) -> None:
        """``word_rules``: apply the English word rules (absolutes, coverage, negations);
        off for answers in another language than the cards'."""
        self.embedder = embedder
        self.threshold = threshold
        self.coverage = coverage
        self.word_rules = word_rules

    def evidence(self, cards: Sequence[Concept], question: str = "") -> Evidence:
        return Evidence(cards, self.embedder, question)

    def check(self, sentence: str, evidence: Evidence) -> SentenceCheck:
        if not evidence.units:
            return SentenceCheck(sentence, "unsupported", 0.0, "", "", "no course text")
        vec = self.embedder.encode([sentence])[0]  # symmetric: a sentence against sentences
        sims = evidence.vectors @ vec
        misconception = _restates_misconception(sentence, evidence, sims) \
            if self.word_rules else None
        if misconception is not None:
            return SentenceCheck(sentence, "contradicted", float(np.max(sims)),
                                 misconception.misconception, misconception.card_id,
                                 "the card names this a misconception")
        # a named misconception never supports a sentence
        sims = np.where(evidence.claim_mask, -1.0, sims)
        best = int(np.argmax(sims))
        support, unit = float(sims[best]), evidence.units[best]
        # "The notes do not cover X" is shown as the model's own remark; "the notes say X"
        # is a claim like any other and is checked
        if _META.search(sentence) and _NEGATION.search(sentence) and \
                not _NUMBER.search(sentence):
            return SentenceCheck(sentence, "meta", support, unit.text, unit.card_id)
        clash = _contradiction(sentence, evidence, sims) if self.word_rules else None
        if clash is not None:
            return SentenceCheck(sentence, "contradicted", support, clash.text, clash.card_id,
                                 "contradicts the card")
        new_numbers = [n for n in _NUMBER.findall(sentence)
                       if _number_key(n) not in evidence.numbers]
        if new_numbers:
            return SentenceCheck(sentence, "unsupported", support, unit.text, unit.card_id,
                                 "numbers not in the cards: " + ", ".join(new_numbers))
        new_names = [n for n in _names(sentence) if n.lower().strip("`(") not in evidence.lower]
        if new_names:
            return SentenceCheck(sentence, "unsupported", support, unit.text, unit.card_id,
                                 "names not in the cards: " + ", ".join(new_names))
        if support < self.threshold:
            return SentenceCheck(sentence, "unsupported", support, unit.text, unit.card_id,
                                 f"no card sentence says this (best match {support:.2f})")
        if not self.word_rules:
            return SentenceCheck(sentence, "supported", support, unit.text, unit.card_id)
        nearest = [evidence.units[int(i)].text for i in np.argsort(-sims)[:3]]
        extra = _absolutes(sentence) - _absolutes(" ".join(nearest))
        if extra:
            return SentenceCheck(sentence, "unsupported", support, unit.text, unit.card_id,
                                 "the cards do not say: " + ", ".join(sorted(extra)))
        stems = _content_stems(sentence)
        near = set(evidence.question_stems).union(
            *(evidence.unit_stems[int(i)] for i in np.argsort(-sims)[:3]))
        missing = stems - near
        if stems and 1 - len(missing) / len(stems) < self.coverage:
            return SentenceCheck(sentence, "unsupported", support, unit.text, unit.card_id,
                                 "words not in the nearest card sentences: "
                                 + ", ".join(sorted(missing)))
        return SentenceCheck(sentence, "supported", support, unit.text, unit.card_id)


def _absolutes(text: str) -> set[str]:
    return {m.lower() for m in _ABSOLUTE.findall(text)}


def _names(sentence: str) -> list[str]:
    """Name-like tokens, not counting the sentence's first word (capitalised anyway)."""
    first = re.match(r"\W*\w+", sentence)
    skip = first.end() if first else 0
    return [m.group(0) for m in _IDENTIFIER.finditer(sentence)
            if m.start() >= skip or "`" in m.group(0) or "." in m.group(0)
            or m.group(0).isupper()]


def _restates_misconception(sentence: str, evidence: Evidence,
                            sims: np.ndarray) -> _Unit | None:
    """The named misconception this sentence states (without negating it), if any."""
    if _NEGATION.search(_ANSWER_PARTICLE.sub("", sentence)):
        return None
    for i in np.argsort(-sims)[:8]:
        unit = evidence.units[int(i)]
        if unit.misconception and sims[i] >= MISCONCEPTION_SIMILARITY:
            return unit
    return None


def _contradiction(sentence: str, evidence: Evidence, sims: np.ndarray,
                   min_similarity: float = 0.35) -> _Unit | None:
    """A card sentence that negates what ``sentence`` asserts (or asserts what it negates)."""
    stems = _content_stems(sentence)
    negated_here = _negated_stems(sentence)
    near = [evidence.units[int(i)] for i in np.argsort(-sims)[:8] if sims[i] >= min_similarity]
    if negated_here and any(unit.negated & negated_here for unit in near):
        return None  # the cards deny it too: agreement, not contradiction
    for unit, similarity in zip(near, sorted(sims, reverse=True), strict=False):
        if unit.negated and not negated_here and unit.negated & stems:
            return unit
        if negated_here and not unit.negated and similarity >= 0.6 and \
                negated_here & _content_stems(unit.text):
            return unit
    return None
