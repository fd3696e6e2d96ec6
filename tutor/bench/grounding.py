"""``erica bench grounding``: how well the sentence checker separates what the cards support.

The labelled set (``knowledge/eval/grounding_sentences.yaml``) was written independently of the
checker: sentences as a small model writes them, each labelled supported / unsupported /
contradicted against the cards listed for its question. The checker's thresholds were chosen
on the ``tune`` split only; ``holdout`` is reported apart.

"Shown" is the positive class: precision = share of shown sentences that the labels call
supported (what the student reads as course content), recall = share of supported sentences
that are shown.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from knowledge.cards import load_cards
from knowledge.embeddings import load_embedder
from knowledge.evaluation import EVAL_DIR
from tutor.bench.report import write_results
from tutor.grounding import SUPPORT_THRESHOLD, GroundingChecker
from tutor.settings import Settings

LABELS_FILE = EVAL_DIR / "grounding_sentences.yaml"


def load_items(path: Path = LABELS_FILE) -> list[dict]:
    return list(yaml.safe_load(path.read_text(encoding="utf-8")) or [])


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threshold", type=float, default=SUPPORT_THRESHOLD,
                   help=f"support threshold to evaluate (default {SUPPORT_THRESHOLD})")
    p.add_argument("--sweep", action="store_true",
                   help="also print precision/recall on the tune split for thresholds "
                   "0.40..0.75 (how the default was chosen)")


def verdicts(settings: Settings, threshold: float) -> list[dict]:
    """Every labelled sentence with the checker's verdict and support."""
    cards = {c.id: c for c in load_cards(settings.course_dirs)}
    checker = GroundingChecker(load_embedder(settings.embedding_model, settings.models_dir),
                               threshold)
    out = []
    for item in load_items():
        evidence = checker.evidence([cards[i] for i in item["cards"]], item["question"])
        for sentence in item["sentences"]:
            check = checker.check(sentence["text"], evidence)
            out.append({"split": item.get("split", "tune"), "label": sentence["label"],
                        "verdict": check.verdict, "support": check.support,
                        "text": sentence["text"], "reason": check.reason})
    return out


def scores(rows: list[dict]) -> dict[str, float]:
    """Precision/recall of "shown", and how unsupported and contradicted sentences fare."""
    def shown(r: dict) -> bool:
        return r["verdict"] in ("supported", "meta")

    tp = sum(shown(r) and r["label"] == "supported" for r in rows)
    shown_n = sum(shown(r) for r in rows)
    positives = sum(r["label"] == "supported" for r in rows)
    contradicted = [r for r in rows if r["label"] == "contradicted"]
    unsupported = [r for r in rows if r["label"] == "unsupported"]
    return {
        "sentences": len(rows),
        "precision_shown": tp / shown_n if shown_n else float("nan"),
        "recall_supported": tp / positives if positives else float("nan"),
        "unsupported_left_out": (sum(not shown(r) for r in unsupported) / len(unsupported))
        if unsupported else float("nan"),
        "contradicted_left_out": (sum(not shown(r) for r in contradicted) / len(contradicted))
        if contradicted else float("nan"),
        "contradicted_flagged": (sum(r["verdict"] == "contradicted" for r in contradicted)
                                 / len(contradicted)) if contradicted else float("nan"),
    }


def run(settings: Settings, args: argparse.Namespace) -> int:
    rows = verdicts(settings, args.threshold)
    table = [{"split": split, "threshold": args.threshold,
              **scores([r for r in rows if split in ("all", r["split"])])}
             for split in ("tune", "holdout", "all")]
    if args.sweep:
        for threshold in (0.40, 0.45, 0.50, 0.55, 0.60, 0.65, 0.70, 0.75):
            tune = [r for r in verdicts(settings, threshold) if r["split"] == "tune"]
            table.append({"split": "tune (sweep)", "threshold": threshold, **scores(tune)})
    write_results("grounding", table, embedding_model=settings.embedding_model,
                  mistakes=[r for r in rows if (r["verdict"] in ("supported", "meta"))
                            != (r["label"] == "supported")])
    return 0
