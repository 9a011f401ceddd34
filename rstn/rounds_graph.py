"""The whole RSTN testing loop in TensorFlow, so that one SavedModel signature runs it: the coarse stage on the
three planes, their mean thresholded at the fine threshold (round 0, as the original's `coarse2fine_testing.py`),
then the fine rounds in a `tf.while_loop` with the rule of `rstn.fusion.coarse_to_fine` (its `mean_of_planes` and
`fused_mask`, which take tensors; post-processing with `preprocessing.tf_connected_components.keep_large_components`;
inter-round DSC; the rounds stop at the first inter-round DSC >= stop_dsc or after max_rounds, and an empty mask ends
the run). A round works in its box: the previous mask's box grown by the largest growth of the planes' fine regions
(`rstn.volume_inference.fine_growth`), outside which every plane's fine output is 0, so the fusion, the
post-processing and the DSC touch only that box (on the 512 x 512 x 240 benchmark volume, whole-volume temporaries
cost more than the fine networks: TensorFlow's `count_nonzero` alone casts a mask to 503 MB of int64), with the
same result as on the whole volume.

Volumes are [z, y, x] in canonical orientation; probabilities float32, masks uint8 {0, 1}.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

import tensorflow as tf

from evaluation.tf_metrics import dice
from preprocessing.tf_connected_components import grown_box, keep_large_components
from rstn.config import RSTNConfig
from rstn.fusion import fused_mask, mean_of_planes
from rstn.model import RSTN
from rstn.volume_inference import fine_growth, fine_probabilities, model_coarse_probabilities

Box = tuple[tf.Tensor, tf.Tensor]
"""int32 start and end (exclusive) [z, y, x] of a box of the volume."""
FineFn = Callable[[tf.Tensor, tf.Tensor, Box], tf.Tensor]
"""(previous round's fused probabilities float32 [z, y, x], its mask uint8 [z, y, x], the round's box) -> the mean
of the planes' fine probabilities float32 on the box, [z, y, x] of the box's size (0 outside the planes' fine
regions, which the box holds)."""


@dataclasses.dataclass(frozen=True)
class GraphRounds:
    """The outcome of the rounds, as tensors.

    Attributes:
        labels: uint8 [z, y, x], the last round's mask (the stop round's, as the rounds end there).
        coarse_labels: uint8 [z, y, x], round 0 (the coarse fusion).
        rounds: int32 [], the fine rounds run.
        inter_round_dsc: float32 [rounds], the DSC of each fine round's mask with the previous round's.
    """

    labels: tf.Tensor
    coarse_labels: tf.Tensor
    rounds: tf.Tensor
    inter_round_dsc: tf.Tensor


@dataclasses.dataclass(frozen=True)
class FineRound:
    """One fine round's outcome: `score` float32 and `mask` uint8 [z, y, x] (the mean of the planes' fine
    probabilities and its post-processed mask), `dsc` float64 [] (inter-round DSC with the previous mask)."""

    score: tf.Tensor
    mask: tf.Tensor
    dsc: tf.Tensor


def fine_round(score: tf.Tensor, mask: tf.Tensor, fine: FineFn, reach: Sequence[int], fine_threshold: float,
               postprocess_threshold: float) -> FineRound:
    """One fine round from the previous round's `score` (float32) and `mask` (uint8 [z, y, x]) by the rule of
    `rstn.fusion.next_round`, in the round's box: `mask`'s box grown by `reach` voxels per axis [z, y, x], which
    must hold every voxel `fine` can make non-zero. An empty `mask` gives an empty round (score 0, DSC 1), as there."""
    mask = tf.convert_to_tensor(mask, tf.uint8)
    score = tf.convert_to_tensor(score, tf.float32)
    present = mask > 0

    def in_box() -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        start, end = grown_box(present, list(reach))
        score_box = tf.ensure_shape(fine(score, mask, (start, end)), [None] * 3)
        refined = keep_large_components(fused_mask(score_box, fine_threshold), postprocess_threshold,
                                         tf.size(mask, out_type=tf.int64))
        value = dice(tf.slice(mask, start, end - start), refined)
        paddings = tf.stack([start, tf.shape(mask) - end], axis=1)
        return tf.pad(score_box, paddings), tf.pad(refined, paddings), value

    def empty() -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        return tf.zeros_like(score), tf.zeros_like(mask), tf.constant(1.0, tf.float64)

    return FineRound(*tf.cond(tf.reduce_any(present), in_box, empty))


def coarse_to_fine_rounds(coarse: tf.Tensor, fine: FineFn, reach: Sequence[int], fine_threshold: float,
                          postprocess_threshold: float, max_rounds: int, stop_dsc: float) -> GraphRounds:
    """The fine rounds (`fine_round`, boxes grown by `reach`) from the coarse fusion `coarse` (mean of the planes'
    coarse probabilities) by the rule of `rstn.fusion.coarse_to_fine`: round 0 is `coarse` >= fine_threshold, as
    every round (the DSC is compared with `stop_dsc` in float64, as there)."""
    coarse = tf.convert_to_tensor(coarse, tf.float32)
    first = fused_mask(coarse, fine_threshold)

    def more(round_, score, mask, dscs, stopped):
        del score, dscs
        return (round_ < max_rounds) & tf.logical_not(stopped) & tf.reduce_any(mask > 0)

    def body(round_, score, mask, dscs, stopped):
        del stopped
        result = fine_round(score, mask, fine, reach, fine_threshold, postprocess_threshold)
        score = tf.ensure_shape(result.score, coarse.shape)
        mask = tf.ensure_shape(result.mask, coarse.shape)
        return round_ + 1, score, mask, dscs.write(round_, result.dsc), result.dsc >= stop_dsc

    start = (tf.constant(0), coarse, first, tf.TensorArray(tf.float64, size=0, dynamic_size=True, element_shape=[]),
             tf.constant(False))
    rounds, _, last, dscs, _ = tf.while_loop(more, body, start)
    return GraphRounds(last, first, rounds, tf.cast(dscs.stack(), tf.float32))


def round_reach(configs: Mapping[str, RSTNConfig]) -> list[int]:
    """Per axis [z, y, x], the largest growth of the planes' fine regions: a round's box holds all of them."""
    return [max(values) for values in zip(*(fine_growth(plane, config) for plane, config in configs.items()))]


def planes_fine(volume: tf.Tensor, slice_batch: tf.Tensor, models: Mapping[str, RSTN],
                configs: Mapping[str, RSTNConfig]) -> FineFn:
    """The `FineFn` of the planes' models: the mean of their `fine_probabilities` on the round's box."""
    def fine(score: tf.Tensor, mask: tf.Tensor, box: Box) -> tf.Tensor:
        return mean_of_planes([fine_probabilities(volume, score, mask, plane, model, configs[plane], slice_batch, box)
                               for plane, model in models.items()])

    return fine


def planes_fine_round(volume: tf.Tensor, score: tf.Tensor, mask: tf.Tensor, slice_batch: tf.Tensor,
                      models: Mapping[str, RSTN], configs: Mapping[str, RSTNConfig],
                      rounds_config: RSTNConfig) -> FineRound:
    """One fine round of the planes' models on a volume [z, y, x] HU from the previous round's `score` and `mask`
    (`fine_round` with `planes_fine`, `round_reach` and `rounds_config`'s thresholds): the loop body of
    `segment_volume`."""
    return fine_round(score, mask, planes_fine(volume, slice_batch, models, configs), round_reach(configs),
                      rounds_config.fine_threshold, rounds_config.postprocess_threshold)


def segment_volume(volume: tf.Tensor, slice_batch: tf.Tensor, models: Mapping[str, RSTN],
                   configs: Mapping[str, RSTNConfig], rounds_config: RSTNConfig) -> GraphRounds:
    """RSTN on a volume [z, y, x] HU: each plane's coarse stage with its model and config, the rounds with the
    fine threshold, post-processing fraction, maximum rounds and stop DSC of `rounds_config`; `slice_batch` stacks per
    network call."""
    coarse = mean_of_planes([model_coarse_probabilities(volume, plane, model, configs[plane], slice_batch)
                             for plane, model in models.items()])
    return coarse_to_fine_rounds(coarse, planes_fine(volume, slice_batch, models, configs), round_reach(configs),
                                 rounds_config.fine_threshold, rounds_config.postprocess_threshold,
                                 rounds_config.max_rounds, rounds_config.stop_dsc)
