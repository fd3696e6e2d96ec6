"""Practice questions built from the concept cards alone, no model (issue 19).

Five kinds, each with an answer key that the cards prove, asked in this order:

* ``choice``: a card sentence with the concept's name and aliases blanked out; the options are
  the concept and up to three confusable ones of its unit (the card's ``related``, cards that
  relate to it, siblings sharing a prerequisite, its prerequisites; then ``related`` cards of
  other units and, last, concepts that build on it). Too few of them gives fewer options,
  never invented ones.
* ``order``: which of up to four concepts you need before learning this one: one of its
  prerequisites, and concepts that are not its ancestors in the graph (those that build on
  it, then its siblings). A concept without prerequisites gets the two-option "which comes
  first" with one that builds on it.
* ``worked_number``: the card's worked example with one stated number changed and the result
  asked for; the key is the card's own equation recomputed exactly (Decimal arithmetic), and
  the question is skipped unless every number of the equation is stated in the sentence.
* ``statement``: which of up to four statements is true of the concept: a sentence of its
  card with its name (the subject) blanked, and a defining sentence of each of two or three
  siblings from their own cards, blanked the same way; never a prerequisite or a kind of it,
  and no negated or hedged sentence (those may hold of both).
* ``true_false``: a card sentence as written (true), or the same sentence with one word turned
  into its opposite ("shallowest" -> "deepest"), which the card's sentence contradicts; in
  place of ``statement`` when none can be made, and after the others.

Four-option kinds come first: a two-option answer is a coin toss half the time and tells the
mastery estimate little.

``proof`` is always quoted verbatim from the card named by ``source_id`` (a sentence, or for
``order`` the ``prerequisites`` list of the card that needs the other).
"""

from __future__ import annotations

import logging
import random
import re
import weakref
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache

import networkx as nx
import numpy as np

from knowledge.cards import Concept
from knowledge.common.errors import InvalidInputError
from knowledge.course import Course
from knowledge.graph import build_graph
from knowledge.lexical import name_labels, normalise
from tutor.practice.numbers import worked_numbers
from tutor.sentences import split_sentences

log = logging.getLogger(__name__)

KINDS = ("choice", "statement", "true_false", "order", "worked_number")
MAX_DISTRACTORS = 3
BLANK = "___"
TRUE_FALSE = ("True", "False")
_MIN_WORDS = 8
_MAX_WORDS = 45
# A sentence that leans on the one before it ("It ...", "This ...") is unclear on its own.
_DEPENDENT_START = re.compile(
    r"^(it|its|it's|this|these|that|those|they|their|them|such|both|here|then|also|however|"
    r"instead|otherwise|thus|hence|so|but|and|or|for example|for instance|in contrast|"
    r"likewise|similarly|again|the same|the other|the former|the latter|one|another)\b",
    re.IGNORECASE,
)
# Sentences a one-word flip cannot make provably false: negated, hedged, about mistakes.
_NO_FLIP = re.compile(
    r"\b(not|no|never|none|nothing|neither|nor|without|cannot|can't|isn't|aren't|doesn't|"
    r"don't|won't|misconception|mistake|mistaken|wrong|myth|error|bug|confusion|confused|"
    r"confuse|unlike|rather than|instead|versus|vs|whereas|either|if and only if|iff|may|"
    r"might|often|usually|sometimes|typically|roughly|approximately|about|can|could|suppose|"
    r"imagine|consider|assume)\b",
    re.IGNORECASE,
)
# "avoids this by ...": a claim about something said before, unclear on its own.
_BACK_REFERENCE = re.compile(
    r"\b(this|these|those)\b(?=\s*(?:[,.;:]|(?:by|is|are|was|were|means|can|makes|gives|and|"
    r"or|to|in|of|with|for|happens|works)\b))",
    re.IGNORECASE,
)
# Word -> its opposite; a sentence with the word once and none of its partners is flipped.
_PAIRS = (
    ("shallowest", "deepest"),
    ("fifo", "lifo"),
    ("lowest", "highest"),
    ("lower", "higher"),
    ("lower", "upper"),
    ("smallest", "largest"),
    ("smaller", "larger"),
    ("minimum", "maximum"),
    ("minimises", "maximises"),
    ("minimizes", "maximizes"),
    ("minimise", "maximise"),
    ("minimize", "maximize"),
    ("minimising", "maximising"),
    ("minimizing", "maximizing"),
    ("increases", "decreases"),
    ("increase", "decrease"),
    ("increasing", "decreasing"),
    ("overestimates", "underestimates"),
    ("overfitting", "underfitting"),
    ("convex", "concave"),
    ("above", "below"),
    ("faster", "slower"),
    ("shorter", "longer"),
    ("fewest", "most"),
    ("high", "low"),
    ("large", "small"),
    ("local", "global"),
    ("linear", "nonlinear"),
    ("supervised", "unsupervised"),
    ("discrete", "continuous"),
    ("deterministic", "stochastic"),
    ("complete", "incomplete"),
    ("independent", "dependent"),
    ("positive", "negative"),
    ("encoder", "decoder"),
    ("numerator", "denominator"),
    ("precision", "recall"),
    ("underflow", "overflow"),
)
_MAX_MIN = re.compile(r"\b(arg)?(max|min)\b", re.IGNORECASE)
_SUBJECT_SAFE = frozenset(
    ("large", "small", "larger", "smaller", "largest", "smallest")
    + ("high", "low", "higher", "lower", "highest", "lowest")
)
_SUBJECT_WORDS = 6
_ONE_WAY = {"most"}  # "most" is not turned back into "fewest"
_OPPOSITE: dict[str, str] = {}
_PARTNERS: dict[str, set[str]] = {}
for _a, _b in _PAIRS:
    _OPPOSITE.setdefault(_a, _b)
    _PARTNERS.setdefault(_a, set()).add(_b)
    if _b not in _ONE_WAY:
        _OPPOSITE.setdefault(_b, _a)
        _PARTNERS.setdefault(_b, set()).add(_a)
