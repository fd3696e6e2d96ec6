"""Run a card's ``code`` offline and check the values its comments state.

Lessons show card code to students verbatim, so every snippet must run and every value its
comments state must be right. The convention (documented in the course README too):

- A ``print(...)`` whose line ends in a comment with the marker ``->`` or ``≈`` states what it
  prints: ``print(conv_out(32, 3, 1, 1))  # -> 32``, ``print(w.grad)  # ≈ -0.106``. Words
  before the marker explain and are not checked: ``print(x.var())  # divide by n -> 2.667``.
  The statement may also stand on a full-line comment that starts with the marker, on the
  line below the print, and a long output may continue on such lines
  (``# -> [[19 22]`` then ``# ->  [43 50]]``).
- Output and statement are compared token by token: numbers and words count, spacing and
  punctuation do not (``[1 2]`` states ``[1, 2]`` and ``(1, 2)`` alike). A statement made of
  numbers only checks only the numbers, so ``# ≈ -0.106`` states ``tensor(-0.1060)``.
- Numbers are compared to the digits written: ``-> 0.8808`` means within 0.00005,
  ``-> 3.8e-06`` within 0.05e-06, ``-> 55`` exactly. ``≈`` adds 1 % of the value and half a
  unit to integers (for sampled or rounded values). Words (``True``, ``spam``) must be equal.
- Any other comment is an explanation and is not checked.

A snippet runs in a fresh interpreter (``python -I``), in an empty temporary directory, with
``HF_HUB_OFFLINE=1``, sockets that refuse to connect, and a time limit. ``run_cards_code``
runs many snippets with a few worker processes that import numpy and torch once and fork a
fresh child per snippet: each snippet still gets its own process and namespace.
"""

from __future__ import annotations

import ast
import io
import json
import logging
import math
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tokenize
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from knowledge.cards import Concept

log = logging.getLogger(__name__)

RUNNER = Path(__file__).with_name("code_runner.py")
DEFAULT_TIMEOUT_S = 30.0
# What course code imports most (torch._dynamo comes with any torch optimizer): imported once
# per worker instead of once per snippet. Measured on the shipped course: 24 s of CPU for all
# snippets with this list, 30 s with numpy, scipy.stats, torch and sklearn.base only.
DEFAULT_PRELOAD = (
    "numpy", "scipy.stats", "torch", "torch.nn", "torch._dynamo", "sklearn.base",
    "sklearn.datasets", "sklearn.ensemble", "sklearn.linear_model", "sklearn.model_selection",
    "sklearn.neighbors", "sklearn.tree",
)
MARKERS = {"->": False, "≈": True}  # marker -> approximate
_TOKEN = re.compile(
    r"(?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)|(?P<word>[^\W\d]\w*)"
)
_APPROX_RELATIVE = 0.01


@dataclass(frozen=True)
class StatedValue:
    """What a comment says one ``print`` statement prints."""

    line: int  # the first comment line that states it
    first_line: int  # the print statement's lines
    last_line: int
    text: str
    approximate: bool


@dataclass(frozen=True)
class ValueCheck:
    """One stated value compared with what the line printed."""

    stated: StatedValue
    printed: str | None  # None when the line never printed
    error: str  # empty when the value is right

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass(frozen=True)
class CodeRun:
    """The result of running one card's code."""

    card_id: str
    returncode: int
    stdout: str
    stderr: str
    duration_s: float
    timed_out: bool
    checks: tuple[ValueCheck, ...]
    problems: tuple[str, ...] = ()  # comments that break the convention

    @property
    def ok(self) -> bool:
        """Ran to the end, in time, and every stated value is right."""
        return (
            self.returncode == 0
            and not self.timed_out
            and not self.problems
            and all(c.ok for c in self.checks)
        )

    def failures(self) -> list[str]:
        """Human-readable reasons this run is not ok (empty when it is)."""
        out: list[str] = []
        if self.timed_out:
            out.append(f"timed out after {self.duration_s:.1f} s")
        elif self.returncode != 0:
            tail = self.stderr.strip().splitlines()[-1:] or [""]
            out.append(f"exit status {self.returncode}: {tail[0]}")
        out.extend(self.problems)
        for check in self.checks:
            if not check.ok:
                out.append(f"line {check.stated.line}: {check.error}")
        return out


class _Number:
    __slots__ = ("value", "tolerance")

    def __init__(self, text: str, approximate: bool) -> None:
        self.value = float(text)
        mantissa, _, exponent = text.lower().partition("e")
        decimals = len(mantissa.partition(".")[2])
        unit = 10.0 ** (int(exponent or 0) - decimals)
        exact_integer = "." not in mantissa and not exponent
        self.tolerance = 0.0 if exact_integer and not approximate else 0.5 * unit
        if approximate:
            self.tolerance += _APPROX_RELATIVE * abs(self.value)
        self.tolerance += 1e-12 * max(1.0, abs(self.value))  # float representation


