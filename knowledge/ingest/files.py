"""Finding the files to ingest (in course order) and hashing them to see what changed."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from knowledge.ingest.readers import SkipFile, check_file, unsupported
from knowledge.ingest.report import FileReport, IngestReport


@dataclass(frozen=True)
class SourceFile:
    path: Path  # resolved
    name: str  # shown: relative to the folder that was given
    root: Path | None  # the folder it was found in (None for a file given by name)


def natural_key(text: str) -> tuple:
    """``lecture2`` before ``lecture10``."""
    return tuple(int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", text))


def discover_files(paths: Sequence[Path], report: IngestReport) -> list[SourceFile]:
    """The supported files under ``paths``, in course order; the rest are reported."""
    found: dict[Path, SourceFile] = {}
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():
            report.files.append(FileReport(str(path), "skipped", "not found",
                                           "check the path"))
            continue
        if path.is_file():
            resolved = path.resolve()
            found.setdefault(resolved, SourceFile(resolved, path.name, None))
            continue
        root = path.resolve()
        try:
            entries = sorted((p for p in root.rglob("*")), key=lambda p: natural_key(str(p)))
        except PermissionError as exc:
            report.files.append(FileReport(str(path), "skipped", f"folder cannot be listed "
                                           f"({exc.strerror})", "make it readable"))
            continue
        files = [p for p in entries if p.is_file() and not any(
            part.startswith(".") for part in p.relative_to(root).parts)]
        if not files:
            report.files.append(FileReport(str(path), "skipped", "empty folder: no files",
                                           "put lecture notes, slides (PDF) or transcripts "
                                           "in it"))
            continue
        for p in files:
            name = f"{root.name}/{p.relative_to(root).as_posix()}"
            problem = unsupported(p)
            if problem is not None:
                report.files.append(FileReport(name, "skipped", problem.cause, problem.fix))
                continue
            found.setdefault(p.resolve(), SourceFile(p.resolve(), name, root))
    return sorted(found.values(), key=lambda s: natural_key(s.name))


def file_sha(path: Path, max_bytes: int) -> str:
    """sha256 of the file; SkipFile for the size/permission problems read_file reports."""
    check_file(path, max_bytes)
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(2**20), b""):
                digest.update(block)
    except PermissionError as exc:
        raise SkipFile("permission denied (not readable by this user)",
                       "make it readable (chmod +r) or ask its owner") from exc
    except OSError as exc:
        raise SkipFile(f"cannot be read ({exc.strerror})", "check the file system") from exc
    return digest.hexdigest()
