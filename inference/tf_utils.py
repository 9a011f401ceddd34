"""The CT pipeline's geometry steps as TF functions; traced into `saved_models/<set>/tf_utils_module`.

All volumes are [z, y, x] float32 in HU on the image's own voxel grid in canonical orientation; spacings are
float32 [3] in mm in array order. Regions and grids are given in mm from the centre of voxel (0, 0, 0)
along the array axes, so everything is independent of origin and direction, which the caller keeps from the
input file and gives back to the output unchanged. Network inputs come from the one preprocessing shared
with training (`preprocessing.network_grid`).
"""
from __future__ import annotations

import tensorflow as tf

from preprocessing import intensity
from preprocessing.intensity import AIR_HU
from preprocessing.network_grid import (fitting_spacing, region_offset, smooth_and_resample, valid_size,
                                        voxels_for_extent)
from preprocessing.tf_axis_operators import interpolation_matrix
from preprocessing.tf_geometry import paste

BACKPROJECTION_SLAB = 16  # original slices per step of `labels_on_original_grid`


def network_input(volume: tf.Tensor, spacing: tf.Tensor, start_mm: tf.Tensor, end_mm: tf.Tensor,
                  base_spacing: tf.Tensor, sigma_mm: tf.Tensor, window_hu: tf.Tensor, valid_sizes: tf.Tensor,
                  spacing_tolerance: tf.Tensor, size_multiple: tf.Tensor, fit: tf.Tensor) -> dict:
    """The network input of the region [start_mm, end_mm] (edges, mm) of `volume`.

    The grid is the lattice box centred on the region with `valid_size(ceil(extent / t))` voxels
    (`valid_sizes` int32 [3, K]); t = `base_spacing`, grown by `fitting_spacing` when `fit` and the region
    exceeds the largest valid sizes. Without `fit`, a region larger than the largest valid sizes keeps t and
    gets ceil(extent / t) voxels rounded up to `size_multiple` (for a sliding window). The volume is smoothed
    (`sigma_mm`), resampled (air outside) and windowed to [-1, 1].

    Returns {'image': [1, Z, Y, X, 1], 'grid_spacing': mm (scalar), 'offset_mm': [3] position of voxel 0}.
    """
    extent = tf.cast(end_mm, tf.float32) - tf.cast(start_mm, tf.float32)
    center = (tf.cast(end_mm, tf.float32) + tf.cast(start_mm, tf.float32)) / 2.0
    largest = tf.reduce_max(tf.cast(valid_sizes, tf.int32), axis=1)
    base_spacing = tf.cast(base_spacing, tf.float32)
    grid_spacing = tf.where(fit, fitting_spacing(extent, base_spacing, largest, spacing_tolerance), base_spacing)
    size = voxels_for_extent(extent, grid_spacing)
    multiple = tf.cast(size_multiple, tf.int32)
    shape = tf.where(fit | tf.reduce_all(size <= largest), valid_size(size, valid_sizes),
                     tf.maximum(valid_size(size, valid_sizes), (size + multiple - 1) // multiple * multiple))
    offset = region_offset(tf.shape(volume), spacing, center, shape, grid_spacing)
    resampled = smooth_and_resample(volume, spacing, shape, grid_spacing, offset, sigma_mm, AIR_HU)
    image = intensity.clip_shift_scale(resampled, window_hu[0], window_hu[1], -(window_hu[0] + window_hu[1]) / 2.0,
                                       2.0 / (window_hu[1] - window_hu[0]))
    return {"image": image[None, ..., None], "grid_spacing": grid_spacing, "offset_mm": offset}


def whole_volume_box(volume_shape: tf.Tensor, spacing: tf.Tensor) -> dict:
    """The edges of the whole volume: {'start_mm': -spacing / 2, 'end_mm': (shape - 1/2) x spacing}."""
    spacing = tf.cast(spacing, tf.float32)
    return {"start_mm": -spacing / 2.0, "end_mm": (tf.cast(volume_shape, tf.float32) - 0.5) * spacing}


def bounding_box(probabilities: tf.Tensor, grid_spacing: tf.Tensor, offset_mm: tf.Tensor, margin_mm: tf.Tensor,
                 volume_shape: tf.Tensor, spacing: tf.Tensor) -> dict:
    """Edges (mm) of the voxels where the localization's foreground wins, grown by `margin_mm` (not clipped to
    the volume, as the original); the whole volume when nothing is found.

    Args:
        probabilities: localization output [1, Z, Y, X, 2] on the grid at `grid_spacing` whose voxel 0 is at
            `offset_mm`.
    """
    foreground = tf.where(probabilities[0, ..., 1] > probabilities[0, ..., 0])
    grid_spacing = tf.cast(grid_spacing, tf.float32)

    def found() -> dict:
        points = tf.cast(offset_mm, tf.float32) + tf.cast(foreground, tf.float32) * grid_spacing
        half = grid_spacing / 2.0 + tf.cast(margin_mm, tf.float32)
        return {"start_mm": tf.reduce_min(points, axis=0) - half, "end_mm": tf.reduce_max(points, axis=0) + half}

    return tf.cond(tf.shape(foreground)[0] > 0, found, lambda: whole_volume_box(volume_shape, spacing))


def labels_on_original_grid(probabilities: tf.Tensor, grid_spacing: tf.Tensor, start_mm: tf.Tensor,
                            volume_shape: tf.Tensor, spacing: tf.Tensor) -> tf.Tensor:
    """Maps probabilities [Z, Y, X, L] on a network grid (`grid_spacing` mm, voxel 0 at `start_mm`) back onto
    the original grid: uint8 labels [z, y, x].

    Only the original voxels inside the grid are resampled (linear per label, then argmax); all others
    are background. The network grid is first resampled along z (still small), then BACKPROJECTION_SLAB original
    slices at a time along x and y and reduced to labels, so memory grows with the region, not with the region
    times the label count.
    """
    spacing = tf.cast(spacing, tf.float32)
    roi_spacing = tf.cast(grid_spacing, tf.float32) * tf.ones([3])
    volume_shape = tf.cast(volume_shape, tf.int32)
    grid_shape = tf.shape(probabilities)[:3]
    roi_end = start_mm + (tf.cast(grid_shape, tf.float32) - 1.0) * roi_spacing
    first = tf.clip_by_value(tf.cast(tf.math.ceil(start_mm / spacing), tf.int32), 0, volume_shape)
    last = tf.clip_by_value(tf.cast(tf.math.floor(roi_end / spacing), tf.int32), -1, volume_shape - 1)
    box_shape = tf.maximum(last - first + 1, 0)
    offset = (tf.cast(first, tf.float32) * spacing - start_mm) / roi_spacing
    matrix_z, matrix_y, matrix_x = [interpolation_matrix(grid_shape[a], box_shape[a], spacing[a] / roi_spacing[a],
                                                         offset[a])[0] for a in range(3)]
    channels = tf.shape(probabilities)[3]
    per_label = tf.reshape(tf.transpose(tf.cast(probabilities, tf.float32), [3, 0, 1, 2]),
                           [channels, grid_shape[0], -1])
    along_z = tf.reshape(tf.matmul(matrix_z[None], per_label), [channels, box_shape[0], grid_shape[1], grid_shape[2]])

    def slab(start: tf.Tensor, labels: tf.TensorArray) -> tuple[tf.Tensor, tf.TensorArray]:
        part = along_z[:, start:start + BACKPROJECTION_SLAB]
        count = tf.shape(part)[1]
        rows = tf.matmul(tf.reshape(part, [-1, grid_shape[2]]), matrix_x, transpose_b=True)
        planes = tf.matmul(matrix_y[None], tf.reshape(rows, [-1, grid_shape[1], box_shape[2]]))
        scores = tf.reshape(planes, [channels, count, box_shape[1], box_shape[2]])
        return start + BACKPROJECTION_SLAB, labels.write(start // BACKPROJECTION_SLAB,
                                                         tf.cast(tf.argmax(scores, axis=0), tf.uint8))

    slabs = tf.TensorArray(tf.uint8, size=0, dynamic_size=True, infer_shape=False,
                           element_shape=tf.TensorShape([None, None, None]))
    _, slabs = tf.while_loop(lambda start, _: start < box_shape[0], slab, [tf.constant(0), slabs],
                             parallel_iterations=1)
    labels = tf.cond(box_shape[0] > 0, slabs.concat, lambda: tf.zeros(box_shape, tf.uint8))
    return paste(labels, first, volume_shape, 0)
