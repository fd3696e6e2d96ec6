"""Reviewable concept cards from ingested material, one unit file per source file.

Cards go to ``<data_dir>/courses/<course>/<unit>.yaml`` with ``origin: ingested``: the same
schema as the shipped course, so ``erica kb validate`` checks them and ``erica kb build``
loads them once the folder is among the course folders. Beside them, ``REVIEW.md`` lists each
inferred prerequisite with its confidence and evidence, and ``links.json`` has the same for
tools. A teacher edits or deletes cards by hand: a card file whose bytes differ from what
ingestion wrote is never overwritten (the new proposal goes to
``<data_dir>/ingest/<course>/proposed/``).

Internal state (which card file came from which source, and the hash of what was written)
lives in ``<data_dir>/ingest/<course>/manifest.json``, outside the course folder, so nothing
but cards is loaded from there.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge.cards import Concept, dump_cards
from knowledge.ingest.discovery import slugify
from knowledge.ingest.passages import REMOVED, split_sentences
from knowledge.ingest.prerequisites import Link

MAX_SUMMARY_CHARS = 400
MAX_EXPLANATION_WORDS = 200
COURSE_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?$")


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old or the new file, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def unit_slug(source_name: str) -> str:
    """The unit id (and card file stem) of a source: ``lectures/Lecture 3.pdf`` ->
    ``lectures-lecture-3``."""
    stem = re.sub(r"\.[A-Za-z0-9]{1,8}$", "", source_name)
    return slugify(stem.replace("/", " ").replace("\\", " ")) or "material"


@dataclass
class Manifest:
    """What ingestion wrote into the course folder: unit file -> source and content hash."""

    path: Path
    cards: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Manifest:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(path, dict(data.get("cards", {})))
        except (OSError, ValueError, AttributeError):
            return cls(path)

    def save(self) -> None:
        write_atomic(self.path, json.dumps({"version": 1, "cards": self.cards}, indent=2,
                                           sort_keys=True, ensure_ascii=False) + "\n")

    def file_for(self, source: str) -> str | None:
        return next((name for name, entry in self.cards.items()
                     if entry.get("source") == source), None)

    def edited(self, course_dir: Path, name: str) -> bool:
        """True if the teacher changed (or deleted) a card file ingestion wrote."""
        entry = self.cards.get(name)
        path = course_dir / name
        if entry is None:
            return path.exists()  # a file ingestion did not write: the teacher's own
        if not path.exists():
            return bool(entry.get("sha"))  # deleted by hand (an empty entry wrote no file)
        return sha256_text(path.read_text(encoding="utf-8")) != entry.get("sha")


_HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_URL = re.compile(r"(?:https?://|www\.)\S+")
_MARKUP = re.compile(r"\*\*|__|`|^#+\s*|^\s*[-*•–]\s+|^\s*\d+[.)]\s+", re.MULTILINE)
_WORD = re.compile(r"[^\W\d_]{3,}")
MIN_PROSE_WORDS = 6


def clean_text(text: str) -> str:
    """Material text without HTML tags, links, Markdown marks, table rows or code lines."""
    lines = []
    for line in text.replace(REMOVED, " ").split("\n"):
        if line.count("|") >= 2 or line.strip().startswith(("```", "    ", "\t", "$")):
            continue
        line = _MARKUP.sub("", _URL.sub("", _HTML_TAG.sub(" ", line)))
        lines.append(line)
    return "\n".join(lines)


def prose(text: str) -> list[str]:
    """The sentences of ``text`` that read as sentences: enough words, mostly words (no slide
    fragments, formulas or link lists), ending like a sentence."""
    out = []
    for sentence in split_sentences(clean_text(text)):
        sentence = " ".join(sentence.split()).strip(" -:;,")
        words = sentence.split()
        wordy = _WORD.findall(sentence)
        if len(words) < MIN_PROSE_WORDS or len(wordy) < 0.6 * len(words):
            continue
        if sentence[-1] not in ".!?…" or not any(w.islower() for w in wordy):
            continue
        out.append(sentence)
    return out


def first_sentences(text: str, limit: int = 2, max_chars: int = MAX_SUMMARY_CHARS) -> str:
    sentences = [s for s in split_sentences(text.replace(REMOVED, " ")) if s.strip()]
    out = ""
    for sentence in sentences[:limit]:
        candidate = f"{out} {sentence}".strip()
        if len(candidate) > max_chars and out:
            break
        out = candidate
    out = out[:max_chars].strip()
    if out and out[-1] not in ".!?…":
        out += "."
    return out


def explanation_from(texts: Sequence[str], max_words: int = MAX_EXPLANATION_WORDS) -> str:
    words: list[str] = []
    for text in texts:
        words.extend(text.replace(REMOVED, " ").split())
        if len(words) >= max_words:
            break
    if len(words) <= max_words:
        return " ".join(words)
    cut = " ".join(words[:max_words])
    end = max(cut.rfind(". "), cut.rfind("? "), cut.rfind("! "))
    return cut[:end + 1] if end > len(cut) // 2 else cut + " ..."


def make_card(cid: str, name: str, unit: str, summary: str, explanation: str,
              sources: Sequence[str], prerequisites: Sequence[str] = (),
              related: Sequence[str] = (), aliases: Sequence[str] = ()) -> Concept:
    return Concept(
        id=cid, name=name, unit=unit, summary=summary or f"{name}.",
        explanation=explanation, aliases=tuple(aliases), prerequisites=tuple(prerequisites),
        related=tuple(r for r in related if r not in prerequisites and r != cid),
        sources=tuple(dict.fromkeys(sources)), level="intro", origin="ingested",
    )


def unit_file_text(unit: str, title: str, cards: Sequence[Concept], source_name: str) -> str:
    header = (f"# Concept cards ingested from {source_name} by `erica kb ingest`.\n"
              "# Review them: edit or delete cards freely; an edited file is never "
              "overwritten.\n")
    return header + dump_cards(unit, cards, title=title)


def review_markdown(course: str, cards: Sequence[Concept], links: Mapping[tuple[str, str], Link],
                    suggestions: Sequence[Link], names: Mapping[str, str],
                    describe_evidence: Any, merged: Sequence[tuple[str, str, str]],
                    flags: Sequence[dict] = (), show: float = 0.5) -> str:
    """``REVIEW.md``: every ingested card's prerequisites with confidence and evidence."""
    lines = [f"# Review: course `{course}`", "",
             "Written by `erica kb ingest`. Each prerequisite was inferred from the material; "
             "the confidence is the model's probability that the link is a direct "
             "prerequisite. Edit the cards (`prerequisites:`) to accept, change or drop "
             "links.", ""]
    for card in sorted(cards, key=lambda c: (c.unit, c.id)):
        lines.append(f"## {card.name} (`{card.id}`, {card.unit})")
        if not card.prerequisites:
            lines.append("- no prerequisite inferred")
        for pre in card.prerequisites:
            link = links.get((pre, card.id))
            if link is None:
                lines.append(f"- {names.get(pre, pre)} (`{pre}`): set by hand")
            else:
                lines.append(f"- {names.get(pre, pre)} (`{pre}`): confidence "
                             f"{link.confidence:.2f}; {describe_evidence(link)}")
        lines.append("")
    if flags:
        lines += ["## The material disagrees with the course graph: review", "",
                  "The material says these links, the course's prerequisite graph does not; "
                  "they are not suggested. Check the material (or the card).", ""]
        for f in flags:
            lines.append(f"- {names.get(f['prerequisite'], f['prerequisite'])} -> "
                         f"{names.get(f['concept'], f['concept'])}: {f['why']}; the material "
                         f"says \"{f['claim']}\"")
        lines.append("")
    strong = [x for x in suggestions if x.confidence >= show]
    weak = [x for x in suggestions if x.confidence < show]
    for title, intro, group in (
            ("## Suggested links for concepts you did not write here",
             "These concepts come from another course folder; add the link to that card if "
             "you agree. The confidence is calibrated on labelled lecture material "
             "(`erica bench ingest`): a link at 0.9 was right about 9 times in 10.", strong),
            ("## Weaker candidates (not suggested)",
             f"Below {show:.1f}: more often wrong than right on labelled material (links the "
             "course graph does not imply, found by co-occurrence only, were right about 1 "
             "time in 8).", weak)):
        if not group:
            continue
        lines += [title, "", intro, ""]
        for link in group:
            lines.append(f"- {names.get(link.prerequisite, link.prerequisite)} -> "
                         f"{names.get(link.concept, link.concept)}: confidence "
                         f"{link.confidence:.2f}; {describe_evidence(link)}")
        lines.append("")
    if merged:
        lines += ["## Terms merged into existing concepts", ""]
        lines += [f"- \"{term}\" -> `{cid}` ({how})" for term, cid, how in merged]
        lines.append("")
    return "\n".join(lines)


def links_json(links: Iterable[Link], describe_evidence: Any) -> str:
    rows = [{"prerequisite": x.prerequisite, "concept": x.concept,
             "confidence": x.confidence, "evidence": x.evidence,
             "why": describe_evidence(x)} for x in links]
    return json.dumps({"links": rows}, indent=2, ensure_ascii=False) + "\n"
