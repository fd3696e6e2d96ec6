"""Retrieval quality on the evaluation questions: recall@k and MRR."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from knowledge.common.errors import CardError
from knowledge.retrieval import Retriever

EVAL_DIR = Path(__file__).resolve().parent / "eval"


@dataclass(frozen=True)
class EvalQuestion:
    question: str
    expect: tuple[str, ...]
    history: tuple[str, ...] = ()


def load_eval_set(folder: Path = EVAL_DIR) -> list[EvalQuestion]:
    """The retrieval questions (questions_*.yaml); the folder also holds other evaluation data."""
    out: list[EvalQuestion] = []
    for path in sorted(folder.glob("questions_*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in doc.get("questions", []):
            if not item.get("q") or not item.get("expect"):
                raise CardError(f"{path}: every question needs 'q' and 'expect'", "fix it")
            out.append(EvalQuestion(str(item["q"]), tuple(item["expect"]),
                                    tuple(item.get("history") or ())))
    return out


def evaluate(retriever: Retriever, questions: list[EvalQuestion],
             ks: tuple[int, ...] = (1, 3, 5, 10)) -> dict[str, float]:
    """hit@k: the best expected concept is in the top k; recall@k: share of expected concepts
    in the top k; MRR: mean reciprocal rank of the first expected concept (top 10)."""
    depth = max(ks)
    hits = {k: 0.0 for k in ks}
    recall = {k: 0.0 for k in ks}
    mrr = 0.0
    for item in questions:
        vec, _ = retriever.query_vector(item.question, item.history)
        ranked = [i for i, _ in retriever.rank(item.question, vec, depth)]
        expected = set(item.expect)
        for k in ks:
            top = ranked[:k]
            hits[k] += item.expect[0] in top
            recall[k] += len(expected & set(top)) / len(expected)
        rank = next((r for r, cid in enumerate(ranked, 1) if cid in expected), None)
        mrr += 1.0 / rank if rank else 0.0
    n = max(1, len(questions))
    result = {"questions": float(len(questions)), "mrr": mrr / n}
    result |= {f"hit@{k}": hits[k] / n for k in ks}
    result |= {f"recall@{k}": recall[k] / n for k in ks}
    return result