# Words of a name too common in the course to give the answer away ("search", "learning").
_GENERIC_WORDS = """search learning model models network networks function functions
algorithm algorithms method methods problem problems theory rule rules analysis data test
value values based first order process system systems representation neural machine
probability probabilistic distribution inference estimation error loss state states graph
graphs table tree trees space logic with from into over under for and the its their than
versus between using vs via"""
_GENERIC = frozenset(_GENERIC_WORDS.split())


class AnswerOutOfRangeError(InvalidInputError, ValueError):
    """An answer that is not one of the question's options (or no answer at all)."""


@dataclass(frozen=True)
class Question:
    """One practice question; ``answer`` indexes ``options``, ``proof`` is quoted from the
    card ``source_id``."""

    id: str
    concept_id: str
    kind: str
    stem: str
    options: tuple[str, ...]
    answer: int
    proof: str
    source_id: str
    reason: str = ""  # one line on why the key is right, before the card is quoted

    def _validate(self, choice: object) -> int:
        n = len(self.options)
        if choice is None or (isinstance(choice, str) and not choice.strip()):
            raise AnswerOutOfRangeError(
                f"no answer given to question {self.id}",
                f"pick one of the {n} options (0 to {n - 1})",
            )
        if isinstance(choice, bool) or not isinstance(choice, (int, np.integer)):
            raise AnswerOutOfRangeError(
                f"answer {choice!r} to question {self.id} is not an option number",
                f"give a whole number from 0 to {n - 1}",
            )
        if not 0 <= int(choice) < n:
            raise AnswerOutOfRangeError(
                f"answer {choice} to question {self.id} is out of range: it has {n} options",
                f"give a number from 0 to {n - 1}",
            )
        return int(choice)

    def check(self, choice: int) -> bool:
        """Whether ``choice`` (an index into ``options``) is the right answer."""
        return self._validate(choice) == self.answer

    def feedback(self, choice: int) -> str:
        """Right or wrong, why, the card sentence that proves it, and the lesson to read."""
        picked = self._validate(choice)
        right = self.options[self.answer]
        if picked == self.answer:
            head = f"Right: {right}."
        else:
            head = f"Not quite: you chose {self.options[picked]}, the answer is {right}."
        why = f" {self.reason}" if self.reason else ""
        return (
            f'{head}{why} The course card `{self.source_id}` says: "{self.proof}" '
            f"(lesson: `{self.concept_id}`)"
        )

    def to_dict(self) -> dict:
        data = asdict(self)
        data["options"] = list(self.options)
        return data


def course_from_cards(cards: Iterable[Concept]) -> Course:
    """A :class:`Course` from cards alone (no store, no embeddings): all questions need."""
    cards = list(cards)
    return Course(
        cards={c.id: c for c in cards},
        graph=build_graph(cards),
        ids=[c.id for c in cards],
        vectors=np.zeros((len(cards), 0), np.float32),
    )