def _tokens(text: str) -> tuple[list[str], list[str]]:
    numbers, words = [], []
    for match in _TOKEN.finditer(text):
        if match.group("num"):
            numbers.append(match.group("num"))
        else:
            words.append(match.group("word"))
    return numbers, words


def compare_output(stated: str, printed: str, approximate: bool = False) -> str:
    """Compare a stated output with the printed one; return the mismatch, or '' if none."""
    want_numbers, want_words = _tokens(stated)
    got_numbers, got_words = _tokens(printed)
    shown = f"states {stated.strip()!r} but printed {' '.join(printed.split())!r}"
    if want_words and want_words != got_words:
        return f"words differ: {shown}"
    if len(want_numbers) != len(got_numbers):
        return f"{len(want_numbers)} numbers stated, {len(got_numbers)} printed: {shown}"
    for want, got in zip(want_numbers, got_numbers, strict=True):
        number = _Number(want, approximate)
        value = float(got)
        if math.isnan(value) or abs(value - number.value) > number.tolerance:
            return f"{got} is not {want} (tolerance {number.tolerance:.3g}): {shown}"
    return ""


_MARKER = re.compile(r"^#\s*(?:(?P<why>.*?)\s)?(?P<marker>->|≈)\s*(?P<text>.*)$")


def _marker(comment: str, after_text: bool) -> tuple[bool, str] | None:
    """(approximate, statement) of a marker comment; ``after_text`` allows words before it."""
    match = _MARKER.match(comment.strip())
    if match is None or (match.group("why") and not after_text):
        return None
    return MARKERS[match.group("marker")], match.group("text").strip()


def parse_stated_values(code: str) -> tuple[list[StatedValue], list[str]]:
    """The values the code's comments state, and the marker comments that break the rules.

    Code that does not parse yields no values; running it reports the syntax error.
    """
    try:
        tree = ast.parse(code)
        comments = [
            tok for tok in tokenize.generate_tokens(io.StringIO(code).readline)
            if tok.type == tokenize.COMMENT
        ]
    except (SyntaxError, tokenize.TokenError):
        return [], []
    prints = [
        (node.lineno, node.end_lineno or node.lineno)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "print"
    ]
    lines = code.splitlines()
    stated: list[StatedValue] = []
    problems: list[str] = []
    for tok in comments:
        line = tok.start[0]
        own_line = not lines[line - 1][: tok.start[1]].strip()
        on_print = not own_line and any(p[0] <= line <= p[1] for p in prints)
        found = _marker(tok.string, after_text=on_print)
        if found is None:
            continue
        approximate, text = found
        previous = stated[-1] if stated else None
        if own_line and previous and previous.line + _extra_lines(previous) == line - 1:
            if previous.approximate != approximate:
                problems.append(f"line {line}: continues a statement with another marker")
            stated[-1] = StatedValue(previous.line, previous.first_line, previous.last_line,
                                     previous.text + "\n" + text, previous.approximate)
            continue
        span = next((p for p in prints if (p[1] == line - 1 if own_line
                                           else p[0] <= line <= p[1])), None)
        if span is None:
            problems.append(
                f"line {line}: a stated value ({tok.string.strip()!r}) must follow a print(...)"
            )
            continue
        stated.append(StatedValue(line, span[0], span[1], text, approximate))
    return stated, problems


def _extra_lines(value: StatedValue) -> int:
    return value.text.count("\n")


def check_stated_values(
    stated: Sequence[StatedValue], prints: Iterable[Sequence[object]]
) -> tuple[ValueCheck, ...]:
    """Compare each stated value with what its print statement printed (all calls joined)."""
    records = [(int(line), str(text)) for line, text in prints]  # type: ignore[call-overload]
    checks = []
    for value in stated:
        texts = [t for line, t in records if value.first_line <= line <= value.last_line]
        if not texts:
            checks.append(ValueCheck(value, None, "the print on this line never ran"))
            continue
        printed = "".join(texts)
        checks.append(ValueCheck(value, printed,
                                 compare_output(value.text, printed, value.approximate)))
    return tuple(checks)


