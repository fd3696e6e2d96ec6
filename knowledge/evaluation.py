"""Retrieval quality on the evaluation questions: recall@k and MRR, per language.

The 105 English questions (``eval/*.yaml``) are also asked in Czech (``eval/cs``) and Russian
(``eval/ru``), written as students phrase them. Groups g6 and g7 (30 questions a language)
are a holdout: the multilingual path was tuned on g1-g5 only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from knowledge.common.errors import CardError
from knowledge.retrieval import Retriever

EVAL_DIR = Path(__file__).resolve().parent / "eval"
LANGUAGE_DIRS = {"en": EVAL_DIR, "cs": EVAL_DIR / "cs", "ru": EVAL_DIR / "ru"}
HOLDOUT_FILES = ("questions_g6.yaml", "questions_g7.yaml")


@dataclass(frozen=True)
class EvalQuestion:
    question: str
    expect: tuple[str, ...]
    history: tuple[str, ...] = ()
    split: str = "tune"  # or "holdout"


def load_eval_set(folder: Path = EVAL_DIR) -> list[EvalQuestion]:
    """The retrieval questions (questions_*.yaml); the folder also holds other evaluation data."""
    out: list[EvalQuestion] = []
    for path in sorted(folder.glob("questions_*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        split = "holdout" if path.name in HOLDOUT_FILES else "tune"
        for item in doc.get("questions", []):
            if not item.get("q") or not item.get("expect"):
                raise CardError(f"{path}: every question needs 'q' and 'expect'", "fix it")
            out.append(EvalQuestion(str(item["q"]), tuple(item["expect"]),
                                    tuple(item.get("history") or ()), split))
    return out


def load_language_sets() -> dict[str, list[EvalQuestion]]:
    """The evaluation questions of every language, by language code."""
    return {lang: load_eval_set(folder) for lang, folder in LANGUAGE_DIRS.items()}


def evaluate(retriever: Retriever, questions: list[EvalQuestion],
             ks: tuple[int, ...] = (1, 3, 5, 10)) -> dict[str, float]:
    """hit@k: the best expected concept is in the top k; recall@k: share of expected concepts
    in the top k; MRR: mean reciprocal rank of the first expected concept (top 10)."""
    depth = max(ks)
    hits = {k: 0.0 for k in ks}
    recall = {k: 0.0 for k in ks}
    mrr = 0.0
    seconds: list[float] = []
    for item in questions:
        start = time.perf_counter()
        ranked = [i for i, _ in retriever.search(item.question, depth, item.history).hits]
        seconds.append(time.perf_counter() - start)
        expected = set(item.expect)
        for k in ks:
            top = ranked[:k]
            hits[k] += item.expect[0] in top
            recall[k] += len(expected & set(top)) / len(expected)
        rank = next((r for r, cid in enumerate(ranked, 1) if cid in expected), None)
        mrr += 1.0 / rank if rank else 0.0
    n = max(1, len(questions))
    result = {"questions": float(len(questions)), "mrr": mrr / n}
    if seconds:
        result |= {"search_p50_ms": 1000 * float(np.percentile(seconds, 50)),
                   "search_p95_ms": 1000 * float(np.percentile(seconds, 95))}
    result |= {f"hit@{k}": hits[k] / n for k in ks}
    result |= {f"recall@{k}": recall[k] / n for k in ks}
    return result
