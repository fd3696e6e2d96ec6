"""The prerequisite graph (networkx): an edge ``a -> b`` means *a is a prerequisite of b*."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import networkx as nx

from knowledge.cards import Concept


def build_graph(cards: Iterable[Concept]) -> nx.DiGraph:
    """Nodes are concept ids (with ``name`` and ``unit``); edges run prerequisite -> concept."""
    graph = nx.DiGraph()
    cards = list(cards)
    for card in cards:
        graph.add_node(card.id, name=card.name, unit=card.unit)
    for card in cards:
        graph.add_edges_from((p, card.id) for p in card.prerequisites if p in graph)
    return graph


@dataclass(frozen=True)
class Ancestor:
    """A prerequisite reached from the matches: its distance and which matches need it."""

    id: str
    depth: int
    needed_by: frozenset[str]


def _within(graph: nx.DiGraph, source: str, hops: int, upward: bool) -> dict[str, int]:
    """Nodes at most ``hops`` edges above (``upward``) or below ``source``, with their
    distance (``source`` itself at 0)."""
    view = graph.reverse(copy=False) if upward else graph
    return nx.single_source_shortest_path_length(view, source, cutoff=hops)


def ancestors_within(graph: nx.DiGraph, seeds: Iterable[str], depth: int) -> dict[str, Ancestor]:
    """Prerequisites of ``seeds`` up to ``depth`` edges back (seeds themselves excluded).

    ``depth`` of an ancestor is its shortest distance from any seed.
    """
    seeds = [s for s in seeds if s in graph]
    best: dict[str, int] = {}
    needed: dict[str, set[str]] = {}
    for seed in seeds:
        for node, distance in _within(graph, seed, depth, upward=True).items():
            if distance:
                best[node] = min(best.get(node, distance), distance)
                needed.setdefault(node, set()).add(seed)
    seed_set = set(seeds)
    return {
        n: Ancestor(n, best[n], frozenset(needed[n])) for n in best if n not in seed_set
    }


def learning_path(graph: nx.DiGraph, ids: Iterable[str],
                  rank: Callable[[str], float | int | tuple] | None = None,
                  max_hops: int = 8) -> list[str]:
    """``ids`` ordered so every prerequisite comes before what needs it.

    Order follows reachability in the whole graph, not just direct edges among ``ids``: a
    chosen concept is linked to the chosen concepts found up to ``max_hops`` edges above it
    (the bound keeps this cheap on a 100k-concept graph). Among concepts free to go next,
    the best ``rank`` (lowest) goes first.
    """
    ids = [i for i in dict.fromkeys(ids) if i in graph]
    chosen = set(ids)
    sub = nx.DiGraph()
    sub.add_nodes_from(ids)
    for node in ids:
        sub.add_edges_from((pre, node) for pre in _within(graph, node, max_hops, upward=True)
                           if pre in chosen and pre != node)
    position = {n: i for i, n in enumerate(ids)}
    key = rank or position.__getitem__
    return list(nx.lexicographical_topological_sort(sub, key=lambda n: (key(n), position[n])))


def next_steps(graph: nx.DiGraph, ids: Iterable[str], exclude: Iterable[str] = (),
               limit: int = 5) -> list[str]:
    """Concepts that directly build on ``ids``, not in ``ids`` or ``exclude``, most-connected
    first."""
    ids = [i for i in ids if i in graph]
    chosen = set(ids) | set(exclude)
    counts: dict[str, int] = {}
    for node in ids:
        for succ in graph.successors(node):
            if succ not in chosen:
                counts[succ] = counts.get(succ, 0) + 1
    return sorted(counts, key=lambda n: (-counts[n], graph.in_degree(n), n))[:limit]


@dataclass(frozen=True)
class GraphStats:
    concepts: int
    prerequisite_edges: int
    units: int
    roots: int
    longest_chain: int
    longest_chain_ids: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "concepts": self.concepts,
            "prerequisite_edges": self.prerequisite_edges,
            "units": self.units,
            "roots": self.roots,
            "longest_chain": self.longest_chain,
            "longest_chain_ids": list(self.longest_chain_ids),
        }


def graph_stats(graph: nx.DiGraph) -> GraphStats:
    """Counts of the graph; the longest chain counts concepts on the longest prerequisite path."""
    chain = nx.dag_longest_path(graph) if graph.number_of_nodes() else []
    units = {data.get("unit") for _, data in graph.nodes(data=True)}
    return GraphStats(
        concepts=graph.number_of_nodes(),
        prerequisite_edges=graph.number_of_edges(),
        units=len(units),
        roots=sum(1 for n in graph if graph.in_degree(n) == 0),
        longest_chain=len(chain),
        longest_chain_ids=tuple(chain),
    )


def neighbourhood(graph: nx.DiGraph, center: str, up: int = 2, down: int = 1) -> nx.DiGraph:
    """The subgraph around ``center``: ancestors up to ``up`` edges, successors up to ``down``."""
    nodes = set(_within(graph, center, up, upward=True))
    nodes |= set(_within(graph, center, down, upward=False))
    return graph.subgraph(nodes).copy()


def to_dot(graph: nx.DiGraph, highlight: Mapping[str, str] | None = None) -> str:
    """Graphviz DOT text (Streamlit renders it in the browser, no binary needed).

    ``highlight`` maps node ids to fill colours.
    """
    highlight = highlight or {}

    def quote(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = ["digraph prerequisites {", "  rankdir=LR;",
             '  node [shape=box, style="rounded,filled", fillcolor="#f5f5f5", fontsize=11];']
    for node, data in graph.nodes(data=True):
        colour = highlight.get(node, "#f5f5f5")
        lines.append(f"  {quote(node)} [label={quote(data.get('name', node))}, "
                     f"fillcolor={quote(colour)}];")
    lines += [f"  {quote(a)} -> {quote(b)};" for a, b in graph.edges]
    lines.append("}")
    return "\n".join(lines)
