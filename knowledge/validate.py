"""Checks a course before it is built: structure errors and (strict) quality rules."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx

from knowledge.cards import ID_PATTERN, LEVELS, Concept
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
