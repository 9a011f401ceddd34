"""Separable Gaussian smoothing as traceable TensorFlow ops (dynamic shapes and sigmas).

The kernel follows the original EfficientSCN (FLARE21 `inference_tf_utils_module.py gaussian`): radius
ceil(4 sigma + 0.5) voxels, exp(-x^2 / (2 sigma^2)) normalised to sum 1, borders mirrored (the border voxel
repeated, TensorFlow's 'SYMMETRIC'). A sigma of 0 leaves its axis unchanged.
"""
from __future__ import annotations

import tensorflow as tf


def gaussian_kernel(sigma_voxels: tf.Tensor) -> tf.Tensor:
    """The 1D kernel (float32 [2 r + 1], r = ceil(4 sigma + 0.5), r = 0 for sigma <= 0)."""
    sigma = tf.cast(sigma_voxels, tf.float32)
    radius = tf.where(sigma > 0.0, tf.cast(tf.math.ceil(4.0 * sigma + 0.5), tf.int32), 0)
    x = tf.cast(tf.range(-radius, radius + 1), tf.float32)
    kernel = tf.exp(-0.5 * tf.square(x) / tf.square(tf.maximum(sigma, 1e-6)))
    return kernel / tf.reduce_sum(kernel)


def mirrored_indices(size: tf.Tensor, radius: tf.Tensor) -> tf.Tensor:
    """Indices -radius .. size + radius - 1 mirrored into [0, size) with the border repeated (any radius)."""
    period = 2 * size
    index = tf.math.floormod(tf.range(-radius, size + radius), period)
    return tf.where(index < size, index, period - 1 - index)


def _smooth_axis(volume: tf.Tensor, axis: int, sigma: tf.Tensor) -> tf.Tensor:
    """Smooths axis `axis` of `volume` [*spatial, C] (C channels, float32)."""
    kernel = gaussian_kernel(sigma)
    radius = (tf.shape(kernel)[0] - 1) // 2
    padded = tf.gather(volume, mirrored_indices(tf.shape(volume)[axis], radius), axis=axis)
    ndim = len(volume.shape) - 1
    single = volume.shape[-1] == 1
    channels_first = padded[None] if single else tf.transpose(padded, [ndim] + list(range(ndim)))[..., None]
    shape = [1] * ndim
    filters = tf.reshape(kernel, tf.tensor_scatter_nd_update(tf.constant(shape + [1, 1]), [[axis]], [-1]))
    convolve = tf.nn.conv3d if ndim == 3 else tf.nn.conv2d
    strides = [1] * (ndim + 2)
    smoothed = convolve(channels_first, filters, strides, "VALID")
    return smoothed[0] if single else tf.transpose(smoothed[..., 0], list(range(1, ndim + 1)) + [0])


def gaussian_filter(volume: tf.Tensor, sigma_voxels: tf.Tensor) -> tf.Tensor:
    """Gaussian smoothing of the spatial axes of `volume` [*spatial, C] (2D or 3D), float32.

    Args:
        sigma_voxels: float32 [ndim] standard deviations in voxels, array axis order.
    """
    volume = tf.cast(volume, tf.float32)
    sigma = tf.cast(sigma_voxels, tf.float32)
    for axis in range(len(volume.shape) - 1):
        volume = _smooth_axis(volume, axis, sigma[axis])
    return volume
