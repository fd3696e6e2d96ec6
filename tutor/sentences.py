"""Splitting text into sentences and words, the way the lesson and its checker need it.

Course cards and model answers are short technical English (or Czech/Russian) prose: numbers
with decimals ("0.5"), abbreviations ("e.g.", "et al."), and code identifiers ("model.fit").
A sentence ends at ``.``, ``!`` or ``?`` followed by white space and an upper-case letter, a
digit or an opening quote/bracket, or at a line break between paragraphs or list items.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_ABBREVIATIONS = ("e.g.", "i.e.", "et al.", "etc.", "vs.", "cf.", "approx.", "fig.", "eq.",
                  "resp.", "tj.", "např.", "т.е.", "т.д.", "т.п.", "напр.", "др.")
_END = re.compile(r"(?<=[.!?…])[\"'”»)\]]*\s+(?=[\"'“«(\[]?[A-ZÀ-ŽА-ЯЁ0-9*_`])"
                  r"|\n\s*\n|\n(?=\s*[-*•]\s|\s*\d+[.)]\s)")
_WORD = re.compile(r"[A-Za-zÀ-žА-яЁё][\w'’-]*|\d+(?:[.,]\d+)*%?", re.UNICODE)


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``, stripped, in order (markdown list items count as sentences)."""
    out: list[str] = []
    pending = ""
    for piece in _END.split(text):
        if piece is None:
            continue
        candidate = (pending + " " + piece).strip() if pending else piece.strip()
        if not candidate:
            continue
        if candidate.lower().endswith(_ABBREVIATIONS):
            pending = candidate  # "e.g." is not the end of a sentence
            continue
        out.append(candidate)
        pending = ""
    if pending:
        out.append(pending)
    return [_strip_markup(s) for s in out if _strip_markup(s)]


def _strip_markup(sentence: str) -> str:
    return re.sub(r"^\s*(?:[-*•]|\d+[.)])\s+", "", sentence).strip()


class SentenceStream:
    """Feed streamed text; get back each sentence once it is complete.

    A sentence is complete when the text after it starts a new one, so the last sentence is
    only returned by :meth:`flush`.
    """

    def __init__(self) -> None:
        self._buffer = ""

    def feed(self, piece: str) -> Iterator[str]:
        self._buffer += piece
        for boundary in reversed(list(_END.finditer(self._buffer))):
            done = self._buffer[: boundary.start()]
            if not done.rstrip().lower().endswith(_ABBREVIATIONS):
                self._buffer = self._buffer[boundary.end():]
                yield from split_sentences(done)
                return

    def flush(self) -> Iterator[str]:
        rest, self._buffer = self._buffer, ""
        yield from split_sentences(rest)


def words(text: str) -> list[str]:
    """Word and number tokens, lower case."""
    return [w.lower() for w in _WORD.findall(text)]
