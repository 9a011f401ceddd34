"""Simulated corrective clicks (the original's `FindDiscrepancyRegions` + `AddGuidance`, GLOBAL_CORRECTIVE): each
round, one lesion click in the missed lesion (false negatives) and one background click in the false lesion (false
positives), where there are any. The rules for where in its error region a click lands (`InteractiveConfig`):

- 'uniform': any error voxel with equal probability. The original weights voxels by exp(min(d, T)) - 1 with d
  their distance to the region's border and T = floor(ln(float32 max)) / 800^3, about 1.7e-7 voxels; every error voxel
  has d >= 1, so every weight is the same: the original samples uniformly (`utils/distance_transform.py`).
- 'edt_max': the voxel deepest inside the largest 6-connected error region (DeepEdit's intent); the first in C
  order among equally deep ones.
- 'edt_weighted': weights exp(d) - 1 with d in units of the smallest voxel spacing (the original's formula without
  its clipping).

Everything is TensorFlow (graph mode, CPU and GPU); randomness is stateless from a seed [2].
"""
from __future__ import annotations

from typing import Sequence

import tensorflow as tf

from interactive.config import CLICK_RULES
from interactive.distance_transform import distance_transform_edt
from preprocessing.tf_connected_components import largest_component


def error_regions(label: tf.Tensor, prediction: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """(false negatives, false positives) of a binary `prediction` against a binary `label` (same shape): where
    lesion clicks and where background clicks go."""
    label, prediction = tf.cast(label, tf.bool), tf.cast(prediction, tf.bool)
    return tf.logical_and(label, tf.logical_not(prediction)), tf.logical_and(prediction, tf.logical_not(label))


def _uniform(error: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    positions = tf.where(error)
    pick = tf.random.stateless_uniform([], seed, 0, tf.shape(positions, tf.int64)[0], tf.int64)
    return positions[pick]


def _deepest_in_largest(error: tf.Tensor, spacing: Sequence[float]) -> tf.Tensor:
    distance = distance_transform_edt(largest_component(error), spacing)
    return tf.unravel_index(tf.argmax(tf.reshape(distance, [-1])), tf.shape(distance, tf.int64))


def _distance_weighted(error: tf.Tensor, spacing: Sequence[float], seed: tf.Tensor) -> tf.Tensor:
    positions = tf.where(error)
    depth = tf.gather_nd(distance_transform_edt(error, spacing), positions) / min(spacing)
    # log(exp(d) - 1) = d + log(1 - exp(-d)); d >= 1 for every error voxel
    logits = depth + tf.math.log(-tf.math.expm1(-depth))
    pick = tf.random.stateless_categorical(logits[None], 1, seed)[0, 0]
    return positions[pick]


def _pick(error: tf.Tensor, rule: str, spacing: Sequence[float], seed: tf.Tensor) -> tf.Tensor:
    if rule == "uniform":
        return _uniform(error, seed)
    if rule == "edt_max":
        return _deepest_in_largest(error, spacing)
    return _distance_weighted(error, spacing, seed)


def sample_click(error: tf.Tensor, rule: str, spacing: Sequence[float], seed: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """(array index [rank] int32, found) of one click in the boolean `error` region by `rule` ('uniform',
    'edt_max', 'edt_weighted'); `spacing` in mm in the array's axis order; found is False (index zeros) when the
    region is empty."""
    if rule not in CLICK_RULES:
        raise ValueError(f"click rule must be one of {', '.join(CLICK_RULES)} (got {rule!r})")
    error = tf.convert_to_tensor(error, tf.bool)
    found = tf.reduce_any(error)
    index = tf.cond(found, lambda: tf.cast(_pick(error, rule, spacing, tf.cast(seed, tf.int32)), tf.int32),
                    lambda: tf.zeros([error.shape.rank], tf.int32))
    return index, found


def corrective_clicks(label: tf.Tensor, prediction: tf.Tensor, rule: str, spacing: Sequence[float],
                      seed: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
    """One round of simulated clicks: (lesion index, lesion click found, background index, background click
    found), from the false negatives and the false positives of `prediction`."""
    missed, extra = error_regions(label, prediction)
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int32), 2)
    lesion, lesion_found = sample_click(missed, rule, spacing, seeds[0])
    background, background_found = sample_click(extra, rule, spacing, seeds[1])
    return lesion, lesion_found, background, background_found
