"""``erica kb validate|build|stats`` and ``erica retrieve``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections import Counter
from pathlib import Path

from tqdm import tqdm

from knowledge.build import build_concepts, load_valid_cards
from knowledge.cards import load_cards
from knowledge.chroma_client import remove_orphan_files, writer_lock
from knowledge.common.errors import InvalidInputError, StoreError
from knowledge.graph import graph_stats
from knowledge.store import drop_orphans
from knowledge.validate import (
    WARNING_RULES,
    Problem,
    find_cycle,
    graph_warnings,
    instruction_warnings,
    lint,
    validate,
)
from tutor import runtime
from tutor.commands.ingest import add_ingest_command
from tutor.commands.options import add_retrieval_options
from tutor.settings import Settings

log = logging.getLogger(__name__)


def add_commands(sub: argparse._SubParsersAction) -> None:
    kb = sub.add_parser("kb", help="the concept store: validate, build, stats, ingest",
                        description="Manage the course's concept cards and the ChromaDB store.")
    kb_sub = kb.add_subparsers(dest="kb_command", metavar="ACTION", required=True)

    p = kb_sub.add_parser("validate", help="check the concept cards (ids, references, cycles)")
    p.add_argument("paths", nargs="*", type=Path,
                   help="card folders or files (default: the configured course folders)")
    p.add_argument("--strict", action="store_true",
                   help="also apply the shipped course's quality rules (lengths, sources, roots)")
    p.add_argument("--warnings", action="store_true",
                   help="list every graph warning (suspicious prerequisite edges), not just counts")
    p.set_defaults(func=cmd_validate)

    p = kb_sub.add_parser("build",
                          help="embed the cards into ChromaDB (atomic; no-op if unchanged)")
    p.add_argument("--force", action="store_true", help="rebuild even if nothing changed")
    p.add_argument("--reset", action="store_true",
                   help="move a damaged store folder aside and build from scratch")
    p.set_defaults(func=cmd_build)

    p = kb_sub.add_parser("stats", help="concepts, prerequisite edges, units, roots, longest chain")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_stats)

    add_ingest_command(kb_sub)

    p = sub.add_parser("retrieve", help="find the concepts that answer a question",
                       description="Semantic matches from ChromaDB, expanded along the "
                       "prerequisite graph, capped and ordered as a learning path.")
    p.add_argument("question", nargs="?", help="the question (omit with --from-file)")
    add_retrieval_options(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--from-file", type=Path, metavar="FILE",
                   help="answer one question per line of FILE, one JSON object per line")
    p.set_defaults(func=cmd_retrieve)


def cmd_validate(args: argparse.Namespace, settings: Settings) -> int:
    cards = load_cards(args.paths or settings.course_dirs)
    problems = validate(cards)
    if args.strict:
        problems += lint(cards)
    for problem in problems:
        print(problem)
    warnings = instruction_warnings(cards)
    for warning in warnings:
        print(f"warning: {warning}")
    print(f"{len(cards)} cards, {len(problems)} problem(s)"
          + (f", {len(warnings)} warning(s)" if warnings else ""))
    if not find_cycle(cards):  # ancestors are only meaningful in an acyclic graph
        _print_warnings(graph_warnings(cards), listed=args.warnings)
    return 1 if problems else 0


def _print_warnings(warnings: list[Problem], listed: bool) -> None:
    """Warnings never fail validation; by default only their counts per rule are shown."""
    if listed:
        for warning in warnings:
            print(f"warning [{warning.rule}] {warning}")
    counts = Counter(w.rule for w in warnings)
    summary = ", ".join(f"{counts[rule]} {rule}" for rule in WARNING_RULES)
    hint = "" if listed or not warnings else " (list them with --warnings)"
    print(f"{len(warnings)} graph warning(s): {summary}{hint}")


def cmd_build(args: argparse.Namespace, settings: Settings) -> int:
    cards = load_valid_cards(settings.course_dirs)
    with writer_lock(settings.data_dir):  # the reset, the build and the recovery: one writer
        aside = runtime.reset_store_folder(settings) if args.reset else None
        if aside:
            print(f"moved the old store to {aside}")
        with tqdm(total=len(cards), desc="embedding concepts", delay=1, unit="card",
                  file=sys.stderr) as bar:
            def embedder():  # loading (or preparing) the model is not embedding time
                loaded = runtime.embedder(settings)
                bar.reset(total=len(cards))
                return loaded

            result = build_concepts(cards, settings.embedding_model, embedder,
                                    runtime.concepts(settings), force=args.force,
                                    progress=bar.update)
        multilingual = _build_multilingual(cards, settings, args.force)
        if aside:
            _recover_passages(aside, settings)
        _clean_store(settings)
    where = settings.chroma_url or settings.chroma_path
    if result.changed:
        print(f"built {result.info.count} concepts into {where} ({result.info.collection})")
    else:
        print(f"store already up to date: {result.info.count} concepts in {where}")
    if multilingual is not None:
        state = "built" if multilingual[1] else "up to date"
        print(f"cross-language index {state}: {multilingual[0].count} concepts, "
              f"{multilingual[0].embedding_model}")
    return 0


def _build_multilingual(cards, settings: Settings, force: bool):
    """The cross-language index (``multilingual_model``); None when it is switched off."""
    if not settings.multilingual_model:
        runtime.drop_multilingual(settings)
        return None
    from knowledge.crosslingual import build_multilingual

    with tqdm(total=len(cards), desc="cross-language index", delay=1, unit="card",
              file=sys.stderr) as bar:
        return build_multilingual(cards, settings.multilingual_model,
                                  lambda: runtime.multilingual_embedder(settings),
                                  runtime.multilingual_concepts(settings),
                                  settings.models_dir, force=force, progress=bar.update)


def _clean_store(settings: Settings) -> None:
    """After a successful build: what interrupted builds left behind goes (issue 15)."""
    dropped = drop_orphans(runtime.chroma(settings))
    if dropped:
        print(f"removed {len(dropped)} collection(s) left by interrupted builds")
    if not settings.chroma_url:
        remove_orphan_files(settings.chroma_path)


def _recover_passages(aside: Path, settings: Settings) -> None:
    """Ingested passages live only in the store: bring them back from the old folder."""
    from knowledge.ingest.recovery import recover_passages

    try:
        count = recover_passages(aside, runtime.chroma(settings))
    except StoreError as exc:
        print(f"warning: {exc.cause}\n  fix: {exc.fix}", file=sys.stderr)
        return
    if count:
        print(f"recovered {count} ingested passages from the old store")


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    retriever = runtime.retriever(settings)
    stats = graph_stats(retriever.course.graph).as_dict()
    stats["concepts_in_chromadb"] = retriever.concepts.count()
    info = retriever.concepts.info()
    stats["built_at"] = info.built_at if info else None
    stats["embedding_model"] = info.embedding_model if info else None
    if args.json:
        print(json.dumps(stats, indent=2))
    else:
        chain = stats.pop("longest_chain_ids")
        for key, value in stats.items():
            print(f"{key.replace('_', ' '):22} {value}")
        print("longest chain          " + " -> ".join(chain))
    return 0


def cmd_retrieve(args: argparse.Namespace, settings: Settings) -> int:
    if bool(args.question) == bool(args.from_file):
        raise InvalidInputError("give either a QUESTION or --from-file FILE",
                                "see `erica retrieve --help`")
    k, depth, cap = runtime.retrieval_options(settings, args.k, args.depth, args.max_concepts)
    retriever = runtime.retriever(settings)
    if args.from_file:
        return _retrieve_file(retriever, args.from_file, k, depth, cap)
    result = retriever.retrieve(args.question, k=k, depth=depth, max_concepts=cap)
    if args.json:
        print(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
        return 0
    print("Semantic matches:")
    for m in result.matches:
        print(f"  {m.score:.3f}  {m.name} [{m.id}]")
    print("Learning path:")
    for i, c in enumerate(result.concepts, 1):
        extra = f", depth {c.depth}" if c.role == "prerequisite" else ""
        print(f"  {i:2}. {c.name} [{c.id}] ({c.role}{extra}, {c.score:.3f})")
    return 0


def _retrieve_file(retriever, path: Path, k: int, depth: int, cap: int) -> int:
    from knowledge.common.errors import EricaError

    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path} cannot be read as UTF-8 text ({exc})",
                                "give a text file with one question per line") from exc
    failures = 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            out = retriever.retrieve(line, k=k, depth=depth, max_concepts=cap).to_json()
        except EricaError as exc:
            failures += 1
            out = {"question": line[:200], "line": number, "error": exc.cause, "fix": exc.fix}
        print(json.dumps(out, ensure_ascii=False))
    return 1 if failures else 0
