"""Data augmentation as traceable TensorFlow ops for 2D and 3D, deterministic under a seed.

Every random function takes `seed`, an int32/int64 tensor of shape [2] (stateless random ops), so the
same seed gives the same result inside or outside `tf.data` and `tf.function`. Images are
[*spatial, channels] float tensors in array axis order; label maps are [*spatial] integer tensors.
Image and label share one coordinate grid (affine + B-spline deformation) and one sampler: linear for the image,
nearest for the label, so labels keep their values and stay aligned with the image.
"""
from __future__ import annotations

import dataclasses

import tensorflow as tf

from preprocessing.tf_sampling import sample
from preprocessing.tf_smoothing import gaussian_filter


@dataclasses.dataclass(frozen=True)
class SpatialAugmentation:
    """Random spatial transform, in mm and radians; the defaults are the original EfficientSCN's (FLARE21
    `*/dataset.py spatial_transformation_augmented` with MDAT `transformations/spatial`).

    Attributes:
        translation_mm: maximum absolute shift along each axis, U(-t, t) mm.
        rotation_rad: maximum absolute rotation about each axis (one angle in 2D, three in 3D), radians.
        uniform_scale: one scale factor 1 + U(-u, u) for all axes (> 1 zooms in).
        axis_scale: a further factor 1 + U(-a, a) per axis.
        shear: maximum absolute off-diagonal shear coefficient (0 in the original).
        deformation_nodes: B-spline control points per axis spanning the output grid (0: no deformation).
        deformation_mm: maximum absolute control point displacement, U(-d, d) mm per axis.
        spline_order: order of the deformation's B-spline (2 or 3).
    """

    translation_mm: float = 20.0
    rotation_rad: float = 0.35
    uniform_scale: float = 0.2
    axis_scale: float = 0.1
    shear: float = 0.0
    deformation_nodes: int = 8
    deformation_mm: float = 15.0
    spline_order: int = 2


@dataclasses.dataclass(frozen=True)
class IntensityAugmentation:
    """Random intensity parameters, for images already normalised to about [-1, 1] or [0, 1]. Applied in the
    original EfficientSCN's order (MedicalDataAugmentationTool `change_gamma_unnormalized`, then
    `ShiftScaleClamp`): gamma, + shift, x scale, clamp, then noise.

    Attributes:
        shift: maximum absolute additive shift, U(-shift, shift).
        scale: maximum relative multiplicative change, factor 1 + U(-scale, scale).
        gamma_range: uniform range of the gamma exponent applied on the min-max normalised image
            (None: no gamma).
        noise_std: maximum standard deviation of additive Gaussian noise (0: none).
        clamp: (min, max) the result is clipped to (None: no clipping).
    """

    shift: float = 0.1
    scale: float = 0.25
    gamma_range: tuple[float, float] | None = (0.7, 1.5)
    noise_std: float = 0.05
    clamp: tuple[float, float] | None = None


def _uniform(seed: tf.Tensor, shape: list[int], low: float, high: float) -> tf.Tensor:
    return tf.random.stateless_uniform(shape, seed, minval=low, maxval=high)


def _rotation(angles: tf.Tensor, ndim: int) -> tf.Tensor:
    """Rotation matrix: one angle in 2D, three (about the z, y and x array axes) in 3D."""
    def plane(angle: tf.Tensor, i: int, j: int) -> tf.Tensor:
        c, s = tf.cos(angle), tf.sin(angle)
        eye = tf.eye(ndim)
        return eye + tf.scatter_nd([[i, i], [i, j], [j, i], [j, j]], tf.stack([c - 1, -s, s, c - 1]), [ndim, ndim])

    if ndim == 2:
        return plane(angles[0], 0, 1)
    return plane(angles[0], 1, 2) @ plane(angles[1], 0, 2) @ plane(angles[2], 0, 1)


def random_affine(seed: tf.Tensor, ndim: int, config: SpatialAugmentation) -> tuple[tf.Tensor, tf.Tensor]:
    """A random affine map of output offsets (mm) to input offsets (mm): (matrix [ndim, ndim], shift [ndim] mm)."""
    seeds = tf.random.experimental.stateless_split(seed, 5)
    num_angles = 1 if ndim == 2 else 3
    rotation = _rotation(_uniform(seeds[0], [num_angles], -config.rotation_rad, config.rotation_rad), ndim)
    scale = (1.0 + _uniform(seeds[1], [], -config.uniform_scale, config.uniform_scale)) * (
        1.0 + _uniform(seeds[2], [ndim], -config.axis_scale, config.axis_scale))
    shear = _uniform(seeds[3], [ndim, ndim], -config.shear, config.shear) * (1.0 - tf.eye(ndim))
    matrix = rotation @ (tf.eye(ndim) + shear) @ tf.linalg.diag(1.0 / scale)
    shift = _uniform(seeds[4], [ndim], -config.translation_mm, config.translation_mm)
    return matrix, shift


