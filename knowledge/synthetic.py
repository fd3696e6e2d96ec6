"""Synthetic courses of any size (same schema, a random but realistic prerequisite DAG).

Used by benchmarks only: card texts are assembled from a course vocabulary so that they
embed like real cards; prerequisites point to earlier cards, mostly nearby in the same unit.
"""

from __future__ import annotations

import random

from knowledge.cards import Concept

_TOPICS = (
    "search",
    "heuristic",
    "graph",
    "probability",
    "gradient",
    "network",
    "layer",
    "policy",
    "reward",
    "kernel",
    "cluster",
    "embedding",
    "attention",
    "token",
    "image",
    "feature",
    "loss",
    "sample",
    "belief",
    "logic",
    "constraint",
    "planner",
    "agent",
    "tree",
    "matrix",
    "vector",
    "entropy",
    "model",
    "classifier",
    "filter",
)
_VERBS = (
    "estimates",
    "minimises",
    "propagates",
    "samples",
    "ranks",
    "encodes",
    "prunes",
    "updates",
    "compares",
    "expands",
    "normalises",
    "aggregates",
)
_KINDS = ("method", "algorithm", "property", "theorem", "model", "technique", "criterion")


def synthetic_cards(n: int, seed: int = 0, units: int = 30) -> list[Concept]:
    """``n`` cards over ``units`` units; ~1.7 prerequisites per card, no cycles."""
    rng = random.Random(seed)
    cards = []
    for i in range(n):
        unit = f"unit-{i * units // n:02d}"
        a, b = rng.sample(_TOPICS, 2)
        name = f"{a.title()} {b} {rng.choice(_KINDS)} {i}"
        summary = (
            f"The {a} {b} {rng.choice(_KINDS)} {rng.choice(_VERBS)} the {rng.choice(_TOPICS)}"
            f" of a {rng.choice(_TOPICS)} using {rng.choice(_TOPICS)} statistics."
        )
        explanation = " ".join(
            f"It {rng.choice(_VERBS)} each {rng.choice(_TOPICS)} by its {rng.choice(_TOPICS)}."
            for _ in range(6)
        )
        prereqs: set[str] = set()
        if i:
            for _ in range(rng.choice((1, 1, 2, 2, 3))):
                lo = max(0, i - 60) if rng.random() < 0.8 else 0
                prereqs.add(f"c{rng.randrange(lo, i):06d}")
        cards.append(
            Concept(
                id=f"c{i:06d}",
                name=name,
                unit=unit,
                summary=summary,
                explanation=explanation,
                prerequisites=tuple(sorted(prereqs)),
                sources=("Synthetic benchmark card",),
            )
        )
    return cards
