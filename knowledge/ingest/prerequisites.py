"""Prerequisite links inferred from the material, each with a confidence and its evidence.

Signals, computed on each concept's *own passages* (where it is defined or is the section's
subject; if it has none, the passages that mention it):

* **reference distance** (RefD, Liang et al. 2015): B is more likely a prerequisite of A when
  the concepts related to A refer to B more than the concepts related to B refer to A (the
  related concepts of A are those its own passages name, and A itself);
* **mentions**: the share of A's own passages that name B, and the reverse;
* **course order**: where the material introduces B relative to A (before or after, how far,
  in the same file or not);
* how many concepts name B (general concepts are named by many).

A logistic model over these features gives each candidate pair a confidence. Its weights
(``WEIGHTS``) were fitted on the shipped course's curated links with
``erica bench ingest --fit``; the benchmark reports them unit-disjoint cross-validated, next to
two baselines (course order alone; reference distance alone). For every concept the
``MAX_PER_CONCEPT`` best candidates above ``THRESHOLD`` are kept, and a link that would close
a cycle (with stronger links or the course's own) is refused.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import networkx as nx
import numpy as np

from knowledge.common.logistic import fit_logistic

log = logging.getLogger(__name__)

THRESHOLD = 0.2
MAX_PER_CONCEPT = 3
NEAR_WINDOW = 5  # the concepts introduced just before A are candidates even if A never names them
REFD_BASELINE_THETA = 0.05
LLM_BAND = (0.12, 0.5)  # confidences the model is asked about with --llm
LLM_MAX_QUESTIONS = 60
FEATURES = ("share_ab", "share_ba", "refd", "before", "near", "log_gap", "same_source",
            "pop_b", "pop_a", "names_b", "adjacent", "similarity")
WEIGHTS: dict[str, float] = {  # `erica bench ingest --fit` on the shipped course (1,249 cards)
    "share_ab": 0.346, "share_ba": 1.656, "refd": -0.454, "before": 3.675, "near": 0.953,
    "log_gap": -0.139, "same_source": 0.248, "pop_b": 0.16, "pop_a": -0.221,
    "names_b": 0.897, "adjacent": 0.216, "similarity": 6.335, "bias": -9.315,
}


@dataclass(frozen=True)
class Link:
    """``prerequisite`` should be learnt before ``concept``."""

    prerequisite: str
    concept: str
    confidence: float
    evidence: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def edge(self) -> tuple[str, str]:
        return (self.prerequisite, self.concept)


@dataclass(frozen=True)
class Unit:
    """A piece of material: a passage (owned by its section's concept) or a definition
    sentence (owned by the concept it defines), with the concepts it names."""

    position: int  # passage index, in course order
    owners: frozenset[str]
    level: int  # 0: section or slide subject; 1: definition or glossary line
    mentions: Mapping[str, int]


@dataclass
class Profile:
    """What the material says about one concept."""

    id: str
    first: int  # position (passage index, course order) where it is introduced
    own: list[int]  # positions of its own units
    refs: Counter  # concept -> how many of its own units name it
    defined: bool  # own units are sections/definitions, not just mentions

    own_units: int = 0  # how many units (several may share a passage)

    def share(self, other: str) -> float:
        n = self.own_units or len(self.own)
        return self.refs.get(other, 0) / n if n else 0.0


def build_profiles(concepts: Iterable[str], units: Sequence[Unit]) -> dict[str, Profile]:
    """Profiles of the concepts that occur in the material (others are left out).

    A concept's own units are the sections it is the subject of; if none, the sentences that
    define it; if none, the units that name it. A unit's naming of its own co-owners does
    not count (two terms defined on one slide say nothing about each other's order).
    """
    wanted = set(concepts)
    owned: dict[str, dict[int, list[Unit]]] = {c: {} for c in wanted}
    named: dict[str, list[Unit]] = {c: [] for c in wanted}
    for unit in units:
        for cid in unit.owners:
            if cid in owned:
                owned[cid].setdefault(unit.level, []).append(unit)
        for cid in unit.mentions:
            if cid in named and cid not in unit.owners:
                named[cid].append(unit)
    profiles = {}
    for cid in wanted:
        levels = owned[cid]
        own = levels[min(levels)] if levels else named[cid]
        if not own:
            continue
        refs: Counter = Counter()
        for unit in own:
            refs.update(b for b in unit.mentions if b != cid and b not in unit.owners)
        profiles[cid] = Profile(cid, min(u.position for u in own),
                                sorted({u.position for u in own}), refs, bool(levels),
                                len(own))
    return profiles


def refd(profiles: Mapping[str, Profile], a: str, b: str) -> float:
    """RefD(A, B) in [-1, 1]: positive when B looks like a prerequisite of A."""

    def side(x: str, y: str) -> float:
        px = profiles[x]
        related = [x, *px.refs]
        hits = sum(1 for c in related if c == y or (c in profiles and profiles[c].refs.get(y)))
        return hits / len(related)

    return side(a, b) - side(b, a)


@dataclass
class Material:
    """Profiles plus what the order features need."""

    profiles: dict[str, Profile]
    order: list[str]  # concepts by the position where they are introduced
    source: dict[str, str]  # concept -> the file that introduces it
    named_by: Counter  # concept -> how many concepts' own passages name it
    vectors: dict[str, np.ndarray] = field(default_factory=dict)  # mean of own passages

    @property
    def rank(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.order)}


def material(profiles: dict[str, Profile], passage_sources: Sequence[str],
             passage_vectors: np.ndarray | None = None) -> Material:
    """``passage_vectors[i]``: the embedding of passage ``i`` (for the similarity feature)."""
    order = sorted(profiles, key=lambda c: (profiles[c].first, c))
    source = {c: passage_sources[p.first] for c, p in profiles.items()}
    named_by: Counter = Counter()
    for p in profiles.values():
        named_by.update(p.refs.keys())
    vectors = {}
    if passage_vectors is not None and len(passage_vectors):
        for cid, p in profiles.items():
            vec = np.asarray(passage_vectors[p.own], dtype=np.float64).mean(axis=0)
            norm = float(np.linalg.norm(vec))
            vectors[cid] = vec / norm if norm else vec
    return Material(profiles, order, source, named_by, vectors)


def candidate_pairs(mat: Material) -> list[tuple[str, str]]:
    """(B, A) pairs worth scoring: one names the other, or B comes just before A."""
    pairs: set[tuple[str, str]] = set()
    for a, pa in mat.profiles.items():
        for b in pa.refs:
            if b != a and b in mat.profiles:
                pairs.add((b, a))
                pairs.add((a, b))
    for i, a in enumerate(mat.order):
        pairs.update((mat.order[j], a) for j in range(max(0, i - NEAR_WINDOW), i))
    return sorted(pairs)


def pair_features(mat: Material, rank: Mapping[str, int], b: str, a: str) -> dict[str, float]:
    pa, pb = mat.profiles[a], mat.profiles[b]
    gap = rank[a] - rank[b]
    return {
        "share_ab": pa.share(b), "share_ba": pb.share(a), "refd": refd(mat.profiles, a, b),
        "before": 1.0 if gap > 0 else 0.0, "near": 1.0 / max(1, abs(gap)),
        "log_gap": math.log1p(abs(gap)),
        "same_source": 1.0 if mat.source[a] == mat.source[b] else 0.0,
        "pop_b": math.log1p(mat.named_by[b]), "pop_a": math.log1p(mat.named_by[a]),
        "names_b": 1.0 if pa.refs.get(b) else 0.0, "adjacent": 1.0 if gap == 1 else 0.0,
        "similarity": float(mat.vectors[a] @ mat.vectors[b]) if a in mat.vectors
        and b in mat.vectors else 0.0,
    }


def feature_matrix(mat: Material, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
    rank = mat.rank
    rows = [pair_features(mat, rank, b, a) for b, a in pairs]
    return np.array([[r[f] for f in FEATURES] for r in rows], dtype=np.float64).reshape(
        len(rows), len(FEATURES))


def predict(x: np.ndarray, weights: Mapping[str, float] = WEIGHTS) -> np.ndarray:
    w = np.array([weights[f] for f in FEATURES])
    return 1.0 / (1.0 + np.exp(-(x @ w + weights["bias"])))


def fit_weights(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 30
                ) -> dict[str, float]:
    """L2-regularised logistic regression (Newton steps) of ``y`` on the feature matrix."""
    return fit_logistic(x, y, FEATURES, l2, steps)


def score_pairs(mat: Material, weights: Mapping[str, float] = WEIGHTS) -> list[Link]:
    """Every candidate pair with its confidence and evidence; not yet selected."""
    pairs = candidate_pairs(mat)
    if not pairs:
        return []
    x = feature_matrix(mat, pairs)
    conf = predict(x, weights)
    rank = mat.rank
    out = []
    for (b, a), row, c in zip(pairs, x, conf, strict=True):
        pa, pb = mat.profiles[a], mat.profiles[b]
        out.append(Link(b, a, round(float(c), 4), {
            "refd": round(float(row[FEATURES.index("refd")]), 3),
            "mentions": [pa.refs.get(b, 0), pa.own_units],
            "mentioned_back": [pb.refs.get(a, 0), pb.own_units],
            "order": rank[a] - rank[b],
            "introduced": [pb.first, pa.first],
            "passages": list(pa.own[:3]),
        }))
    return out


def select_links(scored: Iterable[Link], threshold: float = THRESHOLD,
                 per_concept: int = MAX_PER_CONCEPT,
                 fixed: Iterable[tuple[str, str]] = ()) -> list[Link]:
    """For each concept its ``per_concept`` best links above ``threshold``; a link that would
    close a cycle with stronger links (or the ``fixed`` edges of the course) is refused."""
    best: dict[str, list[Link]] = {}
    for link in scored:
        if link.confidence >= threshold and link.prerequisite != link.concept:
            best.setdefault(link.concept, []).append(link)
    chosen = [x for links in best.values()
              for x in sorted(links, key=lambda x: (-x.confidence, x.prerequisite))[:per_concept]]
    graph = nx.DiGraph()
    graph.add_edges_from(fixed)
    fixed_set = set(graph.edges)
    kept: dict[tuple[str, str], Link] = {}
    for link in sorted(chosen, key=lambda x: (-x.confidence, x.edge)):
        a, b = link.edge
        if link.edge in fixed_set or link.edge in kept:
            continue
        if a in graph and b in graph and nx.has_path(graph, b, a):
            continue
        graph.add_edge(a, b)
        kept[link.edge] = link
    return sorted(kept.values(), key=lambda x: (x.concept, -x.confidence, x.prerequisite))


def infer_links(mat: Material, threshold: float = THRESHOLD,
                fixed: Iterable[tuple[str, str]] = (),
                refine: Callable[[list[Link]], list[Link]] | None = None,
                weights: Mapping[str, float] = WEIGHTS) -> list[Link]:
    scored = score_pairs(mat, weights)
    if refine is not None:
        scored = refine(scored)
    return select_links(scored, threshold, fixed=fixed)


# ---------------------------------------------------------------------------------- baselines

def order_baseline(order: Sequence[str], k: int = 1) -> set[tuple[str, str]]:
    """Course order alone: each concept needs the ``k`` concepts introduced just before it."""
    return {(order[j], order[i]) for i in range(len(order))
            for j in range(max(0, i - k), i)}


def refd_baseline(profiles: Mapping[str, Profile],
                  theta: float = REFD_BASELINE_THETA) -> set[tuple[str, str]]:
    """Reference distance alone: B -> A whenever RefD(A, B) > theta (either names the other)."""
    edges = set()
    for a, pa in profiles.items():
        for b in pa.refs:
            if b != a and b in profiles and refd(profiles, a, b) > theta:
                edges.add((b, a))
    return edges


def prf(predicted: Iterable[tuple[str, str]], gold: Iterable[tuple[str, str]]
        ) -> dict[str, float | int]:
    """Precision, recall and F1 of predicted edges against gold edges."""
    predicted, gold = set(predicted), set(gold)
    correct = len(predicted & gold)
    precision = correct / len(predicted) if predicted else 0.0
    recall = correct / len(gold) if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"predicted": len(predicted), "gold": len(gold), "correct": correct,
            "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


# ---------------------------------------------------------------------------------- LLM

_YES = re.compile(r"^\W*(yes|ano|да)\b", re.IGNORECASE)
_NO = re.compile(r"^\W*(no|ne|нет)\b", re.IGNORECASE)
LLM_SYSTEM = ("You check prerequisite links between concepts of a university course. "
              "Answer with one word: yes or no.")


def llm_refiner(backend, describe: Callable[[str], str], band: tuple[float, float] = LLM_BAND,
                max_questions: int = LLM_MAX_QUESTIONS, max_tokens: int = 4,
                on_question: Callable[[], None] | None = None,
                ) -> Callable[[list[Link]], list[Link]]:
    """A ``refine`` step for :func:`infer_links`: asks the local model about uncertain links.

    ``describe(id)`` gives "Name: summary". A "yes" raises the confidence by 0.2, a "no"
    lowers it by 0.25; anything else leaves it. At most ``max_questions`` are asked, the most
    uncertain (closest to 0.5) first.
    """

    def refine(links: list[Link]) -> list[Link]:
        low, high = band
        ask = sorted((x for x in links if low <= x.confidence <= high),
                     key=lambda x: (abs(x.confidence - 0.5), x.edge))[:max_questions]
        changed: dict[tuple[str, str], Link] = {}
        for link in ask:
            question = (f"Concept A: {describe(link.concept)}\n"
                        f"Concept B: {describe(link.prerequisite)}\n"
                        "Must a student understand B before they can learn A? "
                        "Answer yes or no.")
            messages = [{"role": "system", "content": LLM_SYSTEM},
                        {"role": "user", "content": question}]
            try:
                answer = "".join(backend.stream_chat(messages, max_tokens=max_tokens,
                                                     timeout_s=60.0)).strip()
            except Exception as exc:  # the model is optional: a failure leaves the link as is
                log.warning("LLM refinement stopped: %s", exc)
                break
            finally:
                if on_question:
                    on_question()
            if _YES.match(answer):
                verdict, delta = "yes", 0.2
            elif _NO.match(answer):
                verdict, delta = "no", -0.25
            else:
                verdict, delta = "unclear", 0.0
            conf = round(min(0.99, max(0.01, link.confidence + delta)), 4)
            changed[link.edge] = replace(link, confidence=conf,
                                         evidence={**link.evidence, "llm": verdict})
        return [changed.get(x.edge, x) for x in links]

    return refine
