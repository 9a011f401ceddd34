"""Exports the localization network (EMA weights) as a float32 SavedModel.

Usage: python -m localization.export --load_model_base OUT/localization [--load_model_iter N]
       [--output_folder saved_models/localization]
Signature: image float32 [batch, z, y, x, 1] at `spacing_mm`, windowed to [-1, 1], sizes multiples of
`size_multiple` -> probabilities float32 [batch, z, y, x, 2] (background, region of the organs).
"""
from __future__ import annotations

import dataclasses
import os

import keras
import tensorflow as tf
from absl import app, flags

from inference.export_base import checkpoint_path, export_network, load_ema_weights
from localization.config import LocalizationConfig
from localization.model import build_localization_model
from networks.config_io import read_config

flags.DEFINE_string("load_model_base", None, "Training output folder (config.json, checkpoints/).")
flags.DEFINE_integer("load_model_iter", None, "Checkpoint iteration; latest if unset.")
flags.DEFINE_string("output_folder", "saved_models/localization", "SavedModel folder to write.")
flags.mark_flag_as_required("load_model_base")
FLAGS = flags.FLAGS


def localization_metadata(config: LocalizationConfig) -> dict:
    return {"model_kind": "localization", "labels": {"0": "background", "1": "organs"},
            "spacing_mm": [config.spacing_mm] * 3, "window_hu": list(config.window_hu),
            "size_multiple": config.size_multiple, "bbox_margin_mm": config.bbox_margin_mm,
            "patch_shape": list(config.patch_shape), "input_shape": [None, None, None, 1],
            "config": dataclasses.asdict(config)}


def export_localization(load_model_base: str, load_model_iter: int | None, output_folder: str) -> None:
    keras.mixed_precision.set_global_policy("float32")
    config = read_config(LocalizationConfig, os.path.join(load_model_base, "config.json"))
    model = build_localization_model(config)
    load_ema_weights(model, checkpoint_path(load_model_base, load_model_iter))
    export_network(model, lambda logits: tf.nn.softmax(logits, axis=-1), localization_metadata(config),
                   tf.TensorSpec([None, None, None, None, 1], tf.float32, name="image"), output_folder)


def main(argv: list[str]) -> None:
    del argv
    export_localization(FLAGS.load_model_base, FLAGS.load_model_iter, FLAGS.output_folder)
    print(f"wrote {FLAGS.output_folder}")


if __name__ == "__main__":
    app.run(main)
