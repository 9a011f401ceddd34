"""Exports the SpatialConfiguration-Net (EMA weights) as a float32 SavedModel.

Usage: python -m scn.export --load_model_base OUT/scn [--load_model_iter N] [--output_folder saved_models/segmentation]
Signature: image float32 [batch, z, y, x, 1] at `spacing_mm`, windowed to [-1, 1], sizes multiples of
`size_multiple` (use windows of `patch_shape` for large crops) -> probabilities float32 [batch, z, y, x, L].
"""
from __future__ import annotations

import dataclasses

import tensorflow as tf
from absl import app

from inference.export_base import define_export_flags, export_main, export_network, restore_model
from scn.config import SCNConfig
from scn.model import build_scn_model

define_export_flags("saved_models/segmentation")

# Connected components kept per label in post-processing (both kidneys share one label).
COMPONENTS_PER_LABEL = {"kidney": 2}


def scn_metadata(config: SCNConfig) -> dict:
    labels = {"0": "background", **{str(i): name for i, name in enumerate(config.label_names, start=1)}}
    return {"model_kind": "segmentation", "labels": labels, "spacing_mm": [config.spacing_mm] * 3,
            "window_hu": list(config.window_hu), "size_multiple": config.size_multiple,
            "patch_shape": list(config.patch_shape), "input_shape": [None, None, None, 1],
            "components_per_label": {str(i): COMPONENTS_PER_LABEL.get(name, 1)
                                     for i, name in enumerate(config.label_names, start=1)},
            "config": dataclasses.asdict(config)}


def export_scn(load_model_base: str, load_model_iter: int | None, output_folder: str) -> None:
    config, model = restore_model(SCNConfig, build_scn_model, load_model_base, load_model_iter)
    export_network(model, lambda outputs: outputs["prediction"], scn_metadata(config),
                   tf.TensorSpec([None, None, None, None, 1], tf.float32, name="image"), output_folder)


if __name__ == "__main__":
    app.run(export_main(export_scn))
