"""The ``erica`` command: one CLI over the library (the UI calls the same functions)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence

from knowledge.common.errors import EricaError
from knowledge.questions import recover_text
from tutor.settings import Settings, load_settings

log = logging.getLogger("erica")

# Each module adds its sub-commands with ``add_commands(subparsers)``; a handler is stored as
# ``func`` and called as ``func(args, settings) -> int``.
COMMAND_MODULES = (
    "tutor.commands.config",
    "tutor.commands.models",
    "tutor.commands.kb",
    "tutor.commands.ask",
    "tutor.commands.practice",
    "tutor.commands.ui",
    "tutor.commands.serve",
    "tutor.clip.cli",
    "tutor.commands.bench",
)

Handler = Callable[[argparse.Namespace, Settings], int]


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = argparse.ArgumentParser(
        prog="erica",
        description="Erica, an offline AI tutor: a concept graph in ChromaDB, a local LLM that "
        "writes lessons, and a CLIP lab. Settings come from ERICA_* variables or a TOML file "
        "(see `erica config`).",
        epilog="Start with `erica kb build`, then `erica ask \"What is CLIP?\"` or `erica ui`.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log output (-v info, -vv debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_commands(sub)
    return parser


def setup_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)


def _tolerant_streams() -> None:
    """Printing a name that holds undecodable bytes (a file name, a question from a non-UTF-8
    terminal) must not end in a UnicodeEncodeError: such characters are escaped."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    _tolerant_streams()
    parser = build_parser()
    args = parser.parse_args(argv)
    if isinstance(getattr(args, "question", None), str):
        args.question = recover_text(args.question)  # bytes from a non-UTF-8 terminal
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        settings = load_settings()
        level = ("WARNING", "INFO", "DEBUG")[min(args.verbose, 2)] if args.verbose else \
            settings.log_level
        setup_logging(level)
        return int(args.func(args, settings) or 0)
    except EricaError as exc:
        print(f"error: {exc.cause}", file=sys.stderr)
        if exc.fix:
            print(f"fix: {exc.fix}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # `python -m tutor.cli`
    sys.exit(main())