def bspline_matrix(size: tf.Tensor, nodes: int, order: int) -> tf.Tensor:
    """[size, nodes] weights of a uniform B-spline of `order` (2 or 3) whose `nodes` control points span
    `size` samples (nodes - order mesh cells over the grid, as SimpleITK's BSplineTransform); rows sum to 1."""
    mesh = nodes - order
    size = tf.cast(size, tf.int32)
    u = (tf.cast(tf.range(size), tf.float32) + 0.5) * mesh / tf.cast(size, tf.float32)
    cell = tf.minimum(tf.cast(tf.floor(u), tf.int32), mesh - 1)
    t = u - tf.cast(cell, tf.float32)
    if order == 2:
        weights = [(1 - t) ** 2 / 2, (-2 * t ** 2 + 2 * t + 1) / 2, t ** 2 / 2]
    elif order == 3:
        weights = [(1 - t) ** 3 / 6, (3 * t ** 3 - 6 * t ** 2 + 4) / 6, (-3 * t ** 3 + 3 * t ** 2 + 3 * t + 1) / 6,
                   t ** 3 / 6]
    else:
        raise ValueError(f"spline order must be 2 or 3, not {order}")
    return tf.add_n([tf.one_hot(cell + k, nodes) * w[:, None] for k, w in enumerate(weights)])


def random_deformation(seed: tf.Tensor, shape: tf.Tensor, config: SpatialAugmentation) -> tf.Tensor:
    """A smooth random displacement field [*shape, ndim] in mm: B-spline of control point displacements U(-d, d)."""
    ndim = shape.shape[0]
    nodes = config.deformation_nodes
    field = _uniform(seed, [nodes] * ndim + [ndim], -config.deformation_mm, config.deformation_mm)
    for axis in range(ndim):
        field = tf.tensordot(bspline_matrix(shape[axis], nodes, config.spline_order), field, axes=[[1], [axis]])
        field = tf.transpose(field, list(range(1, axis + 1)) + [0] + list(range(axis + 1, ndim + 1)))
    return field


def _grid(shape: tf.Tensor) -> tf.Tensor:
    ndim = shape.shape[0]
    axes = [tf.cast(tf.range(shape[a]), tf.float32) for a in range(ndim)]
    return tf.stack(tf.meshgrid(*axes, indexing="ij"), axis=-1)


def spatial_coordinates(seed: tf.Tensor, output_shape: tf.Tensor, center: tf.Tensor, spacing_mm: tf.Tensor,
                        zoom: tf.Tensor | float = 1.0, config: SpatialAugmentation | None = None) -> tf.Tensor:
    """Input coordinates [*output_shape, ndim] (continuous indices) of an output grid, randomly transformed.

    The output grid's centre maps to `center` (continuous input index, array order); output voxels are
    `zoom` input voxels apart. With `config`, a random affine (about the centre) and B-spline deformation
    (over the output grid) move the points, all in mm (`spacing_mm`: the input's spacing, scalar or [ndim]).
    """
    output_shape = tf.cast(output_shape, tf.int32)
    ndim = output_shape.shape[0]
    spacing = tf.cast(spacing_mm, tf.float32) * tf.ones([ndim])
    out_center = (tf.cast(output_shape, tf.float32) - 1.0) / 2.0
    offsets = (_grid(output_shape) - out_center) * spacing * tf.cast(zoom, tf.float32)
    if config is not None:
        affine_seed, deformation_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
        if config.deformation_nodes > 0 and config.deformation_mm > 0:
            offsets = offsets + random_deformation(deformation_seed, output_shape, config)
        matrix, shift = random_affine(affine_seed, ndim, config)
        offsets = tf.einsum("ij,...j->...i", matrix, offsets) + shift
    return tf.cast(center, tf.float32) + offsets / spacing


