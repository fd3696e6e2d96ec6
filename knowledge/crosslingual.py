"""The cross-language concept index: every card embedded with the multilingual model.

Why beside the English store: the English model (MiniLM) ranks English questions best and
fastest, but it cannot read Czech or Russian. A second, small index holds each card's name,
aliases and summary embedded with multilingual-e5-small (knowledge/e5_embedding.py), so a
question in Czech, Russian (or another language) finds the English card; English questions
keep the English path. It lives in its own namespace of the same Chroma store, rebuilt
atomically with the concepts, and is searched in memory (exact, ~1 ms at 3,120 cards).

Embedding with e5 costs ~20-90 ms a card on 2 cores, so vectors are cached by text: in the
models folder (what this machine embedded) and in a seed cache shipped beside this module
for the shipped course (made by the same model and recipe), so only new or edited cards are
embedded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from knowledge.cards import Concept
from knowledge.embeddings import Embedder, model_fingerprint
from knowledge.store import BuildInfo, Record, VersionedCollection, verify_collection

log = logging.getLogger(__name__)

# Not "concepts-...": a concepts build deletes every collection named "concepts-*" but its own.
MULTILINGUAL = "crosslingual"
RECIPE = "name-aliases-summary-v1"
SEED_DIR = Path(__file__).resolve().parent / "vector_cache"


def card_text(card: Concept) -> str:
    """What the multilingual model embeds: names (aliases in any language) and the summary."""
    names = f"{card.name} ({', '.join(card.aliases)})" if card.aliases else card.name
    return f"{names}. {card.summary}"


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class VectorCache:
    """Vectors of texts for one model, keyed by a hash of the text: read from the machine's
    cache and the shipped seed, written to the machine's cache."""

    def __init__(self, model: str, models_dir: Path, seed_dir: Path = SEED_DIR) -> None:
        tag = model_fingerprint(model).replace("|", "-")
        self.path = models_dir / f"{model}.vectors.npz"
        self.tag = tag
        self.vectors: dict[str, np.ndarray] = {}
        for source in (seed_dir / f"{model}.npz", self.path):
            self.vectors.update(self._read(source))
        self.dirty = False

    def _read(self, path: Path) -> dict[str, np.ndarray]:
        try:
            with np.load(path, allow_pickle=False) as data:
                if str(data["tag"]) != self.tag:
                    log.info("vector cache %s is for another model build: ignored", path)
                    return {}
                return dict(zip(data["keys"].tolist(), data["vectors"].astype(np.float32),
                                strict=True))
        except (OSError, ValueError, KeyError):
            return {}

    def encode(self, texts: Sequence[str], get_embedder: Callable[[], Embedder],
               progress: Callable[[int], None] | None = None) -> np.ndarray:
        keys = [_key(t) for t in texts]
        missing = {k: t for k, t in zip(keys, texts, strict=True) if k not in self.vectors}
        if progress:
            progress(len(texts) - len(missing))
        if missing:
            log.info("embedding %d new card texts with the multilingual model", len(missing))
            vecs = get_embedder().encode(list(missing.values()), progress=progress)
            self.vectors.update(zip(missing, vecs, strict=True))
            self.dirty = True
        return np.stack([self.vectors[k] for k in keys]) if keys else \
            np.zeros((0, 1), dtype=np.float32)

    def save(self, path: Path | None = None, keep: Sequence[str] | None = None) -> None:
        """Write the cache (atomically); ``keep``: only the vectors of these texts."""
        path = path or self.path
        if path == self.path and not self.dirty:
            return
        keys = sorted({_key(t) for t in keep} if keep is not None else self.vectors)
        keys = [k for k in keys if k in self.vectors]
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp.npz")
            # float16: half the size, cosines change by < 1e-3
            np.savez_compressed(tmp, tag=np.array(self.tag), keys=np.array(keys),
                                vectors=np.stack([self.vectors[k] for k in keys]).astype(
                                    np.float16) if keys else np.zeros((0, 1), np.float16))
            os.replace(tmp, path)
        except OSError:
            log.warning("vector cache %s not written", path, exc_info=True)


def multilingual_hash(cards: Sequence[Concept], model: str) -> str:
    digest = hashlib.sha256(f"{model_fingerprint(model)}|{RECIPE}".encode())
    for card in sorted(cards, key=lambda c: c.id):
        digest.update(json.dumps([card.id, card_text(card)], ensure_ascii=False).encode())
    return digest.hexdigest()


def build_multilingual(cards: Sequence[Concept], model: str,
                       get_embedder: Callable[[], Embedder], collection: VersionedCollection,
                       models_dir: Path, force: bool = False,
                       progress: Callable[[int], None] | None = None) -> tuple[BuildInfo, bool]:
    """Embed every card's name, aliases and summary with ``model`` into ``collection``;
    a no-op when the active build holds exactly these texts. Returns (info, changed)."""
    digest = multilingual_hash(cards, model)
    current = collection.info()
    if current and current.content_hash == digest and not force:
        try:
            verify_collection(collection.collection(), expected=len(cards))
            return current, False
        except Exception:
            log.warning("multilingual index matches but fails verification: rebuilding")
    cache = VectorCache(model, models_dir)
    texts = [card_text(c) for c in cards]
    vectors = cache.encode(texts, get_embedder, progress)
    cache.save()
    records = [Record(c.id, v, None, {"name": c.name}) for c, v in
               zip(cards, vectors, strict=True)]
    return collection.build(records, digest, model), True


@dataclass
class MultilingualIndex:
    """The cross-language vectors in memory: exact cosine search."""

    model: str
    ids: list[str]
    vectors: np.ndarray
    content_hash: str = ""
    row: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.row = {cid: i for i, cid in enumerate(self.ids)}

    def top(self, query: np.ndarray, k: int) -> list[tuple[str, float]]:
        if not self.ids:
            return []
        sims = self.vectors @ np.asarray(query, dtype=np.float32)
        order = np.argsort(-sims)[:k]
        return [(self.ids[i], float(sims[i])) for i in order]

    def similarity(self, query: np.ndarray, ids: Sequence[str]) -> list[float]:
        rows = [self.row[i] for i in ids if i in self.row]
        sims = dict(zip([i for i in ids if i in self.row],
                        (self.vectors[rows] @ query).tolist() if rows else [], strict=True))
        return [float(sims.get(i, 0.0)) for i in ids]


def load_multilingual(collection: VersionedCollection) -> MultilingualIndex | None:
    """The active cross-language index, or None if this store has none (English only)."""
    info = collection.info()
    if info is None:
        return None
    ids: list[str] = []
    chunks: list[np.ndarray] = []
    for page in collection.iter_all(include=["embeddings"]):
        ids.extend(page["ids"])
        chunks.append(np.asarray(page["embeddings"], dtype=np.float32))
    vectors = np.concatenate(chunks) if chunks else np.zeros((0, 1), dtype=np.float32)
    return MultilingualIndex(info.embedding_model, ids, vectors, info.content_hash)


def drop_index(collection: VersionedCollection) -> None:
    """Remove the index and its pointer (the multilingual model was switched off)."""
    from knowledge.store import META_COLLECTION

    if collection.info() is None:
        return
    collection.drop_stale(keep="")
    collection.client.get_collection(META_COLLECTION).delete(ids=[collection.namespace])
