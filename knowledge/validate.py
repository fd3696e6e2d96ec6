"""Checks a course before it is built: structure errors and (strict) quality rules."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx

from knowledge.cards import ID_PATTERN, KINDS, LEVELS, Concept
from knowledge.common.injection import instruction_like
from knowledge.lexical import normalise

EXPLANATION_WORDS = (60, 200)
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")


@dataclass(frozen=True)
class Problem:
    """One finding, located at a card's file and line."""

    where: str
    message: str
    card_id: str = ""
    rule: str = ""  # for warnings: which of WARNING_RULES found it

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def _where(card: Concept) -> str:
    return f"{card.source_file}:{card.line}" if card.source_file else card.id


def find_cycle(cards: Sequence[Concept]) -> list[str]:
    """A prerequisite cycle as a list of ids (first id repeated at the end), or []."""
    ids = {c.id for c in cards}
    graph = nx.DiGraph()
    graph.add_edges_from((p, c.id) for c in cards for p in c.prerequisites if p in ids)
    try:
        edges = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return []
    return [edges[0][0], *(v for _, v in edges)]


def validate(cards: Sequence[Concept]) -> list[Problem]:
    """Structural problems that make a course unusable; an empty list means it can be built."""
    problems: list[Problem] = []
    by_id: dict[str, Concept] = {}
    names: dict[str, str] = {}
    for card in cards:
        where = _where(card)
        if not ID_PATTERN.match(card.id):
            problems.append(
                Problem(where, f"id {card.id!r} is not a slug (a-z, 0-9, '-')", card.id)
            )
        if card.id in by_id:
            other = _where(by_id[card.id])
            problems.append(Problem(where, f"duplicate id {card.id!r} (also at {other})", card.id))
        by_id.setdefault(card.id, card)
        if not card.summary.strip():
            problems.append(Problem(where, f"{card.id}: empty summary", card.id))
        if card.level not in LEVELS:
            problems.append(
                Problem(where, f"{card.id}: level {card.level!r} not one of {LEVELS}", card.id)
            )
        if card.kind not in KINDS:
            problems.append(
                Problem(where, f"{card.id}: kind {card.kind!r} not one of {KINDS}", card.id)
            )
        seen_here: set[str] = set()
        for label in (card.name, *card.aliases):
            key = normalise(label)
            if not key or key in seen_here:
                continue
            seen_here.add(key)
            if key in names and names[key] != card.id:
                problems.append(
                    Problem(
                        where,
                        f"{card.id}: name or alias {label!r} also used by {names[key]!r}",
                        card.id,
                    )
                )
            names.setdefault(key, card.id)
    for card in cards:
        where = _where(card)
        for field_name in ("prerequisites", "related"):
            for ref in getattr(card, field_name):
                if ref == card.id:
                    problems.append(
                        Problem(where, f"{card.id}: lists itself in {field_name}", card.id)
                    )
                elif ref not in by_id:
                    problems.append(
                        Problem(where, f"{card.id}: {field_name} names unknown id {ref!r}", card.id)
                    )
    cycle = find_cycle(cards)
    if cycle:
        problems.append(Problem("prerequisites", "cycle: " + " -> ".join(cycle)))
    return problems


def _sentences(text: str) -> int:
    return max(1, len(_SENTENCE_END.findall(text.strip())))


def lint(cards: Sequence[Concept], roots_allowed: int = 40) -> list[Problem]:
    """Quality rules of the shipped course (``erica kb validate --strict``)."""
    problems: list[Problem] = []
    roots = [c for c in cards if not c.prerequisites]
    if len(roots) > roots_allowed:
        problems.append(
            Problem(
                "course",
                f"{len(roots)} cards have no prerequisite (at most {roots_allowed} "
                "true roots expected): " + ", ".join(c.id for c in roots[:60]),
            )
        )
    low, high = EXPLANATION_WORDS
    for card in cards:
        where = _where(card)
        words = len(card.explanation.split())
        if not low <= words <= high:
            problems.append(
                Problem(where, f"{card.id}: explanation has {words} words ({low}-{high})", card.id)
            )
        if _sentences(card.summary) > 2:
            problems.append(
                Problem(where, f"{card.id}: summary longer than two sentences", card.id)
            )
        if not card.sources:
            problems.append(Problem(where, f"{card.id}: no sources", card.id))
    dup_summaries: dict[str, list[str]] = defaultdict(list)
    for card in cards:
        dup_summaries[normalise(card.summary)].append(card.id)
    for ids in dup_summaries.values():
        if len(ids) > 1:
            problems.append(Problem("course", "identical summaries: " + ", ".join(ids)))
    return problems


def instruction_warnings(cards: Sequence[Concept]) -> list[Problem]:
    """Cards whose text reads like instructions to a language model ("ignore your
    instructions", "reply only ..."). A warning, not a problem: the sentences are removed
    before the model sees them, but a teacher should look at the card."""
    warnings: list[Problem] = []
    for card in cards:
        for field_name in ("name", "summary", "explanation", "example"):
            hits = instruction_like(getattr(card, field_name) or "")
            if hits:
                shown = hits[0] if len(hits[0]) <= 100 else hits[0][:97] + "..."
                warnings.append(Problem(
                    _where(card), f"{card.id}: {field_name} reads like instructions to the "
                    f"model, which will not see it: {shown!r}", card.id))
    return warnings


WARNING_RULES = ("non-concept-only", "too-many-ancestors", "intro-needs-advanced",
                 "unlinked-mention")
