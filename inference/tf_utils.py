"""The CT pipeline's geometry steps as TF functions; traced into `saved_models/tf_utils_module`.

All volumes are [z, y, x] float32 in HU on the image's own voxel grid; spacings are float32 [3] in mm
in array order. Regions are axis-aligned boxes in that grid, given in mm relative to the centre of voxel
(0, 0, 0) (`start_mm`, `end_mm`), so everything is independent of origin and direction, which the
caller keeps from the input file and gives back to the output unchanged.
"""
from __future__ import annotations

import tensorflow as tf

from preprocessing import intensity
from preprocessing.intensity import AIR_HU
from preprocessing.tf_geometry import paste, resample_to_grid


def _round_up(shape: tf.Tensor, multiple: tf.Tensor) -> tf.Tensor:
    return (shape + multiple - 1) // multiple * multiple


def network_input(volume: tf.Tensor, spacing: tf.Tensor, start_mm: tf.Tensor, end_mm: tf.Tensor,
                  target_spacing: tf.Tensor, window_hu: tf.Tensor, size_multiple: tf.Tensor) -> dict:
    """Resamples the box [start_mm, end_mm] of `volume` to `target_spacing`, windows it to [-1, 1].

    The grid starts at `start_mm` and is extended at its far end to a multiple of `size_multiple`
    voxels (outside the volume: air). Returns {'image': [1, Z, Y, X, 1], 'shape': [3] int32 voxels that
    cover the box itself}.
    """
    target_spacing = tf.cast(target_spacing, tf.float32)
    shape = tf.cast(tf.math.floor((end_mm - start_mm) / target_spacing), tf.int32) + 1
    grid = _round_up(tf.maximum(shape, 1), tf.cast(size_multiple, tf.int32))
    resampled = resample_to_grid(volume, spacing, grid, target_spacing, start_mm, "linear", AIR_HU)
    image = intensity.clip_shift_scale(resampled, window_hu[0], window_hu[1], -(window_hu[0] + window_hu[1]) / 2.0,
                                       2.0 / (window_hu[1] - window_hu[0]))
    return {"image": image[None, ..., None], "shape": shape}


def whole_volume_box(volume_shape: tf.Tensor, spacing: tf.Tensor) -> dict:
    """The box of the whole volume: {'start_mm': 0, 'end_mm': (shape - 1) * spacing}."""
    end = (tf.cast(volume_shape, tf.float32) - 1.0) * tf.cast(spacing, tf.float32)
    return {"start_mm": tf.zeros([3]), "end_mm": end}


def bounding_box(probabilities: tf.Tensor, coarse_spacing: tf.Tensor, margin_mm: tf.Tensor, volume_shape: tf.Tensor,
                 spacing: tf.Tensor) -> dict:
    """Box (mm) around the voxels where the localization's foreground wins, grown by `margin_mm` and clipped
    to the volume; the whole volume when nothing is found.

    Args:
        probabilities: localization output [1, Z, Y, X, 2] on the grid starting at voxel 0 with `coarse_spacing`.
    """
    foreground = tf.where(probabilities[0, ..., 1] > probabilities[0, ..., 0])
    whole = whole_volume_box(volume_shape, spacing)

    def found() -> dict:
        points = tf.cast(foreground, tf.float32) * tf.cast(coarse_spacing, tf.float32)
        start = tf.maximum(tf.reduce_min(points, axis=0) - margin_mm, whole["start_mm"])
        end = tf.minimum(tf.reduce_max(points, axis=0) + margin_mm, whole["end_mm"])
        return {"start_mm": start, "end_mm": end}

    return tf.cond(tf.shape(foreground)[0] > 0, found, lambda: whole)


def labels_on_original_grid(probabilities: tf.Tensor, roi_spacing: tf.Tensor, start_mm: tf.Tensor,
                            volume_shape: tf.Tensor, spacing: tf.Tensor) -> tf.Tensor:
    """Maps probabilities [Z, Y, X, L] on the region grid back onto the original grid: uint8 labels [z, y, x].

    Only the original voxels inside the region are resampled (linear per label, then argmax); all others
    are background, which keeps memory proportional to the region, not to the whole volume.
    """
    spacing = tf.cast(spacing, tf.float32)
    roi_spacing = tf.cast(roi_spacing, tf.float32)
    volume_shape = tf.cast(volume_shape, tf.int32)
    roi_end = start_mm + (tf.cast(tf.shape(probabilities)[:3], tf.float32) - 1.0) * roi_spacing
    first = tf.clip_by_value(tf.cast(tf.math.ceil(start_mm / spacing), tf.int32), 0, volume_shape)
    last = tf.clip_by_value(tf.cast(tf.math.floor(roi_end / spacing), tf.int32), -1, volume_shape - 1)
    box_shape = tf.maximum(last - first + 1, 0)
    offset = tf.cast(first, tf.float32) * spacing - start_mm
    resampled = resample_to_grid(probabilities, roi_spacing, box_shape, spacing, offset, "linear", 0.0)
    labels = tf.cast(tf.argmax(resampled, axis=-1), tf.uint8)
    return paste(labels, first, volume_shape, 0)