def questions_for(
    course: Course, concept_ids: Sequence[str], *, per_concept: int = 3, seed: int = 0
) -> list[Question]:
    """Up to ``per_concept`` questions for each concept, in the order given; the same
    arguments give the same questions. Kinds in turn: choice, which-do-you-need-first
    (order), worked number, which-statement-is-true (or true/false), then more true/false."""
    if per_concept < 1:
        raise ValueError(f"per_concept must be at least 1, got {per_concept}")
    missing = [c for c in concept_ids if c not in course.cards]
    if missing:
        raise InvalidInputError(
            f"no card for concept(s) {', '.join(missing[:5])}",
            "pass ids of cards in the course (see `erica kb show`)",
        )
    out: list[Question] = []
    for cid in dict.fromkeys(concept_ids):
        rng = random.Random(f"{seed}:{cid}")
        made = _for_concept(course, course.cards[cid], per_concept, rng)
        if not made:
            log.info("no practice question for %s: its card has no usable sentence", cid)
        out.extend(made)
    return out


def _for_concept(course: Course, card: Concept, limit: int, rng: random.Random) -> list[Question]:
    tf = _true_false(card, rng)
    choice = _choice(course, card, rng)
    quoted = {choice.proof} if choice is not None else set()
    statement = _statement(course, card, rng, avoid=quoted)
    if statement is not None:
        quoted.add(statement.proof)
    # A true/false question on a sentence another question quotes would be answered by that
    # question: it goes last.
    tf = [q for q in tf if q.proof not in quoted] + [q for q in tf if q.proof in quoted]
    second = statement
    if second is None and tf:
        second, tf = tf[0], tf[1:]
    worked = _worked_number(card, rng)
    taken: set[int] = set()
    order = _order(course, card, rng, taken=taken)
    # Four-option kinds first: a two-option answer is a coin toss half the time and tells
    # mastery little. What the concept is, what it needs, a worked number, a statement; then,
    # for a longer practice, more of the four-option kinds (another sentence of the card,
    # another prerequisite) before the remaining true/false questions.
    first = [q for q in (choice, order, worked, second) if q]
    more: list[Question] = []
    after = int(choice.id.rsplit(":", 1)[1]) + 1 if choice is not None else 0
    while len(first) + len(more) < limit:
        another = _choice(course, card, rng, start=after, avoid=quoted) if choice else None
        if another is not None:
            quoted.add(another.proof)
            after = int(another.id.rsplit(":", 1)[1]) + 1
            more.append(another)
        next_order = _order(course, card, rng, taken=taken) if order is not None else None
        if next_order is not None:
            more.append(next_order)
        if another is None and next_order is None:
            break
    tf = [q for q in tf if q.proof not in quoted] + [q for q in tf if q.proof in quoted]
    return (first + more + tf)[:limit]


# ------------------------------------------------------------------ names and sentences


def labels(card: Concept) -> list[str]:
    """The card's name, its parts ("CLIP (Contrastive ...)"), and its aliases."""
    return list(dict.fromkeys(x for x in (*name_labels(card.name), *card.aliases) if x.strip()))


@lru_cache(maxsize=4096)
def _label_pattern(label: str) -> re.Pattern[str]:
    parts = [re.escape(p) for p in re.split(r"[\s\-]+", label.strip()) if p]
    return re.compile(
        r"(?<![\w])(?:the\s+)?" + r"[\s\-]+".join(parts) + r"(?:s|es)?(?![\w])", re.IGNORECASE
    )


def _mask(text: str, card: Concept) -> str:
    for label in sorted(labels(card), key=len, reverse=True):
        text = _label_pattern(label).sub(BLANK, text)
    return text


def names_in(text: str, card: Concept) -> bool:
    """Whether ``text`` names ``card`` (name or alias, any case, plural, hyphens as spaces)."""
    padded = f" {normalise(text)} "
    for label in labels(card):
        key = normalise(label)
        if len(key) >= 2 and re.search(rf" {re.escape(key)}(?:s|es)? ", padded):
            return True
    return False


def _sentences(card: Concept) -> list[str]:
    """Summary then explanation sentences that stand on their own."""
    out = []
    for text in (card.summary, card.explanation):
        for s in split_sentences(text):
            n = len(s.split())
            if _MIN_WORDS <= n <= _MAX_WORDS and not _DEPENDENT_START.match(s) and s in text:
                out.append(s)
    return list(dict.fromkeys(out))


