"""The whole RSTN testing loop in TensorFlow, so that one SavedModel signature runs it: the coarse stage on the
three planes, their mean thresholded at the fine threshold (round 0, as the original's `coarse2fine_testing.py`),
then the fine rounds in a `tf.while_loop` with the rule of `rstn.fusion.coarse_to_fine` (its `mean_of_planes` and
`fused_mask`, which take tensors; post-processing with `preprocessing.tf_connected_components.keep_large_components`;
inter-round DSC; the rounds stop at the first inter-round DSC >= stop_dsc or after max_rounds, and an empty mask ends
the run).

Volumes are [z, y, x] in canonical orientation; probabilities float32, masks uint8 {0, 1}.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import tensorflow as tf

from evaluation.tf_metrics import dice
from preprocessing.tf_connected_components import keep_large_components
from rstn.config import RSTNConfig
from rstn.fusion import fused_mask, mean_of_planes
from rstn.model import RSTN
from rstn.volume_inference import fine_probabilities, model_coarse_probabilities

FineFn = Callable[[tf.Tensor, tf.Tensor], tf.Tensor]
"""(previous round's fused probabilities float32 [z, y, x], its mask uint8 [z, y, x]) -> the mean of the planes'
fine probabilities float32 [z, y, x]."""


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


def coarse_to_fine_rounds(coarse: tf.Tensor, fine: FineFn, fine_threshold: float, postprocess_threshold: float,
                          max_rounds: int, stop_dsc: float) -> GraphRounds:
    """The fine rounds from the coarse fusion `coarse` (mean of the planes' coarse probabilities) by the rule of
    `rstn.fusion.coarse_to_fine`: round 0 is `coarse` >= fine_threshold, as every round (the DSC is compared with
    `stop_dsc` in float64, as there)."""
    coarse = tf.convert_to_tensor(coarse, tf.float32)
    first = fused_mask(coarse, fine_threshold)

    def more(round_, score, mask, dscs, stopped):
        del score, dscs
        return (round_ < max_rounds) & tf.logical_not(stopped) & tf.reduce_any(mask > 0)

    def body(round_, score, mask, dscs, stopped):
        del stopped
        score = tf.ensure_shape(fine(score, mask), coarse.shape)
        refined = keep_large_components(fused_mask(score, fine_threshold), postprocess_threshold)
        value = dice(mask, refined)
        return round_ + 1, score, refined, dscs.write(round_, value), value >= stop_dsc

    start = (tf.constant(0), coarse, first, tf.TensorArray(tf.float64, size=0, dynamic_size=True, element_shape=[]),
             tf.constant(False))
    rounds, _, last, dscs, _ = tf.while_loop(more, body, start)
    return GraphRounds(last, first, rounds, tf.cast(dscs.stack(), tf.float32))


def segment_volume(volume: tf.Tensor, slice_batch: tf.Tensor, models: Mapping[str, RSTN],
                   configs: Mapping[str, RSTNConfig], rounds_config: RSTNConfig) -> GraphRounds:
    """RSTN on a volume [z, y, x] HU: each plane's coarse stage with its model and config, the rounds with the
    fine threshold, post-processing fraction, maximum rounds and stop DSC of `rounds_config`; `slice_batch` stacks per
    network call."""
    coarse = mean_of_planes([model_coarse_probabilities(volume, plane, model, configs[plane], slice_batch)
                             for plane, model in models.items()])

    def fine(score: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
        return mean_of_planes([fine_probabilities(volume, score, mask, plane, model, configs[plane], slice_batch)
                               for plane, model in models.items()])

    return coarse_to_fine_rounds(coarse, fine, rounds_config.fine_threshold, rounds_config.postprocess_threshold,
                                 rounds_config.max_rounds, rounds_config.stop_dsc)
