"""``erica bench ingest``, labelled part: what a teacher's material does to the ingester.

The material under ``knowledge/eval/ingest/material/`` (lecture slides, transcripts with
filler, code and tables in English, Czech and Russian, plus five real files: a Czech slide
deck, a talk transcript, meetup slides, Russian seminar slides and a tutor answer) is
ingested split by split (``tuning``, ``heldout``) into an empty store beside the shipped
course. Every suggested link and new concept is looked up in ``labels.yaml``:

- links between two course concepts that the curated graph orders are labelled by the graph
  (B an ancestor of A: correct; A an ancestor of B: reversed) -- read from the cards, not
  from the ingester;
- every other link and every new concept is labelled by hand in ``labels.yaml``
  (correct / wrong / reversed, and ``sense`` when a word was read in the wrong sense);
- anything the labels do not cover is counted as **unlabelled** and left out of precision,
  so a change that invents new links cannot look better by it; label those by hand
  (``--show-unlabelled`` lists them).

Reported per split: precision overall, of the links shown by default (confidence >=
``SHOW_THRESHOLD``) and per confidence band; the share of wrong links that are word-sense
errors; precision of new concepts; the calibration curve and its expected calibration error.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from knowledge.cards import Concept
from knowledge.chroma_client import open_client
from knowledge.ingest import evidence
from knowledge.ingest.evidence import CourseGraph
from knowledge.ingest.pipeline import IngestOptions, ingest
from knowledge.ingest.senses import SenseRules
from tutor.settings import Settings

EVAL = Path(__file__).resolve().parents[2] / "knowledge" / "eval" / "ingest"
SPLITS = ("tuning", "heldout")
BANDS = ((0.0, 0.3), (0.3, 0.5), (0.5, 0.7), (0.7, 0.9), (0.9, 1.001))
ABLATIONS = {  # word-sense rules switched off one at a time (effect of each rule)
    "no case rule": SenseRules(case=False),
    "no context rule": SenseRules(context=False),
    "no unit rule": SenseRules(unit=False),
    "no sense rules": SenseRules(case=False, context=False, unit=False),
}


def load_labels(path: Path = EVAL / "labels.yaml") -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out: dict[str, Any] = {"links": {}, "concepts": {}}
    for split in SPLITS:
        out["links"][split] = {
            (row[0], row[1]): (row[2], row[3] if len(row) > 3 else "")
            for row in (data.get("links", {}) or {}).get(split, []) or []}
        out["concepts"][split] = dict((data.get("concepts", {}) or {}).get(split, {}) or {})
    return out


@dataclass
class Scored:
    split: str
    links: list[dict] = field(default_factory=list)  # b, a, confidence, label, why
    concepts: list[dict] = field(default_factory=list)  # id, label
    flags: list[dict] = field(default_factory=list)
    extra: dict = field(default_factory=dict)


def course_graph(cards: Sequence[Concept]) -> tuple[CourseGraph, set[str]]:
    ids = {c.id for c in cards}
    return CourseGraph.from_edges((p, c.id) for c in cards for p in c.prerequisites
                                  if p in ids), ids


def label_link(b: str, a: str, split: str, labels: dict, graph: CourseGraph,
               known: set[str]) -> tuple[str | None, str, str]:
    """(label, why, by): the graph's verdict for two ordered course concepts, else the hand
    label, else (None, '', '')."""
    if a in known and b in known:
        if b in graph.ancestors(a):
            return "correct", "", "graph"
        if a in graph.ancestors(b):
            return "reversed", "", "graph"
    hand = labels["links"][split].get((b, a))
    if hand:
        return hand[0], hand[1], "hand"
    return None, "", ""


def score(split: str, links: Sequence[tuple[str, str, float]], concepts: Sequence[str],
          cards: Sequence[Concept], labels: dict | None = None) -> Scored:
    labels = labels or load_labels()
    graph, known = course_graph(cards)
    out = Scored(split)
    for b, a, conf in links:
        label, why, by = label_link(b, a, split, labels, graph, known)
        out.links.append({"prerequisite": b, "concept": a, "confidence": conf,
                          "label": label, "why": why, "by": by})
    for cid in concepts:
        out.concepts.append({"id": cid, "label": labels["concepts"][split].get(cid)})
    return out


def metrics(s: Scored) -> dict[str, Any]:
    done = [x for x in s.links if x["label"]]
    shown = [x for x in done if x["confidence"] >= evidence.SHOW_THRESHOLD]
    wrong = [x for x in done if x["label"] != "correct"]

    def precision(rows: list[dict]) -> float | None:
        return round(sum(x["label"] == "correct" for x in rows) / len(rows), 3) if rows \
            else None

    bands = []
    for low, high in BANDS:
        rows = [x for x in done if low <= x["confidence"] < high]
        bands.append({"band": f"{low:.1f}-{min(high, 1.0):.1f}", "links": len(rows),
                      "precision": precision(rows),
                      "mean_confidence": round(float(np.mean([x["confidence"] for x in rows])),
                                               3) if rows else None})
    conf = np.array([x["confidence"] for x in done])
    right = np.array([x["label"] == "correct" for x in done], dtype=float)
    ece = None
    if len(done):
        ece = 0.0
        for low, high in BANDS:
            m = (conf >= low) & (conf < high)
            if m.any():
                ece += m.sum() / len(done) * abs(right[m].mean() - conf[m].mean())
        ece = round(float(ece), 3)
    new_done = [c for c in s.concepts if c["label"]]
    not_graph = [x for x in done if x["by"] != "graph"]
    return {
        "links": len(s.links), "labelled": len(done), "unlabelled": len(s.links) - len(done),
        "precision_all": precision(done),
        "shown_by_default": len(shown), "precision_shown": precision(shown),
        "labelled_by_graph": sum(x["by"] == "graph" for x in done),
        "precision_not_graph_implied": precision(not_graph),
        "correct_not_graph_implied": sum(x["label"] == "correct" for x in not_graph),
        "reversed": sum(x["label"] == "reversed" for x in done),
        "word_sense_share_of_errors": round(sum(x["why"] == "sense" for x in wrong)
                                            / len(wrong), 3) if wrong else None,
        "ece": ece, "calibration": bands,
        "new_concepts": len(s.concepts), "new_concepts_unlabelled":
            len(s.concepts) - len(new_done),
        "precision_new_concepts": round(sum(c["label"] == "correct" for c in new_done)
                                        / len(new_done), 3) if new_done else None,
        "flagged": len(s.flags),
    }


def ingest_split(split: str, settings: Settings, embedder, root: Path,
                 senses: SenseRules | None = None, calibration: dict | None = None):
    # a fresh folder per run: Chroma keeps one client per path for the whole process
    data = Path(tempfile.mkdtemp(prefix=f"labelled-{split}-", dir=root))
    options = IngestOptions(course=f"eval-{split}", data_dir=data,
                            course_dirs=tuple(settings.course_dirs),
                            embedding_model=settings.embedding_model,
                            senses=senses or SenseRules(), calibration=calibration)
    return ingest([EVAL / "material" / split], options, open_client(data / "chroma"),
                  lambda: embedder)


def from_report(split: str, report, cards: Sequence[Concept]) -> Scored:
    links = [(x.prerequisite, x.concept, x.confidence)
             for x in [*report.links, *report.suggestions]]
    s = score(split, links, report.new_concepts, cards)
    s.flags = list(report.flags)
    s.extra = {"senses": report.senses, "features": {
        (x.prerequisite, x.concept): x.evidence.get("features") for x in report.scored}}
    return s


def score_saved(split: str, path: Path, cards: Sequence[Concept]) -> Scored:
    """Score a saved ``erica kb ingest --json`` output (e.g. of an older version)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    links = [(x["prerequisite"], x["concept"], x["confidence"])
             for x in [*data["links"], *data["suggestions"]]]
    s = score(split, links, data["new_concepts"], cards)
    s.flags = data.get("flagged", [])
    return s