# ------------------------------------------------------------------ multiple choice


def _kind_group(card: Concept) -> str:
    return card.kind if card.kind in ("history", "example") else "concept"


def _same_thing(a: Concept, b: Concept) -> bool:
    """Two cards that share a name or an alias are the same thing under two ids."""
    keys = {normalise(x) for x in labels(a)}
    return any(normalise(x) in keys for x in labels(b))


def confusable(course: Course, card: Concept) -> list[list[str]]:
    """Candidate distractors in tiers, most confusable first: the card's ``related`` of its
    unit, cards of the unit that name it as related, siblings of the unit sharing a
    prerequisite, its prerequisites in the unit, ``related`` cards of other units, then
    concepts that build on it."""
    related = [r for r in card.related if r in course.cards]
    near = [r for r in related if course.cards[r].unit == card.unit]
    # Cards that list this one as related, or share a prerequisite, are kept only from the
    # same unit: "Machine learning" relates to "Integral" but is no plausible confusion.
    back = sorted(
        c.id for c in course.cards.values() if card.id in c.related and c.unit == card.unit
    )
    graph = course.graph
    parents = list(graph.predecessors(card.id)) if card.id in graph else []
    siblings = sorted({s for p in parents for s in graph.successors(p)})
    children = sorted(graph.successors(card.id)) if card.id in graph else []
    same_unit = [c for c in sorted(parents) if course.cards[c].unit == card.unit]
    siblings = [c for c in siblings if course.cards[c].unit == card.unit]
    # The card's related concepts from other units come last: "Deep learning" is related to
    # "Directed acyclic graph" but hardly confused with it.
    # Concepts that build on this one are often kinds of it, which its description fits too
    # ("Gaussian blur" is image filtering with a kernel): the last resort.
    tiers = [
        [c for c in t if c not in children] for t in (near, back, siblings, same_unit, related)
    ]
    tiers.append(children)
    seen = {card.id}
    out = []
    for tier in tiers:
        kept = [c for c in tier if c not in seen]
        seen.update(kept)
        out.append(kept)
    return out


def _choice(
    course: Course,
    card: Concept,
    rng: random.Random,
    start: int = 0,
    avoid: Collection[str] = (),
) -> Question | None:
    """A choice question on the first usable sentence from index ``start`` that is not in
    ``avoid``. Past the first question (``start`` > 0), only sentences that name the concept:
    a later sentence that does not ("Real systems are rarely linear") is often motivation
    that fits its neighbours as well."""
    for index, sentence in enumerate(_sentences(card)):
        if index < start or sentence in avoid or (start and not names_in(sentence, card)):
            continue
        stem_text = _mask(sentence, card)
        if names_in(stem_text, card) or len(stem_text.split()) < _MIN_WORDS:
            continue
        picked = _distractors(course, card, stem_text, rng)
        if not picked:
            return None
        stem_text = _mask_name_words(stem_text, card, picked)
        if start and _leaks(stem_text, card, picked):
            continue
        if len([w for w in stem_text.split() if BLANK not in w]) < _MIN_WORDS - 2:
            continue
        options = [card.name, *(d.name for d in picked)]
        rng.shuffle(options)
        return Question(
            id=f"choice:{card.id}:{index}",
            concept_id=card.id,
            kind="choice",
            stem=f'Which concept does this card sentence describe? "{stem_text}"',
            options=tuple(options),
            answer=options.index(card.name),
            proof=sentence,
            source_id=card.id,
            reason=f"The sentence is from the card of {card.name}.",
        )
    return None


def _distractors(
    course: Course, card: Concept, stem_text: str, rng: random.Random
) -> list[Concept]:
    picked: list[Concept] = []
    mine = _head_words(card)
    for tier in confusable(course, card):
        # Within a tier, names sharing a word with the answer's first ("Squared error loss"
        # for "Absolute error loss"): more confusable, and the shared word gives nothing away.
        tier = list(tier)
        rng.shuffle(tier)
        tier.sort(key=lambda c: -len(mine & _head_words(course.cards[c])))  # stable: ties shuffled
        for cid in tier:
            other = course.cards[cid]
            if (
                len(picked) >= MAX_DISTRACTORS
                or _kind_group(other) != _kind_group(card)
                or _same_thing(card, other)
                or names_in(stem_text, other)
                or _spelled_out(stem_text, other)
                or any(_same_thing(other, p) or other.name == p.name for p in picked)
            ):
                continue
            picked.append(other)
    return picked


