"""The one preprocessing from a CT volume on its own grid to a network's input grid, used by the training
loaders (`preprocessing.pipeline`) and by the traced inference module (`inference.tf_utils`) alike.

Volumes are [z, y, x] tensors in canonical orientation; spacings are float32 [3] in mm and positions are mm
from the centre of voxel (0, 0, 0) along the array axes (z, y, x). Rules, as the original EfficientSCN:

- The *lattice* of a volume at spacing t has ceil(n s / t) voxels along an axis of n voxels at spacing s
  (FLARE21 `inference_tf_utils_module.py size_for_spacing`, MDAT `ImageSizeGenerator`) and is centred on the
  volume's centre. Network grids are boxes of that lattice, so a training crop and an inference input cut
  around the same centre sample the same points.
- A region of extent e mm becomes a grid of `valid_size(ceil(e / t))` voxels: the smallest valid size larger
  than that, or the largest valid size (FLARE21 `get_valid_size`, MDAT `ImageSizeGenerator`).
- When a region does not fit into the largest valid sizes, the spacing grows (`fitting_spacing`).
- The volume is smoothed with a Gaussian of sigma mm (`preprocessing.tf_smoothing`), then sampled linearly
  (`preprocessing.tf_sampling`); outside the volume is `default_value` (air). Both run as one matrix per axis
  (`preprocessing.tf_axis_operators`).
"""
from __future__ import annotations

import tensorflow as tf

from preprocessing.tf_axis_operators import interpolation_matrix, resample_with_operators, smoothing_matrix
from preprocessing.tf_smoothing import gaussian_kernel

SIZE_TOLERANCE = 1e-3


def voxels_for_extent(extent_mm: tf.Tensor, grid_spacing: tf.Tensor) -> tf.Tensor:
    """int32: ceil(extent / t) voxels (at least 1), ignoring a float excess below 1e-3 voxels."""
    size = tf.math.ceil(tf.cast(extent_mm, tf.float32) / tf.cast(grid_spacing, tf.float32) - SIZE_TOLERANCE)
    return tf.maximum(tf.cast(size, tf.int32), 1)


def lattice_size(shape: tf.Tensor, spacing: tf.Tensor, grid_spacing: tf.Tensor) -> tf.Tensor:
    """int32 [3]: ceil(n s / t) voxels per axis."""
    return voxels_for_extent(tf.cast(shape, tf.float32) * tf.cast(spacing, tf.float32), grid_spacing)


def lattice_offset(shape: tf.Tensor, spacing: tf.Tensor, grid_spacing: tf.Tensor) -> tf.Tensor:
    """Position (mm, [3]) of lattice voxel 0: the lattice is centred on the volume."""
    spacing = tf.cast(spacing, tf.float32)
    grid_spacing = tf.cast(grid_spacing, tf.float32) * tf.ones_like(spacing)
    centre = (tf.cast(shape, tf.float32) - 1.0) / 2.0 * spacing
    return centre - (tf.cast(lattice_size(shape, spacing, grid_spacing), tf.float32) - 1.0) / 2.0 * grid_spacing


def snapped_start(center_index: tf.Tensor, grid_shape: tf.Tensor) -> tf.Tensor:
    """int32 start index of a box of `grid_shape` voxels centred on the continuous index `center_index`,
    rounded half up onto the lattice (float errors below 1e-3 voxels do not change the result)."""
    half = (tf.cast(grid_shape, tf.float32) - 1.0) / 2.0
    return tf.cast(tf.floor(tf.cast(center_index, tf.float32) - half + 0.5 + SIZE_TOLERANCE), tf.int32)


def region_offset(shape: tf.Tensor, spacing: tf.Tensor, center_mm: tf.Tensor, grid_shape: tf.Tensor,
                  grid_spacing: tf.Tensor) -> tf.Tensor:
    """Position (mm, [3]) of voxel 0 of the lattice box of `grid_shape` voxels centred on `center_mm`."""
    grid_spacing = tf.cast(grid_spacing, tf.float32) * tf.ones([3])
    offset = lattice_offset(shape, spacing, grid_spacing)
    start = snapped_start((tf.cast(center_mm, tf.float32) - offset) / grid_spacing, grid_shape)
    return offset + tf.cast(start, tf.float32) * grid_spacing


def largest_valid_size(valid_sizes) -> tuple[int, ...]:
    """The largest valid size per axis (z, y, x) in voxels: the window a sliding window uses."""
    return tuple(int(max(sizes)) for sizes in valid_sizes)


def padded_valid_sizes(valid_sizes) -> tf.Tensor:
    """int32 [3, K] from valid sizes per axis (lists of different lengths), rows padded with their largest value."""
    width = max(len(v) for v in valid_sizes)
    return tf.constant([list(v) + [max(v)] * (width - len(v)) for v in valid_sizes], tf.int32)


