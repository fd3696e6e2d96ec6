"""Opening ChromaDB: an embedded folder by default, a Chroma server when a URL is given."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

from filelock import FileLock, Timeout

from knowledge.common.errors import StoreError

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
    _check_folder(path)
    try:
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:
        if _PERMISSION.search(str(exc)):
            raise _permission_error(path) from exc
        raise StoreError(
            f"the concept store in {path} cannot be opened ({type(exc).__name__}: {exc})",
            "rebuild it with `erica kb build --reset` (the damaged folder is kept aside)",
        ) from exc


_PERMISSION = re.compile(r"permission denied|readonly database|read-only file system",
                         re.IGNORECASE)


def _permission_error(path: Path) -> StoreError:
    """Not damage: --reset would move the teacher's store aside for nothing."""
    return StoreError(
        f"the concept store in {path} cannot be used: permission denied (this user cannot "
        "read and write it; Chroma writes to its database even to answer questions)",
        f"give this user read and write access to {path} and the files in it (e.g. "
        f"`chmod -R u+rwX {path}` as its owner), or set ERICA_DATA_DIR to a folder of "
        "your own; the store is not damaged, so do not use --reset",
    )


def _check_folder(path: Path) -> None:
    """The store folder exists (or is made), is readable and writable, and its database is
    not an empty file (what a crash during creation leaves: damaged, not "empty")."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except PermissionError as exc:
        raise _permission_error(path) from exc
    except OSError as exc:
        raise StoreError(f"the store folder {path} cannot be created ({exc.strerror})",
                         "set ERICA_DATA_DIR to a writable folder") from exc
    database = path / "chroma.sqlite3"
    for item in (path, database):
        if item.exists() and not os.access(item, os.R_OK | os.W_OK):
            raise _permission_error(path)
    if database.is_file() and database.stat().st_size == 0:
        raise StoreError(
            f"the concept store in {path} is damaged: its database file chroma.sqlite3 is "
            "empty (0 bytes)",
            "rebuild it with `erica kb build --reset` (the damaged folder is kept aside)")


_SEGMENT_FOLDER = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def remove_orphan_files(path: Path) -> list[str]:
    """Give back the space of collections that are gone: index folders that no segment of the
    database names (Chroma leaves them behind when a collection is deleted or a build is
    killed), then the database's free pages (VACUUM). Only under the writer lock; what is
    still referenced is never touched. Returns the folders removed."""
    database = path / "chroma.sqlite3"
    if not database.is_file():
        return []
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=rw", uri=True,
                                            timeout=2)) as conn:
        try:
            known = {str(row[0]) for row in conn.execute("SELECT id FROM segments")}
        except sqlite3.DatabaseError as exc:  # not a store this code understands: hands off
            log.info("not cleaning %s: %s", path, exc)
            return []
        removed = []
        for entry in path.iterdir():
            if (_SEGMENT_FOLDER.match(entry.name) and entry.is_dir()
                    and not entry.is_symlink() and entry.name not in known):
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry.name)
        try:
            conn.execute("VACUUM")
        except sqlite3.OperationalError as exc:  # a reader (the running app) holds it
            log.info("the store database was not compacted: %s", exc)
    if removed:
        log.info("removed %d index folder(s) of deleted collections", len(removed))
    return removed


@contextlib.contextmanager
def writer_lock(data_dir: Path) -> Iterator[None]:
    """Hold the single-writer lock of a data folder.

    Two processes writing one embedded Chroma folder corrupt it silently, so every writer
    (build, ingest, image indexing) takes this lock first. It is an OS lock (filelock): a
    killed writer never leaves it held.
    """
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(data_dir / "writer.lock", timeout=0)
        lock.acquire()
    except PermissionError as exc:
        raise StoreError(f"{data_dir} cannot be written: permission denied",
                         f"give this user write access to {data_dir}, or set ERICA_DATA_DIR "
                         "to a folder of your own") from exc
    except Timeout as exc:
        raise StoreError(
            f"another Erica process is writing to {data_dir}",
            "wait for it to finish (only one build, ingest or index may run at a time)",
        ) from exc
    try:
        yield
    finally:
        lock.release()
