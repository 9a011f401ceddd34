"""Exports the localization network (EMA weights) as the `localization` member of a FLARE21 model set.

Usage: python -m localization.export --load_model_base OUT/localization [--load_model_iter N]
       [--model_set_folder saved_models/flare21] [--trained_on TEXT]
Writes <model_set_folder>/localization. Signature `serving_default`: image float32 [batch, z, y, x, 1] at
`spacing_mm` (or larger for large volumes), windowed to [-1, 1], sizes from `valid_sizes` -> probabilities float32
[batch, z, y, x, 2] (background, region of the organs). `python -m scn.export` writes the rest of the set.
Docs: docs/ct_multi_organ.md
"""
from __future__ import annotations

import preprocessing.quiet_startup  # noqa: F401 - first: hides TensorFlow's C++ start-up lines

import dataclasses
import os

import keras
import tensorflow as tf
from absl import app

from localization.config import LocalizationConfig
from localization.model import build_localization_model
from networks.export import (define_export_flags, export_main, export_member, network_call, network_grid_metadata,
                             restore_model)
from serving.exporter import Signature

SYSTEM = "efficient_scn"
MEMBER_FOLDER = "localization"


def localization_metadata(config: LocalizationConfig) -> dict:
    return {"system": SYSTEM, "role": "localization", "labels": {"0": "background", "1": "organs"},
            "spacing_mm": [config.spacing_mm] * 3,
            "normalization": {"kind": "window_hu", "window_hu": list(config.window_hu)},
            **network_grid_metadata(config), "bbox_margin_mm": config.bbox_margin_mm,
            "config": dataclasses.asdict(config)}


def export_localization_model(config: LocalizationConfig, model: keras.Model, model_set_folder: str) -> None:
    """Writes `<model_set_folder>/localization` from a float32 model (the manifest comes from scn.export)."""
    network = network_call(model)

    def serve(image: tf.Tensor) -> dict:
        return {"probabilities": tf.nn.softmax(tf.cast(network(image), tf.float32), axis=-1)}

    signature = Signature(serve, [tf.TensorSpec([None, None, None, None, 1], tf.float32, name="image")])
    export_member(model, {"serving_default": signature}, localization_metadata(config),
                  os.path.join(model_set_folder, MEMBER_FOLDER))


def export_localization(load_model_base: str, load_model_iter: int | None, model_set_folder: str,
                        trained_on: str) -> None:
    del trained_on  # the manifest is written by scn.export, which completes the set
    config, model = restore_model(LocalizationConfig, build_localization_model, load_model_base, load_model_iter)
    export_localization_model(config, model, model_set_folder)


if __name__ == "__main__":
    define_export_flags("saved_models/flare21")
    app.run(export_main(export_localization))
