"""Relevance feedback: the Bayesian score update of PicHunter, as used in SOMHunter.

For each candidate ``o``, the liked results ``L`` and the other displayed results ``N``, with
``d(x, y) = 1 - cos(x, y)`` and ``sigma = 0.1``::

    s(o) <- s(o) * prod_{l in L} exp(-d(o,l)/sigma)
                                 / (exp(-d(o,l)/sigma) + sum_{n in N} exp(-d(o,n)/sigma))

then every score is divided by the maximum. Repeated rounds narrow the search; starting again
from :func:`initial_scores` is the reset.

Pure numpy; the product is evaluated in log space (the same numbers, no underflow after many
rounds), and scores that are exactly 0 stay 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SIGMA = 0.1


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.where(norms == 0, 1.0, norms)


def cosine_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``1 - cos`` between the rows of ``a`` (m, d) and ``b`` (n, d): an (m, n) matrix."""
    return 1.0 - _unit(a) @ _unit(b).T


def initial_scores(candidates: np.ndarray, query: np.ndarray, sigma: float = SIGMA
                   ) -> np.ndarray:
    """Scores before any feedback: ``exp(-d(o, q) / sigma)`` for the query vector ``q``,
    divided by the maximum (the same kernel as the update, so one scale throughout)."""
    d = cosine_distance(candidates, np.atleast_2d(query))[:, 0]
    log_s = -d / sigma
    return np.exp(log_s - log_s.max())


def bayes_update(scores: np.ndarray, candidates: np.ndarray, liked: Sequence[int],
                 shown: Sequence[int], sigma: float = SIGMA) -> np.ndarray:
    """One round of feedback.

    ``scores``: (m,) current scores of the m candidates; ``candidates``: (m, d) their vectors;
    ``liked``: indices (into candidates) the user marked; ``shown``: indices of all displayed
    results (liked or not). ``N`` is ``shown`` minus ``liked``. Returns the new scores,
    divided by their maximum. With nothing liked the scores are returned unchanged.
    """
    scores = np.asarray(scores, dtype=np.float64)
    candidates = np.asarray(candidates, dtype=np.float64)
    if scores.shape[0] != candidates.shape[0]:
        raise ValueError("scores and candidates differ in length")
    liked_set = list(dict.fromkeys(int(i) for i in liked))
    if not liked_set:
        return scores.copy()
    m = candidates.shape[0]
    for i in liked_set + [int(i) for i in shown]:
        if not 0 <= i < m:
            raise ValueError(f"index {i} is not a candidate (0..{m - 1})")
    others = [int(i) for i in dict.fromkeys(shown) if int(i) not in set(liked_set)]
    # log of exp(-d/sigma) for every candidate against the liked and the other shown results
    log_k_liked = -cosine_distance(candidates, candidates[liked_set]) / sigma  # (m, |L|)
    if others:
        log_k_others = -cosine_distance(candidates, candidates[others]) / sigma  # (m, |N|)
        others_lse = _logsumexp(log_k_others, axis=1)  # log sum_n exp(-d(o,n)/sigma)
    else:
        others_lse = np.full(m, -np.inf)
    # log of each factor: log_k_l - log(exp(log_k_l) + sum_n exp(...))
    log_factor = log_k_liked - np.logaddexp(log_k_liked, others_lse[:, None])
    with np.errstate(divide="ignore"):
        log_s = np.log(scores) + log_factor.sum(axis=1)
    top = np.max(log_s)
    if not np.isfinite(top):
        return np.zeros_like(scores)
    return np.exp(log_s - top)


def bayes_update_direct(scores: np.ndarray, candidates: np.ndarray, liked: Sequence[int],
                        shown: Sequence[int], sigma: float = SIGMA) -> np.ndarray:
    """The formula written out literally (for teaching and for checking :func:`bayes_update`;
    it underflows after a few rounds, which is why the log-space version is the one used)."""
    scores = np.asarray(scores, dtype=np.float64).copy()
    liked = list(dict.fromkeys(int(i) for i in liked))
    if not liked:
        return scores
    others = [int(i) for i in dict.fromkeys(shown) if int(i) not in set(liked)]
    d = cosine_distance(candidates, candidates)
    for o in range(len(scores)):
        factor = 1.0
        for ell in liked:
            num = np.exp(-d[o, ell] / sigma)
            den = num + sum(np.exp(-d[o, n] / sigma) for n in others)
            factor *= num / den
        scores[o] *= factor
    return scores / scores.max()


def _logsumexp(x: np.ndarray, axis: int) -> np.ndarray:
    top = np.max(x, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    return (top + np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True))).squeeze(axis)


def rank(scores: np.ndarray, k: int | None = None) -> np.ndarray:
    """Indices of the best ``k`` scores, best first (stable for ties)."""
    order = np.argsort(-np.asarray(scores), kind="stable")
    return order if k is None else order[:k]
