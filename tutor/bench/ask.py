"""``erica bench ask``: lesson latency on the default model, against llama.cpp's own speed.

llama.cpp's own tokens/s comes from its perf counters (``llama_perf_context``) for the same
generation, so both numbers describe one run: the ratio is the tutor's overhead (streaming,
detokenising, the Python loop).
"""

from __future__ import annotations

import argparse

from tutor.bench.report import median, write_results
from tutor.settings import Settings
from tutor.tutor import Tutor

QUESTIONS = [
    "What is CLIP and how is it used in computer vision?",
    "How does A* search use a heuristic?",
    "What is backpropagation?",
    "Explain Q-learning",
    "What is overfitting and how do I avoid it?",
    "How does a Bayesian network represent a joint distribution?",
]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--questions",
        type=int,
        default=len(QUESTIONS),
        help=f"how many of the {len(QUESTIONS)} fixed questions to ask",
    )
    p.add_argument(
        "--max-tokens", type=int, default=200, help="tokens generated per answer (default 200)"
    )


def run(settings: Settings, args: argparse.Namespace) -> int:
    from dataclasses import replace

    settings = replace(settings, max_tokens=args.max_tokens)
    tutor = Tutor(settings)
    tutor.warm()
    tutor.retriever.retrieve("warm up")
    rows = []
    for question in QUESTIONS[: args.questions]:
        lesson = tutor.ask(question)
        for _ in lesson:
            pass
        t = lesson.timings
        rows.append(
            {
                "question": question[:40],
                "first_content_s": t.first_content_s,
                "first_token_s": t.first_token_s,
                "total_s": t.total_s,
                "tokens_per_s": t.tokens_per_s,
                "llama_cpp_tokens_per_s": t.engine_tokens_per_s,
                "prompt_tokens": t.prompt_tokens,
                "prompt_tokens_evaluated": t.prompt_tokens_evaluated,
                "completion_tokens": t.completion_tokens,
            }
        )
    summary = {"question": "MEDIAN"}
    for key in (
        "first_content_s",
        "first_token_s",
        "total_s",
        "tokens_per_s",
        "llama_cpp_tokens_per_s",
        "prompt_tokens",
    ):
        summary[key] = median([r[key] for r in rows if r[key] is not None])
    summary["speed_ratio"] = summary["tokens_per_s"] / summary["llama_cpp_tokens_per_s"]
    rows.append(summary)
    write_results(
        "ask",
        rows,
        model=settings.llm_model,
        backend=settings.llm_backend,
        max_tokens=args.max_tokens,
    )
    return 0