def _leaks(stem_text: str, card: Concept, picked: Sequence[Concept]) -> bool:
    """Whether the stem keeps a word of the answer's name that no wrong option has, however
    short ("red ___" for "Red teaming", "K" for "Recall@K")."""
    shared = set().union(*(set(normalise(d.name).split()) for d in picked))
    own = set(normalise(card.name).split()) - shared - _FUNCTION_WORDS - _GENERIC
    return bool(own & set(normalise(stem_text).split()))


_FUNCTION_WORDS = frozenset(("and", "for", "with", "from", "into", "over", "the", "its", "versus"))


def _head_words(card: Concept) -> set[str]:
    """Words of the name outside any parenthesis, without function words."""
    head = re.sub(r"\([^)]*\)", " ", card.name)
    return {w for w in normalise(head).split() if len(w) > 2 and w not in _FUNCTION_WORDS}


def _spelled_out(text: str, card: Concept) -> bool:
    """Whether every distinctive word of the card's name is in ``text`` ("Iterative deepening
    regenerates ..." spells out "Iterative deepening search")."""
    words = _name_words(card)
    return bool(words) and words <= set(normalise(text).split())


def _name_words(card: Concept) -> set[str]:
    """Distinctive words of the name (not of aliases: "parent and child nodes" is an alias of
    Tree, "parent" alone gives nothing away)."""
    return {
        w
        for label in name_labels(card.name)
        for w in normalise(label).split()
        if len(w) >= 4 and w not in _GENERIC
    }


def _mask_name_words(stem_text: str, card: Concept, picked: Sequence[Concept]) -> str:
    """Blank words of the answer's name that no other option shares ("minimax value" gives
    "Minimax search" away)."""
    shared = set().union(*(set(normalise(d.name).split()) for d in picked))
    for word in sorted(_name_words(card) - shared, key=len, reverse=True):
        # Any form of the word: "normalised" also blanks "normalising", "normalisation".
        root = re.escape(word[: max(4, len(word) - 3)])
        stem_text = re.sub(rf"(?<![\w]){root}\w*", BLANK, stem_text, flags=re.IGNORECASE)
    return stem_text


# ------------------------------------------------------------------ true / false


def _flips(sentence: str, card: Concept) -> list[tuple[int, int, str]]:
    """(start, end, replacement) of each word whose opposite makes the sentence false (never
    a word of the concept's own name: "upper ontology" is not "lower ontology")."""
    if _NO_FLIP.search(sentence) or _BACK_REFERENCE.search(sentence):
        return []
    own = {w for label in labels(card) for w in normalise(label).split()}
    lower = sentence.lower()
    out = []
    for match in re.finditer(r"(?<![\w\-@])[A-Za-z]+(?![\w\-@])", sentence):
        word = match.group().lower()
        opposite = _OPPOSITE.get(word)
        if opposite is None or word in own:
            continue
        # Both words of a pair, or the word twice: flipping one leaves the claim ambiguous.
        partners = _PARTNERS[word]
        if any(re.search(rf"\b{p}\b", lower) for p in partners) or (
            len(re.findall(rf"\b{word}\b", lower)) > 1
        ):
            continue
        after = sentence[match.end() :]
        # "A large language model conditions on its prompt": what holds of large models often
        # holds of small ones too; a size or level word in the subject is left alone.
        if word in _SUBJECT_SAFE and len(sentence[: match.start()].split()) < _SUBJECT_WORDS:
            continue
        if word == "lower" and after.startswith(" bound"):
            opposite = "upper"
        # "concave problems": a concave maximisation is a convex problem, so no opposite.
        if word in ("convex", "concave") and re.match(r"\s+(problem|optimi)", after):
            continue
        # "independent of t" has no grammatical opposite ("dependent on t"): left alone.
        # "local search" is a method's name, "mean average precision" a measure's: the
        # flipped phrase names something real too.
        if word in ("local", "global") and re.match(r"\s+search", after):
            continue
        if word in ("precision", "recall") and re.search(
            r"\b(average|mean)\s+$", lower[: match.start()]
        ):
            continue
        # "minimum" next to "max(x)": the sentence's own formula gives the flip away.
        if word.startswith(("max", "min")) and _MAX_MIN.search(sentence):
            continue
        if word in ("independent", "dependent") and re.match(r"\s+(of|on)\b", after):
            continue
        before = re.search(r"(\w+)\s+$", sentence[: match.start()])
        if re.match(r"\s+(or|and)\b", after) or (before and before[1].lower() in ("or", "and")):
            continue  # "a network or linear model": the other member may hold as well
        replacement = (
            opposite.upper()
            if match.group().isupper()
            else (opposite.capitalize() if match.group()[0].isupper() else opposite)
        )
        start = match.start()
        article = re.search(r"\b(an?)\s+$", sentence[:start], re.IGNORECASE)
        if article:  # "a complete" -> "an incomplete"
            word_a = "an" if replacement[0].lower() in "aeiou" else "a"
            if article[1][0].isupper():
                word_a = word_a.capitalize()
            start, replacement = article.start(), f"{word_a} {replacement}"
        out.append((start, match.end(), replacement))
    return out


