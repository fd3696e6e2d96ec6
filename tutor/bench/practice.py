"""``erica bench practice``: quality and speed of the practice questions (issue 19).

Quality comes from a judged set, ``knowledge/eval/practice_questions.yaml``: 100 questions drawn
by :func:`sample` (one question of each of 100 random concepts, fixed seed), each read against
its card by a person and marked on four checks (answer key right, exactly one right option,
wrong options plausible, not answerable from the stem alone); a question passes when all four
hold. The generator was tuned on the ``tune`` split only; ``holdout`` was judged after tuning
(a holdout question changed afterwards keeps its first verdict in ``first_judgement``, and
its first verdict after the four-option change in ``change_first_judgement``).
The benchmark also says how many judged questions the current generator still makes unchanged
(a changed one needs judging again).

Speed: every concept's questions built from the cards alone, timed one concept at a time.
"""

from __future__ import annotations

import argparse
import logging
import random
import time
from collections import Counter
from pathlib import Path

import yaml

from knowledge.cards import load_cards
from knowledge.course import Course
from knowledge.evaluation import EVAL_DIR
from tutor.bench.report import median, percentile, write_results
from tutor.practice import course_from_cards, questions_for
from tutor.settings import Settings

log = logging.getLogger(__name__)
JUDGED_FILE = EVAL_DIR / "practice_questions.yaml"
SAMPLE_SEED = 19
SAMPLE_SIZE = 100
HOLDOUT = 30
PER_CONCEPT = 3
CHECKS = ("key_right", "one_right_option", "distractors_plausible", "not_from_stem")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--judged", type=Path, default=JUDGED_FILE, help="the judged questions (YAML)")
    p.add_argument(
        "--draft",
        type=Path,
        default=None,
        help="write the sample to judge to this YAML file (judgements empty) and stop",
    )


def sample(
    course: Course, seed: int = SAMPLE_SEED, size: int = SAMPLE_SIZE, holdout: int = HOLDOUT
) -> list[dict]:
    """One question of each of ``size`` random concepts (what a lesson of ``PER_CONCEPT``
    questions could show); the last ``holdout`` are the held-out split."""
    rng = random.Random(seed)
    concepts = rng.sample(sorted(course.cards), size)
    items = []
    for n, cid in enumerate(concepts):
        made = questions_for(course, [cid], per_concept=PER_CONCEPT, seed=seed)
        if not made:
            continue
        question = made[rng.randrange(len(made))]
        items.append(
            {
                "split": "holdout" if n >= size - holdout else "tune",
                "unit": course.cards[cid].unit,
                **question.to_dict(),
            }
        )
    return items


def _same(a: dict, b: dict) -> bool:
    keys = ("id", "stem", "options", "answer", "proof")
    return all(a.get(k) == b.get(k) for k in keys)


def pass_rates(items: list[dict]) -> list[dict]:
    """Pass rate per split and per kind, with how often each check held."""
    rows = []
    groups = [("all", items)]
    groups += [(f"split={s}", [i for i in items if i["split"] == s]) for s in ("tune", "holdout")]
    # A holdout question changed after it was judged keeps its first verdict: the held-out number.
    first = [
        {**i, "judgement": i.get("first_judgement") or i["judgement"]}
        for i in items
        if i["split"] == "holdout"
    ]
    groups.append(("holdout, as first judged", first))
    # Judged again after the four-option change: the first verdicts on the changed questions.
    after = [
        {**i, "judgement": i.get("change_first_judgement") or i["judgement"]}
        for i in items
        if i["split"] == "holdout"
    ]
    groups.append(("holdout, first judged after the four-option change", after))
    groups += [
        (f"kind={k}", [i for i in items if i["kind"] == k])
        for k in sorted({i["kind"] for i in items})
    ]
    for name, group in groups:
        if not group:
            continue
        row = {
            "set": name,
            "questions": len(group),
            "pass": sum(i["judgement"]["pass"] for i in group) / len(group),
        }
        for check in CHECKS:
            row[check] = sum(bool(i["judgement"][check]) for i in group) / len(group)
        rows.append(row)
    return rows


def timings(course: Course) -> dict[str, float]:
    """ms per question and per concept, building each concept's questions on its own."""
    per_question, per_concept = [], []
    for cid in sorted(course.cards):
        start = time.perf_counter()
        made = questions_for(course, [cid], per_concept=PER_CONCEPT)
        elapsed = (time.perf_counter() - start) * 1000
        per_concept.append(elapsed)
        if made:
            per_question.extend([elapsed / len(made)] * len(made))
    return {
        "concepts": len(per_concept),
        "questions": len(per_question),
        "median_ms_per_question": median(per_question),
        "p95_ms_per_question": percentile(per_question, 95),
        "max_ms_per_concept": max(per_concept),
    }


def run(settings: Settings, args: argparse.Namespace) -> int:
    start = time.perf_counter()
    course = course_from_cards(load_cards(settings.course_dirs))
    load_s = time.perf_counter() - start
    drawn = sample(course)
    if args.draft:
        for item in drawn:
            item["judgement"] = {c: None for c in CHECKS} | {"pass": None, "reason": ""}
        args.draft.write_text(
            yaml.safe_dump({"questions": drawn}, sort_keys=False, allow_unicode=True, width=100),
            encoding="utf-8",
        )
        log.info("wrote %d questions to judge to %s", len(drawn), args.draft)
        return 0
    judged = yaml.safe_load(args.judged.read_text(encoding="utf-8"))["questions"]
    current = {i["id"]: i for i in drawn}
    unchanged = sum(_same(i, current.get(i["id"], {})) for i in judged)
    speed = timings(course)
    rows = pass_rates(judged)
    for row in rows:
        row.update({k: speed[k] for k in ("median_ms_per_question", "p95_ms_per_question")})
    write_results(
        "practice",
        rows,
        judged_file=str(args.judged),
        judged_unchanged=unchanged,
        judged=len(judged),
        kinds=dict(Counter(i["kind"] for i in judged)),
        load_cards_s=load_s,
        **speed,
        failures=[
            {"id": i["id"], "reason": i["judgement"]["reason"]}
            for i in judged
            if not i["judgement"]["pass"]
        ],
    )
    print(
        f"{unchanged} of {len(judged)} judged questions are still generated unchanged; "  # noqa: T201
        f"cards loaded in {load_s:.1f} s; slowest concept {speed['max_ms_per_concept']:.0f} ms"
    )
    return 0
