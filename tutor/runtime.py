"""Process-wide shared resources (clients, models, the loaded course), created once.

The CLI, the tutor and the Streamlit app all get their resources here, so each model and
store is loaded once per process and shared by every user.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from functools import lru_cache
from pathlib import Path

from knowledge.chroma_client import open_client
from knowledge.course import CONCEPTS, Course, load_course
from knowledge.embeddings import Embedder, load_embedder
from knowledge.passages import load_passage_index
from knowledge.retrieval import Retriever
from knowledge.store import VersionedCollection
from tutor.settings import Settings, replace

log = logging.getLogger(__name__)
_lock = threading.Lock()


@lru_cache(maxsize=8)
def _client(path: Path, url: str):
    return open_client(path, url)


def chroma(settings: Settings):
    """The Chroma client for the settings (embedded folder or server)."""
    with _lock:
        return _client(settings.chroma_path, settings.chroma_url)


def concepts(settings: Settings) -> VersionedCollection:
    return VersionedCollection(chroma(settings), CONCEPTS)


def embedder(settings: Settings) -> Embedder:
    return load_embedder(settings.embedding_model, settings.models_dir)


@lru_cache(maxsize=4)
def _retriever(path: Path, url: str, model: str, models_dir: Path,
               content_hash: str) -> Retriever:
    collection = VersionedCollection(_client(path, url), CONCEPTS)
    course: Course = load_course(collection)
    return Retriever(load_embedder(model, models_dir), collection, course,
                     passages=lambda: load_passage_index(_client(path, url)))


def retriever(settings: Settings) -> Retriever:
    """The retriever over the active build; reloaded when a rebuild changed the store.

    Questions are embedded with the model that embedded the store (its build record), so a
    changed ERICA_EMBEDDING_MODEL never compares vectors of two models; `kb build` re-embeds.
    """
    info = concepts(settings).info()
    if info is None:
        from knowledge.common.errors import StoreError

        raise StoreError(f"the concept store in {settings.chroma_url or settings.chroma_path} "
                         "is empty", "build it with `erica kb build`")
    with _lock:
        if info.embedding_model != settings.embedding_model:
            log.warning("the store was embedded with %s, not the configured %s: run "
                        "`erica kb build` to re-embed it", info.embedding_model,
                        settings.embedding_model)
        return _retriever(settings.chroma_path, settings.chroma_url, info.embedding_model,
                          settings.models_dir, info.content_hash)


def reset_store_folder(settings: Settings) -> Path | None:
    """Move a (possibly damaged) embedded store aside so a build starts clean; returns where."""
    from chromadb.api.shared_system_client import SharedSystemClient

    with _lock:
        _client.cache_clear()
        _retriever.cache_clear()
        SharedSystemClient.clear_system_cache()  # chromadb caches one system per folder
    path = settings.chroma_path
    if settings.chroma_url or not path.exists():
        return None
    aside = path.with_name(f"chroma.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    shutil.move(str(path), aside)
    return aside


def retrieval_options(settings: Settings, k: int | None, depth: int | None,
                      max_concepts: int | None) -> tuple[int, int, int]:
    """Per-request options (CLI flags, UI sliders) with the settings as defaults, checked
    against the settings' own declared bounds."""
    checked = replace(settings, **{name: value for name, value in (
        ("semantic_results", k), ("prerequisite_depth", depth), ("max_concepts", max_concepts))
        if value is not None})
    return checked.semantic_results, checked.prerequisite_depth, checked.max_concepts
