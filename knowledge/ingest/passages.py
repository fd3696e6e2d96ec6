"""Cutting documents into passages: the units that are embedded, stored and shown.

A passage is about one paragraph (``TARGET_WORDS``, never more than ``MAX_WORDS``) and keeps
where it came from. Transcript cues are grouped into passages of up to ``MAX_SPAN_S`` seconds.
Sentences addressed to a language model ("ignore your instructions ...") are removed here,
before anything is stored, by the one filter of :mod:`knowledge.common.injection`: course
material is data, never instructions.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from knowledge.common.injection import REMOVED, scrub
from knowledge.ingest.readers import Document, Location, Segment

TARGET_WORDS = 110
MAX_WORDS = 170
MIN_WORDS = 3
MAX_SPAN_S = 90.0

_SENTENCE = re.compile(r"(?<=[.!?…])\s+(?=[\"'“„(\[]?[A-ZÁČĎÉĚÍŇÓŘŠŤÚŮÝŽА-ЯЁ0-9])")


@dataclass(frozen=True)
class Passage:
    """A stored piece of a source: its text and where it sits."""

    course: str
    source: str  # the file's resolved absolute path: its identity
    source_name: str  # as shown: relative to the folder that was ingested
    title: str  # the document as people name it ("Lecture 3")
    index: int  # position in the document
    text: str
    location: Location

    @property
    def id(self) -> str:
        digest = hashlib.sha1(
            f"{self.course}\0{self.source}\0{self.index}\0{self.text}".encode()).hexdigest()
        return f"p-{digest[:20]}"

    @property
    def label(self) -> str:
        """``Lecture 3, 12:40`` / ``Lecture 3, p. 4`` / ``Notes, Heuristics``."""
        where = self.location.label()
        return f"{self.title}, {where}" if where else self.title

    @property
    def heading(self) -> str:
        return self.location.heading

    @property
    def words(self) -> int:
        return len(self.text.split())


_BLOCK_BREAK = re.compile(r"\n+(?=\s*[-*•–]\s)"
                          r"|(?<![.!?…:;,\-])\n+(?=\s*[A-ZÁČĎÉĚÍŇÓŘŠŤÚŮÝŽА-ЯЁ0-9\"“„(\[])")


def split_sentences(text: str) -> list[str]:
    """Sentences; a line break before a capital after a line without a full stop (slide
    titles, bullets, glossary lines) ends a sentence too, a wrapped line does not."""
    out = []
    for block in _BLOCK_BREAK.split(text):
        out.extend(s.strip() for s in _SENTENCE.split(" ".join(block.split())) if s.strip())
    return out


def _lines(text: str) -> str:
    return "\n".join(" ".join(line.split()) for line in text.split("\n") if line.strip())


def _chunks(text: str) -> list[str]:
    """Paragraph-aware pieces of about TARGET_WORDS words, cut at sentence ends.

    Line breaks inside a paragraph are kept (glossary lines and slide bullets need them).
    """
    paragraphs = [_lines(p) for p in re.split(r"\n\s*\n", text) if p.strip()]
    out: list[str] = []
    current: list[str] = []
    count = 0

    def close() -> None:
        nonlocal current, count
        if current:
            out.append("\n\n".join(current))
        current, count = [], 0

    for para in paragraphs:
        pieces = split_sentences(para) if len(para.split()) > MAX_WORDS else [para]
        if len(pieces) > 1:  # a long paragraph: regroup its sentences
            pieces = _regroup(pieces)
        for piece in pieces:
            words = piece.split()
            while len(words) > MAX_WORDS:  # no sentence end at all (slides, lists)
                close()
                out.append(" ".join(words[:TARGET_WORDS]))
                words = words[TARGET_WORDS:]
                piece = " ".join(words)
            if count and count + len(words) > MAX_WORDS:
                close()
            current.append(piece)
            count += len(words)
            if count >= TARGET_WORDS:
                close()
    if current:
        if out and count < MIN_WORDS * 4 and len(out[-1].split()) + count <= MAX_WORDS:
            out[-1] = out[-1] + "\n\n" + "\n\n".join(current)
            current = []
        else:
            close()
    return [c for c in out if c.strip()]


def _regroup(sentences: list[str]) -> list[str]:
    groups: list[str] = []
    current: list[str] = []
    count = 0
    for sentence in sentences:
        n = len(sentence.split())
        if current and count + n > TARGET_WORDS:
            groups.append(" ".join(current))
            current, count = [], 0
        current.append(sentence)
        count += n
    if current:
        groups.append(" ".join(current))
    return groups


def _group_cues(segments: list[Segment]) -> list[tuple[str, Location]]:
    groups: list[tuple[str, Location]] = []
    texts: list[str] = []
    first: Location | None = None
    last_end = 0.0
    words = 0
    for seg in segments:
        loc = seg.location
        if first is not None and (words >= TARGET_WORDS or loc.start_s - first.start_s
                                  >= MAX_SPAN_S):
            groups.append((" ".join(texts), Location("time", start_s=first.start_s,
                                                      end_s=last_end)))
            texts, first, words = [], None, 0
        if first is None:
            first = loc
        texts.append(seg.text)
        words += len(seg.text.split())
        last_end = max(last_end, loc.end_s)
    if texts and first is not None:
        groups.append((" ".join(texts), Location("time", start_s=first.start_s,
                                                  end_s=last_end)))
    return groups


def make_passages(doc: Document, course: str, source: str, source_name: str,
                  ) -> tuple[list[Passage], int]:
    """The passages of a document and the number of instruction-like sentences removed."""
    if doc.kind in ("srt", "vtt", "transcript"):
        pieces = _group_cues(doc.segments)
    else:
        pieces = [(chunk, seg.location) for seg in doc.segments for chunk in _chunks(seg.text)]
    passages: list[Passage] = []
    removed = 0
    for text, location in pieces:
        text, count = scrub(text)
        removed += count
        if len(text.replace(REMOVED, " ").split()) < MIN_WORDS and not location.heading:
            continue
        passages.append(Passage(course, source, source_name, doc.title, len(passages), text,
                                location))
    return passages, removed
