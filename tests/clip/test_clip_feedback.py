"""The PicHunter/SOMHunter Bayes update: hand-computed cases and the literal formula."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tutor.clip import feedback

SQ = 1 / math.sqrt(2)
# o0 = x axis, o1 = y axis, o2 = the diagonal between them
VECTORS = np.array([[1.0, 0.0], [0.0, 1.0], [SQ, SQ]])


def test_hand_computed_one_like():
    # liked L = {o0}, displayed {o0, o1} so N = {o1}; sigma = 0.1
    # d(o0,o0)=0, d(o0,o1)=1      -> factor 1 / (1 + e^-10)
    # d(o1,o0)=1, d(o1,o1)=0      -> factor e^-10 / (e^-10 + 1)
    # d(o2,o0)=d(o2,o1)=1-1/sqrt2 -> factor 1/2
    # divided by the maximum (o0's): [1, e^-10, (1 + e^-10) / 2]
    new = feedback.bayes_update(np.ones(3), VECTORS, liked=[0], shown=[0, 1])
    expected = [1.0, math.exp(-10), (1 + math.exp(-10)) / 2]
    assert new == pytest.approx(expected, rel=1e-9)


def test_hand_computed_prior_scores_multiply():
    new = feedback.bayes_update(np.array([1.0, 0.5, 0.25]), VECTORS, liked=[0], shown=[0, 1])
    e = math.exp(-10)
    # raw: [1/(1+e), 0.5 e/(1+e), 0.25 * 1/2]; divided by 1/(1+e)
    assert new == pytest.approx([1.0, 0.5 * e, 0.125 * (1 + e)], rel=1e-9)


def test_only_liked_shown_changes_nothing():
    # N empty: every factor is exp(-d/s) / exp(-d/s) = 1
    scores = np.array([0.2, 1.0, 0.7])
    new = feedback.bayes_update(scores, VECTORS, liked=[0, 1], shown=[0, 1])
    assert new == pytest.approx(scores / scores.max())


def test_no_like_is_a_no_op():
    scores = np.array([0.3, 1.0, 0.6])
    assert feedback.bayes_update(scores, VECTORS, liked=[], shown=[0, 1]).tolist() == \
        scores.tolist()


def test_log_space_equals_literal_formula_on_random_data():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(40, 8))
    scores = rng.uniform(0.1, 1.0, 40)
    shown = list(range(0, 12))
    liked = [2, 5, 7]
    fast = feedback.bayes_update(scores, vectors, liked, shown, sigma=0.5)
    slow = feedback.bayes_update_direct(scores, vectors, liked, shown, sigma=0.5)
    assert fast == pytest.approx(slow, rel=1e-9)
    assert fast.max() == pytest.approx(1.0)


def test_rounds_narrow_towards_the_liked_region():
    rng = np.random.default_rng(1)
    cluster = rng.normal(size=(1, 16))
    near = cluster + 0.05 * rng.normal(size=(10, 16))
    far = rng.normal(size=(90, 16))
    vectors = np.vstack([near, far])
    scores = np.ones(100)
    for _ in range(3):
        shown = list(feedback.rank(scores, 12))
        liked = [i for i in shown if i < 10][:1] or [0]
        scores = feedback.bayes_update(scores, vectors, liked, sorted(set(shown) | set(liked)))
    top = set(feedback.rank(scores, 10).tolist())
    assert len(top & set(range(10))) >= 8
    # many rounds never underflow to all-zero: max stays 1
    for _ in range(50):
        scores = feedback.bayes_update(scores, vectors, [0], list(range(20)))
    assert scores.max() == pytest.approx(1.0) and np.isfinite(scores).all()


def test_initial_scores_follow_the_query():
    scores = feedback.initial_scores(VECTORS, np.array([1.0, 0.1]))
    assert scores.argmax() == 0 and scores.max() == pytest.approx(1.0)
    assert scores[2] > scores[1]


def test_bad_indices_are_refused():
    with pytest.raises(ValueError):
        feedback.bayes_update(np.ones(3), VECTORS, liked=[5], shown=[0])
    with pytest.raises(ValueError):
        feedback.bayes_update(np.ones(2), VECTORS, liked=[0], shown=[0])
