"""``erica bench class``: N students at once, through the same code path as the UI.

Each student is a thread that asks its own questions one after another, exactly as the chat
page does: ``Tutor.ask`` (retrieval), the card sections shown (``mark_shown``), then the
model's checked answer streamed (``Lesson.answer_pieces``). All students start together.
Backends: (a) the in-process model, one answer at a time; (b) llama.cpp's server, started
here with N slots for N students (continuous batching). Per N: time to the first visible
content, to the first model token, to the complete lesson (median, p95), aggregate tokens/s
(all students' answer tokens over the wall time), errors and peak memory (this process plus
the server's RSS, sampled).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import yaml

from knowledge.common.errors import EricaError
from tutor.bench.report import median, percentile, write_results
from tutor.llm.llama_server import ServerConfig, ServerProcess, require_binary
from tutor.llm.packaged import resolve_gguf
from tutor.settings import Settings, replace
from tutor.tutor import Tutor

log = logging.getLogger(__name__)
QUESTIONS_FILE = Path(__file__).resolve().parents[2] / "knowledge" / "eval" / "questions_g1.yaml"


def questions() -> list[str]:
    """Students' own course questions (those that need no earlier turn)."""
    items = yaml.safe_load(QUESTIONS_FILE.read_text(encoding="utf-8"))["questions"]
    return [item["q"] for item in items if not item.get("history")]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--students", default="1,4,8,16",
                   help="class sizes to run, comma-separated (default 1,4,8,16)")
    p.add_argument("--inprocess-students", default=None,
                   help="class sizes for the in-process backend (default: --students); it "
                   "serves one answer at a time, so large classes take long")
    p.add_argument("--rounds", type=int, default=2, help="questions per student (default 2)")
    p.add_argument("--max-tokens", type=int, default=96,
                   help="longest answer in tokens (default 96, keeps the run bounded)")
    p.add_argument("--backends", default="inprocess,server",
                   help="inprocess, server or both (default both)")
    p.add_argument("--slot-context", type=int, default=2048,
                   help="context per server slot in tokens (default 2048: a lesson's prompt "
                   "is about 1,000)")
    p.add_argument("--server-nice", type=int, default=0,
                   help="niceness of the server process (the UI's retrieval stays quick)")


class MemorySampler:
    """Peak resident memory of this process plus some others, sampled every 0.2 s."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = [os.getpid(), *pids]
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _rss_mb(pid: int) -> float:
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, sum(self._rss_mb(p) for p in self.pids))
            self._stop.wait(0.2)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


@dataclasses.dataclass
class StudentResult:
    question: str
    first_content_s: float | None = None
    first_token_s: float | None = None
    total_s: float | None = None
    completion_tokens: int = 0
    prompt_tokens: int = 0
    queued_s: float = 0.0
    error: str = ""


def student(tutor: Tutor, asked: list[str], start: threading.Barrier,
            results: list[StudentResult]) -> None:
    """One student: the chat page's path, question after question."""
    start.wait()
    for question in asked:
        result = StudentResult(question)
        try:
            lesson = tutor.ask(question)
            lesson.card_markdown()
            lesson.mark_shown()
            for _ in lesson.answer_pieces():
                pass
            t = lesson.timings
            result.first_content_s, result.first_token_s = t.first_content_s, t.first_token_s
            result.total_s, result.completion_tokens = t.total_s, t.completion_tokens
            result.prompt_tokens, result.queued_s = t.prompt_tokens, t.queued_s
            if lesson.error is not None:
                result.error = lesson.error.cause
            elif not lesson.covered:
                result.error = "not covered"
        except EricaError as exc:
            result.error = exc.cause
        results.append(result)


