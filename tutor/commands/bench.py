"""``erica bench NAME``: benchmarks that print a table and write JSON under bench/results/."""

from __future__ import annotations

import argparse
import importlib

from tutor.settings import Settings

# name -> (module with add_arguments(parser) and run(settings, args), help)
BENCHMARKS = {
    "retrieval": ("tutor.bench.retrieval", "retrieve latency at 3,120 and 100,000 concepts"),
    "quality": ("tutor.bench.quality", "recall@k and MRR on the evaluation questions"),
    "ask": ("tutor.bench.ask", "lesson latency and tokens/s on the configured model"),
    "lessons": ("tutor.bench.lessons", "what lessons show: checked sentences, examples, code, "
                "contradiction probes, latency"),
    "grounding": ("tutor.bench.grounding", "precision/recall of the sentence checker on "
                  "labelled sentences"),
    "clip": ("tutor.clip.bench", "CLIP indexing throughput and query latency"),
    "ingest": ("tutor.bench.ingest", "prerequisite inference quality and ingestion speed"),
    "mastery": ("tutor.bench.mastery", "mastery model: AUC of the next answer on simulated "
                "learners, graph-aware vs per-concept BKT, study-next violations"),
    "practice": ("tutor.bench.practice", "practice questions: pass rate of the judged set, "
                 "ms per question"),
    "class": ("tutor.bench.class_load", "N students at once: in-process model vs llama.cpp's "
              "server with N slots"),
}


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="run a benchmark (writes bench/results/*.json)",
                       description="Benchmarks use the configured (default) models.")
    bench_sub = p.add_subparsers(dest="bench", metavar="NAME", required=True)
    for name, (module, help_text) in BENCHMARKS.items():
        mod = importlib.import_module(module)
        bp = bench_sub.add_parser(name, help=help_text, description=help_text)
        mod.add_arguments(bp)
        bp.set_defaults(func=_runner(mod))


def _runner(mod):
    def handler(args: argparse.Namespace, settings: Settings) -> int:
        return mod.run(settings, args)

    return handler
