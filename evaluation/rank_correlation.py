"""Spearman's rank correlation of two samples (ties get their mean rank), for quality estimates against true
scores."""
from __future__ import annotations

import numpy as np


def mean_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n of `values`, tied values sharing the mean of their ranks."""
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values), np.float64)
    ranks[order] = np.arange(1, len(values) + 1)
    unique, inverse = np.unique(values, return_inverse=True)
    sums = np.bincount(inverse, weights=ranks, minlength=len(unique))
    return (sums / np.bincount(inverse, minlength=len(unique)))[inverse]


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rho of paired samples x and y (Pearson's r of their mean ranks); NaN when either is constant."""
    rx, ry = mean_ranks(np.asarray(x, np.float64)), mean_ranks(np.asarray(y, np.float64))
    if rx.std() == 0 or ry.std() == 0:
        return float("nan")
    return float(np.corrcoef(rx, ry)[0, 1])
