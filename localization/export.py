"""Exports the localization network (EMA weights) as a float32 SavedModel.

Usage: python -m localization.export --load_model_base OUT/localization [--load_model_iter N]
       [--output_folder saved_models/localization]
Signature: image float32 [batch, z, y, x, 1] at `spacing_mm`, windowed to [-1, 1], sizes multiples of
`size_multiple` -> probabilities float32 [batch, z, y, x, 2] (background, region of the organs).
"""
from __future__ import annotations

import dataclasses

import tensorflow as tf
from absl import app

from inference.export_base import define_export_flags, export_main, export_network, restore_model
from localization.config import LocalizationConfig
from localization.model import build_localization_model

define_export_flags("saved_models/localization")


def localization_metadata(config: LocalizationConfig) -> dict:
    return {"model_kind": "localization", "labels": {"0": "background", "1": "organs"},
            "spacing_mm": [config.spacing_mm] * 3, "window_hu": list(config.window_hu),
            "size_multiple": config.size_multiple, "bbox_margin_mm": config.bbox_margin_mm,
            "patch_shape": list(config.patch_shape), "input_shape": [None, None, None, 1],
            "config": dataclasses.asdict(config)}


def export_localization(load_model_base: str, load_model_iter: int | None, output_folder: str) -> None:
    config, model = restore_model(LocalizationConfig, build_localization_model, load_model_base, load_model_iter)
    export_network(model, lambda logits: tf.nn.softmax(logits, axis=-1), localization_metadata(config),
                   tf.TensorSpec([None, None, None, None, 1], tf.float32, name="image"), output_folder)


if __name__ == "__main__":
    app.run(export_main(export_localization))
