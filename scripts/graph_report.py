"""Print how deep the course's prerequisite graph is (markdown), for knowledge/eval/graph_review.md.

    python scripts/graph_report.py [--concepts id,id,...] [COURSE_DIR ...]

Reports the ancestor count and longest-path depth of well-known concepts, the longest chain, and
the ancestor counts per level (median, 90th percentile, max).
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from knowledge.cards import load_cards
from knowledge.graph import ancestor_counts, build_graph, concept_depths, graph_stats

SHIPPED = Path(__file__).resolve().parent.parent / "knowledge" / "courses" / "intro_ai"
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path, default=[SHIPPED])
    parser.add_argument("--concepts", default=WELL_KNOWN, help="comma-separated card ids")
    args = parser.parse_args()
    print(report(args.folders, [c.strip() for c in args.concepts.split(",") if c.strip()]))


if __name__ == "__main__":
    main()
