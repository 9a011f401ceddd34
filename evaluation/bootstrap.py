"""Bootstrap intervals over cases, as pure NumPy functions: the rule the LUNA16 evaluation script uses for its CPM
interval (cases resampled with replacement, bounds read from the sorted samples), shared by the nodule FROC and the
interactive Dice-vs-clicks curves."""
from __future__ import annotations

import numpy as np


def percentile_interval(samples: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, lower, upper) of 1-D bootstrap samples: the bounds are the sorted samples at floor(p x n) for
    p = (1 -/+ confidence) / 2 (the upper index capped at n - 1), as the LUNA16 script reads them."""
    ordered = np.sort(np.asarray(samples, np.float64))
    if not ordered.size:
        raise ValueError("no bootstrap samples")
    tail = (1.0 - confidence) / 2.0
    return (float(ordered.mean()), float(ordered[int(np.floor(tail * ordered.size))]),
            float(ordered[min(int(np.floor((1.0 - tail) * ordered.size)), ordered.size - 1)]))


def mean_intervals(values: np.ndarray, samples: int = 1000, confidence: float = 0.95,
                   seed: int = 0) -> list[tuple[float, float, float]]:
    """Per column of `values` [cases, quantities] (e.g. Dice after 0..N clicks), the bootstrap interval of the
    column's mean over cases: `samples` draws of as many cases with replacement, the same cases for every column
    (so a curve's points move together), read by `percentile_interval`. Returns (mean of the samples, lower, upper)
    per column."""
    values = np.asarray(values, np.float64)
    if values.ndim != 2 or not values.shape[0]:
        raise ValueError(f"values must be [cases, quantities] with at least one case (got shape {values.shape})")
    drawn = np.random.default_rng(seed).integers(0, values.shape[0], (samples, values.shape[0]))
    means = values[drawn].mean(axis=1)
    return [percentile_interval(means[:, column], confidence) for column in range(values.shape[1])]
