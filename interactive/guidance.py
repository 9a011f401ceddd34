"""Guidance channels from clicks, as the original encodes them (`transforms.AddGuidanceSignal`): per label, a volume
with 1 at each click voxel, filtered by MONAI's Gaussian (the erf kernel: the normal density integrated over each
voxel, not normalised, tails of 4 sigma, zero padding), scaled to [0, 1] by its minimum and maximum, and with disks
binarised at 0.1 (for sigma 1 voxel: the 3x3x3 cube plus the six voxels two steps along an axis).

Clicks are kept as world points (x, y, z) in mm so that they survive resampling and reorientation; they become
array indices (z, y, x) of a grid only when its guidance is built.
"""
from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from preprocessing.image_geometry import ImageGeometry

DISK_THRESHOLD = 0.1


def gaussian_kernel_1d(sigma: float, truncated: float = 4.0) -> np.ndarray:
    """The erf kernel of MONAI's `gaussian_1d` (not normalised): for offsets -tail..tail voxels, the mass of the normal
    density with standard deviation `sigma` (voxels) between offset - 0.5 and offset + 0.5; tail =
    int(max(sigma * truncated, 0.5) + 0.5)."""
    tail = int(max(sigma * truncated, 0.5) + 0.5)
    scale = 1.0 / (math.sqrt(2.0) * sigma)
    return np.array([0.5 * (math.erf(scale * (x + 0.5)) - math.erf(scale * (x - 0.5))) for x in range(-tail, tail + 1)],
                    np.float32)


def world_to_voxel(points_mm: tf.Tensor, origin: tf.Tensor, spacing: tf.Tensor, direction: tf.Tensor
                   ) -> tuple[tf.Tensor, tf.Tensor]:
    """(array indices (z, y, x) int32 [n, 3] of the voxels nearest to world points [n, 3] (x, y, z) in mm, their
    continuous indices (x, y, z) float64 [n, 3]) on the grid of `origin` [3], `spacing` [3] (x, y, z, mm) and
    `direction` [9] (row-major cosines, column i = index axis i)."""
    points = tf.reshape(tf.cast(points_mm, tf.float64), [-1, 3]) - tf.cast(origin, tf.float64)
    matrix = tf.reshape(tf.cast(direction, tf.float64), [3, 3]) * tf.cast(spacing, tf.float64)[None, :]
    index_xyz = tf.linalg.matvec(tf.linalg.inv(matrix), points)
    return tf.cast(tf.round(index_xyz[:, ::-1]), tf.int32), index_xyz


def inside_grid(index_xyz: tf.Tensor, size_xyz: tf.Tensor) -> tf.Tensor:
    """True for continuous indices (x, y, z) [n, 3] within half a voxel of a grid of `size_xyz` voxels."""
    size = tf.cast(size_xyz, tf.float64)
    return tf.reduce_all((index_xyz > -0.5) & (index_xyz < size - 0.5), axis=1)


def click_indices(points_mm: np.ndarray, geometry: ImageGeometry) -> tuple[np.ndarray, np.ndarray]:
    """Array indices (z, y, x), int32 [n, 3], of the voxels nearest to world points [n, 3] (x, y, z) in mm, and a
    boolean [n] that is True where the point lies inside the grid (within half a voxel of its outer centres)."""
    indices, index_xyz = world_to_voxel(np.asarray(points_mm, np.float64).reshape(-1, 3), geometry.origin,
                                        geometry.spacing, geometry.direction)
    return indices.numpy(), inside_grid(index_xyz, geometry.size).numpy()


def _filter_axis(volume: tf.Tensor, kernel: np.ndarray, axis: int) -> tf.Tensor:
    shape = [1, 1, 1, 1, 1]
    shape[axis - 1] = len(kernel)
    return tf.nn.conv3d(volume, tf.constant(kernel.reshape(shape)), strides=[1] * 5, padding="SAME")


def click_signal(indices: tf.Tensor, shape: tf.Tensor, sigma: float = 1.0) -> tf.Tensor:
    """The unscaled guidance (float32, `shape` (z, y, x)) of the clicks at array `indices` [n, 3] (z, y, x; clamped
    into the array as the original does): 1 at each click voxel, filtered by the Gaussian of `sigma` voxels (zero
    padding), so it is zero beyond the kernel's tail from every click."""
    indices = tf.reshape(tf.cast(indices, tf.int32), [-1, 3])
    shape = tf.cast(shape, tf.int32)
    indices = tf.clip_by_value(indices, 0, shape - 1)
    signal = tf.scatter_nd(indices, tf.ones(tf.shape(indices)[:1]), shape)
    signal = tf.minimum(signal, 1.0)[None, ..., None]
    if sigma > 0:
        kernel = gaussian_kernel_1d(sigma)
        for axis in (1, 2, 3):
            signal = _filter_axis(signal, kernel, axis)
    return signal[0, ..., 0]


def scaled_signal(signal: tf.Tensor, low: tf.Tensor, high: tf.Tensor, disks: bool = True) -> tf.Tensor:
    """`signal` scaled to [0, 1] by the channel's minimum `low` and maximum `high` (0 where they are equal), and
    binarised at DISK_THRESHOLD when `disks`."""
    scaled = tf.math.divide_no_nan(signal - low, high - low)
    return tf.cast(scaled > DISK_THRESHOLD, tf.float32) if disks else scaled


def guidance_map(indices: tf.Tensor, shape: tf.Tensor, sigma: float = 1.0, disks: bool = True) -> tf.Tensor:
    """The guidance channel (float32, `shape` (z, y, x)) of the clicks at array `indices` [n, 3] (z, y, x; clamped
    into the array as the original does): zeros without clicks."""
    signal = click_signal(indices, shape, sigma)
    scaled = scaled_signal(signal, tf.reduce_min(signal), tf.reduce_max(signal), disks)
    return tf.cond(tf.size(indices) > 0, lambda: scaled, lambda: tf.zeros(tf.cast(shape, tf.int32), tf.float32))


def guidance_channels(foreground: tf.Tensor, background: tf.Tensor, shape: tf.Tensor, sigma: float = 1.0,
                      disks: bool = True) -> tf.Tensor:
    """[z, y, x, 2]: the lesion guidance then the background guidance (the original's label order)."""
    return tf.stack([guidance_map(foreground, shape, sigma, disks), guidance_map(background, shape, sigma, disks)],
                    axis=-1)
