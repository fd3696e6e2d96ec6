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
MAX_CARDS_PER_FILE = 2_000
MAX_CARDS = 20_000  # in all course folders together
# Nodes that YAML aliases (``*name``) may add once expanded: a few shared lists are fine,
# a "billion laughs" file (aliases of aliases) is refused before anything is built from it.
MAX_ALIAS_NODES = 10_000
MAX_YAML_NODES = 300_000  # values in one file (the largest shipped unit has about 2,000)
MAX_YAML_DEPTH = 40  # nesting (a card is a mapping of lists: depth 4)
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


class _TooBig(Exception):
    """A card file whose YAML would expand beyond the bounds (cause, fix)."""


class _LineLoader(yaml.SafeLoader):
    """Safe loader that records the line each mapping starts on, and refuses documents whose
    aliases expand beyond MAX_ALIAS_NODES before any Python object is built from them."""

    _nodes = 0
    _depth = 0

    def compose_node(self, parent, index):
        self._nodes += 1
        if self._nodes > MAX_YAML_NODES:
            raise _TooBig(f"more than {MAX_YAML_NODES:,} YAML values in one file",
                          "split the unit into several files")
        if self._depth >= MAX_YAML_DEPTH:
            raise _TooBig(f"YAML nested more than {MAX_YAML_DEPTH} levels deep",
                          "fix the brackets or indentation; cards are flat mappings")
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self):
        node = super().get_single_node()
        if node is not None:
            _check_card_count(node)
            _check_expansion(node)
        return node


def _check_card_count(root: yaml.Node) -> None:
    if not isinstance(root, yaml.MappingNode):
        return
    for key, value in root.value:
        if (isinstance(key, yaml.ScalarNode) and key.value == "cards"
                and isinstance(value, yaml.SequenceNode)
                and len(value.value) > MAX_CARDS_PER_FILE):
            raise _TooBig(f"{len(value.value):,} cards in one file (limit "
                          f"{MAX_CARDS_PER_FILE:,})", "split the unit into several files")


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_expansion(root: yaml.Node) -> None:
    """Count the nodes of the document with every alias expanded, without expanding it.

    The composed document is a graph in which an alias is the very node it names; each node's
    expanded size is computed once (iterative DFS), so a billion-laughs file costs time linear
    in its length. An alias inside its own anchor is a cycle: unbounded.
    """
    cap = MAX_ALIAS_NODES * 1000  # sizes are clamped: the exact size of a bomb is not needed
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            on_path.discard(key)
            sizes[key] = min(cap, 1 + sum(sizes[id(c)] for c in _children(node)))
            continue
        if key in sizes:
            continue
        on_path.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in on_path:
                raise _TooBig("a YAML alias (*name) is used inside its own anchor (&name), "
                              "which makes an endless structure",
                              "remove the alias, or write the value out")
            if id(child) not in sizes:
                stack.append((child, False))
    added = sizes[id(root)] - len(sizes)
    if added > MAX_ALIAS_NODES:
        more = f"{added:,}" if sizes[id(root)] < cap else f"more than {cap:,}"
        raise _TooBig(f"its YAML aliases (*name) expand to {more} extra values (limit "
                      f"{MAX_ALIAS_NODES:,}): the shape of a 'billion laughs' file, which "
                      "exhausts memory",
                      "write repeated values out instead of using anchors (&name) and "
                      "aliases (*name)")


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
    except _TooBig as exc:
        cause, fix = exc.args
        raise CardError(f"{path}: {cause}", fix) from None
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
        if len(cards) > MAX_CARDS:
            raise CardError(f"more than {MAX_CARDS:,} cards in the course folders (stopped at "
                            f"{path})", "check that the course folders (ERICA_COURSE_DIRS) "
                            "hold only the course's card files; split a larger course")
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
