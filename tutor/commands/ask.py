"""``erica ask``: a streamed lesson in the terminal."""

from __future__ import annotations

import argparse
import json
import sys

from tutor.settings import Settings
from tutor.tutor import Tutor


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ask", help="ask the tutor a question (streams a lesson)",
                       description="Retrieve the course concepts that answer QUESTION and print "
                       "a lesson: the course cards' sections at once (why it matters, "
                       "prerequisites, explanation, worked example, code, applications, "
                       "further reading, next steps), then the local language model's answer "
                       "to the exact question, each of its sentences checked against the cards.")
    p.add_argument("question", help="the question, in quotes")
    p.add_argument("--k", type=int, default=None, help="semantic search results (default 5)")
    p.add_argument("--depth", type=int, default=None, help="prerequisite depth (default 2)")
    p.add_argument("--max", type=int, default=None, dest="max_concepts",
                   help="max concepts (default 10)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object: the lesson, the model's answer, every checked "
                   "sentence with its verdict and support score, concepts and timings")
    p.set_defaults(func=cmd_ask)


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    tutor = Tutor(settings)
    lesson = tutor.ask(args.question, k=args.k, depth=args.depth,
                       max_concepts=args.max_concepts,
                       on_status=None if args.json else lambda m: print(m, file=sys.stderr))
    if args.json:
        for _ in lesson:
            pass
        retrieval = lesson.retrieval.to_json()
        out = {**lesson.to_json(), "concepts": retrieval["concepts"],
               "matches": retrieval["matches"]}
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    for piece in lesson:
        sys.stdout.write(piece)
        sys.stdout.flush()
    sys.stdout.write("\n")
    return 0
