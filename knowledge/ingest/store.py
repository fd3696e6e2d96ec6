"""Passages in ChromaDB, beside the concepts: the ``passages`` namespace.

Every record is one passage: its text, its embedding and metadata naming the course, the
source file (and the sha256 of the file's bytes when it was read), the place in it, and the
concepts it is about or mentions. The per-file hashes in the active collection *are* the
ingest manifest, so a run that fails before the namespace's pointer moves leaves both the
passages and the manifest exactly as they were.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from knowledge.ingest.passages import Passage
from knowledge.ingest.readers import Location
from knowledge.passages import PASSAGES, join_ids
from knowledge.store import BuildInfo, Record, VersionedCollection


def passage_metadata(p: Passage, source_sha: str, about: Iterable[str],
                     mentions: Iterable[str]) -> dict[str, str | int | float]:
    loc = p.location
    return {
        "course": p.course, "source": p.source, "source_name": p.source_name,
        "source_sha": source_sha, "title": p.title, "index": p.index, "kind": loc.kind,
        "page": loc.page, "start_s": loc.start_s, "end_s": loc.end_s, "heading": loc.heading,
        "line": loc.line, "label": p.label, "about": join_ids(about),
        "concepts": join_ids([*about, *mentions]),
    }


def passage_from_record(document: str, meta: dict) -> Passage:
    loc = Location(str(meta.get("kind", "line")), int(meta.get("page", 0) or 0),
                   float(meta.get("start_s", -1.0)), float(meta.get("end_s", -1.0)),
                   str(meta.get("heading", "")), int(meta.get("line", 0) or 0))
    return Passage(str(meta["course"]), str(meta["source"]), str(meta.get("source_name", "")),
                   str(meta.get("title", "")), int(meta.get("index", 0)), document, loc)


def embedding_text(p: Passage) -> str:
    """What is embedded: the heading (if the text does not start with it) and the text."""
    heading = p.location.heading
    if heading and not p.text.lstrip().startswith(heading[:40]):
        return f"{heading}: {p.text}"
    return p.text


@dataclass
class StoredPassages:
    """The active passages, all courses, as plain records (embeddings included)."""

    records: list[Record]
    info: BuildInfo | None

    def of_course(self, course: str) -> list[Record]:
        return [r for r in self.records if r.metadata.get("course") == course]

    def manifest(self, course: str) -> dict[str, str]:
        """source path -> sha256 of the bytes its passages were read from."""
        return {str(r.metadata["source"]): str(r.metadata.get("source_sha", ""))
                for r in self.of_course(course)}

    def courses(self) -> list[str]:
        return sorted({str(r.metadata.get("course")) for r in self.records})


class PassageStore:
    """The ``passages`` namespace of a Chroma client."""

    def __init__(self, client, namespace: str = PASSAGES) -> None:
        self.client = client
        self.namespace = namespace

    @property
    def versioned(self) -> VersionedCollection:
        """A fresh handle each time: another run may have moved the pointer since."""
        return VersionedCollection(self.client, self.namespace)

    def info(self) -> BuildInfo | None:
        return self.versioned.info()

    def load(self) -> StoredPassages:
        versioned = self.versioned
        info = versioned.info()
        if info is None:
            return StoredPassages([], None)
        records: list[Record] = []
        for page in versioned.iter_all(include=["embeddings", "documents", "metadatas"]):
            for pid, vec, doc, meta in zip(page["ids"], page["embeddings"], page["documents"],
                                           page["metadatas"], strict=True):
                records.append(Record(pid, np.asarray(vec, dtype=np.float32), doc, dict(meta)))
        return StoredPassages(records, info)

    def commit(self, records: Sequence[Record], embedding_model: str,
               progress: Callable[[int], None] | None = None) -> tuple[BuildInfo, bool]:
        """Make ``records`` (every course's) the active passages; a no-op if identical.

        Atomic: a new collection is written and verified before the pointer moves.
        """
        digest = content_hash(records, embedding_model)
        versioned = self.versioned
        current = versioned.info()
        if current is not None and current.content_hash == digest:
            return current, False
        return versioned.build(list(records), digest, embedding_model, progress=progress), True


def content_hash(records: Sequence[Record], embedding_model: str) -> str:
    digest = hashlib.sha256(embedding_model.encode())
    for r in sorted(records, key=lambda r: r.id):
        digest.update(r.id.encode())
        digest.update(r.document.encode())
        digest.update(json.dumps(r.metadata, sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()
