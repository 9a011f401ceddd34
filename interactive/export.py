"""Exports the click-guided network as a model set: the `segmentation` member and the manifest.

Usage: python -m interactive.export --load_model_base OUT [--load_model_iter N]
       [--model_set_folder saved_models/autopet_interactive] [--trained_on TEXT] [--default_set]
Signatures of <model_set_folder>/interactive:
- serving_default(image float32 [batch, z, y, x, channels + 2]: the image channels on the network grid scaled as
  metadata `normalization` says, then the lesion and background guidance) -> logits float32 [batch, z, y, x, 2]
  (background, lesion: what overlapping windows blend, as MONAI) and probabilities float32 [batch, z, y, x, 2]
  (their softmax). Windows of metadata `roi_size` are what it was trained on; any size divisible by metadata
  `size_multiple` runs.
- guidance(lesion_mm float32 [n, 3], background_mm float32 [m, 3]: clicks as world points (x, y, z) in mm;
  shape int32 [3]: the network grid's array shape (z, y, x); origin, spacing float64 [3] and direction float64 [9]
  of that grid, ITK conventions) -> guidance float32 [z, y, x, 2], lesion_inside bool [n], background_inside bool
  [m] (clicks outside the grid are clamped onto its border, as the original does).
- metadata() -> json
Docs: docs/interactive.md
"""
from __future__ import annotations

import preprocessing.quiet_startup  # noqa: F401 - first: hides TensorFlow's C++ start-up lines

import dataclasses
import os

import keras
import numpy as np
import tensorflow as tf
from absl import app

from interactive.config import InteractiveConfig
from interactive.guidance import guidance_channels, inside_grid, world_to_voxel
from interactive.training import build_model
from networks.export import define_export_flags, export_main, export_member, network_call, restore_model, write_manifest
from serving.exporter import Signature

SYSTEM = "interactive"
MEMBERS = {"segmentation": "interactive"}
LABELS = {"0": "background", "1": "lesion"}


def interactive_metadata(config: InteractiveConfig) -> dict:
    normalization = {"PT": {"kind": config.intensity, "percentiles": list(config.percentiles),
                            "suv_range": list(config.suv_range)},
                     "CT": {"kind": "range", "hu_range": list(config.ct_range_hu)}}
    return {"system": SYSTEM, "role": "segmentation", "architecture": "DynUNet", "labels": LABELS,
            "spacing_mm": list(config.spacing_mm), "orientation": "canonical (preprocessing.orientation)",
            "input_channels": list(config.input_channels) + ["lesion_guidance", "background_guidance"],
            "normalization": {c: normalization[c] for c in config.input_channels},
            "guidance": {"sigma_voxels": config.guidance_sigma, "disks": config.guidance_disks,
                         "disk_threshold": 0.1, "channels": ["lesion", "background"]},
            "roi_size": list(config.roi_size), "overlap": config.overlap,
            "size_multiple": [int(np.prod([s[a] for s in config.strides])) for a in range(3)],
            "config": dataclasses.asdict(config)}


def interactive_manifest(config: InteractiveConfig, name: str, trained_on: str) -> dict:
    """The manifest of a click-guided model set."""
    return {"format_version": 1, "name": name, "pipeline": SYSTEM, "modality": "PT", "dimensionality": 3,
            "input_channels": list(config.input_channels), "side_inputs": ["clicks"], "members": MEMBERS,
            "outputs": ["label_map"], "labels": LABELS, "trained_on": trained_on,
            "spacing_mm": list(config.spacing_mm),
            "description": "Click-guided PET lesion segmentation with sliding windows (SW-FastEdit, Hadlich, "
                           "Marinov et al. 2023); clicks per case from --clicks_path <case>.json."}


def export_interactive_model(config: InteractiveConfig, model: keras.Model, model_set_folder: str,
                             trained_on: str) -> None:
    """Writes the segmentation member and the manifest of `model_set_folder` from a float32 model."""
    network = network_call(model)
    channels = len(config.input_channels) + 2

    def serve(image: tf.Tensor) -> dict:
        logits = tf.cast(network(image), tf.float32)
        return {"logits": logits, "probabilities": tf.nn.softmax(logits)}

    def guidance(lesion_mm, background_mm, shape, origin, spacing, direction) -> dict:
        lesion, lesion_index = world_to_voxel(lesion_mm, origin, spacing, direction)
        background, background_index = world_to_voxel(background_mm, origin, spacing, direction)
        size_xyz = tf.reverse(shape, [0])
        return {"guidance": guidance_channels(lesion, background, shape, config.guidance_sigma, config.guidance_disks),
                "lesion_inside": inside_grid(lesion_index, size_xyz),
                "background_inside": inside_grid(background_index, size_xyz)}

    signatures = {
        "serving_default": Signature(serve, [tf.TensorSpec([None, None, None, None, channels], tf.float32,
                                                           name="image")]),
        "guidance": Signature(guidance, [tf.TensorSpec([None, 3], tf.float32, name="lesion_mm"),
                                         tf.TensorSpec([None, 3], tf.float32, name="background_mm"),
                                         tf.TensorSpec([3], tf.int32, name="shape"),
                                         tf.TensorSpec([3], tf.float64, name="origin"),
                                         tf.TensorSpec([3], tf.float64, name="spacing"),
                                         tf.TensorSpec([9], tf.float64, name="direction")])}
    export_member(model, signatures, interactive_metadata(config),
                  os.path.join(model_set_folder, MEMBERS["segmentation"]))
    name = os.path.basename(os.path.normpath(model_set_folder))
    write_manifest(model_set_folder, interactive_manifest(config, name, trained_on))


def export_interactive(load_model_base: str, load_model_iter: int | None, model_set_folder: str,
                       trained_on: str) -> None:
    config, model = restore_model(InteractiveConfig, build_model, load_model_base, load_model_iter)
    export_interactive_model(config, model, model_set_folder, trained_on)


if __name__ == "__main__":
    define_export_flags("saved_models/autopet_interactive")
    app.run(export_main(export_interactive))
