"""Intensity normalisation as TensorFlow ops (they accept NumPy arrays too and trace with dynamic shapes).

CT intensities are in Hounsfield units (HU); X-ray intensities are raw pixel values.
"""
from __future__ import annotations

import tensorflow as tf


def clip_shift_scale(image: tf.Tensor, clip_min: float, clip_max: float, shift: float, scale: float) -> tf.Tensor:
    """(clip(image, clip_min, clip_max) + shift) * scale, in float32."""
    image = tf.cast(image, tf.float32)
    return (tf.clip_by_value(image, clip_min, clip_max) + shift) * scale


AIR_HU = -1024.0


def windowed_value(hu: float, window_hu: tuple[float, float]) -> float:
    """The value `window` gives a voxel of `hu` HU (e.g. air outside the volume as the network sees it)."""
    low, high = window_hu
    return float(min(max((hu - (low + high) / 2.0) * 2.0 / (high - low), -1.0), 1.0))


def window(image: tf.Tensor, low: float, high: float) -> tf.Tensor:
    """Maps the intensity window [low, high] (e.g. HU) linearly onto [-1, 1], clipping outside it."""
    centre = (low + high) / 2.0
    return clip_shift_scale(image, low, high, -centre, 2.0 / (high - low))


def zscore(image: tf.Tensor, mask: tf.Tensor | None = None, epsilon: float = 1e-6) -> tf.Tensor:
    """(image - mean) / std, with mean and std over `mask` (non-zero voxels) or the whole image."""
    image = tf.cast(image, tf.float32)
    values = image if mask is None else tf.boolean_mask(image, tf.cast(mask, tf.bool))
    mean = tf.reduce_mean(values)
    std = tf.math.reduce_std(values)
    return (image - mean) / tf.maximum(std, epsilon)


def percentile(image: tf.Tensor, q: float) -> tf.Tensor:
    """The q-th percentile (0..100) of all values, with linear interpolation between ranks."""
    values = tf.sort(tf.reshape(tf.cast(image, tf.float32), [-1]))
    rank = tf.cast(tf.size(values) - 1, tf.float32) * (q / 100.0)
    lower = tf.cast(tf.floor(rank), tf.int32)
    upper = tf.minimum(lower + 1, tf.size(values) - 1)
    fraction = rank - tf.floor(rank)
    return values[lower] + (values[upper] - values[lower]) * fraction


def percentile_normalize(image: tf.Tensor, lower: float = 1.0, upper: float = 99.0,
                         reference: tf.Tensor | None = None) -> tf.Tensor:
    """Maps the [lower, upper] percentile range onto [0, 1] and clips (X-ray normalisation).

    The percentiles are those of `reference` (e.g. the image without padding), or of the image itself.
    """
    values = image if reference is None else reference
    low = percentile(values, lower)
    high = percentile(values, upper)
    scaled = (tf.cast(image, tf.float32) - low) / tf.maximum(high - low, 1e-6)
    return tf.clip_by_value(scaled, 0.0, 1.0)
