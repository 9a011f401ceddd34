"""Experiments that find out why coarse-to-fine rounds help or hurt on a test case, from the planes' coarse
probabilities and a fine pass that can be fed any score and mask:

- fixed point: one fine round with score = mask = the true organ mask. Near the oracle with precision far above
  recall means fine networks that under-segment even from the perfect input (a recipe problem);
- split round 1: `fine(coarse score, true mask)` (only the saliency input is the coarse one) against
  `fine(true mask as score, round-0 mask)` (only the box is the coarse one), beside the real round 1: which input
  is out of the fine networks' distribution;
- rounds: every round's DSC, precision and recall, and each plane's, for a set of planes (all three, or without
  a weak one).

Volumes are [z, y, x]; masks uint8 {0, 1}; probabilities float32.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from evaluation.metrics import dice
from rstn.fusion import coarse_to_fine, fused_mask, mean_of_planes

PlaneFine = Callable[[str, np.ndarray, np.ndarray], np.ndarray]
"""(plane, score [z, y, x], mask [z, y, x]) -> that plane's fine probabilities [z, y, x]."""


def overlap(mask: np.ndarray, target: np.ndarray, prefix: str = "") -> dict[str, float]:
    """{dsc, precision, recall} of `mask` against `target` (precision 1 for an empty mask, recall 1 for an empty
    target), keys prefixed by `prefix`."""
    predicted, truth = mask.astype(bool), target.astype(bool)
    hits = float(np.count_nonzero(predicted & truth))
    positives, relevant = np.count_nonzero(predicted), np.count_nonzero(truth)
    return {f"{prefix}dsc": dice(predicted, truth),
            f"{prefix}precision": hits / positives if positives else 1.0,
            f"{prefix}recall": hits / relevant if relevant else 1.0}


def fine_round(fine: PlaneFine, planes: Sequence[str], score: np.ndarray, mask: np.ndarray,
               ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(mean of the planes' fine probabilities, {plane: its probabilities}) of one fine round."""
    per_plane = {plane: fine(plane, score, mask) for plane in planes}
    return mean_of_planes(list(per_plane.values())), per_plane


def fixed_point(fine: PlaneFine, planes: Sequence[str], target: np.ndarray, threshold: float) -> dict[str, float]:
    """One fine round from score = mask = `target`: fused and per-plane DSC, precision, recall."""
    truth = target.astype(np.float32)
    fused, per_plane = fine_round(fine, planes, truth, target)
    row = overlap(fused_mask(fused, threshold), target)
    for plane, probabilities in per_plane.items():
        row.update(overlap(fused_mask(probabilities, threshold), target, f"{plane}_"))
    return row


def split_round_one(fine: PlaneFine, planes: Sequence[str], coarse: np.ndarray, target: np.ndarray,
                    threshold: float) -> dict[str, float]:
    """Round 1 and its two halves: `round1_*` = fine(coarse score, round-0 mask), `true_box_*` = fine(coarse
    score, true mask), `true_saliency_*` = fine(true mask as score, round-0 mask); round 0 for reference."""
    round0 = fused_mask(coarse, threshold)
    truth = target.astype(np.float32)
    inputs = {"round1_": (coarse, round0), "true_box_": (coarse, target), "true_saliency_": (truth, round0)}
    row = overlap(round0, target, "round0_")
    for prefix, (score, mask) in inputs.items():
        fused, _ = fine_round(fine, planes, score, mask)
        row.update(overlap(fused_mask(fused, threshold), target, prefix))
    return row


def round_rows(coarse_planes: dict[str, np.ndarray], fine: PlaneFine, planes: Sequence[str], target: np.ndarray,
               fine_threshold: float, postprocess_threshold: float, max_rounds: int, stop_dsc: float,
               ) -> list[dict[str, float | int]]:
    """One row per round (0 = the coarse fusion of `planes`) with the fused mask's DSC, precision and recall, the
    inter-round DSC, and each plane's own (coarse at round 0, fine after): every round is run."""
    per_round: list[dict[str, np.ndarray]] = [{plane: coarse_planes[plane] for plane in planes}]

    def recorded(score: np.ndarray, mask: np.ndarray) -> np.ndarray:
        fused, per_plane = fine_round(fine, planes, score, mask)
        per_round.append(per_plane)
        return fused

    rounds = coarse_to_fine(mean_of_planes([coarse_planes[p] for p in planes]), recorded, fine_threshold,
                            postprocess_threshold, max_rounds, stop_dsc, run_all_rounds=True)
    rows = []
    for index, mask in enumerate(rounds.masks):
        row = {"round": index, **overlap(mask, target),
               "inter_dsc": rounds.inter_dsc[index - 1] if index else float("nan")}
        for plane, probabilities in per_round[index].items():
            row.update(overlap(fused_mask(probabilities, fine_threshold), target, f"{plane}_"))
        rows.append(row)
    return rows
