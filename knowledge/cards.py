"""Concept cards: the schema and the YAML loader.

A course is a folder of YAML files, one per unit::

    unit: search_uninformed          # default unit for the cards below
    title: Uninformed search         # optional, shown to people
    cards:
      - id: breadth-first-search     # slug: lowercase letters, digits and hyphens
        name: Breadth-first search
        aliases: [BFS]
        summary: One or two sentences a student can read alone.
        explanation: A paragraph (60-200 words).
        example: Optional worked example.
        code: Optional short code snippet.
        prerequisites: [state-space-search, queue-data-structure]  # direct ones only
        related: [depth-first-search]
        sources: ["Russell & Norvig, AIMA 4th ed., sec. 3.4.1"]
        level: intro                 # intro | intermediate | advanced
        kind: overview               # optional: concept (default) | overview | history | example

Cards are the source of truth; the store is rebuilt from them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from knowledge.common.errors import CardError

LEVELS = ("intro", "intermediate", "advanced")
# What a card is, for the graph rules: a survey of its parts, a historical system or event, or a
# worked-example/toy domain is related to the cards it touches, rarely their prerequisite.
KINDS = ("concept", "overview", "history", "example")
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_CARD_FILE_BYTES = 5_000_000
# Cyrillic, or letters of Czech that English names do not borrow (é, ö, è do occur).
_NON_ENGLISH_LETTERS = re.compile(r"[\u0400-\u04ffčďěňřšťůžáíýúČĎĚŇŘŠŤŮŽÁÍÝÚ]")
_LIST_FIELDS = ("aliases", "prerequisites", "related", "sources")
_TEXT_FIELDS = ("name", "summary", "explanation", "example", "code", "unit", "level", "kind",
                "origin")


@dataclass(frozen=True)
class Concept:
    """One concept card of the course."""

    id: str
    name: str
    unit: str
    summary: str
    explanation: str = ""
    aliases: tuple[str, ...] = ()
    example: str = ""
    code: str = ""
    prerequisites: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    level: str = "intro"
    kind: str = "concept"
    origin: str = "course"
    source_file: str = field(default="", compare=False)
    line: int = field(default=0, compare=False)

    def embedding_text(self) -> str:
        """The text embedded for semantic search: name, aliases, summary, explanation.

        Czech and Russian aliases are left out: the English model reads them as noise (they
        serve name matching and the multilingual index, knowledge/crosslingual.py).
        """
        parts = [self.name]
        english = [a for a in self.aliases if not _NON_ENGLISH_LETTERS.search(a)]
        if english:
            parts.append("(" + ", ".join(english) + ")")
        parts.append(self.summary)
        if self.explanation:
            parts.append(self.explanation)
        return " ".join(p.strip() for p in parts if p.strip())

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the card fields (what is written to YAML or JSON)."""
        data = asdict(self)
        for key in _LIST_FIELDS:
            data[key] = list(data[key])
        data.pop("source_file")
        data.pop("line")
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], source_file: str = "", line: int = 0) -> Concept:
        """Build a card from a plain dict, tolerating absent optional fields."""
        kwargs: dict[str, Any] = {}
        for key in _TEXT_FIELDS + ("id",):
            if data.get(key) is not None:
                kwargs[key] = str(data[key]).strip() if key != "code" else str(data[key])
        for key in _LIST_FIELDS:
            value = data.get(key) or ()
            if isinstance(value, str):
                value = [value]
            kwargs[key] = tuple(str(v).strip() for v in value if str(v).strip())
        return cls(source_file=source_file, line=line, **kwargs)


class _LineLoader(yaml.SafeLoader):
    """Safe loader that records the line each mapping starts on."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_card_file(path: Path) -> list[Concept]:
    """Read one unit file; a YAML or schema error names the file and line."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_CARD_FILE_BYTES:
            raise CardError(
                f"{path}: card file is {size:,} bytes (limit {MAX_CARD_FILE_BYTES:,})",
                "split the unit into several files",
            )
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CardError(f"{path}: not UTF-8 text ({exc.reason})", "save the file as UTF-8") from exc
    except OSError as exc:
        raise CardError(f"{path}: cannot be read ({exc.strerror})", "check the path") from exc
    try:
        doc = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - _LineLoader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise CardError(f"{where}: YAML error: {exc.problem or exc}",
                        "fix the YAML syntax") from exc
    except yaml.YAMLError as exc:
        raise CardError(f"{path}: YAML error: {exc}", "fix the YAML syntax") from exc
    if doc is None:
        return []
    if not isinstance(doc, dict) or not isinstance(doc.get("cards"), list):
        raise CardError(
            f"{path}: expected a mapping with a 'cards' list",
            "see the schema in knowledge/cards.py",
        )
    default_unit = str(doc.get("unit") or path.stem)
    cards = []
    for raw in doc["cards"]:
        if not isinstance(raw, dict):
            raise CardError(f"{path}: every entry of 'cards' must be a mapping", "fix the entry")
        line = int(raw.pop("__line__", 0))
        raw.setdefault("unit", default_unit)
        if not raw.get("id") or not raw.get("name"):
            raise CardError(f"{path}:{line}: a card needs 'id' and 'name'", "add the missing field")
        cards.append(Concept.from_dict(raw, source_file=str(path), line=line))
    return cards


def card_files(folders: Iterable[Path]) -> list[Path]:
    """Every ``*.yaml``/``*.yml`` file of the given course folders, in a stable order."""
    files: list[Path] = []
    for folder in folders:
        folder = Path(folder)
        if folder.is_file():
            files.append(folder)
        elif folder.is_dir():
            files.extend(sorted(p for p in folder.rglob("*.y*ml") if p.is_file()))
    return files


def load_cards(folders: Iterable[Path]) -> list[Concept]:
    """Load every card of the given course folders (or single files)."""
    cards: list[Concept] = []
    for path in card_files(folders):
        cards.extend(load_card_file(path))
    return cards


def dump_cards(unit: str, cards: Iterable[Concept], title: str = "") -> str:
    """Serialise cards as a unit file (used by ingestion to write reviewable cards)."""
    doc: dict[str, Any] = {"unit": unit}
    if title:
        doc["title"] = title
    doc["cards"] = [
        {k: v for k, v in c.to_dict().items()
         if v not in ("", [], ()) and k != "unit" and (k, v) != ("kind", "concept")}
        | ({"unit": c.unit} if c.unit != unit else {})
        for c in cards
    ]
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
