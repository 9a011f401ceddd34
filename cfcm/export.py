"""Exports CFCM (EMA weights) as a float32 SavedModel.

Usage: python -m cfcm.export --load_model_base OUT/cfcm [--load_model_iter N] [--output_folder saved_models/cfcm]
Signatures:
- serving_default(image float32 [batch, S, S, 1], letterboxed, percentile-normalised to [0, 1])
    -> probabilities float32 [batch, S, S, L]
- segment(image float32 [H, W], raw pixel values) -> probabilities [H, W, L], labels uint8 [H, W]:
    normalisation, letterboxing and the way back to the image's own size happen inside the graph.
- metadata() -> json
"""
from __future__ import annotations

import dataclasses
import functools

import tensorflow as tf
from absl import app

from cfcm.config import CFCMConfig
from cfcm.model import build_cfcm_model
from cfcm.segment import segment_image
from inference.export_base import define_export_flags, export_main, export_network, restore_model

define_export_flags("saved_models/cfcm")


def cfcm_metadata(config: CFCMConfig) -> dict:
    labels = {"0": "background", **{str(i): name for i, name in enumerate(config.label_names, start=1)}}
    return {"model_kind": "cfcm", "architecture": "LSTMResNet" if config.memory else "ResNet",
            "labels": labels, "input_shape": [config.image_size, config.image_size, 1],
            "size_multiple": 16, "normalization": {"kind": "percentile", "percentiles": list(config.percentiles)},
            "resize": "letterbox: long side to input size, aspect kept, padded bottom/right",
            "config": dataclasses.asdict(config)}


def export_cfcm(load_model_base: str, load_model_iter: int | None, output_folder: str) -> None:
    config, model = restore_model(CFCMConfig, build_cfcm_model, load_model_base, load_model_iter)
    segment = functools.partial(segment_image, config=config)
    export_network(model, lambda logits: tf.nn.softmax(logits, axis=-1), cfcm_metadata(config),
                   tf.TensorSpec([None, None, None, 1], tf.float32, name="image"), output_folder,
                   {"segment": (segment, tf.TensorSpec([None, None], tf.float32, name="image"))})


if __name__ == "__main__":
    app.run(export_main(export_cfcm))