def _true_false(card: Concept, rng: random.Random) -> list[Question]:
    """One question per usable sentence, true and false (flipped) in turn, starting with a
    coin toss; sentences that name the concept come first."""
    sentences = _sentences(card)
    ordered = [s for s in sentences if names_in(s, card)]
    ordered += [s for s in sentences if s not in ordered]
    flippable = [s for s in ordered if _flips(s, card)]
    want_false = rng.random() < 0.5
    out: list[Question] = []
    used: set[str] = set()
    while len(used) < len(ordered):
        pool = [s for s in (flippable if want_false else ordered) if s not in used]
        sentence = (pool or [s for s in ordered if s not in used])[0]
        used.add(sentence)
        index = sentences.index(sentence)
        flips = _flips(sentence, card)
        if want_false and flips:
            start, end, word = rng.choice(flips)
            statement = sentence[:start] + word + sentence[end:]
            answer, qid = 1, f"true_false:{card.id}:{2 * index + 1}"
            reason = f'The card says "{sentence[start:end]}", not "{word}".'
        else:
            statement, answer, qid = sentence, 0, f"true_false:{card.id}:{2 * index}"
            reason = "The card says so in these words."
        want_false = not want_false
        out.append(
            Question(
                id=qid,
                concept_id=card.id,
                kind="true_false",
                stem=f"True or false, about {card.name}: {statement}",
                options=TRUE_FALSE,
                answer=answer,
                proof=sentence,
                source_id=card.id,
                reason=reason,
            )
        )
    return out


# ------------------------------------------------------------------ which comes first


def prerequisites_line(card: Concept) -> str:
    """The card's prerequisites as written in its YAML file."""
    return f"prerequisites: [{', '.join(card.prerequisites)}]"


def _usable_pair(course: Course, a: str, b: str) -> bool:
    """Two concepts a question can set against each other: not one thing under two ids."""
    ca, cb = course.cards[a], course.cards[b]
    return not _same_thing(ca, cb) and ca.name != cb.name


def _not_before(course: Course, card: Concept) -> list[list[str]]:
    """Concepts the graph proves are not needed before ``card``, in tiers: those that build on
    it directly, those further on, then siblings that share a prerequisite with it (the
    graph does not need them first, but a student may think it does). None is an ancestor
    of ``card``."""
    graph = course.graph
    ancestors = nx.ancestors(graph, card.id)
    descendants = nx.descendants(graph, card.id)
    children = sorted(graph.successors(card.id))
    parents = sorted(graph.predecessors(card.id))
    siblings = sorted({s for p in parents for s in graph.successors(p)} - {card.id})
    further = sorted(descendants - set(children))
    # A sibling that is a kind or a part of one of its prerequisites ("Stratified k-fold
    # cross-validation" beside "Cross-validation", "TD error" beside "Temporal-difference
    # learning") can pass for something needed first. A sibling is kept when it needs
    # something the concept does not (it is on another branch), is no earlier in the graph
    # ("Artificial neuron" is, for "Tanh activation"), and shares no word with a prerequisite.
    depth = _depths(graph)
    pre_words = set().union(*(_head_words(course.cards[p]) for p in parents))
    siblings = [
        s
        for s in siblings
        if depth[s] >= depth[card.id]
        and set(graph.predecessors(s)) - ancestors
        and not _head_words(course.cards[s]) & pre_words
    ]
    tiers = []
    seen = {card.id}
    # Not its ``related`` cards: the graph does not prove those are not needed first.
    for tier in (children, further, siblings):
        kept = [c for c in tier if c not in seen and c not in ancestors]
        seen.update(kept)
        tiers.append(kept)
    return tiers


