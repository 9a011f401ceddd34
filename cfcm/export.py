"""Exports CFCM (EMA weights) as a chest X-ray model set: the `segmentation` member and the manifest.

Usage: python -m cfcm.export --load_model_base OUT/cfcm [--load_model_iter N]
       [--model_set_folder saved_models/cxr_lungs] [--trained_on TEXT]
Signatures of <model_set_folder>/cfcm:
- serving_default(image float32 [batch, S, S, 1], prepared as metadata `resize` and `normalization` say)
    -> probabilities float32 [batch, S, S, C] (sigmoid per foreground label, or softmax over all labels)
- segment(image float32 [H, W], raw pixel values) -> probabilities [H, W, C], labels uint8 [H, W]:
    resizing, normalisation and the way back to the image's own size happen inside the graph.
- metadata() -> json
Docs: docs/cfcm.md
"""
from __future__ import annotations

import preprocessing.quiet_startup  # noqa: F401 - first: hides TensorFlow's C++ start-up lines

import dataclasses
import os

import keras
import tensorflow as tf
from absl import app

from cfcm.config import CFCMConfig
from cfcm.model import build_cfcm_model
from cfcm.segment import probabilities_of, segment_image
from networks.export import (define_export_flags, export_main, export_member, network_call, restore_model,
                             write_manifest)
from serving.exporter import Signature

SYSTEM = "cfcm"
RESIZE_RULES = {"square": "square: the non-zero rows and columns resized to the input size (aspect not kept)",
                "letterbox": "letterbox: long side to input size, aspect kept, padded bottom/right"}
MEMBERS = {"segmentation": "cfcm"}


def label_names(config: CFCMConfig) -> dict[str, str]:
    return {"0": "background", **{str(i): name for i, name in enumerate(config.label_names, start=1)}}


def cfcm_metadata(config: CFCMConfig) -> dict:
    return {"system": SYSTEM, "role": "segmentation", "architecture": "LSTMResNet" if config.memory else "ResNet",
            "labels": label_names(config), "input_shape": [config.image_size, config.image_size, 1],
            "size_multiple": 16, "head": config.head, "threshold": 0.5,
            "normalization": {"kind": config.normalization, "percentiles": list(config.percentiles)},
            "resize": RESIZE_RULES[config.resize], "config": dataclasses.asdict(config)}


def cfcm_manifest(config: CFCMConfig, name: str, trained_on: str) -> dict:
    """The manifest of a CFCM model set."""
    return {"format_version": 1, "name": name, "pipeline": SYSTEM, "modality": "XR", "dimensionality": 2,
            "input_channels": ["XR"], "side_inputs": [], "members": MEMBERS, "outputs": ["label_map"],
            "labels": label_names(config), "trained_on": trained_on,
            "description": "Chest X-ray lung segmentation with the Coarse-to-Fine Context Memory "
                           "(Milletari et al., MICCAI 2018)."}


def export_cfcm_model(config: CFCMConfig, model: keras.Model, model_set_folder: str, trained_on: str) -> None:
    """Writes the segmentation member and the manifest of `model_set_folder` from a float32 model."""
    network = network_call(model)

    def serve(image: tf.Tensor) -> dict:
        return {"probabilities": probabilities_of(network(image), config)}

    def segment(image: tf.Tensor) -> dict:
        return segment_image(network, image, config)

    signatures = {"serving_default": Signature(serve, [tf.TensorSpec([None, None, None, 1], tf.float32,
                                                                      name="image")]),
                  "segment": Signature(segment, [tf.TensorSpec([None, None], tf.float32, name="image")])}
    export_member(model, signatures, cfcm_metadata(config), os.path.join(model_set_folder, MEMBERS["segmentation"]))
    name = os.path.basename(os.path.normpath(model_set_folder))
    write_manifest(model_set_folder, cfcm_manifest(config, name, trained_on))


def export_cfcm(load_model_base: str, load_model_iter: int | None, model_set_folder: str, trained_on: str) -> None:
    config, model = restore_model(CFCMConfig, build_cfcm_model, load_model_base, load_model_iter)
    export_cfcm_model(config, model, model_set_folder, trained_on)


if __name__ == "__main__":
    define_export_flags("saved_models/cxr_lungs")
    app.run(export_main(export_cfcm))