def random_spatial_transform(image: tf.Tensor, label: tf.Tensor | None, seed: tf.Tensor,
                             config: SpatialAugmentation | None = SpatialAugmentation(),
                             output_shape: tf.Tensor | None = None, center: tf.Tensor | None = None,
                             image_default: float = 0.0, spacing_mm: tf.Tensor | float = 1.0,
                             zoom: tf.Tensor | float = 1.0) -> tuple[tf.Tensor, tf.Tensor | None]:
    """Applies one random affine + deformation (none if `config` is None) to an image [*spatial, C] and its
    label map [*spatial].

    Args:
        output_shape: spatial shape of the result (the input's if None).
        center: input point (continuous index) the output centre maps to (the input's centre if None).
        image_default: image value outside the input (e.g. the normalised value of air).
        spacing_mm, zoom: see `spatial_coordinates`.

    Returns:
        (image, label) on the same new grid: image interpolated linearly, label by nearest neighbour
        (background 0 outside).
    """
    ndim = len(image.shape) - 1
    input_shape = tf.shape(image)[:ndim]
    output_shape = input_shape if output_shape is None else tf.cast(output_shape, tf.int32)
    if center is None:
        center = (tf.cast(input_shape, tf.float32) - 1.0) / 2.0
    coords = spatial_coordinates(seed, output_shape, center, spacing_mm, zoom, config)
    warped = sample(image, coords, "linear", image_default)
    warped_label = None if label is None else sample(label[..., None], coords, "nearest", 0)[..., 0]
    return warped, warped_label


def smooth_labels(label: tf.Tensor, sigma_voxels: float) -> tf.Tensor:
    """Label map [*spatial] smoothed per label (Gaussian of each label's indicator, `sigma_voxels`) and
    re-assigned by argmax, as the original EfficientSCN smooths its training labels (`scn/dataset.py
    smooth_labels`)."""
    ndim = len(label.shape)
    one_hot = tf.one_hot(tf.cast(label, tf.int32), tf.reduce_max(tf.cast(label, tf.int32)) + 1)
    smoothed = gaussian_filter(one_hot, tf.fill([ndim], tf.cast(sigma_voxels, tf.float32)))
    return tf.cast(tf.argmax(smoothed, axis=-1), label.dtype)


def random_intensity(image: tf.Tensor, seed: tf.Tensor,
                     config: IntensityAugmentation = IntensityAugmentation()) -> tf.Tensor:
    """Random gamma, shift/scale, clamp and Gaussian noise, in that order (float32)."""
    seeds = tf.random.experimental.stateless_split(seed, 5)
    image = tf.cast(image, tf.float32)
    if config.gamma_range is not None:
        image = random_gamma(image, seeds[1], config.gamma_range)
    image = random_shift_scale(image, seeds[0], config.shift, config.scale)
    if config.clamp is not None:
        image = tf.clip_by_value(image, config.clamp[0], config.clamp[1])
    if config.noise_std > 0:
        image = random_gaussian_noise(image, seeds[2], config.noise_std)
    return image


def random_shift_scale(image: tf.Tensor, seed: tf.Tensor, shift: float, scale: float) -> tf.Tensor:
    """(image + U(-shift, shift)) * U(1 - scale, 1 + scale)."""
    seeds = tf.random.experimental.stateless_split(seed, 2)
    factor = _uniform(seeds[0], [], 1.0 - scale, 1.0 + scale)
    return (image + _uniform(seeds[1], [], -shift, shift)) * factor


def random_gamma(image: tf.Tensor, seed: tf.Tensor, gamma_range: tuple[float, float]) -> tf.Tensor:
    """Gamma correction with an exponent U(gamma_range) on the min-max normalised image, mapped back to its
    range."""
    low, high = tf.reduce_min(image), tf.reduce_max(image)
    extent = tf.maximum(high - low, 1e-6)
    gamma = _uniform(seed, [], gamma_range[0], gamma_range[1])
    return tf.pow((image - low) / extent, gamma) * extent + low


def random_gaussian_noise(image: tf.Tensor, seed: tf.Tensor, max_std: float) -> tf.Tensor:
    """Adds zero-mean Gaussian noise with a standard deviation drawn from U(0, max_std)."""
    seeds = tf.random.experimental.stateless_split(seed, 2)
    std = _uniform(seeds[0], [], 0.0, max_std)
    return image + tf.random.stateless_normal(tf.shape(image), seeds[1]) * std