def snippet_env(workdir: Path) -> dict[str, str]:
    """The environment a snippet runs in: offline, single-threaded, nothing of ours."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": str(workdir),
        "TMPDIR": str(workdir),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TORCH_HOME": str(workdir / "torch"),
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
    }


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _finish(card: Concept, workdir: Path, returncode: int, stdout: str, stderr: str,
            duration_s: float, timed_out: bool) -> CodeRun:
    stated, problems = parse_stated_values(card.code)
    try:
        prints = json.loads(_read(workdir / "result.json") or "{}").get("prints", [])
    except json.JSONDecodeError:
        prints = []
    return CodeRun(card.id, returncode, stdout, stderr, duration_s, timed_out,
                   check_stated_values(stated, prints), tuple(problems))


def _write_snippet(card: Concept, workdir: Path) -> Path:
    snippet = workdir / "snippet.py"
    snippet.write_text(card.code, encoding="utf-8")
    return snippet


def run_card_code(card: Concept, timeout_s: float = DEFAULT_TIMEOUT_S) -> CodeRun:
    """Run one card's code in a fresh isolated interpreter and check its stated values."""
    with tempfile.TemporaryDirectory(prefix="card-code-") as tmp:
        workdir = Path(tmp)
        snippet = _write_snippet(card, workdir)
        cwd = workdir / "cwd"  # an empty working directory, as in run_cards_code
        cwd.mkdir()
        start = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-I", str(RUNNER), "run", str(snippet),
             str(workdir / "result.json")],
            cwd=cwd, env=snippet_env(cwd), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace",
            start_new_session=True,
        )
        timed_out = False
        try:
            stdout, stderr = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(proc.pid, signal.SIGKILL)
            stdout, stderr = proc.communicate()
        return _finish(card, workdir, proc.returncode, stdout, stderr,
                       time.monotonic() - start, timed_out)


class _Worker:
    """One ``code_runner.py serve`` process: modules imported once, a fork per snippet."""

    def __init__(self, base: Path, preload: Sequence[str]) -> None:
        self.base = base
        self.proc = subprocess.Popen(
            [sys.executable, "-I", str(RUNNER), "serve", *preload],
            cwd=base, env=snippet_env(base), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True,
        )
        self._expect_line()

    def _expect_line(self) -> dict[str, object]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the code runner stopped")
        return json.loads(line)

    def run(self, card: Concept, timeout_s: float) -> CodeRun:
        workdir = Path(tempfile.mkdtemp(prefix=f"{card.id}-", dir=self.base))
        job = {
            "snippet": str(_write_snippet(card, workdir)),
            "result": str(workdir / "result.json"),
            "stdout": str(workdir / "stdout.txt"),
            "stderr": str(workdir / "stderr.txt"),
            "timeout_s": timeout_s,
        }
        stdin: IO[str] | None = self.proc.stdin
        assert stdin is not None
        stdin.write(json.dumps(job) + "\n")
        stdin.flush()
        reply = self._expect_line()
        run = _finish(card, workdir, int(reply["returncode"]),  # type: ignore[call-overload]
                      _read(workdir / "stdout.txt"), _read(workdir / "stderr.txt"),
                      float(reply["duration_s"]), bool(reply["timed_out"]))  # type: ignore[arg-type]
        shutil.rmtree(workdir, ignore_errors=True)
        return run

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def run_cards_code(
    cards: Iterable[Concept],
    timeout_s: float = DEFAULT_TIMEOUT_S,
    workers: int = 2,
    preload: Sequence[str] = DEFAULT_PRELOAD,
) -> dict[str, CodeRun]:
    """Run the code of many cards (those that have code), each in its own fresh process.

    Same checks as ``run_card_code``; ``workers`` processes import ``preload`` once and fork
    a child per snippet, which saves importing torch for every card.
    """
    todo: queue.Queue[Concept] = queue.Queue()
    for card in cards:
        if card.code.strip():
            todo.put(card)
    results: dict[str, CodeRun] = {}
    lock = threading.Lock()

    def work(base: Path) -> None:
        worker: _Worker | None = None
        try:
            while True:
                try:
                    card = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    worker = worker or _Worker(base, preload)
                    run = worker.run(card, timeout_s)
                except (RuntimeError, OSError, ValueError) as exc:
                    log.warning("code runner failed on %s: %s", card.id, exc)
                    run = CodeRun(card.id, -1, "", f"code runner failed: {exc}", 0.0, False, ())
                    if worker:
                        worker.close()
                    worker = None
                with lock:
                    results[card.id] = run
        finally:
            if worker:
                worker.close()

    with tempfile.TemporaryDirectory(prefix="card-code-pool-") as tmp:
        threads = []
        for i in range(max(1, workers)):
            base = Path(tmp) / f"worker{i}"
            base.mkdir()
            threads.append(threading.Thread(target=work, args=(base,), daemon=True))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return results
