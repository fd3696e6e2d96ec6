"""Prerequisite-aware retrieval: semantic matches, then their prerequisites, as a learning path.

Ranking rule used to cap the result at ``max_concepts``:

1. every semantic match, best cosine score first;
2. then prerequisites: nearer first (depth 1 before 2), then those needed by more of the
   matches, then those closest to the question (cosine score).

The kept concepts are finally ordered as a learning path: each prerequisite before what needs
it, and among concepts free to go next, the higher-ranked one first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from knowledge.cards import Concept
from knowledge.course import Course
from knowledge.embeddings import Embedder
from knowledge.graph import ancestors_within, learning_path, next_steps
from knowledge.passages import PassageHit, PassageSource, best_passages
from knowledge.questions import clean_question, looks_like_follow_up
from knowledge.store import VersionedCollection

FOLLOW_UP_WEIGHT = 0.6  # weight of the previous question in a follow-up's query vector
CANDIDATES = 3  # semantic candidates fetched per requested match, before re-ranking
NAMED_BONUS = 0.10  # added to the cosine of a concept whose name or alias the question spells


@dataclass(frozen=True)
class Match:
    id: str
    name: str
    score: float


@dataclass(frozen=True)
class RetrievedConcept:
    id: str
    name: str
    role: Literal["match", "prerequisite"]
    depth: int
    score: float
    card: Concept = field(repr=False, compare=False)


@dataclass(frozen=True)
class Retrieval:
    question: str
    matches: list[Match]
    concepts: list[RetrievedConcept]  # in learning-path order
    next_steps: list[Concept]
    used_history: bool = False
    passages: list[PassageHit] = field(default_factory=list)  # ingested material

    @property
    def prerequisites(self) -> list[RetrievedConcept]:
        return [c for c in self.concepts if c.role == "prerequisite"]

    @property
    def matched(self) -> list[RetrievedConcept]:
        """The semantic matches, best-ranked first (not in learning-path order)."""
        order = {m.id: i for i, m in enumerate(self.matches)}
        return sorted((c for c in self.concepts if c.role == "match"), key=lambda c: order[c.id])

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "matches": [{"id": m.id, "name": m.name, "score": round(m.score, 4)}
                        for m in self.matches],
            "concepts": [{"id": c.id, "name": c.name, "role": c.role, "depth": c.depth,
                          "score": round(c.score, 4)} for c in self.concepts],
            "next_steps": [{"id": c.id, "name": c.name} for c in self.next_steps],
            "used_history": self.used_history,
            "passages": [h.to_json() for h in self.passages],
        }


class Retriever:
    """Holds the embedder, the concept collection and the loaded course; thread-safe reads."""

    def __init__(self, embedder: Embedder, concepts: VersionedCollection, course: Course,
                 passages: PassageSource | None = None) -> None:
        self.embedder = embedder
        self.concepts = concepts
        self.course = course
        self.passages = passages

    def query_vector(self, question: str, history: Sequence[str] = ()) -> tuple[np.ndarray, bool]:
        """The question's embedding, blended with the last question's for a follow-up."""
        vec = self.embedder.encode_query(question)
        if history and looks_like_follow_up(question):
            prev = self.embedder.encode_query(history[-1])
            vec = vec + FOLLOW_UP_WEIGHT * prev
            return vec / np.linalg.norm(vec), True
        return vec, False

    def retrieve(self, question: str, k: int = 5, depth: int = 2, max_concepts: int = 10,
                 history: Sequence[str] = ()) -> Retrieval:
        question = clean_question(question)
        vec, used_history = self.query_vector(question, history)
        hits = self.rank(question, vec, k)
        result = expand(self.course, question, vec, hits, depth, max_concepts, used_history)
        if self.passages is not None:
            result = replace(result, passages=best_passages(result.concepts, vec,
                                                            self.passages()))
        return result

    def rank(self, question: str, vec: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Top-``k`` concepts: ChromaDB's nearest neighbours, re-ranked so that concepts the
        question names outright (name or alias) get a bonus. Scores stay cosines."""
        candidates = {i: s for i, s in self.concepts.query(vec, k * CANDIDATES)
                      if i in self.course.cards}
        named = self.course.labels.mentioned(question)
        missing = [i for i in named if i not in candidates]
        candidates.update(zip(missing, self.course.similarity(vec, missing), strict=True))
        ranked = sorted(candidates, key=lambda i: -(candidates[i] + NAMED_BONUS * (i in named)))
        return [(i, candidates[i]) for i in ranked[:k]]


def expand(course: Course, question: str, vec: np.ndarray, hits: list[tuple[str, float]],
           depth: int, max_concepts: int, used_history: bool = False) -> Retrieval:
    """Turn semantic hits into the capped, learning-path-ordered concept list."""
    cards = course.cards
    matches = [Match(i, cards[i].name, s) for i, s in hits]
    match_score = dict(hits)
    ancestors = ancestors_within(course.graph, match_score, depth)
    pre_ids = list(ancestors)
    pre_score = dict(zip(pre_ids, course.similarity(vec, pre_ids), strict=True))

    def rank(cid: str) -> tuple:
        if cid in match_score:
            return (0, -match_score[cid], 0, cid)
        anc = ancestors[cid]
        return (1, anc.depth, -len(anc.needed_by), -pre_score[cid], cid)

    kept = sorted([*match_score, *pre_ids], key=rank)[:max_concepts]
    order = learning_path(course.graph, kept, rank=lambda cid: rank(cid)[:3])
    concepts = [
        RetrievedConcept(cid, cards[cid].name, "match", 0, match_score[cid], cards[cid])
        if cid in match_score else
        RetrievedConcept(cid, cards[cid].name, "prerequisite", ancestors[cid].depth,
                         pre_score[cid], cards[cid])
        for cid in order
    ]
    steps = [cards[i] for i in next_steps(course.graph,
                                          [c.id for c in concepts if c.role == "match"],
                                          exclude=order)]
    return Retrieval(question, matches, concepts, steps, used_history)