_DEPTHS: weakref.WeakKeyDictionary[nx.DiGraph, dict[str, int]] = weakref.WeakKeyDictionary()


def _depths(graph: nx.DiGraph) -> dict[str, int]:
    """Each concept's longest chain of prerequisites (0 for a concept without any)."""
    if graph not in _DEPTHS:
        _DEPTHS[graph] = {
            n: level for level, nodes in enumerate(nx.topological_generations(graph)) for n in nodes
        }
    return _DEPTHS[graph]


_PAIR = -1  # in ``taken``: the concept got the two-option "which comes first" question


def _order(
    course: Course, card: Concept, rng: random.Random, taken: set[int] | None = None
) -> Question | None:
    """Which of up to four concepts is needed before ``card``: one of its prerequisites, and
    concepts that are not its ancestors in the graph (they build on it, or sit beside it).
    ``taken`` holds the prerequisites (by index) already asked as keys; the one chosen is
    added. A second question on the same concept asks another prerequisite, or none."""
    graph = course.graph
    if card.id not in graph:
        return None
    taken = set() if taken is None else taken
    again = bool(taken)
    pres = [p for p in sorted(graph.predecessors(card.id)) if _usable_pair(course, p, card.id)]
    if again and (_PAIR in taken or len(taken) >= len(pres)):
        return None
    if not pres:
        taken.add(_PAIR)
        return _order_pair(course, card, rng)
    # A prerequisite whose name shares a word with the concept's gives itself away ("k-means
    # clustering" before "k-means++"): one that shares none is the key when there is one, and
    # wrong options that share a word with either name come first.
    mine = _head_words(card)
    plain = [i for i, p in enumerate(pres) if not _head_words(course.cards[p]) & mine]
    if again:
        free = [i for i in plain if i not in taken] or [
            i for i in range(len(pres)) if i not in taken
        ]
        index = rng.choice(free)
    else:
        index = rng.choice(plain) if plain else rng.randrange(len(pres))
    taken.add(index)
    first = course.cards[pres[index]]
    words = mine | _head_words(first)
    picked: list[Concept] = []
    for tier in _not_before(course, card):
        tier = list(tier)
        rng.shuffle(tier)
        tier.sort(key=lambda c: -len(words & _head_words(course.cards[c])))  # stable
        for cid in tier:
            other = course.cards[cid]
            if (
                len(picked) >= MAX_DISTRACTORS
                or _kind_group(other) != _kind_group(first)
                or not _usable_pair(course, cid, card.id)
                or not _usable_pair(course, cid, first.id)
                or any(_same_thing(other, p) or other.name == p.name for p in picked)
            ):
                continue
            picked.append(other)
    if not picked:
        if again:
            return None
        taken.add(_PAIR)
        return _order_pair(course, card, rng)
    options = [first.name, *(p.name for p in picked)]
    rng.shuffle(options)
    later = [p.name for p in picked if p.id in nx.descendants(graph, card.id)]
    beside = [p.name for p in picked if p.name not in later]
    why = []
    if later:
        why.append(f"{_join(later)} {'builds' if len(later) == 1 else 'build'} on {card.name}")
    if beside:
        verb = "is" if len(beside) == 1 else "are"
        why.append(f"{_join(beside)} {verb} not among its prerequisites at any depth")
    return Question(
        id=f"order:{card.id}:{index}",
        concept_id=card.id,
        kind="order",
        stem=f"Which of these do you need before learning {card.name}?",
        options=tuple(options),
        answer=options.index(first.name),
        proof=prerequisites_line(card),
        source_id=card.id,
        reason=(
            f"The card of {card.name} lists {first.name} as a prerequisite; " + "; ".join(why) + "."
        ),
    )


