"""Separable smoothing and linear resampling as one small matrix per axis, applied with matrix products
(traceable TensorFlow ops, dynamic sizes).

Gaussian smoothing (`preprocessing.tf_smoothing`) and axis-aligned linear sampling (`preprocessing.tf_sampling`)
are both linear along each axis, and operators along different axes commute. So "smooth every axis, then
resample every axis" equals "per axis: smooth it and resample it", and each axis's pair is one matrix
[out voxels, in voxels]. Applied to the last axis first, the largest pass reads the volume once and writes a
volume already reduced along that axis: no full-size copy of the input is made (padding, convolution and gather
each made one before), and the work runs at the machine's matrix-multiply rate on every core.

Coordinates are continuous voxel indices in array axis order; voxel i covers [i - 0.5, i + 0.5]. Points outside
[-0.5, size - 0.5) take the default value, as `tf_sampling.resample_axis_aligned`.
"""
from __future__ import annotations

import tensorflow as tf

from preprocessing.tf_sampling import axis_weights
from preprocessing.tf_smoothing import gaussian_kernel, mirrored_indices


def smoothing_matrix(size: tf.Tensor, sigma_voxels: tf.Tensor) -> tf.Tensor:
    """float32 [size, size]: row i holds the Gaussian kernel (`tf_smoothing.gaussian_kernel`) of output voxel i
    over the input voxels, mirrored borders folded back in (so each row sums to 1)."""
    kernel = gaussian_kernel(sigma_voxels)
    taps = tf.shape(kernel)[0]
    radius = (taps - 1) // 2
    padded = mirrored_indices(size, radius)
    rows = tf.repeat(tf.range(size), taps)
    columns = tf.gather(padded, tf.reshape(tf.range(size)[:, None] + tf.range(taps)[None, :], [-1]))
    return tf.scatter_nd(tf.stack([rows, columns], axis=1), tf.tile(kernel, [size]), tf.stack([size, size]))


def interpolation_matrix(size: tf.Tensor, out_size: tf.Tensor, scale: tf.Tensor,
                         offset: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """(float32 [out_size, size], bool [out_size] inside): output voxel j samples input coordinate
    j * scale + offset linearly (border neighbour clamped as ITK); rows of outside points are zero."""
    coord = tf.cast(tf.range(out_size), tf.float32) * tf.cast(scale, tf.float32) + tf.cast(offset, tf.float32)
    lower, upper, weight, inside = axis_weights(coord, size)
    rows = tf.range(out_size)
    indices = tf.concat([tf.stack([rows, lower], axis=1), tf.stack([rows, upper], axis=1)], axis=0)
    kept = tf.cast(inside, tf.float32)
    updates = tf.concat([(1.0 - weight) * kept, weight * kept], axis=0)
    return tf.scatter_nd(indices, updates, tf.stack([out_size, size])), inside


def resample_with_operators(volume: tf.Tensor, operators: list[tuple[tf.Tensor, tf.Tensor]],
                            default_value: float) -> tf.Tensor:
    """Applies one operator per axis to `volume` [z, y, x] float32: x first, then y, then z.

    Args:
        operators: per axis (z, y, x) (matrix [out, in], inside bool [out]); an output outside along any axis
            is `default_value`.
    """
    (matrix_z, inside_z), (matrix_y, inside_y), (matrix_x, inside_x) = operators
    shape = tf.shape(volume)
    out_z, out_y, out_x = tf.shape(matrix_z)[0], tf.shape(matrix_y)[0], tf.shape(matrix_x)[0]
    rows = tf.matmul(tf.reshape(volume, [-1, shape[2]]), matrix_x, transpose_b=True)
    along_y = tf.matmul(matrix_y[None], tf.reshape(rows, [shape[0], shape[1], out_x]))
    along_z = tf.reshape(tf.matmul(matrix_z, tf.reshape(along_y, [shape[0], -1])), [out_z, out_y, out_x])
    inside = inside_z[:, None, None] & inside_y[None, :, None] & inside_x[None, None, :]
    return tf.where(inside, along_z, tf.cast(default_value, tf.float32))
