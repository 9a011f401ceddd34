"""Exact Euclidean distance transform in TensorFlow (graph mode, CPU and GPU: only slicing, concatenation, minimum
and reductions), equal to `scipy.ndimage.distance_transform_edt(mask, sampling=spacing)` wherever the mask has a
background voxel.

The squared distance is separable: one pass per axis replaces f(i) by min over k of f(i + k) + (spacing * k)^2.
Each pass tries k = 1, 2, ... and stops once (spacing * k)^2 reaches the largest value left, after which no
farther voxel can lower any value, so the work grows with the largest distance in the mask, not with the volume's
extent. The passes run on the bounding box of the mask grown by one voxel: the nearest background voxel of any
voxel in the box lies in the box (clamping a farther one onto the box's outer layer, which is background, brings it
closer).
"""
from __future__ import annotations

from typing import Sequence

import tensorflow as tf

from preprocessing.tf_connected_components import grown_box


def _axis_pass(squared: tf.Tensor, spacing: float, axis: int) -> tf.Tensor:
    """min over k of squared[i + k] + (spacing * k)^2 along `axis` (infinite beyond the ends)."""
    rank = squared.shape.rank
    order = [axis] + [a for a in range(rank) if a != axis]
    lines = tf.transpose(squared, order)
    length = tf.shape(lines)[0]
    step = tf.constant(spacing, tf.float32)

    def more(k, best):
        return tf.logical_and(k < length, tf.square(step * tf.cast(k, tf.float32)) < tf.reduce_max(best))

    def closer(k, best):
        pad = tf.fill(tf.concat([[k], tf.shape(lines)[1:]], 0), tf.constant(float("inf")))
        ahead = tf.concat([lines[k:], pad], 0)
        behind = tf.concat([pad, lines[:length - k]], 0)
        best = tf.minimum(best, tf.minimum(ahead, behind) + tf.square(step * tf.cast(k, tf.float32)))
        return k + 1, best

    _, best = tf.while_loop(more, closer, (tf.constant(1), lines))
    return tf.transpose(best, tf.argsort(order))


def distance_transform_edt(mask: tf.Tensor, spacing: Sequence[float]) -> tf.Tensor:
    """Distance (in the units of `spacing`, e.g. mm) from each True voxel of `mask` to the nearest False voxel;
    0 on False voxels, infinite where the array has no False voxel. `mask` is boolean of any rank (axis order as
    `spacing`, e.g. (z, y, x))."""
    mask = tf.convert_to_tensor(mask, tf.bool)
    if len(spacing) != mask.shape.rank:
        raise ValueError(f"spacing has {len(spacing)} values for a mask of rank {mask.shape.rank}")

    def transform() -> tf.Tensor:
        start, end = grown_box(mask)
        crop = tf.slice(mask, start, end - start)
        squared = tf.where(crop, tf.constant(float("inf")), tf.constant(0.0))
        for axis, step in enumerate(spacing):
            squared = _axis_pass(squared, float(step), axis)
        return tf.pad(tf.sqrt(squared), tf.stack([start, tf.shape(mask) - end], axis=1))

    return tf.cond(tf.reduce_any(mask), transform, lambda: tf.zeros(tf.shape(mask), tf.float32))