def run_class(tutor: Tutor, n: int, rounds: int, pool: list[str],
              pids: list[int]) -> dict[str, Any]:
    """N students at once; the row of numbers for this class size."""
    results: list[StudentResult] = []
    start = threading.Barrier(n + 1)
    threads = [threading.Thread(target=student, name=f"student-{i}",
                                args=(tutor, [pool[(i * rounds + r) % len(pool)]
                                              for r in range(rounds)], start, results))
               for i in range(n)]
    load_before = os.getloadavg()[0]
    with MemorySampler(pids) as memory:
        for t in threads:
            t.start()
        start.wait()
        began = time.perf_counter()
        for t in threads:
            t.join()
        wall = time.perf_counter() - began
    ok = [r for r in results if not r.error]
    errors = [r.error for r in results if r.error]
    content = [r.first_content_s for r in results if r.first_content_s is not None]
    first = [r.first_token_s for r in ok if r.first_token_s is not None]
    total = [r.total_s for r in ok if r.total_s is not None]
    tokens = sum(r.completion_tokens for r in results)
    return {
        "students": n, "lessons": len(results), "errors": len(errors),
        "first_content_med_s": median(content), "first_content_max_s": max(content or [0]),
        "first_token_med_s": median(first), "first_token_p95_s": percentile(first, 95),
        "complete_med_s": median(total), "complete_p95_s": percentile(total, 95),
        "agg_tokens_per_s": tokens / wall if wall else 0.0, "tokens": tokens,
        "prompt_tokens_med": median([r.prompt_tokens for r in ok]),
        "wall_s": wall, "peak_mem_mb": memory.peak_mb,
        "load_1min": round(max(load_before, os.getloadavg()[0]), 2),
        "error_samples": sorted(set(errors))[:3],
    }


def _sizes(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def run(settings: Settings, args: argparse.Namespace) -> int:
    settings = replace(settings, max_tokens=args.max_tokens)
    pool = questions()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    base = Tutor(replace(settings, llm_backend="llama-cpp"))
    retriever = base.retriever  # one store and embedder for every run, as in the UI
    retriever.retrieve("warm up")
    rows: list[dict[str, Any]] = []
    if "inprocess" in backends:
        base.warm()
        for n in _sizes(args.inprocess_students or args.students):
            row = {"backend": "in-process", **run_class(base, n, args.rounds, pool, [])}
            rows.append(row)
            log.warning("in-process N=%d: %s", n, row)
    if "server" in backends:
        binary = require_binary(settings.llm_server_binary)
        model = resolve_gguf(settings.llm_model, settings.models_dir)
        log_file = settings.data_dir / "bench-llama-server.log"
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        for n in _sizes(args.students):
            config = ServerConfig(binary=binary, model=model, slots=n,
                                  slot_context=args.slot_context, port=free_port(),
                                  threads=settings.llm_threads, alias=settings.llm_model,
                                  nice=args.server_nice)
            with ServerProcess(config, log_file=log_file).start() as server:
                tutor = Tutor(replace(settings, llm_backend="openai-http", llm_url=config.url),
                              retriever=retriever)
                tutor.warm()
                row = {"backend": f"llama-server ({n} slots)",
                       **run_class(tutor, n, args.rounds, pool, [server.pid])}
            rows.append(row)
            log.warning("server N=%d: %s", n, row)
    return _finish(rows, settings, args)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def targets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The issue's targets per backend: N=8 against N=1."""
    checks = []
    for kind in ("in-process", "llama-server"):
        by_n = {r["students"]: r for r in rows if r["backend"].startswith(kind)}
        if 1 not in by_n or 8 not in by_n:
            continue
        one, eight = by_n[1], by_n[8]
        speedup = eight["agg_tokens_per_s"] / one["agg_tokens_per_s"] \
            if one["agg_tokens_per_s"] else 0.0
        slowdown = eight["complete_p95_s"] / one["complete_med_s"] \
            if one["complete_med_s"] else float("inf")
        checks.append({
            "backend": kind,
            "tokens_per_s_8_vs_1": round(speedup, 2), "target_>=3": speedup >= 3,
            "p95_complete_8_vs_med_1": round(slowdown, 2), "target_<=2": slowdown <= 2,
            "errors": sum(r["errors"] for r in by_n.values()),
            "first_content_max_s": max(r["first_content_max_s"] for r in by_n.values()),
            "target_content_<1s": all(r["first_content_max_s"] < 1 for r in by_n.values()),
        })
    return checks


def _finish(rows: list[dict[str, Any]], settings: Settings, args: argparse.Namespace) -> int:
    checks = targets(rows)
    write_results("class", rows, model=settings.llm_model, max_tokens=args.max_tokens,
                  rounds=args.rounds, slot_context=args.slot_context,
                  server_nice=args.server_nice, threads=settings.llm_threads,
                  loadavg_end=os.getloadavg(), targets=checks)
    for check in checks:
        print(check)  # noqa: T201 - the benchmark's verdict is its output
    return 0 if all(r["errors"] == 0 for r in rows) else 1