def valid_size(size: tf.Tensor, valid_sizes: tf.Tensor) -> tf.Tensor:
    """int32 [3]: per axis the smallest valid size larger than `size`, else the largest valid size.

    Args:
        valid_sizes: int32 [3, K] valid sizes per axis (array order), each row ascending; shorter lists are
            padded with their largest value.
    """
    size = tf.cast(size, tf.int32)[:, None]
    valid_sizes = tf.cast(valid_sizes, tf.int32)
    largest = tf.reduce_max(valid_sizes, axis=1, keepdims=True)
    return tf.reduce_min(tf.where(valid_sizes > size, valid_sizes, largest), axis=1)


def fitting_spacing(extent_mm: tf.Tensor, base_spacing: tf.Tensor, largest_sizes: tf.Tensor,
                    tolerance: tf.Tensor) -> tf.Tensor:
    """The isotropic spacing (mm, scalar) at which a region fits into the largest valid sizes.

    r = max over axes of extent / (base_spacing x largest size); the spacing is base_spacing x (r + tolerance)
    when r > 1 - tolerance, else base_spacing (FLARE21 `inference.py`: localization tolerance 0.02,
    segmentation 0.1 mm at 2 mm = 0.05; during training 0, `scn/dataset.py calculate_scale_from_bb`).
    """
    base_spacing = tf.cast(base_spacing, tf.float32)
    tolerance = tf.cast(tolerance, tf.float32)
    ratio = tf.reduce_max(tf.cast(extent_mm, tf.float32) / (base_spacing * tf.cast(largest_sizes, tf.float32)))
    return tf.where(ratio > 1.0 - tolerance, base_spacing * (ratio + tolerance), base_spacing)


def needed_region(shape: tf.Tensor, spacing: tf.Tensor, grid_shape: tf.Tensor, grid_spacing: tf.Tensor,
                  grid_offset_mm: tf.Tensor, sigma_mm: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """(low, high, first): the voxels [low, high) of a volume of `shape` (int32 [3]) that smoothing with sigma mm
    and sampling the grid read (the grid's reach plus the kernel radius and one voxel), and the grid's voxel 0 as a
    continuous index of the volume (float32 [3])."""
    spacing = tf.cast(spacing, tf.float32)
    grid_spacing = tf.cast(grid_spacing, tf.float32) * tf.ones([3])
    sigma_voxels = tf.cast(sigma_mm, tf.float32) / spacing
    radius = tf.stack([(tf.shape(gaussian_kernel(sigma_voxels[a]))[0] - 1) // 2 for a in range(3)])
    first = tf.cast(grid_offset_mm, tf.float32) / spacing
    last = first + (tf.cast(grid_shape, tf.float32) - 1.0) * grid_spacing / spacing
    low = tf.clip_by_value(tf.cast(tf.floor(first), tf.int32) - 1 - radius, 0, shape - 1)
    high = tf.maximum(tf.clip_by_value(tf.cast(tf.math.ceil(last), tf.int32) + 2 + radius, 0, shape), low + 1)
    return low, high, first


def smooth_and_resample(volume: tf.Tensor, spacing: tf.Tensor, grid_shape: tf.Tensor, grid_spacing: tf.Tensor,
                        grid_offset_mm: tf.Tensor, sigma_mm: tf.Tensor, default_value: float) -> tf.Tensor:
    """Gaussian smoothing (sigma mm) and linear resampling of `volume` [z, y, x] onto an axis-aligned grid.

    Args:
        grid_shape: int32 [3] voxels; grid_spacing: mm (scalar or [3]); grid_offset_mm: [3] position of grid voxel 0.
        sigma_mm: Gaussian sigma in mm (0: none).
        default_value: value outside the volume.

    Only the part of the volume the grid needs (`needed_region`) is read. Smoothing and sampling of each axis are
    one matrix (`preprocessing.tf_axis_operators`), so the result equals smoothing every axis and then sampling
    every axis, without a smoothed copy of the volume.
    """
    spacing = tf.cast(spacing, tf.float32)
    grid_spacing = tf.cast(grid_spacing, tf.float32) * tf.ones([3])
    grid_shape = tf.cast(grid_shape, tf.int32)
    sigma_voxels = tf.cast(sigma_mm, tf.float32) / spacing
    low, high, first = needed_region(tf.shape(volume)[:3], spacing, grid_shape, grid_spacing, grid_offset_mm,
                                     sigma_mm)
    operators = []
    for axis in range(3):
        sampling, inside = interpolation_matrix(high[axis] - low[axis], grid_shape[axis],
                                                grid_spacing[axis] / spacing[axis],
                                                first[axis] - tf.cast(low[axis], tf.float32))
        smoothing = smoothing_matrix(high[axis] - low[axis], sigma_voxels[axis])
        operators.append((tf.matmul(sampling, smoothing), inside))
    return resample_with_operators(tf.slice(tf.cast(volume, tf.float32), low, high - low), operators, default_value)
