"""Quality estimates per lung mask, without a reference, and plausibility notes for masks that cannot be a frontal
chest film's lungs.

Images, probabilities and labels are 2D [y, x] (probabilities [y, x, C]). Two estimates, compared on held-out real
films in docs/cfcm.md:
- `confidence` (the one the pipeline reports as `quality`): the soft Dice of the network's own lung probabilities
  against its thresholded mask. A network sure of every pixel scores 1; a film it hesitates on (blurred borders,
  effusions, an unusual view) scores less. No further network run.
- `agreement`: the mean Dice (both lungs as one region) between the mask and the masks of `PERTURBATIONS` of the
  same image (a margin trimmed all round, a shifted framing, two gamma curves); four more network runs.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from evaluation.metrics import dice

# Each: (name, trimmed fraction of the height and width at the top/left, at the bottom/right, gamma).
PERTURBATIONS = (("trim", 0.05, 0.05, 1.0), ("shift", 0.08, 0.0, 1.0), ("gamma_0.7", 0.0, 0.0, 0.7),
                 ("gamma_1.4", 0.0, 0.0, 1.4))
# Share of the image the lungs cover on a frontal chest film: 8-43 % on the 704 NLM films with masks; outside
# these bounds the mask gets a note.
PLAUSIBLE_LUNG_FRACTION = (0.05, 0.6)


def confidence(probabilities: np.ndarray, labels: np.ndarray, head: str) -> float:
    """Soft Dice 2 sum(p m) / (sum(p) + sum(m)) of the lung probability p (sigmoid head: the largest foreground
    channel; softmax head: 1 - background) and the mask m = labels > 0; 1 when both are empty."""
    if head == "sigmoid":
        lung = probabilities[..., 0].copy()
        for channel in range(1, probabilities.shape[-1]):
            np.maximum(lung, probabilities[..., channel], out=lung)
    else:
        lung = 1.0 - probabilities[..., 0]
    mask = labels > 0
    total = float(lung.sum(dtype=np.float64)) + float(np.count_nonzero(mask))
    return 1.0 if total == 0 else 2.0 * float(np.sum(lung, where=mask, dtype=np.float64)) / total


def perturbed(image: np.ndarray, top_left: float, bottom_right: float, gamma: float) -> tuple[np.ndarray, tuple]:
    """(the perturbed image, its (row0, col0, row1, col1) box in `image`): `top_left` / `bottom_right` of the height
    and width trimmed at those sides, then grey values (min..max of the image) put through `gamma`."""
    height, width = image.shape
    box = (int(round(top_left * height)), int(round(top_left * width)),
           height - int(round(bottom_right * height)), width - int(round(bottom_right * width)))
    view = image[box[0]:box[2], box[1]:box[3]].astype(np.float32)
    if gamma != 1.0:
        low, high = float(view.min()), float(view.max())
        scale = max(high - low, 1e-6)
        view = low + scale * ((view - low) / scale) ** gamma
    return view, box


def agreement(segment: Callable[[np.ndarray], np.ndarray], image: np.ndarray, labels: np.ndarray) -> float:
    """Mean Dice (labels > 0) of `labels` and `segment` (image [h, w] -> labels [h, w]) of each perturbation, the
    perturbed masks put back into their box (outside it: background); 1 when every mask is empty."""
    lungs = labels > 0
    scores = []
    for _, top_left, bottom_right, gamma in PERTURBATIONS:
        view, box = perturbed(image, top_left, bottom_right, gamma)
        other = np.zeros_like(lungs)
        other[box[0]:box[2], box[1]:box[3]] = segment(view) > 0
        scores.append(dice(other, lungs))
    return float(np.mean(scores))


def plausibility_note(labels: np.ndarray, separate: bool) -> str:
    """'' for a mask a frontal chest film's lungs can have, else why not: no lung found, an implausible share of
    the image, or (with right and left labels) one lung only."""
    fraction = float(np.count_nonzero(labels)) / labels.size
    if fraction == 0:
        return "no lung found: not a frontal chest film?"
    low, high = PLAUSIBLE_LUNG_FRACTION
    if not low <= fraction <= high:
        return (f"implausible lung area ({100 * fraction:.1f} % of the image, frontal films: "
                f"{100 * low:.0f}-{100 * high:.0f} %): lateral view or not a chest film?")
    if separate and not ((labels == 1).any() and (labels == 2).any()):
        return "one lung only: lateral view, or a lung not segmented?"
    return ""
