"""Passages for retrieval: the best lecture passages for the concepts a question retrieved.

This is the interface retrieval depends on (the ingest pipeline writes the passages, this
module reads them): the ``passages`` namespace, its id lists, :class:`PassageIndex` and
:class:`PassageHit`.

The passages namespace is read once into memory (exact numpy search is faster than a
filtered Chroma query at course scale) and reloaded when an ingest moved its pointer. For
each retrieved concept (matches first, then prerequisites in learning-path order), its
linked passages are ranked by cosine similarity to the question, with a small bonus for a
passage that defines the concept or is its section. A lesson's *Further reading* can then
say "Lecture 3, 12:40" and *View retrieved context* can show the passage itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from knowledge.store import VersionedCollection

PASSAGES = "passages"  # the store namespace of ingested passages
ABOUT_BONUS = 0.1
MIN_SCORE = 0.15


def join_ids(ids: Iterable[str]) -> str:
    """Concept ids as one metadata string ``,a,b,`` (Chroma refuses empty lists)."""
    ids = list(dict.fromkeys(ids))
    return "," + ",".join(ids) + "," if ids else ""


def split_ids(text: str) -> list[str]:
    return [i for i in (text or "").split(",") if i]


class RankedConcept(Protocol):
    """What passage ranking needs of a retrieved concept."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def score(self) -> float: ...


@dataclass(frozen=True)
class PassageHit:
    concept_id: str
    concept_name: str
    passage_id: str
    label: str  # "Lecture 3, 12:40"
    source: str  # the file (its path when it was ingested)
    course: str
    text: str
    score: float
    defines: bool  # the passage defines the concept or is its section
    heading: str = ""  # its section or slide title

    def to_json(self) -> dict[str, object]:
        return {"concept": self.concept_id, "label": self.label, "source": self.source,
                "course": self.course, "score": round(self.score, 4), "text": self.text}


class PassageIndex:
    """All stored passages in memory: vectors, labels and concept links."""

    def __init__(self, ids: Sequence[str], vectors: np.ndarray, documents: Sequence[str],
                 metadatas: Sequence[dict], content_hash: str = "") -> None:
        self.ids = list(ids)
        self.vectors = np.asarray(vectors, dtype=np.float32).reshape(len(self.ids), -1)
        self.documents = list(documents)
        self.metadatas = list(metadatas)
        self.content_hash = content_hash
        self.by_concept: dict[str, list[int]] = {}
        self.about: list[set[str]] = []
        for row, meta in enumerate(self.metadatas):
            self.about.append(set(split_ids(str(meta.get("about", "")))))
            for cid in split_ids(str(meta.get("concepts", ""))):
                self.by_concept.setdefault(cid, []).append(row)

    def __len__(self) -> int:
        return len(self.ids)

    def for_concept(self, concept_id: str, query: np.ndarray, n: int = 1
                    ) -> list[tuple[int, float]]:
        rows = self.by_concept.get(concept_id, [])
        if not rows:
            return []
        sims = self.vectors[rows] @ np.asarray(query, dtype=np.float32)
        scored = [(r, float(s) + (ABOUT_BONUS if concept_id in self.about[r] else 0.0))
                  for r, s in zip(rows, sims, strict=True)]
        scored.sort(key=lambda x: (-x[1], x[0]))
        return scored[:n]

    def search(self, query: np.ndarray, k: int = 5) -> list[tuple[int, float]]:
        """Top-``k`` passages for a query vector, whatever their concepts."""
        if not len(self):
            return []
        sims = self.vectors @ np.asarray(query, dtype=np.float32)
        top = np.argsort(-sims)[:k]
        return [(int(i), float(sims[i])) for i in top]


_lock = threading.Lock()
_cache: dict[int, PassageIndex] = {}


def load_passage_index(client, namespace: str = PASSAGES) -> PassageIndex | None:
    """The active passages of ``client`` (cached until an ingest changes them); None if
    nothing was ingested into this store."""
    versioned = VersionedCollection(client, namespace)
    info = versioned.info()
    if info is None:
        return None
    key = id(client)
    with _lock:
        cached = _cache.get(key)
        if cached is not None and cached.content_hash == info.content_hash:
            return cached
    ids: list[str] = []
    vecs: list[np.ndarray] = []
    docs: list[str] = []
    metas: list[dict] = []
    for page in versioned.iter_all(include=["embeddings", "documents", "metadatas"]):
        ids.extend(page["ids"])
        vecs.append(np.asarray(page["embeddings"], dtype=np.float32))
        docs.extend(page["documents"])
        metas.extend(dict(m) for m in page["metadatas"])
    vectors = np.concatenate(vecs) if vecs else np.zeros((0, 1), dtype=np.float32)
    index = PassageIndex(ids, vectors, docs, metas, info.content_hash)
    with _lock:
        _cache[key] = index
    return index


PassageSource = Callable[[], PassageIndex | None]  # the current index, or None (nothing ingested)


def best_passages(concepts: Sequence[RankedConcept], query_vec: np.ndarray,
                  index: PassageIndex | None, per_concept: int = 1, limit: int = 6,
                  min_score: float = MIN_SCORE) -> list[PassageHit]:
    """The best passages for a retrieval's concepts.

    Matches come first (best score first), then prerequisites in learning-path order; one
    passage is shown once, for the first concept that claims it.
    """
    if index is None or not len(index):
        return []
    concepts = sorted(concepts, key=lambda c: (c.role != "match", -c.score
                                               if c.role == "match" else 0))
    hits: list[PassageHit] = []
    seen: set[int] = set()
    for concept in concepts:
        for row, score in index.for_concept(concept.id, query_vec, per_concept + len(seen)):
            if row in seen or score < min_score:
                continue
            seen.add(row)
            meta = index.metadatas[row]
            hits.append(PassageHit(
                concept.id, concept.name, index.ids[row], str(meta.get("label", "")),
                str(meta.get("source_name", meta.get("source", ""))),
                str(meta.get("course", "")), index.documents[row], score,
                concept.id in index.about[row], str(meta.get("heading", ""))))
            if sum(1 for h in hits if h.concept_id == concept.id) >= per_concept:
                break
        if len(hits) >= limit:
            break
    return hits[:limit]