def _join(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _order_pair(course: Course, card: Concept, rng: random.Random) -> Question | None:
    """Which of two concepts comes first, for a concept without prerequisites: it, or one
    that builds on it."""
    graph = course.graph
    pairs = [(card.id, s) for s in sorted(graph.successors(card.id))]
    pairs = [(a, b) for a, b in pairs if _usable_pair(course, a, b)]
    if not pairs:
        return None
    index = rng.randrange(len(pairs))
    first, then = (course.cards[c] for c in pairs[index])
    options = [first.name, then.name]
    rng.shuffle(options)
    return Question(
        id=f"order:{card.id}:{index}",
        concept_id=card.id,
        kind="order",
        stem="Which should you learn first?",
        options=tuple(options),
        answer=options.index(first.name),
        proof=prerequisites_line(then),
        source_id=then.id,
        reason=f"{then.name} builds on {first.name}: its card lists it as a prerequisite.",
    )


# ------------------------------------------------------------------ which statement is true


_SUBJECT_BLANK = re.compile(rf"^(?:(?:a|an|the)\s+)?{re.escape(BLANK)}\s", re.IGNORECASE)
_ALSO = re.compile(r"\b(also|too|this|these|such)\b", re.IGNORECASE)
_MAX_STATEMENT_WORDS = 35


def _statement_text(sentence: str, card: Concept) -> str | None:
    """``sentence`` with ``card``'s name blanked, or None when it does not name the card, or
    still gives it away (a distinctive word of the name left), or is negated or hedged (a
    negated claim about one concept is often true of its sibling too)."""
    if not names_in(sentence, card) or _NO_FLIP.search(sentence):
        return None
    # The name only, not an alias: an alias may be one instance ("DETR" of "detectors").
    text = sentence
    for label in sorted(name_labels(card.name), key=len, reverse=True):
        text = _label_pattern(label).sub(BLANK, text)
    # The name once, as the subject ("___ expands ...", "A ___ is ..."): a blank elsewhere
    # reads badly ("tree-___"), and a claim about something said before is unclear alone.
    if (
        text.count(BLANK) != 1
        or not _SUBJECT_BLANK.match(text)
        or _BACK_REFERENCE.search(text)
        or _ALSO.search(text)
        or len(text.split()) > _MAX_STATEMENT_WORDS
        or names_in(text, card)
    ):
        return None
    words = set(normalise(text).split())
    if any(any(w.startswith(n[: max(4, len(n) - 3)]) for w in words) for n in _name_words(card)):
        return None
    return text


def _statement(
    course: Course, card: Concept, rng: random.Random, avoid: set[str]
) -> Question | None:
    """Which of up to four statements is true of ``card``: one of its card's sentences, and
    a defining sentence of each of two or three siblings (from their own cards), each with
    its concept's name blanked. Siblings only: a sentence about a prerequisite or a kind of
    ``card`` may be true of it as well."""
    graph = course.graph
    if card.id not in graph:
        return None
    mine = [
        (i, s, t)
        for i, s in enumerate(_sentences(card))
        if s not in avoid and (t := _statement_text(s, card)) is not None
    ]
    if not mine:
        return None
    index, sentence, text = mine[0]
    family = nx.ancestors(graph, card.id) | nx.descendants(graph, card.id)
    picked: list[tuple[Concept, str]] = []
    for tier in confusable(course, card)[:3]:  # related, relating back, siblings: one unit
        tier = [c for c in tier if c not in family]
        rng.shuffle(tier)
        for cid in tier:
            other = course.cards[cid]
            if (
                len(picked) >= MAX_DISTRACTORS
                or _kind_group(other) != _kind_group(card)
                or _same_thing(card, other)
                or any(_same_thing(other, p) for p, _ in picked)
            ):
                continue
            for s in _sentences(other):
                t = _statement_text(s, other)
                if t is not None and not names_in(s, card) and t != text:
                    picked.append((other, t))
                    break
    if len(picked) < 2:
        return None
    options = [text, *(t for _, t in picked)]
    rng.shuffle(options)
    others = _join([p.name for p, _ in picked])
    return Question(
        id=f"statement:{card.id}:{index}",
        concept_id=card.id,
        kind="statement",
        stem=f"Which of these is true of {card.name}? In each, {BLANK} stands for its name.",
        options=tuple(options),
        answer=options.index(text),
        proof=sentence,
        source_id=card.id,
        reason=(
            f"The card of {card.name} says so; the other statements are from the cards of "
            f"{others}, concepts next to it."
        ),
    )


# ------------------------------------------------------------------ worked numbers


def _worked_number(card: Concept, rng: random.Random) -> Question | None:
    found = worked_numbers(card.example, rng)
    if found is None:
        return None
    index, changed = found
    return Question(
        id=f"worked_number:{card.id}:{index}",
        concept_id=card.id,
        kind="worked_number",
        stem=(
            f"The worked example of {card.name} with one number changed: {changed.stem}. "
            "What goes in place of the question mark?"
        ),
        options=changed.options,
        answer=changed.answer,
        proof=changed.sentence,
        source_id=card.id,
        reason=changed.reason,
    )