def table(s: Scored, method: str = "") -> list[dict]:
    m = metrics(s)
    row = {"part": f"labelled {s.split}", "method": method or "this version"}
    row.update({k: v for k, v in m.items() if k != "calibration"})
    return [row]


def print_unlabelled(s: Scored, cards: Sequence[Concept]) -> None:
    names = {c.id: c.name for c in cards}
    for x in s.links:
        if not x["label"]:
            print(f"UNLABELLED link {s.split}: - [{x['prerequisite']}, {x['concept']}, ?]  # "
                  f"{names.get(x['prerequisite'], x['prerequisite'])} -> "
                  f"{names.get(x['concept'], x['concept'])} ({x['confidence']:.2f})")
    for c in s.concepts:
        if not c["label"]:
            print(f"UNLABELLED concept {s.split}: {c['id']}")


def refit(s: Scored, cards: Sequence[Concept], labels: dict | None = None
          ) -> tuple[dict[str, float], int]:
    """Evidence weights fitted on every judged pair of the split that has a label (the
    graph's or a hand label), not only on the links that were shown."""
    labels = labels or load_labels()
    graph, known = course_graph(cards)
    x, y = [], []
    for (b, a), feats in s.extra.get("features", {}).items():
        label, _why, _by = label_link(b, a, s.split, labels, graph, known)
        if label and feats:
            x.append([feats[f] for f in evidence.FEATURES])
            y.append(1.0 if label == "correct" else 0.0)
    return evidence.fit(np.array(x), np.array(y)), len(y)


