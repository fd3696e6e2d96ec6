"""``erica bench lessons``: what a student reads, and how fast, on the default model.

Per lesson: seconds to the card sections, to the model's first token, to its first checked
sentence and to the end; tokens written; the model's sentences and how many the cards support
(before the check, and as shown); whether the main card's worked example and code are shown;
whether each code block shown runs. On the contradiction probes: how many lessons still state
the false claim (in the model's raw text, and as shown).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import yaml

from knowledge.cards import Concept
from knowledge.code_check import run_card_code
from knowledge.evaluation import EVAL_DIR, load_eval_set
from tutor.bench.report import median, percentile, write_results
from tutor.settings import Settings
from tutor.tutor import Tutor

# The examples, then every 4th evaluation question that is not a follow-up.
EXTRA_QUESTIONS = (
    "What is CLIP and how is it used in computer vision applications?",
    "How does backpropagation compute gradients?",
    "Explain the bias-variance tradeoff",
    "How does a transformer use self-attention?",
)
PROBES_FILE = EVAL_DIR.parent / "eval" / "contradiction_probes.yaml"
_NEGATION = re.compile(r"\b(not|no|never|cannot|neither|nor|rather than|instead of)\b|n't\b",
                       re.IGNORECASE)


def lesson_questions() -> list[str]:
    plain = [q.question for q in load_eval_set() if not q.history]
    return [*EXTRA_QUESTIONS, *plain[::4]]


def load_probes(path: Path = PROBES_FILE) -> list[dict]:
    if not path.is_file():
        return []
    return list(yaml.safe_load(path.read_text(encoding="utf-8")) or [])


def states_claim(sentences: list[str], patterns: list[str]) -> bool:
    """Does any sentence state the claim (a pattern matches a span with no negation in it)?"""
    for sentence in sentences:
        for pattern in patterns:
            for match in re.finditer(pattern, sentence, re.IGNORECASE):
                if not _NEGATION.search(match.group(0)):
                    return True
    return False


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--questions", type=int, default=None,
                   help="ask only the first N lesson questions (default: all "
                   f"{len(EXTRA_QUESTIONS)} examples + every 4th evaluation question)")
    p.add_argument("--probes", type=int, default=None,
                   help="ask only the first N contradiction probes (default: all)")
    p.add_argument("--no-code-run", action="store_true",
                   help="do not execute the code blocks the lessons show")
    p.add_argument("--score-saved", type=Path, default=None, metavar="JSONL",
                   help="instead of asking, score lessons saved as JSON lines ({question, "
                   "text}) by an earlier version whose model wrote whole sections: its "
                   "sentences are checked, its code blocks run, probes looked for")
    p.add_argument("--cold", type=int, default=3,
                   help="also start N fresh `erica ask` processes and time their first "
                   "visible output from process start (default 3; 0 to skip)")


def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.score_saved is not None:
        return score_saved(settings, args.score_saved)
    tutor = Tutor(settings)
    tutor.warm()
    rows, code_results = [], {}
    probe_checks: dict[str, list[dict]] = {}
    questions = [(q, None) for q in lesson_questions()[: args.questions]]
    questions += [(p["question"], p) for p in load_probes()[: args.probes]]
    for question, probe in questions:
        lesson = tutor.ask(question)
        for _ in lesson:
            pass
        t, checks = lesson.timings, lesson.checks
        main = lesson.cards.main[0].card if lesson.cards else None
        sections = lesson.cards.headings() if lesson.cards else []
        row = {
            "question": question[:44], "kind": "probe" if probe else "lesson",
            "covered": lesson.covered,
            "first_content_s": t.first_content_s, "first_token_s": t.first_token_s,
            "first_sentence_s": t.first_sentence_s, "total_s": t.total_s,
            "tokens": t.completion_tokens, "prompt_tokens": t.prompt_tokens,
            "sentences": len(checks), "supported": sum(c.verdict == "supported" for c in checks),
            "shown": sum(c.shown for c in checks),
            "main_has_example_or_code": bool(main and (main.example or main.code)),
            "shows_example_or_code": ("Worked example" in sections or "Code" in sections),
        }
        if not args.no_code_run and lesson.cards:
            runs = []
            for cid in lesson.cards.code_cards:
                if cid not in code_results:
                    code_results[cid] = run_card_code(tutor.retriever.course.cards[cid]).ok
                runs.append(code_results[cid])
            row["code_blocks"], row["code_ran"] = len(runs), sum(runs)
        if probe:
            raw = [c.sentence for c in checks]
            shown = [c.sentence for c in checks if c.shown]
            row["claim_in_raw"] = states_claim(raw, probe["patterns"])
            row["claim_shown"] = states_claim(shown, probe["patterns"])
            probe_checks[question] = [c.to_json() for c in checks]  # to review by hand
        rows.append(row)
    summary = summarise(rows)
    cold = [cold_first_output(EXTRA_QUESTIONS[0]) for _ in range(args.cold)]
    if cold:
        summary.append({"question": "COLD erica ask", "kind": f"{len(cold)} processes",
                        "first_content_s": median(cold), "total_s": max(cold)})
    write_results("lessons", [*rows, *summary], model=settings.llm_model,
                  backend=settings.llm_backend, max_tokens=settings.max_tokens,
                  cold_first_output_s=cold, probe_checks=probe_checks)
    return 0


def cold_first_output(question: str, timeout_s: float = 120.0) -> float:
    """Seconds from starting a fresh ``erica ask`` process to its first line on stdout (the
    card sections); the process is stopped there, before the model is needed."""
    import subprocess
    import sys
    import time

    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "tutor.cli", "ask", question],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        elapsed = time.perf_counter() - started
        if not line:
            raise RuntimeError("`erica ask` printed nothing")
        return elapsed
    finally:
        proc.kill()
        proc.wait(timeout=timeout_s)


def summarise(rows: list[dict]) -> list[dict]:
    """Median/p95 timings and the quality rates over all lessons (and the probes)."""
    covered = [r for r in rows if r["covered"]]
    keys = ("first_content_s", "first_token_s", "first_sentence_s", "total_s", "tokens")
    out = []
    for label, stat in (("MEDIAN", median), ("P95", lambda v: percentile(v, 95))):
        out.append({"question": label, "kind": f"{len(covered)} lessons", **{
            key: stat([r[key] for r in covered if r[key] is not None]) for key in keys}})
    sentences = sum(r["sentences"] for r in covered)
    shown = sum(r["shown"] for r in covered)
    supported = sum(r["supported"] for r in covered)  # by the checker; see bench grounding
    with_card = [r for r in covered if r["main_has_example_or_code"]]
    code = [r for r in covered if r.get("code_blocks")]
    probes = [r for r in rows if r["kind"] == "probe"]
    out.append({
        "question": "RATES", "kind": f"{len(covered)} lessons",
        "supported_before_check": supported / sentences if sentences else float("nan"),
        "sentences_shown": shown / sentences if sentences else float("nan"),
        "example_or_code_shown": (sum(r["shows_example_or_code"] for r in with_card)
                                  / len(with_card)) if with_card else float("nan"),
        "code_blocks_run": (sum(r["code_ran"] for r in code) / sum(r["code_blocks"]
                                                                   for r in code))
        if code else float("nan"),
        "probes_stating_claim_raw": sum(r["claim_in_raw"] for r in probes),
        "probes_stating_claim_shown": sum(r["claim_shown"] for r in probes),
        "probes": len(probes),
    })
    return out


# Sections the earlier version's model wrote (the rest came from the cards and the graph).
MODEL_SECTIONS = ("Explanation", "Example", "Applications", "Summary")
_CODE_BLOCK = re.compile(r"```(?:python)?\n(.*?)```", re.DOTALL)


def score_saved(settings: Settings, path: Path) -> int:
    """Score lessons of an earlier version: its model-written sections are split into
    sentences and checked against the cards of the lesson's main match, its code run."""
    import json

    from knowledge.cards import load_cards
    from knowledge.embeddings import load_embedder
    from tutor.grounding import GroundingChecker
    from tutor.sentences import split_sentences

    cards = {c.id: c for c in load_cards(settings.course_dirs)}
    checker = GroundingChecker(load_embedder(settings.embedding_model, settings.models_dir))
    probes = {p["question"]: p for p in load_probes()}
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        saved = json.loads(line)
        if not saved.get("covered", True):
            continue
        sections = dict(re.findall(r"^## (.+?)\n(.*?)(?=^## |\Z)", saved["text"],
                                   re.MULTILINE | re.DOTALL))
        written = "\n\n".join(sections.get(h, "") for h in MODEL_SECTIONS)
        code = _CODE_BLOCK.findall(written)
        prose = _CODE_BLOCK.sub(" ", written)
        main = [cards[i] for i in saved["matched"][:2] if i in cards]
        evidence = checker.evidence(main, saved["question"])
        checks = [checker.check(s, evidence) for s in split_sentences(prose)
                  if len(s.split()) > 3]
        main_card = main[0] if main else None
        row = {"question": saved["question"][:44],
               "kind": "probe" if saved["question"] in probes else "lesson",
               "sentences": len(checks),
               "supported": sum(c.verdict == "supported" for c in checks),
               "main_has_example_or_code": bool(main_card and (main_card.example
                                                              or main_card.code)),
               "shows_card_example_or_code": bool(main_card and (
                   (main_card.example and main_card.example[:60] in saved["text"])
                   or (main_card.code and main_card.code.strip()[:60] in saved["text"]))),
               "code_blocks": len(code),
               "code_ran": sum(_runs(block) for block in code),
               "total_s": saved["timings"]["total_s"],
               "tokens": saved["timings"]["completion_tokens"]}
        probe = probes.get(saved["question"])
        if probe:
            row["claim_in_raw"] = row["claim_shown"] = states_claim(
                split_sentences(prose), probe["patterns"])
        rows.append(row)
    lessons = [r for r in rows if r["kind"] == "lesson"]
    sentences = sum(r["sentences"] for r in rows)
    with_card = [r for r in rows if r["main_has_example_or_code"]]
    blocks = sum(r["code_blocks"] for r in rows)
    summary = {
        "question": "RATES", "kind": f"{len(lessons)} lessons, {len(rows) - len(lessons)} "
        "probes",
        "supported_as_shown": sum(r["supported"] for r in rows) / sentences
        if sentences else float("nan"),
        "card_example_or_code_shown": sum(r["shows_card_example_or_code"] for r in with_card)
        / len(with_card) if with_card else float("nan"),
        "code_blocks_run": sum(r["code_ran"] for r in rows) / blocks if blocks else float("nan"),
        "probes_stating_claim_shown": sum(r.get("claim_shown", False) for r in rows),
        "probes": len(rows) - len(lessons),
        "median_total_s": median([r["total_s"] for r in rows]),
        "median_tokens": median([r["tokens"] for r in rows]),
    }
    write_results("lessons-saved", [*rows, summary], source=str(path),
                  note="the saved lessons' model-written sections, checked by today's checker")
    return 0


def _runs(block: str) -> bool:
    """Does model-written code run to the end offline (no stated values to check)?"""
    run = run_card_code(Concept(id="model-written", name="model-written code", unit="bench",
                                summary="code a model wrote", code=block))
    return run.returncode == 0 and not run.timed_out
