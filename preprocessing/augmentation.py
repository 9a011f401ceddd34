"""Data augmentation as traceable TensorFlow ops for 2D and 3D, deterministic under a seed.

Every random function takes `seed`, an int32/int64 tensor of shape [2] (stateless random ops), so the
same seed gives the same result inside or outside `tf.data` and `tf.function`. Images are
[*spatial, channels] float tensors in array axis order; label maps are [*spatial] integer tensors.
Image and label share one coordinate grid (affine + elastic) and one sampler: linear for the image,
nearest for the label, so labels keep their values and stay aligned with the image.
"""
from __future__ import annotations

import dataclasses
import math

import tensorflow as tf

from preprocessing.tf_sampling import sample


@dataclasses.dataclass(frozen=True)
class SpatialAugmentation:
    """Random spatial transform parameters (defaults as used for CT/X-ray segmentation training).

    Attributes:
        rotation_degrees: maximum absolute rotation about each axis (one angle in 2D, three in 3D).
        scale_range: per-axis scale factor range (> 1 zooms in).
        translation_voxels: maximum absolute shift along each axis, in output voxels.
        shear: maximum absolute off-diagonal shear coefficient.
        elastic_control_points: control points per axis of the cubic B-spline deformation.
        elastic_magnitude_voxels: standard deviation of control point displacements (0 disables).
    """

    rotation_degrees: float = 15.0
    scale_range: tuple[float, float] = (0.85, 1.15)
    translation_voxels: float = 10.0
    shear: float = 0.05
    elastic_control_points: int = 6
    elastic_magnitude_voxels: float = 2.0


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
    """A random affine map of output voxel offsets to input voxel offsets: (matrix [ndim, ndim], shift [ndim])."""
    seeds = tf.random.experimental.stateless_split(seed, 4)
    num_angles = 1 if ndim == 2 else 3
    limit = math.radians(config.rotation_degrees)
    rotation = _rotation(_uniform(seeds[0], [num_angles], -limit, limit), ndim)
    scale = _uniform(seeds[1], [ndim], *config.scale_range)
    shear = _uniform(seeds[2], [ndim, ndim], -config.shear, config.shear) * (1.0 - tf.eye(ndim))
    matrix = rotation @ (tf.eye(ndim) + shear) @ tf.linalg.diag(1.0 / scale)
    shift = _uniform(seeds[3], [ndim], -config.translation_voxels, config.translation_voxels)
    return matrix, shift


def bspline_matrix(size: tf.Tensor, control_points: int) -> tf.Tensor:
    """[size, control_points + 2] weights of a uniform cubic B-spline over `size` samples.

    The control grid spans the samples end to end, with one extra control point beyond each end.
    """
    size = tf.cast(size, tf.int32)
    u = tf.cast(tf.range(size), tf.float32) * (control_points - 1) / tf.cast(tf.maximum(size - 1, 1), tf.float32)
    i = tf.minimum(tf.cast(tf.floor(u), tf.int32), control_points - 2)
    t = u - tf.cast(i, tf.float32)
    weights = [(1 - t) ** 3 / 6, (3 * t ** 3 - 6 * t ** 2 + 4) / 6, (-3 * t ** 3 + 3 * t ** 2 + 3 * t + 1) / 6, t ** 3 / 6]
    return tf.add_n([tf.one_hot(i + k, control_points + 2) * w[:, None] for k, w in enumerate(weights)])


def elastic_displacement(seed: tf.Tensor, shape: tf.Tensor, config: SpatialAugmentation) -> tf.Tensor:
    """A smooth random displacement field [*shape, ndim] in voxels (cubic B-spline of random control points)."""
    ndim = shape.shape[0]
    points = config.elastic_control_points
    field = tf.random.stateless_normal([points + 2] * ndim + [ndim], seed) * config.elastic_magnitude_voxels
    for axis in range(ndim):
        field = tf.tensordot(bspline_matrix(shape[axis], points), field, axes=[[1], [axis]])
        field = tf.transpose(field, list(range(1, axis + 1)) + [0] + list(range(axis + 1, ndim + 1)))
    return field


def _grid(shape: tf.Tensor) -> tf.Tensor:
    ndim = shape.shape[0]
    axes = [tf.cast(tf.range(shape[a]), tf.float32) for a in range(ndim)]
    return tf.stack(tf.meshgrid(*axes, indexing="ij"), axis=-1)


def random_spatial_coordinates(seed: tf.Tensor, input_shape: tf.Tensor, output_shape: tf.Tensor,
                               config: SpatialAugmentation, center: tf.Tensor | None = None) -> tf.Tensor:
    """Input coordinates [*output_shape, ndim] for a random affine + elastic transform.

    The output grid's centre maps to `center` (continuous input index, array order; the input's
    centre if None) plus the random translation, so a patch can be cut and augmented in one step.
    """
    input_shape = tf.cast(input_shape, tf.int32)
    output_shape = tf.cast(output_shape, tf.int32)
    ndim = output_shape.shape[0]
    affine_seed, elastic_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    matrix, shift = random_affine(affine_seed, ndim, config)
    out_center = (tf.cast(output_shape, tf.float32) - 1.0) / 2.0
    in_center = (tf.cast(input_shape, tf.float32) - 1.0) / 2.0 if center is None else tf.cast(center, tf.float32)
    offsets = _grid(output_shape) - out_center
    if config.elastic_magnitude_voxels > 0:
        offsets = offsets + elastic_displacement(elastic_seed, output_shape, config)
    return tf.einsum("ij,...j->...i", matrix, offsets) + in_center + shift


def random_spatial_transform(image: tf.Tensor, label: tf.Tensor | None, seed: tf.Tensor,
                             config: SpatialAugmentation = SpatialAugmentation(),
                             output_shape: tf.Tensor | None = None,
                             center: tf.Tensor | None = None,
                             image_default: float = 0.0) -> tuple[tf.Tensor, tf.Tensor | None]:
    """Applies one random affine + elastic transform to an image [*spatial, C] and its label map [*spatial].

    Args:
        output_shape: spatial shape of the result (the input's if None).
        center: input point (continuous index) the output centre maps to; see `random_spatial_coordinates`.
        image_default: image value outside the input (e.g. the normalised value of air).

    Returns:
        (image, label) on the same new grid: image interpolated linearly, label by nearest neighbour
        (background 0 outside).
    """
    ndim = len(image.shape) - 1
    input_shape = tf.shape(image)[:ndim]
    output_shape = input_shape if output_shape is None else tf.cast(output_shape, tf.int32)
    coords = random_spatial_coordinates(seed, input_shape, output_shape, config, center)
    warped = sample(image, coords, "linear", image_default)
    warped_label = None if label is None else sample(label[..., None], coords, "nearest", 0)[..., 0]
    return warped, warped_label


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
