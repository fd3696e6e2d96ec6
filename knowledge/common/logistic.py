"""L2-regularised logistic regression by Newton steps: the calibrated confidences of ingestion
are small models over a handful of named features, fitted on labelled data."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def fit_logistic(x: np.ndarray, y: np.ndarray, features: Sequence[str], l2: float = 1.0,
                 steps: int = 50) -> dict[str, float]:
    """Weights per feature name, plus ``bias``, of the logistic regression of ``y`` on ``x``."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(xb @ w)))
        hessian = xb.T @ (xb * (p * (1 - p))[:, None]) + l2 * np.eye(len(w))
        step = np.linalg.solve(hessian, xb.T @ (p - y) + l2 * w)
        w -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return {**{f: round(float(v), 3) for f, v in zip(features, w[:-1], strict=True)},
            "bias": round(float(w[-1]), 3)}
