"""Bringing ingested passages back from a store folder that `kb build --reset` moved aside.

Cards rebuild from their YAML files, but passages exist only in the store, so a reset would
otherwise drop a teacher's ingested material. Often only the concepts' index is damaged and
the passages still read back whole.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from knowledge.chroma_client import open_client
from knowledge.common.errors import StoreError
from knowledge.passages import PASSAGES
from knowledge.store import Record, VersionedCollection, verify_collection

log = logging.getLogger(__name__)


def recover_passages(old_folder: Path, client) -> int:
    """Copy the active passages of the store in ``old_folder`` into ``client``'s store.

    Returns how many were copied (0 if nothing was ingested); StoreError if the old store
    cannot give them back whole. The copy is an atomic build, verified like any other.
    """
    try:
        old = VersionedCollection(open_client(old_folder), PASSAGES)
        info = old.info()
        if info is None:
            return 0
        records: list[Record] = []
        for page in old.iter_all(include=["embeddings", "documents", "metadatas"]):
            records.extend(Record(i, np.asarray(e, dtype=np.float32), d, dict(m)) for i, e, d, m
                           in zip(page["ids"], page["embeddings"], page["documents"],
                                  page["metadatas"], strict=True))
        verify_collection(old.collection(), expected=info.count)
    except Exception as exc:  # a damaged folder fails in many chromadb ways
        cause = exc.cause if isinstance(exc, StoreError) else f"{type(exc).__name__}: {exc}"
        raise StoreError(f"the ingested passages in {old_folder} cannot be read back ({cause})",
                         "run `erica kb ingest` on the teacher's files again") from exc
    VersionedCollection(client, PASSAGES).build(records, info.content_hash,
                                                info.embedding_model)
    log.info("recovered %d passages from %s", len(records), old_folder)
    return len(records)
