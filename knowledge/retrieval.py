"""Prerequisite-aware retrieval: semantic matches, then their prerequisites, as a learning path.

Ranking rule used to cap the result at ``max_concepts``:

1. every semantic match, best cosine score first;
2. then prerequisites: nearer first (depth 1 before 2), then those needed by more of the
   matches, then those closest to the question (cosine score).

The kept concepts are finally ordered as a learning path: each prerequisite before what needs
it, and among concepts free to go next, the higher-ranked one first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from knowledge.cards import Concept
from knowledge.course import Course
from knowledge.crosslingual import MultilingualIndex
from knowledge.embeddings import Embedder
from knowledge.graph import ancestors_within, learning_path, next_steps
from knowledge.language import detect_language
from knowledge.passages import PassageHit, PassageSource, best_passages
from knowledge.questions import clean_question, looks_like_follow_up
from knowledge.store import VersionedCollection

FOLLOW_UP_WEIGHT = 0.6  # weight of the previous question in a follow-up's query vector
CANDIDATES = 3  # semantic candidates fetched per requested match, before re-ranking
NAMED_BONUS = 0.10  # added to the cosine of a concept whose name or alias the question spells
# e5 cosines crowd into 0.7-0.9: the cross-language path maps them linearly onto MiniLM's
# scale, so one "not in the course" threshold (0.30) serves both paths. Fitted on the tune
# split: e5 0.80 (off-topic questions scored 0.71-0.79) -> 0.30, the median best match of
# Czech/Russian questions (0.845) -> MiniLM's English median (0.62).
E5_FLOOR = 0.755
E5_SCALE = 6.7
Similarity = Callable[[np.ndarray, list[str]], list[float]]


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
    language: str = "en"  # the question's language (knowledge.language.detect_language)

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
            "language": self.language,
            "passages": [h.to_json() for h in self.passages],
        }


@dataclass(frozen=True)
class Search:
    """A question's ranked concepts, and how it was searched."""

    hits: list[tuple[str, float]]
    vec: np.ndarray  # the query vector of the space that ranked (for passages: English)
    used_history: bool
    language: str
    similarity: Similarity  # cosine of the query to given concepts, on the hits' scale


class Retriever:
    """Holds the embedder, the concept collection and the loaded course; thread-safe reads."""

    def __init__(self, embedder: Embedder, concepts: VersionedCollection, course: Course,
                 passages: PassageSource | None = None,
                 multilingual: tuple[Embedder, MultilingualIndex] | None = None,
                 route_all_languages: bool = False):
        """``route_all_languages``: English questions too go to the cross-language index
        (a benchmark candidate; English ranks better in the English store)."""
        self.embedder = embedder
        self.concepts = concepts
        self.course = course
        self.passages = passages
        self.multilingual = multilingual
        self.route_all_languages = route_all_languages

    def query_vector(self, question: str, history: Sequence[str] = (),
                     language: str = "en") -> tuple[np.ndarray, bool]:
        """The question's embedding, blended with the last question's for a follow-up."""
        vec = self.embedder.encode_query(question)
        if history and looks_like_follow_up(question, language):
            prev = self.embedder.encode_query(history[-1])
            vec = vec + FOLLOW_UP_WEIGHT * prev
            return vec / np.linalg.norm(vec), True
        return vec, False

    def search(self, question: str, k: int, history: Sequence[str] = ()) -> Search:
        """The top-``k`` concepts: English questions in the English store; others (Czech,
        Russian, any language the multilingual model reads) in the cross-language index,
        and a follow-up there too when the question it follows was not English."""
        language = detect_language(question)
        follows = bool(history) and looks_like_follow_up(question, language)
        prev_language = detect_language(history[-1]) if follows else "en"
        english = language == "en" and prev_language == "en" and not self.route_all_languages
        if self.multilingual is None or english:
            vec, used_history = self.query_vector(question, history, language)
            return Search(self.rank(question, vec, k), vec, used_history, language,
                          self.course.similarity)
        model, index = self.multilingual
        mvec = model.encode_query(question)
        if follows:
            mvec = mvec + FOLLOW_UP_WEIGHT * model.encode_query(history[-1])
            mvec = mvec / np.linalg.norm(mvec)

        def similarity(_vec: np.ndarray, ids: list[str]) -> list[float]:
            return [_e5_scale(s) for s in index.similarity(mvec, ids)]

        candidates = {i: _e5_scale(s) for i, s in index.top(mvec, k * CANDIDATES)
                      if i in self.course.cards}
        hits = self._named_first(question, candidates, similarity, k)
        # Passages are searched in the English space: the English vector still ranks a
        # concept's own passages by the terms the question shares with them.
        return Search(hits, self.embedder.encode_query(question), follows, language, similarity)

    def retrieve(self, question: str, k: int = 5, depth: int = 2, max_concepts: int = 10,
                 history: Sequence[str] = ()) -> Retrieval:
        question = clean_question(question)
        found = self.search(question, k, history)
        result = expand(self.course, question, found.vec, found.hits, depth, max_concepts,
                        found.used_history, found.similarity)
        result = replace(result, language=found.language)
        if self.passages is not None:
            result = replace(result, passages=best_passages(result.concepts, found.vec,
                                                            self.passages()))
        return result

    def rank(self, question: str, vec: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Top-``k`` concepts: ChromaDB's nearest neighbours, re-ranked so that concepts the
        question names outright (name or alias) get a bonus. Scores stay cosines."""
        candidates = {i: s for i, s in self.concepts.query(vec, k * CANDIDATES)
                      if i in self.course.cards}
        return self._named_first(question, candidates,
                                 lambda _v, ids: self.course.similarity(vec, ids), k)

    def _named_first(self, question: str, candidates: dict[str, float],
                     similarity: Similarity, k: int) -> list[tuple[str, float]]:
        named = self.course.labels.mentioned(question)
        missing = [i for i in named if i not in candidates]
        candidates.update(zip(missing, similarity(np.zeros(0), missing), strict=True))
        ranked = sorted(candidates, key=lambda i: -(candidates[i] + NAMED_BONUS * (i in named)))
        return [(i, candidates[i]) for i in ranked[:k]]


def _e5_scale(cosine: float) -> float:
    return (cosine - E5_FLOOR) * E5_SCALE


def expand(course: Course, question: str, vec: np.ndarray, hits: list[tuple[str, float]],
           depth: int, max_concepts: int, used_history: bool = False,
           similarity: Similarity | None = None) -> Retrieval:
    """Turn semantic hits into the capped, learning-path-ordered concept list."""
    cards = course.cards
    matches = [Match(i, cards[i].name, s) for i, s in hits]
    match_score = dict(hits)
    ancestors = ancestors_within(course.graph, match_score, depth)
    pre_ids = list(ancestors)
    pre_score = dict(zip(pre_ids, (similarity or course.similarity)(vec, pre_ids),
                         strict=True))

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
