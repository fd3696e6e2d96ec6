"""The course as loaded from the store: cards, prerequisite graph and embeddings, in memory."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from knowledge.cards import Concept
from knowledge.graph import build_graph
from knowledge.lexical import LabelIndex
from knowledge.store import VersionedCollection, dumps_metadata, verify_collection

log = logging.getLogger(__name__)
CONCEPTS = "concepts"


@dataclass
class Course:
    """Everything retrieval needs, read once from the store and shared read-only."""

    cards: dict[str, Concept]
    graph: nx.DiGraph
    ids: list[str]
    vectors: np.ndarray  # row i is the embedding of ids[i]
    row: dict[str, int] = field(default_factory=dict)
    labels: LabelIndex = field(init=False)

    def __post_init__(self) -> None:
        self.row = {cid: i for i, cid in enumerate(self.ids)}
        self.labels = LabelIndex(self.cards.values())

    def similarity(self, query: np.ndarray, ids: list[str]) -> list[float]:
        """Cosine similarity of a normalised query to the given concepts."""
        rows = [self.row[i] for i in ids]
        return [float(x) for x in self.vectors[rows] @ query] if rows else []

    def find(self, text: str) -> list[Concept]:
        """Cards whose id, name or an alias contains ``text`` (case-insensitive), best first."""
        needle = text.strip().lower()
        if not needle:
            return []
        hits = []
        for card in self.cards.values():
            labels = [card.id, card.name.lower(), *(a.lower() for a in card.aliases)]
            if any(needle == label for label in labels):
                hits.append((0, card.name))
            elif any(needle in label for label in labels):
                hits.append((1, card.name))
        by_name = {c.name: c for c in self.cards.values()}
        return [by_name[name] for _, name in sorted(hits)]


def card_metadata(card: Concept) -> dict[str, str]:
    """What is stored beside a card's embedding: the whole card, so the store is self-contained."""
    return {"name": card.name, "unit": card.unit, "level": card.level, "origin": card.origin,
            "card": dumps_metadata(card.to_dict())}


def load_course(concepts: VersionedCollection, verify: bool = True) -> Course:
    """Read every card and embedding of the active build; verify the index answers."""
    if verify:
        verify_collection(concepts.collection())
    ids: list[str] = []
    cards: list[Concept] = []
    chunks: list[np.ndarray] = []
    for page in concepts.iter_all(include=["metadatas", "embeddings"]):
        ids.extend(page["ids"])
        cards.extend(Concept.from_dict(json.loads(m["card"])) for m in page["metadatas"])
        chunks.append(np.asarray(page["embeddings"], dtype=np.float32))
    vectors = np.concatenate(chunks) if chunks else np.zeros((0, 1), dtype=np.float32)
    log.info("loaded %d concepts from the store", len(ids))
    return Course(cards={c.id: c for c in cards}, graph=build_graph(cards), ids=ids,
                  vectors=vectors)
