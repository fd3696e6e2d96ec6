"""*Further reading*: the lecture passages behind a lesson, as Markdown (presentation only;
:mod:`knowledge.passages` finds them)."""

from __future__ import annotations

from collections.abc import Iterable

from knowledge.passages import PassageHit


def excerpt(hit: PassageHit, words: int = 14) -> str:
    """The first words of a passage, without the slide title or heading it starts with."""
    text = " ".join(hit.text.split())
    if hit.heading and text.startswith(hit.heading) and len(text) > len(hit.heading) + 20:
        text = text[len(hit.heading):].lstrip(" :.-")
    parts = text.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def further_reading(hits: Iterable[PassageHit], words: int = 14) -> list[str]:
    """Markdown bullet lines: ``- Lecture 3, 12:40: “first words …” (Concept)``."""
    return [f"- {hit.label}: “{excerpt(hit, words)}” ({hit.concept_name})\n" for hit in hits]
