"""Geometry operations as traceable TensorFlow ops with dynamic shapes.

These mirror `preprocessing.geometry` (which works on NumPy arrays through SimpleITK) and are what
the exported `tf_utils_module` traces. Volumes are [z, y, x] (or [y, x]) tensors, optionally with
trailing channel axes; spacings are float32 [ndim] in mm in the same array axis order. Network input
grids are built by `preprocessing.network_grid`.
"""
from __future__ import annotations

import tensorflow as tf

from preprocessing.tf_sampling import Method, resample_axis_aligned


def resample_to_grid(volume: tf.Tensor, spacing: tf.Tensor, target_shape: tf.Tensor, target_spacing: tf.Tensor,
                     target_offset_mm: tf.Tensor | None = None, method: Method = "linear",
                     default_value: float = 0.0) -> tf.Tensor:
    """Resamples onto an axis-aligned grid of `target_shape` voxels at `target_spacing` (mm).

    `target_offset_mm` is the world offset of the target's voxel 0 from the input's voxel 0, along
    the array axes (0 if None). With the offset and spacing of an original image, this maps a
    prediction back onto the original grid.
    """
    target_spacing = tf.cast(target_spacing, tf.float32)
    spacing = tf.cast(spacing, tf.float32)
    offset = tf.zeros_like(target_spacing) if target_offset_mm is None else tf.cast(target_offset_mm, tf.float32)
    return resample_axis_aligned(volume, target_shape, target_spacing / spacing, offset / spacing, method,
                                 default_value)


def crop_or_pad(volume: tf.Tensor, start: tf.Tensor, shape: tf.Tensor, pad_value: float = 0.0) -> tf.Tensor:
    """The box [start, start + shape) of the leading len(start) axes, padded with `pad_value` outside.

    `start` (int32, array order) may be negative and the box may reach past the volume.
    """
    start = tf.cast(start, tf.int32)
    shape = tf.cast(shape, tf.int32)
    ndim = start.shape[0]
    size = tf.shape(volume)[:ndim]
    before = tf.maximum(-start, 0)
    after = tf.maximum(start + shape - size, 0)
    rest = tf.rank(volume) - ndim
    paddings = tf.concat([tf.stack([before, after], axis=1), tf.zeros([rest, 2], tf.int32)], axis=0)
    padded = tf.pad(volume, paddings, constant_values=tf.cast(pad_value, volume.dtype))
    begin = tf.concat([start + before, tf.zeros([rest], tf.int32)], axis=0)
    extent = tf.concat([shape, tf.fill([rest], -1)], axis=0)
    return tf.slice(padded, begin, extent)


def paste(cropped: tf.Tensor, start: tf.Tensor, full_shape: tf.Tensor, fill_value: float = 0.0) -> tf.Tensor:
    """Inverse of `crop_or_pad`: places `cropped` at `start` into a volume of `full_shape`."""
    return crop_or_pad(cropped, -tf.cast(start, tf.int32), full_shape, fill_value)


def letterbox(image: tf.Tensor, size: int, method: str = "area", pad_value: float = 0.0) -> tuple[tf.Tensor, tf.Tensor]:
    """Resizes a 2D image [H, W, C] so its long side is `size` (aspect kept) and pads it to [size, size, C].

    The image is placed at the top-left corner. Returns (letterboxed image, resized shape [2] int32).
    `method`: 'area' for images, 'nearest' for labels.
    """
    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    scale = size / tf.reduce_max(shape)
    resized_shape = tf.maximum(tf.cast(tf.round(shape * scale), tf.int32), 1)
    resized = tf.image.resize(image, resized_shape, method=method)
    padded = tf.pad(resized, [[0, size - resized_shape[0]], [0, size - resized_shape[1]], [0, 0]],
                    constant_values=pad_value)
    return tf.cast(padded, image.dtype), resized_shape
