"""Testing-stage volume math of the original: the fusion of the three planes, the removal of small connected
components, and the coarse-to-fine rounds with their stopping rule (`coarse_fusion.py`,
`coarse2fine_testing.py`, `SWIG_fast_functions/fast_functions.cc`).

Probability and mask volumes are arrays [z, y, x]; masks are uint8 {0, 1}. `mean_of_planes` and `fused_mask` also
take tensors, so that `rstn.rounds_graph` runs the same rule in the graph.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np
import SimpleITK as sitk
import tensorflow as tf

from evaluation.metrics import dice
from inference.postprocess import labelled_box, value_counts

# The coarse fusion variants of `coarse_fusion.py`: the sum of the three planes' probabilities >= 0.5 ('F1',
# any plane), >= 1.5 ('F2', majority) or >= 2.5 ('F3', all).
FUSION_SUM_THRESHOLDS = {"F1": 0.5, "F2": 1.5, "F3": 2.5}


def mean_of_planes(probabilities: Sequence[np.ndarray | tf.Tensor]) -> np.ndarray | tf.Tensor:
    """Mean of the planes' float32 probability volumes (the coarse-to-fine fusion): summed in the planes' order and
    divided in float32, the same bits from NumPy arrays (an array) and from tensors (a tensor)."""
    total = probabilities[0]
    for volume in probabilities[1:]:
        total = total + volume
    return total / np.float32(len(probabilities))


def fused_mask(probabilities: np.ndarray | tf.Tensor, threshold: float) -> np.ndarray | tf.Tensor:
    """uint8 mask of float32 `probabilities` >= `threshold` (compared in float32), an array or a tensor as they
    are."""
    above = probabilities >= threshold
    return tf.cast(above, tf.uint8) if tf.is_tensor(above) else above.astype(np.uint8)


def remove_small_components(mask: np.ndarray, threshold: float) -> np.ndarray:
    """The original's post-processing: keeps the 6-connected components of `mask` whose size is at least
    `threshold` times the largest one's. An empty mask, or one covering half the volume or more, is returned
    unchanged. Works inside the mask's bounding box."""
    total = int(mask.sum())
    if total == 0 or total >= mask.size // 2:
        return mask
    box = labelled_box(mask)
    components = sitk.GetArrayFromImage(sitk.ConnectedComponent(sitk.GetImageFromArray(mask[box].astype(np.uint8)),
                                                                False))
    sizes = value_counts(components, int(components.max()))
    sizes[0] = 0
    keep = sizes >= threshold * sizes.max()
    keep[0] = False
    result = np.zeros_like(mask)
    result[box] = keep[components].astype(mask.dtype)
    return result


FineFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""(previous round's fused probabilities [z, y, x], its mask [z, y, x]) -> the mean of the planes' fine
probabilities [z, y, x]."""


def next_round(fine: FineFn, score: np.ndarray, mask: np.ndarray, fine_threshold: float,
               postprocess_threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """One fine round from the previous round's fused probabilities `score` and `mask`: (the mean of the planes'
    fine probabilities, their mask >= `fine_threshold` after post-processing)."""
    score = fine(score, mask)
    return score, remove_small_components(fused_mask(score, fine_threshold), postprocess_threshold)


@dataclasses.dataclass(frozen=True)
class Rounds:
    """The masks of a coarse-to-fine run.

    Attributes:
        masks: round 0 (coarse fusion) and each fine round's post-processed mask.
        inter_dsc: DSC of each fine round's mask with the previous round's (index r-1 for round r).
        stop_round: the first round whose inter-round DSC reached the threshold, else the last round run.
    """

    masks: list[np.ndarray]
    inter_dsc: list[float]
    stop_round: int

    @property
    def final(self) -> np.ndarray:
        return self.masks[self.stop_round]


def coarse_to_fine(coarse: np.ndarray, fine: FineFn, fine_threshold: float, postprocess_threshold: float,
                   max_rounds: int, stop_dsc: float, run_all_rounds: bool = False) -> Rounds:
    """Runs the fine rounds from the coarse fusion `coarse` (mean of the planes' probabilities).

    Round 0 is `coarse` >= fine_threshold. Round r >= 1: `fine(score, mask)` with the previous round's fused
    probabilities and mask gives the mean of the planes' fine probabilities, thresholded at `fine_threshold`
    and post-processed. The rounds stop at the first inter-round DSC >= `stop_dsc` (the original's reported
    result) or after `max_rounds`; `run_all_rounds` runs every round (the original's testing protocol, which
    reports each round) while keeping the same stop round. An empty mask ends the run (nothing to refine).
    """
    score = coarse
    masks = [fused_mask(coarse, fine_threshold)]
    inter: list[float] = []
    stop = None
    for round_index in range(1, max_rounds + 1):
        previous = masks[-1]
        if not previous.any():
            break
        score, mask = next_round(fine, score, previous, fine_threshold, postprocess_threshold)
        masks.append(mask)
        inter.append(dice(previous, mask))
        if stop is None and inter[-1] >= stop_dsc:
            stop = round_index
            if not run_all_rounds:
                break
    return Rounds(masks, inter, len(masks) - 1 if stop is None else stop)
