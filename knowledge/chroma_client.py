"""Opening ChromaDB: an embedded folder by default, a Chroma server when a URL is given."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

from knowledge.errors import StoreError

log = logging.getLogger(__name__)
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

# The HNSW index of every vector collection (concepts, passages, image sets). Among 100,000
# clustered image vectors Chroma's defaults (16 neighbours, ef_construction 100) found 74-85%
# of the exact top 10, these 88-99% (two draws; `erica bench clip`), so image sets are also
# searched exactly below a size (tutor/clip/nearest.py). ef_search set later by modify() did
# not change recall: construction settings count, and are fixed when a collection is created.
HNSW_CONFIGURATION = {"hnsw": {"space": "cosine", "max_neighbors": 32, "ef_construction": 200,
                               "ef_search": 200}}


def open_client(path: Path, url: str = ""):  # -> chromadb.api.ClientAPI
    """A Chroma client: ``HttpClient`` for ``url`` (``http://host:port``), else a folder.

    Collections must be created with ``embedding_function=None``: Chroma's default embedding
    function downloads a model, which fails offline.
    """
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if url:
        parsed = urlparse(url if "://" in url else f"http://{url}")
        host, port = parsed.hostname or "127.0.0.1", parsed.port or 8000
        try:
            client = chromadb.HttpClient(
                host=host, port=port, ssl=parsed.scheme == "https", settings=chroma_settings
            )
            client.heartbeat()
        except Exception as exc:  # chromadb raises several types for a dead server
            raise StoreError(
                f"Chroma server at {url} cannot be reached ({type(exc).__name__}: {exc})",
                f"start it with `chroma run --path DIR --host {host} --port {port}` "
                "or unset ERICA_CHROMA_URL to use the local folder",
            ) from exc
        return client
    path.mkdir(parents=True, exist_ok=True)
    try:
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:
        raise StoreError(
            f"the concept store in {path} cannot be opened ({type(exc).__name__}: {exc})",
            "rebuild it with `erica kb build --reset` (the damaged folder is kept aside)",
        ) from exc


@contextlib.contextmanager
def writer_lock(data_dir: Path) -> Iterator[None]:
    """Hold the single-writer lock of a data folder.

    Two processes writing one embedded Chroma folder corrupt it silently, so every writer
    (build, ingest, image indexing) takes this lock first.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / "writer.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise StoreError(
                f"another Erica process is writing to {data_dir}",
                "wait for it to finish (only one build, ingest or index may run at a time)",
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
