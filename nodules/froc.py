"""FROC and CPM of a nodule detector with the LUNA16 rules (the challenge's evaluation script,
noduleCADEvaluationLUNA16.py), as pure NumPy functions on world coordinates in mm.

Per scan at most `MAX_MARKS` detections (the most probable) are evaluated. A detection hits a nodule when its
centre lies strictly inside the nodule's sphere (squared distance < (diameter / 2)^2). Each reference nodule
contributes its most probable hit as a true positive (other hits on it are ignored, not false positives) or,
when missed, counts in the sensitivity's denominator only. Detections hitting an irrelevant finding
(annotations_excluded.csv; a diameter below 0 stands for `UNKNOWN_DIAMETER_MM`) are ignored; every other
detection is a false positive. The FROC curve is the ROC curve of the true and false positives, rescaled: false
positives per scan = FPR x false positives / scans, sensitivity = TPR x detected / nodules. CPM is the mean
sensitivity at `CPM_RATES` false positives per scan, read from that curve (linear interpolation) where the
official script reads it: at the point of its grid linspace(0.125, 8, 10001) nearest each rate (within 3e-4), so
a vertical step exactly at a rate counts as the script counts it. Ties in score at the `MAX_MARKS` cut keep the
first marks in file order (the script drops every mark tied with the first one left out).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from evaluation.bootstrap import percentile_interval

MAX_MARKS = 100
UNKNOWN_DIAMETER_MM = 10.0
CPM_RATES = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
_SCRIPT_GRID = np.linspace(0.125, 8.0, 10001)
CPM_READ_POINTS = tuple(float(_SCRIPT_GRID[np.abs(_SCRIPT_GRID - rate).argmin()]) for rate in CPM_RATES)


@dataclasses.dataclass(frozen=True)
class ScanFindings:
    """One scan's references and detections, world coordinates (x, y, z) in mm.

    Attributes:
        nodules: [n, 3] centres of the reference nodules; nodule_diameters_mm: [n].
        irrelevant: [m, 3] centres of findings that count neither way; irrelevant_diameters_mm: [m] (< 0: unknown).
        detections: [k, 3] detection centres; probabilities: [k] their scores.
    """
    nodules: np.ndarray
    nodule_diameters_mm: np.ndarray
    detections: np.ndarray
    probabilities: np.ndarray
    irrelevant: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 3)))
    irrelevant_diameters_mm: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))


@dataclasses.dataclass(frozen=True)
class ScanOutcome:
    """What one scan contributes: per reference nodule its best hit's score (NaN: missed), and the scores of the
    false positives."""
    nodule_scores: np.ndarray
    false_positive_scores: np.ndarray


def _hits(centres: np.ndarray, diameters_mm: np.ndarray, detections: np.ndarray) -> np.ndarray:
    """[references, detections] True where the detection centre lies strictly inside the reference sphere."""
    radius = np.where(diameters_mm < 0, UNKNOWN_DIAMETER_MM, diameters_mm) / 2.0
    squared = ((centres[:, None, :] - detections[None, :, :]) ** 2).sum(axis=-1)
    return squared < (radius ** 2)[:, None]


def scan_outcome(scan: ScanFindings, max_marks: int = MAX_MARKS) -> ScanOutcome:
    """Matches one scan's detections (its `max_marks` most probable) against its nodules and irrelevant findings."""
    order = np.argsort(-np.asarray(scan.probabilities, np.float64), kind="stable")[:max_marks]
    detections = np.asarray(scan.detections, np.float64).reshape(-1, 3)[order]
    probabilities = np.asarray(scan.probabilities, np.float64)[order]
    nodule_hits = _hits(np.asarray(scan.nodules, np.float64).reshape(-1, 3),
                        np.asarray(scan.nodule_diameters_mm, np.float64), detections)
    irrelevant_hits = _hits(np.asarray(scan.irrelevant, np.float64).reshape(-1, 3),
                            np.asarray(scan.irrelevant_diameters_mm, np.float64), detections)
    nodule_scores = np.where(nodule_hits, probabilities[None, :], -np.inf).max(axis=1, initial=-np.inf)
    nodule_scores[np.isneginf(nodule_scores)] = np.nan
    false_positive = ~nodule_hits.any(axis=0) & ~irrelevant_hits.any(axis=0)
    return ScanOutcome(nodule_scores, probabilities[false_positive])


def froc_curve(outcomes: list[ScanOutcome]) -> tuple[np.ndarray, np.ndarray]:
    """(false positives per scan, sensitivity) at each score threshold, from the highest score down, starting at
    (0, 0). A detector without false positives gives FP rate 0 at every threshold."""
    scores = [o.nodule_scores for o in outcomes]
    nodule_scores = np.concatenate(scores) if scores else np.zeros(0)
    detected = nodule_scores[~np.isnan(nodule_scores)]
    false_positives = np.concatenate([o.false_positive_scores for o in outcomes]) if outcomes else np.zeros(0)
    if nodule_scores.size == 0:
        raise ValueError("no reference nodules: sensitivity is undefined")
    thresholds = np.unique(np.concatenate([detected, false_positives]))[::-1]
    true_counts = (detected[None, :] >= thresholds[:, None]).sum(axis=1)
    false_counts = (false_positives[None, :] >= thresholds[:, None]).sum(axis=1)
    fp_rate = np.concatenate([[0.0], false_counts / len(outcomes)])
    sensitivity = np.concatenate([[0.0], true_counts / nodule_scores.size])
    return fp_rate, sensitivity


def sensitivity_at(fp_rate: np.ndarray, sensitivity: np.ndarray, rates=CPM_READ_POINTS) -> np.ndarray:
    """Sensitivity at the given false-positive rates per scan (linear interpolation; beyond the curve's last rate,
    its final sensitivity)."""
    return np.interp(np.asarray(rates, np.float64), fp_rate, sensitivity)


def cpm(outcomes: list[ScanOutcome]) -> tuple[float, np.ndarray]:
    """(CPM, sensitivity at each of `CPM_RATES`)."""
    sensitivities = sensitivity_at(*froc_curve(outcomes))
    return float(sensitivities.mean()), sensitivities


def bootstrap_cpm(outcomes: list[ScanOutcome], samples: int = 1000, confidence: float = 0.95,
                  seed: int = 0) -> dict:
    """CPM's and each rate's sensitivity's bootstrap interval over scans (resampled with replacement, as the
    LUNA16 script does; bounds are the sorted samples at floor(p x samples) for p = (1 -/+ confidence) / 2).

    Returns {"cpm": (mean, lower, upper), "sensitivity": [(mean, lower, upper) at each of `CPM_RATES`]}. Samples
    that draw no reference nodule are skipped.
    """
    rng = np.random.default_rng(seed)
    cpms, curves = [], []
    for _ in range(samples):
        drawn = [outcomes[i] for i in rng.integers(0, len(outcomes), len(outcomes))]
        if not any(o.nodule_scores.size for o in drawn):
            continue
        value, sensitivities = cpm(drawn)
        cpms.append(value)
        curves.append(sensitivities)
    if not cpms:
        raise ValueError("no bootstrap sample holds a reference nodule")
    curves = np.asarray(curves)
    return {"cpm": percentile_interval(np.asarray(cpms), confidence),
            "sensitivity": [percentile_interval(curves[:, i], confidence) for i in range(curves.shape[1])]}
