"""Versioned ChromaDB collections that are rebuilt atomically.

A *namespace* (e.g. ``concepts``) has one active collection, named in a pointer record of the
``erica-meta`` collection. A build writes a brand-new collection, verifies it, then moves the
pointer; a build that fails or is killed leaves the previous collection active and untouched.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from knowledge.chroma_client import HNSW_CONFIGURATION
from knowledge.common.errors import StoreError

log = logging.getLogger(__name__)

META_COLLECTION = "erica-meta"
BATCH = 1000
REBUILD_FIX = "rebuild it with `erica kb build --reset`"


@dataclass(frozen=True)
class Record:
    id: str
    embedding: np.ndarray
    document: str | None  # None: not stored (Chroma's full-text index of it costs ~40% of a write)
    metadata: dict[str, Any]


@dataclass(frozen=True)
class BuildInfo:
    """What the pointer of a namespace says about its active collection."""

    namespace: str
    collection: str
    content_hash: str
    embedding_model: str
    count: int
    built_at: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _meta(client):
    return client.get_or_create_collection(META_COLLECTION, embedding_function=None)


def _chroma_call(what: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except StoreError:
        raise
    except Exception as exc:  # chromadb raises many types for a damaged or missing store
        raise StoreError(f"the store is damaged or unreadable: it failed while {what} "
                         f"({type(exc).__name__}: {exc})",
                         REBUILD_FIX) from exc


class VersionedCollection:
    """The active collection of one namespace, and atomic rebuilds of it."""

    def __init__(self, client, namespace: str) -> None:
        self.client = client
        self.namespace = namespace
        self._collection = None

    def info(self) -> BuildInfo | None:
        got = _chroma_call("reading the store pointer",
                           lambda: _meta(self.client).get(ids=[self.namespace],
                                                          include=["metadatas"]))
        if not got["ids"]:
            return None
        meta = got["metadatas"][0]
        return BuildInfo(namespace=self.namespace, **{k: meta[k] for k in (
            "collection", "content_hash", "embedding_model", "count", "built_at")})

    def collection(self):
        """The active chromadb collection; StoreError if there is none."""
        if self._collection is None:
            info = self.info()
            if info is None:
                raise StoreError(f"no {self.namespace} have been built in this store yet",
                                 "run `erica kb build`")
            self._collection = _chroma_call(
                "opening the active collection",
                lambda: self.client.get_collection(info.collection, embedding_function=None))
        return self._collection

    def build(self, records: Sequence[Record], content_hash: str, embedding_model: str,
              progress: Callable[[int], None] | None = None) -> BuildInfo:
        """Write ``records`` into a new collection, verify it, then make it active."""
        stamp = time.strftime("%Y%m%d%H%M%S")
        name = f"{self.namespace}-{content_hash[:12]}-{stamp}-{time.monotonic_ns() % 10**6}"
        new = self.client.create_collection(name, embedding_function=None,
                                            configuration=HNSW_CONFIGURATION)
        try:
            for start in range(0, len(records), BATCH):
                chunk = records[start:start + BATCH]
                documents = [r.document for r in chunk]
                new.add(
                    ids=[r.id for r in chunk],
                    embeddings=np.stack([r.embedding for r in chunk]).astype(np.float32),
                    documents=None if None in documents else documents,
                    metadatas=[r.metadata for r in chunk],
                )
                if progress:
                    progress(len(chunk))
            verify_collection(new, expected=len(records))
        except BaseException:
            log.warning("build of %s failed; the previous store stays active", name)
            try:
                self.client.delete_collection(name)
            except Exception:  # best effort: an orphan is cleaned up by the next build
                log.debug("could not delete partial collection %s", name, exc_info=True)
            raise
        info = BuildInfo(self.namespace, name, content_hash, embedding_model, len(records),
                         time.strftime("%Y-%m-%dT%H:%M:%S"))
        _meta(self.client).upsert(ids=[self.namespace], embeddings=[[1.0]],
                                  documents=[self.namespace], metadatas=[info.as_dict()])
        self._collection = None
        self.drop_stale(keep=name)
        return info

    def drop_stale(self, keep: str) -> None:
        """Delete this namespace's collections other than ``keep`` (old builds, orphans)."""
        prefix = f"{self.namespace}-"
        for col in self.client.list_collections():
            col_name = col if isinstance(col, str) else col.name
            if col_name.startswith(prefix) and col_name != keep:
                log.info("deleting old collection %s", col_name)
                self.client.delete_collection(col_name)

    def iter_all(self, include: Sequence[str], page: int = 5000) -> Iterator[dict[str, Any]]:
        """Every record of the active collection, a page at a time."""
        col = self.collection()
        total = _chroma_call("counting", col.count)
        for offset in range(0, total, page):
            yield _chroma_call("reading records",
                               lambda o=offset: col.get(include=list(include), limit=page,
                                                        offset=o))

    def query(self, embedding: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Top-``k`` ids by cosine similarity (1 - cosine distance)."""
        col = self.collection()
        res = _chroma_call("searching", lambda: col.query(
            query_embeddings=[np.asarray(embedding, dtype=np.float32)], n_results=k,
            include=["distances"]))
        return [(i, 1.0 - float(d)) for i, d in zip(res["ids"][0], res["distances"][0],
                                                     strict=True)]

    def count(self) -> int:
        return int(_chroma_call("counting", self.collection().count))


# What VersionedCollection.build names a collection: namespace-hash12-YYYYmmddHHMMSS-n
_BUILD_NAME = re.compile(r"^.+-[0-9a-f]{12}-\d{14}-\d+$")


def drop_orphans(client) -> list[str]:
    """Delete collections left by builds that never finished (killed, out of memory): named
    like a build, but the active collection of no namespace. Call it holding the writer lock:
    a build in progress in another process would look the same."""
    pointers = _chroma_call("reading the store pointers",
                            lambda: _meta(client).get(include=["metadatas"]))
    active = {str(m.get("collection")) for m in pointers["metadatas"] if m}
    dropped = []
    for col in _chroma_call("listing collections", client.list_collections):
        name = col if isinstance(col, str) else col.name
        if _BUILD_NAME.match(name) and name not in active:
            log.info("deleting collection %s of an interrupted build", name)
            client.delete_collection(name)
            dropped.append(name)
    return dropped


def verify_collection(col, expected: int | None = None, sample: int = 12) -> None:
    """Check a collection answers: the count matches and sampled items find themselves.

    Chroma stays silent when its index folder is lost (count right, queries find almost
    nothing), so the check queries with stored embeddings.
    """
    total = _chroma_call("counting", col.count)
    if expected is not None and total != expected:
        raise StoreError(f"the store holds {total} items, expected {expected}", REBUILD_FIX)
    if total == 0:
        return
    step = max(1, total // sample)
    offsets = list(range(0, total, step))[:sample]
    ids: list[str] = []
    vecs: list[Any] = []
    for off in offsets:
        got = _chroma_call("reading a sample",
                           lambda o=off: col.get(limit=1, offset=o, include=["embeddings"]))
        ids.extend(got["ids"])
        vecs.extend(got["embeddings"])
    res = _chroma_call("querying a sample", lambda: col.query(
        query_embeddings=np.asarray(vecs, dtype=np.float32), n_results=3, include=["distances"]))
    misses = [i for i, found in zip(ids, res["ids"], strict=True) if i not in found]
    if len(misses) > len(ids) // 4:
        raise StoreError(
            f"the store is damaged: {len(misses)} of {len(ids)} sampled items cannot be found "
            "by search (its index files are missing or corrupt)", REBUILD_FIX)


def dumps_metadata(value: Any) -> str:
    """Chroma metadata values are scalars: nested data is stored as JSON text."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
