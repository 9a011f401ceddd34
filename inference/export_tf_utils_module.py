"""Traces the CT pipeline's geometry functions into a SavedModel (`saved_models/tf_utils_module`).

Usage: python -m inference.export_tf_utils_module [--output_folder saved_models/tf_utils_module]

Signatures (all float32 mm values in array order z, y, x; volumes [z, y, x] in HU, dynamic sizes):
- network_input(volume, spacing, start_mm, end_mm, target_spacing, window_hu, size_multiple)
    -> image [1, Z, Y, X, 1], shape [3] int32
- whole_volume_box(volume_shape, spacing) -> start_mm, end_mm
- bounding_box(probabilities [1, Z, Y, X, 2], coarse_spacing, margin_mm, volume_shape, spacing) -> start_mm, end_mm
- labels_on_original_grid(probabilities [Z, Y, X, L], roi_spacing, start_mm, volume_shape, spacing)
    -> labels uint8 [z, y, x]
"""
from __future__ import annotations

import tensorflow as tf
from absl import app, flags

from inference import tf_utils
from preprocessing.atomic import atomic_directory

flags.DEFINE_string("output_folder", "saved_models/tf_utils_module", "SavedModel folder to write.")
FLAGS = flags.FLAGS

F32 = tf.float32
VEC3 = tf.TensorSpec([3], F32)
SHAPE3 = tf.TensorSpec([3], tf.int32, name="volume_shape")


class TFUtilsModule(tf.Module):
    """Geometry functions of the CT pipeline, traced with dynamic shapes."""

    @tf.function(input_signature=[tf.TensorSpec([None, None, None], F32, name="volume"), VEC3, VEC3, VEC3,
                                  tf.TensorSpec([], F32), tf.TensorSpec([2], F32), tf.TensorSpec([], tf.int32)])
    def network_input(self, volume, spacing, start_mm, end_mm, target_spacing, window_hu, size_multiple):
        return tf_utils.network_input(volume, spacing, start_mm, end_mm, target_spacing, window_hu, size_multiple)

    @tf.function(input_signature=[SHAPE3, VEC3])
    def whole_volume_box(self, volume_shape, spacing):
        return tf_utils.whole_volume_box(volume_shape, spacing)

    @tf.function(input_signature=[tf.TensorSpec([1, None, None, None, 2], F32), VEC3, tf.TensorSpec([], F32), SHAPE3,
                                  VEC3])
    def bounding_box(self, probabilities, coarse_spacing, margin_mm, volume_shape, spacing):
        return tf_utils.bounding_box(probabilities, coarse_spacing, margin_mm, volume_shape, spacing)

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, None], F32), VEC3, VEC3, SHAPE3, VEC3])
    def labels_on_original_grid(self, probabilities, roi_spacing, start_mm, volume_shape, spacing):
        return tf_utils.labels_on_original_grid(probabilities, roi_spacing, start_mm, volume_shape, spacing)


def export_tf_utils_module(output_folder: str) -> None:
    """Writes the SavedModel atomically."""
    module = TFUtilsModule()
    with atomic_directory(output_folder) as temp:
        tf.saved_model.save(module, temp)


def main(argv: list[str]) -> None:
    del argv
    export_tf_utils_module(FLAGS.output_folder)
    print(f"wrote {FLAGS.output_folder}")


if __name__ == "__main__":
    app.run(main)
