"""Content hashes of files (model weights, images, course material), and stamps that say a
hashed file is unchanged.

A stamp is a small JSON file beside what it describes. It is keyed on content: each file it
describes is recorded by its sha256, with its size and mtime only to skip hashing it again
(1 GB models are hashed once, not at every start). It records no path, so a data folder that
was copied, or whose ``models/`` is a link to another folder, agrees with the stamp it finds.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

log = logging.getLogger(__name__)


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    """Hex sha256 of a file, read in chunks so large weights never sit in memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def file_record(path: Path, sha256: str | None = None) -> dict[str, object]:
    """What a stamp records about a file: its sha256 (``sha256`` if the caller just computed
    it), and the size and mtime that say it need not be hashed again."""
    st = path.stat()
    return {"sha256": sha256 or sha256_file(path), "size": st.st_size,
            "mtime_ns": st.st_mtime_ns}


def _same_content(path: Path, recorded: object) -> tuple[bool, bool]:
    """(same content, hashed again): unchanged size and mtime are trusted; a file with a new
    mtime (a copy) is hashed and compared."""
    if not isinstance(recorded, dict):
        return False, False
    try:
        st = path.stat()
    except OSError:
        return False, False
    if st.st_size != recorded.get("size"):
        return False, False
    if st.st_mtime_ns == recorded.get("mtime_ns"):
        return True, False
    return sha256_file(path) == recorded.get("sha256"), True


def read_stamp(stamp_file: Path) -> dict[str, object] | None:
    try:
        recorded = json.loads(stamp_file.read_text())
    except (OSError, ValueError):
        return None
    return recorded if isinstance(recorded, dict) else None


def stamp_matches(stamp_file: Path, expected: Mapping[str, object],
                  files: Mapping[str, Path] | None = None) -> bool:
    """True if ``stamp_file`` records every key of ``expected`` with the same value, and
    under each key of ``files`` a file with that file's content.

    A file found by its hash only (a copied folder gives new mtimes) still matches; the stamp
    is then refreshed so that it is not hashed again.
    """
    recorded = read_stamp(stamp_file)
    if recorded is None or any(recorded.get(k) != v for k, v in expected.items()):
        return False
    refreshed = False
    for key, path in (files or {}).items():
        same, hashed = _same_content(path, recorded.get(key))
        if not same:
            return False
        if hashed:
            st = path.stat()
            recorded[key] = {**recorded[key], "size": st.st_size, "mtime_ns": st.st_mtime_ns}
            refreshed = True
    if refreshed:
        try:
            write_stamp(stamp_file, recorded)
        except OSError as exc:  # a read-only models folder: the hash is checked next time
            log.debug("cannot refresh %s: %s", stamp_file, exc)
    return True


def write_stamp(stamp_file: Path, stamp: Mapping[str, object]) -> None:
    """Write ``stamp`` atomically (temp file + rename in the same folder): a reader sees the
    old stamp or the new one, never half of one, and a stamp that is a symbolic link is
    replaced by a file instead of writing into whatever it points to."""
    stamp_file.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=stamp_file.parent, prefix=f".{stamp_file.name}.",
                               suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(dict(stamp), handle, indent=1)
        os.chmod(tmp, 0o644)
        os.replace(tmp, stamp_file)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
