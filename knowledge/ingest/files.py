"""Finding the files to ingest (in course order) and hashing them to see what changed."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
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
            cause, fix = _link_problem(path) or ("not found", "check the path")
            report.files.append(FileReport(str(path), "skipped", cause, fix))
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
        visible = [p for p in entries
                   if not any(part.startswith(".") for part in p.relative_to(root).parts)]
        for p in visible:
            problem = _link_problem(p)
            if problem:
                report.files.append(FileReport(f"{root.name}/{p.relative_to(root).as_posix()}",
                                               "skipped", *problem))
        files = [p for p in visible if p.is_file()]
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


def _link_problem(path: Path) -> tuple[str, str] | None:
    """(cause, fix) for a symbolic link that is not followed: a loop, a dangling link, or a
    link to a folder (folders are walked without following links, so a loop cannot hang)."""
    if not path.is_symlink():
        return None
    target = os.readlink(path)
    try:
        info = path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return (f"a symlink loop ({path.name} -> {target} leads back to itself)",
                    "remove the link or point it at a real file")
        return (f"a broken symlink (its target {target} does not exist)",
                "remove the link or point it at a real file")
    if not stat.S_ISDIR(info.st_mode):
        return None
    resolved = path.resolve()
    if path.parent.resolve().is_relative_to(resolved):
        return (f"a symlink loop ({path.name} -> {target} points to a folder that contains "
                "it)", "remove the link; the folder is read once already")
    return (f"a link to a folder ({target}): links are not followed inside a folder",
            f"give {resolved} as a PATH of its own")


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
