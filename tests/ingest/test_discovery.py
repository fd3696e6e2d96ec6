"""Concept candidates, mention finding and merging into known concepts."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from knowledge.ingest.discovery import (
    Candidate,
    ConceptIndex,
    clean_heading,
    find_candidates,
    key_phrases,
    merge_candidates,
    slugify,
)
from knowledge.ingest.passages import Passage
from knowledge.ingest.readers import Location


def _p(text: str, heading: str = "", source: str = "/a.md", index: int = 0) -> Passage:
    return Passage("c", source, Path(source).name, "A", index, text,
                   Location("section", heading=heading))


def test_defined_terms_glossary_and_headings():
    passages = [
        _p("A heuristic function is a function that estimates the cost to a goal. "
           "It is cheap to compute.", heading="2.1 Heuristics"),
        _p("Glossary:\n- Frontier: the set of generated but unexpanded nodes.\n"
           "- Branching factor — the number of successors of a node.", heading="Summary"),
        _p("Iterative deepening search (IDS) is a strategy that runs depth-limited search "
           "with growing limits. This is a good default."),
        _p("Prohledávání do šířky je algoritmus, který prochází graf po vrstvách."),
        _p("Поиск в ширину — это алгоритм обхода графа."),
    ]
    found = {(c.term, c.kind) for c in find_candidates(passages)}
    assert ("Heuristics", "heading") in found  # numbering stripped
    assert ("Heuristic function", "defined") in found
    assert ("Frontier", "glossary") in found and ("Branching factor", "glossary") in found
    assert ("Iterative deepening search", "defined") in found
    assert ("Prohledávání do šířky", "defined") in found
    assert ("Поиск в ширину", "defined") in found
    terms = {t for t, _ in found}
    assert "Summary" not in terms and "It" not in terms and "This" not in terms
    ids = next(c for c in find_candidates(passages) if c.term == "Iterative deepening search")
    assert ids.aliases == ("IDS",)


def test_clean_heading():
    assert clean_heading("Lecture 3: Informed search") == "Informed search"
    assert clean_heading("1.2 heuristics") == "Heuristics"
    assert clean_heading("A* search: optimality and admissibility") == "A* search"


def test_mentions_take_the_longest_name_and_skip_ambiguous_ones():
    index = ConceptIndex.build([
        ("search", "Search", ()),
        ("bfs", "Breadth-first search", ("BFS",)),
        ("bias-nn", "Bias (neural network parameter)", ()),
        ("bias-stat", "Bias (statistical estimator)", ()),
        ("ai", "Artificial intelligence", ("AI",)),
    ])
    found = index.mentions("BFS is a search; breadth-first searches use queues. The bias term "
                           "of AI models. A is not AI.")
    assert found["bfs"] == 2 and found["search"] == 1 and found["ai"] == 2
    assert "bias-nn" not in found and "bias-stat" not in found  # "bias" alone is ambiguous
    assert index.lookup("breadth first search") == "bfs"
    assert index.lookup("Bias") is None


def test_key_phrases_are_frequent_and_new():
    sentences = ["The replay buffer stores transitions; target networks stabilise updates.",
                 "Sampling from the replay buffer breaks correlations, as Q-learning needs.",
                 "Target networks change slowly, and the replay buffer is large.",
                 "A replay buffer of one million steps, and two target networks.",
                 "Without target networks, Q-learning with a replay buffer diverges."]
    passages = [_p(s, source=f"/l{i % 2}.md", index=i) for i, s in enumerate(sentences)]
    index = ConceptIndex.build([("q-learning", "Q-learning", ())])
    terms = [c.term for c in key_phrases(passages, index, set())]
    assert "Replay buffer" in terms and "Target networks" in terms
    assert not any("learning" in t.lower() for t in terms)  # overlaps a known name


def test_merge_by_name_alias_embedding_or_new():
    index = ConceptIndex.build([("bfs", "Breadth-first search", ("BFS",)),
                                ("astar", "A* search", ())])
    cands = [Candidate("Breadth first searches", "heading", 0),
             Candidate("Blind BFS strategy", "defined", 1, aliases=("BFS",)),
             Candidate("A-star algorithm", "defined", 2),
             Candidate("Simulated annealing", "defined", 3),
             Candidate("Breadth-first search", "glossary", 4)]
    names = [("bfs", "Breadth-first search"), ("astar", "A* search")]
    vectors = {"Breadth-first search": [1, 0, 0], "A* search": [0, 1, 0],
               "A-star algorithm": [0, 0.95, 0.31], "Simulated annealing": [0, 0.3, 0.95],
               "Blind BFS strategy": [0.5, 0.5, 0.7]}

    def embed(texts):
        return np.array([vectors[t] for t in texts], dtype=np.float32)

    resolved = {r.candidate.term: r for r in merge_candidates(
        cands, index, names, embed([n for _, n in names]), embed)}
    assert resolved["Breadth-first search"].how == "name"  # the glossary entry leads its group
    assert resolved["Breadth-first search"].occurrences == (0, 4)  # one group, both places
    assert resolved["Blind BFS strategy"].how == "alias"
    assert resolved["A-star algorithm"].concept_id == "astar"
    assert resolved["A-star algorithm"].how == "embedding"
    assert resolved["Simulated annealing"].concept_id is None


def test_slugify():
    assert slugify("A* search") == "a-star-search"
    assert slugify("Prohledávání do šířky") == "prohledavani-do-sirky"
    assert slugify("Поиск в ширину") == "poisk-v-shirinu"
