"""Traces the CT pipeline's geometry functions (`inference.tf_utils`) into a weight-free SavedModel, the
`geometry` member of a CT model set (`<set>/tf_utils_module`).

Usage: python -m inference.export_tf_utils_module --output_folder saved_models/flare21/tf_utils_module
       [--system efficient_scn]

Signatures (keyword inputs; float32 mm values in array order z, y, x; volumes [z, y, x] in HU in canonical
orientation, dynamic sizes; see `inference.tf_utils`):
- network_input(volume, spacing, start_mm, end_mm, base_spacing, sigma_mm, window_hu, valid_sizes [3, K] int32,
    spacing_tolerance, size_multiple int32, fit bool) -> image [1, Z, Y, X, 1], grid_spacing, offset_mm [3]
- whole_volume_box(volume_shape, spacing) -> start_mm, end_mm
- bounding_box(probabilities [1, Z, Y, X, 2], grid_spacing, offset_mm, margin_mm, volume_shape, spacing)
    -> start_mm, end_mm
- labels_on_original_grid(probabilities [Z, Y, X, L], grid_spacing, start_mm, volume_shape, spacing)
    -> labels uint8 [z, y, x]
Docs: docs/ct_multi_organ.md
"""
from __future__ import annotations

import tensorflow as tf
from absl import app, flags

from inference import tf_utils
from preprocessing.atomic import atomic_directory
from serving.exporter import ExportModule, Signature, save

F32 = tf.float32


def _vec3(name: str) -> tf.TensorSpec:
    return tf.TensorSpec([3], F32, name=name)


def _shape3() -> tf.TensorSpec:
    return tf.TensorSpec([3], tf.int32, name="volume_shape")


def _labels_on_original_grid(**inputs: tf.Tensor) -> dict:
    return {"labels": tf_utils.labels_on_original_grid(**inputs)}


def _scalar(name: str, dtype: tf.DType = F32) -> tf.TensorSpec:
    return tf.TensorSpec([], dtype, name=name)


def geometry_signatures() -> dict[str, Signature]:
    """The traced geometry functions with their named input specs."""
    return {
        "network_input": Signature(tf_utils.network_input, [
            tf.TensorSpec([None, None, None], F32, name="volume"), _vec3("spacing"), _vec3("start_mm"),
            _vec3("end_mm"), _scalar("base_spacing"), _scalar("sigma_mm"), tf.TensorSpec([2], F32, name="window_hu"),
            tf.TensorSpec([3, None], tf.int32, name="valid_sizes"), _scalar("spacing_tolerance"),
            _scalar("size_multiple", tf.int32), _scalar("fit", tf.bool)]),
        "whole_volume_box": Signature(tf_utils.whole_volume_box, [_shape3(), _vec3("spacing")]),
        "bounding_box": Signature(tf_utils.bounding_box, [
            tf.TensorSpec([1, None, None, None, 2], F32, name="probabilities"), _scalar("grid_spacing"),
            _vec3("offset_mm"), _scalar("margin_mm"), _shape3(), _vec3("spacing")]),
        "labels_on_original_grid": Signature(_labels_on_original_grid, [
            tf.TensorSpec([None, None, None, None], F32, name="probabilities"), _scalar("grid_spacing"),
            _vec3("start_mm"), _shape3(), _vec3("spacing")]),
    }


def export_tf_utils_module(output_folder: str, system: str) -> None:
    """Writes the geometry SavedModel of `system`'s model set atomically."""
    module = ExportModule("geometry", [], geometry_signatures(), {"system": system, "role": "geometry"})
    with atomic_directory(output_folder) as temp:
        save(module, temp)


def main(argv: list[str]) -> None:
    del argv
    export_tf_utils_module(flags.FLAGS.output_folder, flags.FLAGS.system)
    print(f"wrote {flags.FLAGS.output_folder}")


if __name__ == "__main__":
    flags.DEFINE_string("output_folder", "saved_models/flare21/tf_utils_module", "SavedModel folder to write.")
    flags.DEFINE_string("system", "efficient_scn", "The system whose model set the module belongs to.")
    app.run(main)
