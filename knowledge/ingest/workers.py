"""Reading files in parallel where it pays: PDFs (pure-Python parsing) in processes, the rest
in threads; a reader's failure is reported per file, never stops the run."""

from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from knowledge.ingest.readers import SkipFile, read_file

log = logging.getLogger(__name__)

PROCESS_POOL_MIN_BYTES = 2 * 2**20  # PDFs above this in total are parsed in processes


def _read_one(path: str, max_bytes: int) -> tuple[str, Any, str]:
    """Worker: ("ok", Document, "") or ("skip", cause, fix); never raises."""
    try:
        return "ok", read_file(Path(path), max_bytes=max_bytes), ""
    except SkipFile as exc:
        return "skip", exc.cause, exc.fix
    except Exception as exc:  # a reader bug must not stop the run: report it per file
        log.debug("reading %s failed", path, exc_info=True)
        return "skip", f"could not be read ({type(exc).__name__}: {exc})", \
            "report this file as a bug; the rest was ingested"


def read_files(paths: Sequence[Path], max_bytes: int, workers: int,
               on_done: Callable[[], None] | None = None) -> dict[Path, tuple[str, Any, str]]:
    """Read files in parallel where it pays: PDFs (pure-Python parsing) in processes,
    the rest in threads."""
    results: dict[Path, tuple[str, Any, str]] = {}
    if not paths:
        return results
    pdf_bytes = sum(p.stat().st_size for p in paths if p.suffix.lower() == ".pdf"
                    and p.exists() and p.stat().st_size <= max_bytes)
    use_processes = workers > 1 and pdf_bytes >= PROCESS_POOL_MIN_BYTES and len(paths) > 1
    if workers <= 1 or len(paths) == 1:
        for p in paths:
            results[p] = _read_one(str(p), max_bytes)
            if on_done:
                on_done()
        return results
    if use_processes:
        pool: cf.Executor = cf.ProcessPoolExecutor(
            max_workers=min(workers, len(paths)),
            mp_context=multiprocessing.get_context("spawn"))
    else:
        pool = cf.ThreadPoolExecutor(max_workers=min(workers, len(paths)))
    with pool:
        futures = {pool.submit(_read_one, str(p), max_bytes): p for p in paths}
        for fut in cf.as_completed(futures):
            results[futures[fut]] = fut.result()
            if on_done:
                on_done()
    return results
