"""Traceable linear / nearest samplers (TensorFlow ops, dynamic shapes, 2D and 3D).

Coordinates are continuous voxel indices in array axis order; voxel i covers [i - 0.5, i + 0.5].
Outside-the-grid behaviour follows ITK's interpolators, so results agree with SimpleITK: a point
in [-0.5, size - 0.5) takes the clamped border neighbour at the edges, a point outside that takes
`default_value`.
"""
from __future__ import annotations

from typing import Literal

import tensorflow as tf

Method = Literal["linear", "nearest"]


def axis_weights(coord: tf.Tensor, size: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
    """Neighbour indices (i0, i1), weight of i1, and inside-mask for coordinates along one axis."""
    size_f = tf.cast(size, coord.dtype)
    inside = (coord >= -0.5) & (coord < size_f - 0.5)
    floor = tf.floor(coord)
    weight = coord - floor
    i0 = tf.clip_by_value(tf.cast(floor, tf.int32), 0, size - 1)
    i1 = tf.clip_by_value(tf.cast(floor, tf.int32) + 1, 0, size - 1)
    return i0, i1, weight, inside


def resample_axis_aligned(image: tf.Tensor, out_shape: tf.Tensor, scale: tf.Tensor, offset: tf.Tensor,
                          method: Method = "linear", default_value: float = 0.0) -> tf.Tensor:
    """Resamples the leading spatial axes of `image` on an axis-aligned grid, separably.

    Output voxel j along spatial axis a samples input coordinate `j * scale[a] + offset[a]`
    (continuous voxel index). Trailing axes beyond len(out_shape) (channels) are carried along.

    Args:
        image: [*spatial, *rest] tensor (integer images are sampled in float32 for 'linear').
        out_shape: [ndim] int32, output spatial shape.
        scale, offset: [ndim] float32, per spatial axis (array order).
        method: 'linear' (separable = exact multilinear interpolation) or 'nearest'.
        default_value: value for points outside the input grid.
    """
    image = tf.convert_to_tensor(image)
    if method == "linear" and not image.dtype.is_floating:
        image = tf.cast(image, tf.float32)
    out_shape = tf.cast(out_shape, tf.int32)
    scale = tf.cast(scale, tf.float32)
    offset = tf.cast(offset, tf.float32)
    ndim = out_shape.shape[0]
    out = image
    for axis in range(ndim):
        size = tf.shape(out)[axis]
        coord = tf.cast(tf.range(out_shape[axis]), tf.float32) * scale[axis] + offset[axis]
        if method == "nearest":
            coord = tf.floor(coord + 0.5)
        i0, i1, weight, inside = axis_weights(coord, size)
        broadcast = [-1 if a == axis else 1 for a in range(len(out.shape))]
        lower = tf.gather(out, i0, axis=axis)
        if method == "linear":
            upper = tf.gather(out, i1, axis=axis)
            w = tf.reshape(tf.cast(weight, out.dtype), broadcast)
            lower = lower + (upper - lower) * w
        out = tf.where(tf.reshape(inside, broadcast), lower, tf.cast(default_value, out.dtype))
    return out


def sample(image: tf.Tensor, coords: tf.Tensor, method: Method = "linear", default_value: float = 0.0) -> tf.Tensor:
    """Samples `image` at arbitrary continuous coordinates (general warps: affine, elastic).

    Args:
        image: [*spatial, channels] tensor with ndim spatial axes (ndim = coords.shape[-1]).
        coords: [*out_spatial, ndim] float32 continuous indices, array axis order.
        method: 'linear' (multilinear over the 2**ndim corners) or 'nearest'.

    Returns:
        [*out_spatial, channels] tensor of image's dtype.
    """
    image = tf.convert_to_tensor(image)
    coords = tf.cast(coords, tf.float32)
    ndim = coords.shape[-1]
    sizes = tf.shape(image)[:ndim]
    if method == "nearest":
        coords = tf.floor(coords + 0.5)
    axes = [axis_weights(coords[..., a], sizes[a]) for a in range(ndim)]
    inside = tf.reduce_all(tf.stack([a[3] for a in axes], axis=-1), axis=-1)
    compute_dtype = image.dtype if image.dtype.is_floating else tf.float32
    if method == "nearest":
        result = tf.gather_nd(image, tf.stack([a[0] for a in axes], axis=-1))
    else:
        result = 0.0
        for corner in range(2 ** ndim):
            bits = [(corner >> (ndim - 1 - a)) & 1 for a in range(ndim)]
            index = tf.stack([axes[a][1] if bits[a] else axes[a][0] for a in range(ndim)], axis=-1)
            weight = 1.0
            for a in range(ndim):
                weight = weight * (axes[a][2] if bits[a] else 1.0 - axes[a][2])
            value = tf.cast(tf.gather_nd(image, index), compute_dtype)
            result = result + value * tf.cast(weight, compute_dtype)[..., None]
        result = tf.cast(result, image.dtype)
    return tf.where(inside[..., None], result, tf.cast(default_value, image.dtype))
