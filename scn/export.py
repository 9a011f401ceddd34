"""Exports the SpatialConfiguration-Net (EMA weights) and completes a FLARE21 model set: the `segmentation`
member, the traced `geometry` member and the set's manifest (the `localization` member comes from
`python -m localization.export`).

Usage: python -m scn.export --load_model_base OUT/scn [--load_model_iter N]
       [--model_set_folder saved_models/flare21] [--trained_on TEXT]
Signature `serving_default`: image float32 [batch, z, y, x, 1] at `spacing_mm` (or larger for large boxes),
windowed to [-1, 1], sizes from `valid_sizes` (multiples of `size_multiple`) -> probabilities float32
[batch, z, y, x, L].
Docs: docs/ct_multi_organ.md
"""
from __future__ import annotations

import preprocessing.quiet_startup  # noqa: F401 - first: hides TensorFlow's C++ start-up lines

import dataclasses
import os

import keras
import tensorflow as tf
from absl import app

from inference.export_tf_utils_module import export_tf_utils_module
from networks.export import (define_export_flags, export_main, export_member, network_call, network_grid_metadata,
                             restore_model, write_manifest)
from scn.config import SCNConfig
from scn.model import build_scn_model
from serving.exporter import Signature

SYSTEM = "efficient_scn"
MEMBERS = {"localization": "localization", "segmentation": "segmentation", "geometry": "tf_utils_module"}


def label_names(config: SCNConfig) -> dict[str, str]:
    return {"0": "background", **{str(i): name for i, name in enumerate(config.label_names, start=1)}}


def scn_metadata(config: SCNConfig) -> dict:
    return {"system": SYSTEM, "role": "segmentation", "labels": label_names(config),
            "spacing_mm": [config.spacing_mm] * 3,
            "normalization": {"kind": "window_hu", "window_hu": list(config.window_hu)},
            **network_grid_metadata(config),
            "placeholder_spacing_mm": list(config.placeholder_spacing_mm),
            "components_per_label": {str(i): n for i, n in enumerate(config.components_per_label, start=1)},
            "config": dataclasses.asdict(config)}


def flare21_manifest(config: SCNConfig, name: str, trained_on: str) -> dict:
    """The manifest of a localization + SCN model set."""
    return {"format_version": 1, "name": name, "pipeline": SYSTEM, "modality": "CT", "dimensionality": 3,
            "input_channels": ["CT"], "side_inputs": [], "members": MEMBERS, "outputs": ["label_map"],
            "labels": label_names(config), "spacing_mm": [config.spacing_mm] * 3, "trained_on": trained_on,
            "description": "Abdominal multi-organ CT: localization at coarse spacing, then the "
                           "SpatialConfiguration-Net on the organ box (Thaler et al., FLARE21)."}


def export_scn_model(config: SCNConfig, model: keras.Model, model_set_folder: str, trained_on: str) -> None:
    """Writes the segmentation and geometry members and the manifest of `model_set_folder`."""
    network = network_call(model)

    def serve(image: tf.Tensor) -> dict:
        return {"probabilities": tf.cast(network(image)["prediction"], tf.float32)}

    signature = Signature(serve, [tf.TensorSpec([None, None, None, None, 1], tf.float32, name="image")])
    export_member(model, {"serving_default": signature}, scn_metadata(config),
                  os.path.join(model_set_folder, MEMBERS["segmentation"]))
    export_tf_utils_module(os.path.join(model_set_folder, MEMBERS["geometry"]), SYSTEM)
    name = os.path.basename(os.path.normpath(model_set_folder))
    write_manifest(model_set_folder, flare21_manifest(config, name, trained_on))


def export_scn(load_model_base: str, load_model_iter: int | None, model_set_folder: str, trained_on: str) -> None:
    config, model = restore_model(SCNConfig, build_scn_model, load_model_base, load_model_iter)
    export_scn_model(config, model, model_set_folder, trained_on)


if __name__ == "__main__":
    define_export_flags("saved_models/flare21")
    app.run(export_main(export_scn))