# Ancestors a card may have before its learning path is suspiciously long, per level: about the
# 97th percentile of each level in the reviewed course, rounded up to 5 (intro 20, intermediate 60,
# advanced 58 at review time; see knowledge/eval/graph_review.md).
MAX_ANCESTORS = {"intro": 25, "intermediate": 60, "advanced": 60}
_MIN_LABEL_CHARS = 4


_MAX_LABEL_WORDS = 6
_ACRONYM = re.compile(r"[A-Z][A-Z0-9]{2,}")
_FILLER = frozenset({"a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "of", "on",
                     "or", "the", "to", "vs", "with"})


def _label_index(cards: Sequence[Concept]) -> tuple[dict[str, str], dict[str, str]]:
    """Labels specific enough to count as a mention of a card: (phrases, acronyms).

    Phrases are normalised names or aliases of two to six words with at least two content words
    ("value iteration", not "part of" or "H(X, Y)"); acronyms are all-caps labels of three or
    more characters ("CNN", "MDP"), matched case-sensitively. A parenthesised part is a qualifier
    ("Model (logic)") and is left out, unless it expands an acronym ("CLIP (Contrastive ...)").
    """
    phrases: dict[str, str] = {}
    acronyms: dict[str, str] = {}
    for card in cards:
        labels: set[str] = set()
        for label in (card.name, *card.aliases):
            outside = re.sub(r"\([^)]*\)", " ", label).strip()
            labels.add(outside)
            if _ACRONYM.fullmatch(outside):  # "CLIP (Contrastive ...)": the inside expands it
                labels |= {inside.strip() for inside in re.findall(r"\(([^)]*)\)", label)}
        for label in labels:
            if _ACRONYM.fullmatch(label):
                acronyms.setdefault(label, card.id)
                continue
            words = normalise(label).split()
            content = [w for w in words if w not in _FILLER and len(w) >= 3]
            if len(content) >= 2 and len(words) <= _MAX_LABEL_WORDS:
                phrases.setdefault(" ".join(words), card.id)
    return phrases, acronyms


def _mentions(text: str, index: tuple[dict[str, str], dict[str, str]]) -> set[str]:
    """Ids of the cards whose label occurs in ``text`` as whole words."""
    phrases, acronyms = index
    found = {acronyms[t] for t in re.findall(r"[A-Za-z0-9]+", text) if t in acronyms}
    words = normalise(text).split()
    for start in range(len(words)):
        for end in range(start + 2, min(len(words), start + _MAX_LABEL_WORDS) + 1):
            cid = phrases.get(" ".join(words[start:end]))
            if cid:
                found.add(cid)
    return found


def graph_warnings(cards: Sequence[Concept],
                   max_ancestors: dict[str, int] | None = None) -> list[Problem]:
    """Shapes that usually mean a wrong prerequisite edge; warnings, the course still builds.

    One ``Problem`` per finding, its ``rule`` one of ``WARNING_RULES``:

    - ``non-concept-only``: the card's only prerequisite is an overview, history or example card;
    - ``too-many-ancestors``: more ancestors than ``max_ancestors`` allows for the card's level;
    - ``intro-needs-advanced``: an ``intro`` card with an ``advanced`` prerequisite;
    - ``unlinked-mention``: the card's summary or explanation names another concept (by a specific
      name or alias) that is not among its ancestors or descendants and not related either way.
    Cycles must have been ruled out by ``validate`` first.
    """
    limits = MAX_ANCESTORS if max_ancestors is None else max_ancestors
    by_id = {c.id: c for c in cards}
    graph = nx.DiGraph()
    graph.add_nodes_from(by_id)
    graph.add_edges_from((p, c.id) for c in cards for p in c.prerequisites if p in by_id)
    related: dict[str, set[str]] = defaultdict(set)
    for card in cards:
        for other in card.related:
            related[card.id].add(other)
            related[other].add(card.id)
    index = _label_index(cards)
    problems: list[Problem] = []
    for card in cards:
        where = _where(card)

        def warn(rule: str, message: str, card: Concept = card, where: str = where) -> None:
            problems.append(Problem(where, f"{card.id}: {message}", card.id, rule))

        prereqs = [by_id[p] for p in card.prerequisites if p in by_id]
        if len(prereqs) == 1 and prereqs[0].kind != "concept":
            kind = prereqs[0].kind
            article = "an" if kind[0] in "aeiou" else "a"
            warn("non-concept-only", f"only prerequisite {prereqs[0].id!r} is {article} {kind} "
                 "card; list what the card really needs, that one as related")
        ancestors = nx.ancestors(graph, card.id)
        limit = limits.get(card.level)
        if limit is not None and len(ancestors) > limit:
            warn("too-many-ancestors", f"{len(ancestors)} ancestors, more than {limit} for an "
                 f"{card.level} card; look for history, overview or loose edges above it")
        if card.level == "intro":
            for pre in prereqs:
                if pre.level == "advanced":
                    warn("intro-needs-advanced",
                         f"intro card with advanced prerequisite {pre.id!r}")
        # what builds on the card may be named in passing (a pointer forward, not a gap)
        known = ancestors | nx.descendants(graph, card.id) | related[card.id] | {card.id}
        named = sorted(_mentions(f"{card.summary} {card.explanation}", index) - known)
        if named:
            warn("unlinked-mention", f"names {', '.join(named)}, neither prerequisite nor "
                 "related; link what it needs as prerequisite, the rest as related")
    return problems
