"""``erica kb ingest PATH... [--course NAME] [--llm] [--json]``.

The command wires the data layer (:mod:`knowledge.ingest`) to this process's resources: the
Chroma client, the embedder and, with ``--llm``, a refiner built on the configured language
model, which the pipeline receives as a parameter.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from knowledge.chroma_client import writer_lock
from knowledge.common.errors import EricaError, InvalidInputError
from knowledge.ingest.discovery import slugify
from knowledge.ingest.pipeline import IngestOptions, IngestReport, course_paths, ingest
from knowledge.ingest.prerequisites import LLM_MAX_QUESTIONS, llm_refiner
from knowledge.ingest.readers import MAX_FILE_BYTES
from tutor import runtime
from tutor.llm.factory import get_backend
from tutor.settings import Settings

log = logging.getLogger(__name__)


def add_ingest_command(kb_sub: argparse._SubParsersAction) -> None:
    p = kb_sub.add_parser(
        "ingest", help="read lecture notes, slides and transcripts into a course",
        description="Read Markdown, text, PDF, HTML and transcripts (SRT, WebVTT, "
        "'[00:01:02.000 --> 00:01:08.000] text'), store their passages in ChromaDB, find "
        "concepts and prerequisite links, and write reviewable concept cards to "
        "DATA_DIR/courses/NAME/. Running it again only reads new or changed files.")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                   help="files or folders of course material")
    p.add_argument("--course", default=None,
                   help="course name: its folder under DATA_DIR/courses (default: the first "
                   "folder's name)")
    p.add_argument("--llm", action="store_true",
                   help="ask the local language model to check uncertain prerequisite links "
                   "(slower; optional)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--workers", type=int, default=None,
                   help="parallel file readers (default: the CPU count, at most 4)")
    p.add_argument("--max-mb", type=float, default=MAX_FILE_BYTES / 2**20,
                   help=f"refuse files larger than this (default {MAX_FILE_BYTES / 2**20:.0f})")
    p.set_defaults(func=cmd_ingest)


def default_course_name(paths: list[Path]) -> str:
    first = Path(paths[0]).expanduser()
    name = first.resolve().name if first.is_dir() else first.resolve().parent.name
    slug = slugify(name)
    return slug if slug and slug != "concept" else "my-course"


def _bar_factory(enabled: bool):
    from tqdm import tqdm

    def make(desc: str, total: int, unit: str) -> Any:
        return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr,
                    disable=not enabled or total == 0, leave=False)

    return make


def _refiner_factory(settings: Settings, make_bar):
    """Build the --llm refinement once the concepts are known; None if no model loads."""

    def make(describe):
        try:
            backend = get_backend(settings)
        except EricaError as exc:
            print(f"warning: --llm skipped: {exc.cause}", file=sys.stderr)
            return None
        bar = make_bar("asking the local model", LLM_MAX_QUESTIONS, "link")
        return llm_refiner(backend, describe, on_question=bar.update)

    return make


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    course = args.course or default_course_name(args.paths)
    if args.max_mb <= 0:
        raise InvalidInputError("--max-mb must be positive", "e.g. --max-mb 50")
    make_bar = _bar_factory(sys.stderr.isatty() or not args.json)
    options = IngestOptions(
        course=course, data_dir=settings.data_dir, course_dirs=tuple(settings.course_dirs),
        max_bytes=int(args.max_mb * 2**20),
        workers=args.workers or max(1, min(4, os.cpu_count() or 1)),
        embedding_model=settings.embedding_model, make_bar=make_bar,
        make_refiner=_refiner_factory(settings, make_bar) if args.llm else None)
    with writer_lock(settings.data_dir):
        report = ingest(args.paths, options, runtime.chroma(settings),
                        lambda: runtime.embedder(settings))
    if args.json:
        print(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    else:
        print_report(report, settings)
    return 1 if report.skipped else 0


def print_report(report: IngestReport, settings: Settings) -> None:
    counts: dict[str, int] = {}
    for f in report.files:
        counts[f.status] = counts.get(f.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    print(f"course {report.course}: {summary or 'no files'}")
    for f in report.files:
        detail = ""
        if f.status == "ingested":
            size = (f"{f.pages} page(s), " if f.pages else "") + \
                (f"{f.minutes:.1f} min, " if f.minutes else "")
            detail = f"  {size}{f.passages} passage(s)" + \
                (f", read as {f.encoding}" if f.encoding not in ("", "utf-8") else "")
        elif f.reason:
            detail = f": {f.reason}"
        print(f"  {f.status:9} {f.path}{detail}")
        if f.status == "skipped" and f.fix:
            print(f"  {'':9} fix: {f.fix}")
        for warning in f.warnings:
            print(f"  {'warning':9} {f.path}: {warning}")
    print(f"passages: {report.passages_total} in the store (+{report.passages_added}, "
          f"-{report.passages_removed})" + ("" if report.store_changed else ", unchanged"))
    print(f"concepts: {len(report.new_concepts)} new, {len(report.merged)} term(s) merged "
          "into existing concepts")
    print(f"prerequisite links: {len(report.links)} in the new cards, "
          f"{len(report.suggestions)} suggested for other concepts")
    if report.cards_written:
        print("cards written: " + ", ".join(report.cards_written))
    if report.cards_kept:
        print("cards kept (edited by hand; the new version is in "
              f"{course_paths(settings.data_dir, report.course)[1] / 'proposed'}): "
              + ", ".join(report.cards_kept))
    if report.cards_removed:
        print("cards removed (their source is gone): " + ", ".join(report.cards_removed))
    for problem in report.problems:
        print(f"problem: {problem}")
    print(f"review: {report.course_dir / 'REVIEW.md'}")
    configured = {Path(p).resolve() for p in settings.course_dirs}
    if report.course_dir.resolve() in configured:
        print("next: `erica kb build` to load the new cards")
    else:
        dirs = os.pathsep.join([*(str(p) for p in settings.course_dirs),
                                str(report.course_dir)])
        print("next: add the folder to the course folders, then build:\n"
              f"  ERICA_COURSE_DIRS=\"{dirs}\" erica kb build\n"
              f"  (or course_dirs = [...] in the settings file)")
