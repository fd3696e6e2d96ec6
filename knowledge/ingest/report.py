"""What an ingestion run reports: per file, and for the run (passages, concepts, links,
cards, timings), plus the progress-bar hook the CLI fills in."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge.ingest.passages import Passage
from knowledge.ingest.prerequisites import Link


class Bar:
    """Progress callbacks; the CLI passes tqdm bars, the library defaults to silence."""

    def update(self, n: int = 1) -> None:  # noqa: B027 - optional hook
        pass

    def close(self) -> None:  # noqa: B027 - optional hook
        pass


MakeBar = Callable[[str, int, str], Any]  # (description, total, unit) -> object with update


@dataclass
class FileReport:
    path: str
    status: str  # ingested | unchanged | skipped | removed | kept
    reason: str = ""
    fix: str = ""
    kind: str = ""
    passages: int = 0
    pages: int = 0
    minutes: float = 0.0
    words: int = 0
    encoding: str = ""
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in ("", 0, 0.0, [])}


@dataclass
class IngestReport:
    course: str
    course_dir: Path
    files: list[FileReport] = field(default_factory=list)
    passages_total: int = 0
    passages_added: int = 0
    passages_removed: int = 0
    store_changed: bool = False
    new_concepts: list[str] = field(default_factory=list)
    merged: list[tuple[str, str, str]] = field(default_factory=list)  # term, concept, how
    links: list[Link] = field(default_factory=list)  # written into new cards
    suggestions: list[Link] = field(default_factory=list)  # for concepts of other folders
    cards_written: list[str] = field(default_factory=list)
    cards_kept: list[str] = field(default_factory=list)  # edited by the teacher: not touched
    cards_removed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    pages_read: int = 0
    minutes_read: float = 0.0
    flags: list[dict] = field(default_factory=list)  # claims against the course graph
    scored: list[Link] = field(default_factory=list, repr=False)  # every judged pair
    not_concepts: list[tuple[str, str]] = field(default_factory=list)  # term, why not
    senses: dict[str, int] = field(default_factory=dict)  # mentions kept / dropped by rule
    material: Any = field(default=None, repr=False)  # the inference input, for benchmarks
    changed_sources: set[str] = field(default_factory=set, repr=False)

    @property
    def skipped(self) -> list[FileReport]:
        return [f for f in self.files if f.status == "skipped"]

    @property
    def changed(self) -> bool:
        return bool(self.store_changed or self.cards_written or self.cards_removed)

    def as_dict(self) -> dict[str, Any]:
        return {
            "course": self.course, "course_dir": str(self.course_dir),
            "files": [f.as_dict() for f in self.files],
            "passages": {"total": self.passages_total, "added": self.passages_added,
                         "removed": self.passages_removed},
            "store_changed": self.store_changed, "new_concepts": self.new_concepts,
            "merged": [{"term": t, "concept": c, "how": h} for t, c, h in self.merged],
            "links": [{"prerequisite": x.prerequisite, "concept": x.concept,
                       "confidence": x.confidence} for x in self.links],
            "suggestions": [{"prerequisite": x.prerequisite, "concept": x.concept,
                             "confidence": x.confidence} for x in self.suggestions],
            "flagged": self.flags,
            "not_concepts": [{"term": t, "why": w} for t, w in self.not_concepts],
            "senses": self.senses,
            "cards_written": self.cards_written, "cards_kept": self.cards_kept,
            "cards_removed": self.cards_removed, "problems": self.problems,
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
            "pages_read": self.pages_read, "transcript_minutes_read": round(self.minutes_read, 2),
        }


def describe_evidence(passages: Sequence[Passage], names: dict[str, str]) -> Callable[[Link],
                                                                                      str]:
    def describe(link: Link) -> str:
        ev = link.evidence
        a, b = names.get(link.concept, link.concept), names.get(link.prerequisite,
                                                                  link.prerequisite)
        parts = []
        m, n = ev.get("mentions", [0, 0])
        if m:
            parts.append(f"{m} of {n} passage(s) on {a} name {b}")
        back, n_back = ev.get("mentioned_back", [0, 0])
        if back:
            parts.append(f"{back} of {n_back} on {b} name {a}")
        parts.append(f"RefD {ev.get('refd', 0):+.2f}")
        first_b, first_a = ev.get("introduced", [None, None])
        if first_b is not None and first_a is not None and first_b < len(passages) \
                and first_a < len(passages):
            if first_b == first_a:
                parts.append(f"both are introduced in {passages[first_a].label}")
            else:
                where = "before" if first_b < first_a else "after"
                parts.append(f"{b} is introduced {where} {a} ({passages[first_b].label} vs "
                             f"{passages[first_a].label})")
        if ev.get("graph_path"):
            parts.append("the course graph already has " + " -> ".join(
                names.get(c, c) for c in ev["graph_path"]))
        if ev.get("says"):
            parts.append(f"the material says \"{ev['says'][:120]}\"")
        if "llm" in ev:
            parts.append(f"local model says {ev['llm']}")
        return "; ".join(parts)

    return describe
