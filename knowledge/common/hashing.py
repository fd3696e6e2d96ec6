"""Content hashes of files (model weights, images, course material), and stamps that say a
hashed file is unchanged."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    """Hex sha256 of a file, read in chunks so large weights never sit in memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def file_identity(path: Path) -> dict[str, object]:
    """Path, size and mtime: what says a file is unchanged since it was hashed, without
    hashing it again (1 GB models are checked once, not at every start)."""
    st = path.stat()
    return {"path": str(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def stamp_matches(stamp_file: Path, expected: dict[str, object]) -> bool:
    """True if ``stamp_file`` records every key of ``expected`` with the same value."""
    try:
        recorded = json.loads(stamp_file.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(recorded, dict) and all(recorded.get(k) == v for k, v in expected.items())


def write_stamp(stamp_file: Path, stamp: dict[str, object]) -> None:
    stamp_file.parent.mkdir(parents=True, exist_ok=True)
    stamp_file.write_text(json.dumps(stamp, indent=1))
