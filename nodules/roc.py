"""ROC curve and its area for a binary classifier (malignancy), pure NumPy."""
from __future__ import annotations

import numpy as np


def roc_curve(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(false positive rate, true positive rate) at every distinct score threshold from the highest down,
    starting at (0, 0) and ending at (1, 1)."""
    labels = np.asarray(labels).astype(bool)
    scores = np.asarray(scores, np.float64)
    if labels.all() or not labels.any():
        raise ValueError("a ROC curve needs both positive and negative cases")
    thresholds = np.unique(scores)[::-1]
    tp = (scores[labels][None, :] >= thresholds[:, None]).sum(axis=1)
    fp = (scores[~labels][None, :] >= thresholds[:, None]).sum(axis=1)
    return np.concatenate([[0.0], fp / (~labels).sum()]), np.concatenate([[0.0], tp / labels.sum()])


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (trapezoids; ties count one half, as the Mann-Whitney statistic)."""
    fpr, tpr = roc_curve(labels, scores)
    return float(np.trapezoid(tpr, fpr))