def run(settings: Settings, embedder, cards: Sequence[Concept], root: Path,
        args: argparse.Namespace) -> tuple[list[dict], dict]:
    rows: list[dict] = []
    meta: dict[str, Any] = {"splits": {}}
    for split in SPLITS:
        report = ingest_split(split, settings, embedder, root)
        s = from_report(split, report, cards)
        m = metrics(s)
        meta["splits"][split] = {**m, "senses": report.senses, "flags": s.flags,
                                 "links": s.links, "new_concepts": s.concepts,
                                 "not_concepts": report.not_concepts}
        rows += table(s)
        if args.show_unlabelled:
            print_unlabelled(s, cards)
        if split == "tuning" and args.calibrate:
            weights, n = refit(s, cards)
            print(f"evidence weights fitted on {n} labelled pairs of the tuning split:")
            print(yaml.safe_dump(weights, sort_keys=False))
        for name, rules in ({} if args.no_ablation else ABLATIONS).items():
            ablated = from_report(split, ingest_split(split, settings, embedder, root, rules),
                                  cards)
            rows += table(ablated, name)
            if args.show_unlabelled:
                print_unlabelled(ablated, cards)
    before = EVAL / "before"
    for split in SPLITS:
        saved = before / f"{split}.json"
        if saved.exists():
            s = score_saved(split, saved, cards)
            rows += table(s, "before (commit 71a6dcd)")
            meta.setdefault("before", {})[split] = metrics(s)
    return rows, meta


def llm_part(settings: Settings, cards: Sequence[Concept], n: int, seed: int = 7
             ) -> dict[str, Any]:
    """Does the ``--llm`` refinement help? Ask the local model the refiner's own question
    about ``n`` hand-labelled pairs of course concepts (half correct, half not, both splits)
    and compare its yes/no with the labels. Slow on 2 cores, hence a sample."""
    from knowledge.ingest.prerequisites import Link, llm_refiner
    from tutor.llm.factory import get_backend

    by_id = {c.id: c for c in cards}
    labels = load_labels()
    pool = [(b, a, lab) for split in SPLITS for (b, a), (lab, _why) in
            labels["links"][split].items() if a in by_id and b in by_id]
    rng = np.random.default_rng(seed)
    right = [p for p in pool if p[2] == "correct"]
    other = [p for p in pool if p[2] != "correct"]
    take = [right[i] for i in rng.permutation(len(right))[:n // 2]] + \
        [other[i] for i in rng.permutation(len(other))[:n - n // 2]]
    refine = llm_refiner(get_backend(settings),
                         lambda cid: f"{by_id[cid].name}: {by_id[cid].summary[:300]}",
                         band=(0.0, 1.0), max_questions=len(take))
    asked = refine([Link(b, a, 0.5) for b, a, _lab in take])
    verdicts = [(x.evidence.get("llm", "not asked"), lab == "correct")
                for x, (_b, _a, lab) in zip(asked, take, strict=True)]
    yes = [ok for v, ok in verdicts if v == "yes"]
    no = [ok for v, ok in verdicts if v == "no"]
    answered = len(yes) + len(no)
    return {"pairs": len(take), "correct_pairs": sum(ok for _, ok in verdicts),
            "yes": len(yes), "no": len(no), "unclear": len(take) - answered,
            "precision_of_yes": round(sum(yes) / len(yes), 3) if yes else None,
            "accuracy": round((sum(yes) + sum(not ok for ok in no)) / answered, 3)
            if answered else None}
