"""Print how deep the course's prerequisite graph is (markdown), for knowledge/eval/graph_review.md.

    python scripts/graph_report.py [--concepts id,id,...] [COURSE_DIR ...]
    python scripts/graph_report.py --compare REV [--units u1,u2]

Reports the ancestor count and longest-path depth of well-known concepts, the longest chain, and
the ancestor counts per level (median, 90th percentile, max). ``--compare REV`` counts how the
prerequisite edges changed since git revision REV (of the cards in ``--units``, default all):
removed, added, moved to related, reversed.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

from knowledge.cards import load_cards
from knowledge.graph import ancestor_counts, build_graph, concept_depths, graph_stats

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "knowledge" / "courses" / "intro_ai"
WELL_KNOWN = ("a-star-search,backpropagation,q-learning,transformer,clip,k-means-clustering,"
              "naive-bayes-classifier,minimax,convolutional-neural-network,logistic-regression")


def _quantile(values: list[int], q: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0


def report(folders: list[Path], ids: list[str]) -> str:
    cards = load_cards(folders)
    graph = build_graph(cards)
    stats = graph_stats(graph)
    counts = ancestor_counts(graph)
    lines = [f"{stats.concepts} concepts, {stats.prerequisite_edges} prerequisite edges, "
             f"{stats.roots} roots", "",
             "| concept | ancestors | depth | longest chain |", "|---|---|---|---|"]
    for row in concept_depths(graph, ids):
        lines.append(f"| {row.name} (`{row.id}`) | {row.ancestors} | {row.depth} | "
                     + " -> ".join(row.chain) + " |")
    chain = stats.longest_chain_ids
    lines += ["", f"Longest chain: {len(chain) - 1} edges: " + " -> ".join(chain), "",
              f"Median ancestor count: {statistics.median(counts.values()):g}", "",
              "| level | cards | median ancestors | p90 | max (card) |", "|---|---|---|---|---|"]
    level = {c.id: c.level for c in cards}
    for name in ("intro", "intermediate", "advanced"):
        values = {cid: n for cid, n in counts.items() if level.get(cid) == name}
        if not values:
            continue
        top = max(values, key=values.__getitem__)
        lines.append(f"| {name} | {len(values)} | {statistics.median(values.values()):g} | "
                     f"{_quantile(list(values.values()), 0.9)} | {values[top]} ({top}) |")
    return "\n".join(lines)


def _cards_at(rev: str) -> list:
    """The shipped course's cards as they were at git revision ``rev``."""
    rel = SHIPPED.relative_to(ROOT).as_posix()
    tar = subprocess.run(["git", "archive", rev, rel], cwd=ROOT, check=True,
                         capture_output=True).stdout
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(fileobj=BytesIO(tar)) as archive:
            archive.extractall(tmp, filter="data")
        return load_cards([Path(tmp) / rel])


def compare(rev: str, units: set[str]) -> str:
    old = {c.id: c for c in _cards_at(rev)}
    new = {c.id: c for c in load_cards([SHIPPED])}

    def edges(cards: dict) -> set[tuple[str, str]]:
        return {(p, c.id) for c in cards.values() if not units or c.unit in units
                for p in c.prerequisites}

    before, after = edges(old), edges(new)
    removed, added = before - after, after - before
    all_after = {(p, c.id) for c in new.values() for p in c.prerequisites}
    reversed_ = {(p, c) for p, c in removed if (c, p) in all_after}
    moved = {(p, c) for p, c in removed - reversed_ if c in new and p in new[c].related}
    dropped = len(removed) - len(moved) - len(reversed_)
    return (f"prerequisite edges of {', '.join(sorted(units)) or 'all units'} since {rev}: "
            f"{len(before)} -> {len(after)}; removed {len(removed)} (moved to related "
            f"{len(moved)}, reversed {len(reversed_)}, dropped {dropped}), added {len(added)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path, default=[SHIPPED])
    parser.add_argument("--concepts", default=WELL_KNOWN, help="comma-separated card ids")
    parser.add_argument("--compare", metavar="REV", help="count edge changes since git REV")
    parser.add_argument("--units", default="", help="with --compare: comma-separated units")
    args = parser.parse_args()
    if args.compare:
        print(compare(args.compare, {u for u in args.units.split(",") if u}))
        return
    print(report(args.folders, [c.strip() for c in args.concepts.split(",") if c.strip()]))


if __name__ == "__main__":
    main()
