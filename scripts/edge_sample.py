"""Draw, or count, a random sample of prerequisite edges for judging by hand (issue 18).

    python scripts/edge_sample.py draw  [--n 100] [--seed 18] [--units u1,u2] [--out FILE]
    python scripts/edge_sample.py count [--out FILE]

``draw`` writes every sampled edge ``P -> C`` with both cards' names and summaries and an empty
``label``/``reason`` to fill in; labels already in FILE for the same edges are kept. ``count``
prints how many edges carry each label. Labels follow knowledge/courses/README.md:
needed | taught-before | reversed | unrelated.
"""

from __future__ import annotations

import argparse
import random
from collections import Counter
from pathlib import Path

import yaml

from knowledge.cards import load_cards

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "knowledge" / "courses" / "intro_ai"
DEFAULT_OUT = ROOT / "knowledge" / "eval" / "edge_sample.yaml"
LABELS = ("needed", "taught-before", "reversed", "unrelated")


def draw(n: int, seed: int, units: set[str], out: Path) -> None:
    cards = {c.id: c for c in load_cards([SHIPPED])}
    edges = sorted((p, c.id) for c in cards.values() if not units or c.unit in units
                   for p in c.prerequisites if p in cards)
    old = {}
    if out.exists():
        old = {e["edge"]: e for e in (yaml.safe_load(out.read_text()) or {}).get("edges", [])}
    sample = []
    for pre, card in random.Random(seed).sample(edges, min(n, len(edges))):
        key = f"{pre} -> {card}"
        sample.append({
            "edge": key,
            "prerequisite": f"{cards[pre].name}: {cards[pre].summary}",
            "card": f"{cards[card].name} ({cards[card].unit}): {cards[card].summary}",
            "label": old.get(key, {}).get("label", ""),
            "reason": old.get(key, {}).get("reason", ""),
        })
    doc = {"seed": seed, "drawn_from": len(edges), "units": sorted(units) or "all",
           "labels": list(LABELS), "edges": sample}
    out.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100))
    print(f"wrote {len(sample)} of {len(edges)} edges to {out}")


def count(out: Path) -> None:
    edges = yaml.safe_load(out.read_text())["edges"]
    counts = Counter(e["label"] or "unlabelled" for e in edges)
    for label in (*LABELS, "unlabelled"):
        print(f"{label:14} {counts[label]:4}  {100 * counts[label] / len(edges):5.1f}%")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("draw", "count"))
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--units", default="", help="comma-separated units (default: all)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    if args.action == "draw":
        draw(args.n, args.seed, {u for u in args.units.split(",") if u}, args.out)
    else:
        count(args.out)


if __name__ == "__main__":
    main()
