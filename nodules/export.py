"""Exports the nodule detector and the crop model as one model set (`lidc_nodules`): two members and the manifest.

Usage: python -m nodules.export --load_detector DETECTOR_OUT --load_crop_model CROP_OUT
       [--model_set_folder saved_models/lidc_nodules] [--trained_on TEXT]
Signatures of <model_set_folder>/detector:
- serving_default(image float32 [batch, z, y, x, 1]: the detector volume's 0..255 values as (v - 128) / 128,
  sides a multiple of metadata `size_multiple`; coord float32 [batch, z/4, y/4, x/4, 3]: the cells' position in
  the volume, each in [-0.5, 0.5]) -> outputs float32 [batch, z/4, y/4, x/4, anchors, 5] (logit, dz, dy, dx,
  log-size per anchor of metadata `anchors_mm`; `nodules.anchors.decode`).
Signatures of <model_set_folder>/crop_model:
- serving_default(image float32 [batch, z, y, x, 1]: a crop of metadata `crop_size` at `spacing_mm` around a
  nodule, HU windowed by `hu_window` to [0, 1]) -> mask_probability float32 [batch, z, y, x],
  malignancy_probability float32 [batch].
Both: metadata() -> json (the configuration, with the original's fields).
Docs: docs/nodules.md
"""
from __future__ import annotations

import preprocessing.quiet_startup  # noqa: F401 - first: hides TensorFlow's C++ start-up lines

import dataclasses
import os

import keras
import tensorflow as tf
from absl import app, flags

from networks.export import export_member, network_call, restore_model, write_manifest
from nodules.config import CropModelConfig, DetectorConfig
from nodules.crop_model import build_crop_model
from nodules.detector import build_detector
from serving.exporter import Signature

SYSTEM = "nodules"
MEMBERS = {"detector": "detector", "crop_model": "crop_model"}
LABELS = {"0": "background", "1": "nodule"}


def detector_metadata(config: DetectorConfig) -> dict:
    return {"system": SYSTEM, "role": "detector", "architecture": "DeepLung 3D Res18 RPN",
            "spacing_mm": [config.spacing_mm] * 3, "orientation": "canonical (preprocessing.orientation)",
            "anchors_mm": list(config.anchors_mm), "stride": config.stride, "size_multiple": config.max_stride,
            "example_inputs": {"image": [1, 32, 32, 32, 1], "coord": [1, 8, 8, 8, 3]},
            "normalization": {"kind": "window", "hu_window": list(config.hu_window), "scale": "(v - 128) / 128",
                              "pad_value": config.pad_value},
            "config": dataclasses.asdict(config)}


def crop_metadata(config: CropModelConfig) -> dict:
    return {"system": SYSTEM, "role": "crop_model", "architecture": "DynUNet + malignancy head",
            "spacing_mm": [config.spacing_mm] * 3, "crop_size": list(config.crop_size),
            "normalization": {"kind": "window", "hu_window": list(config.hu_window)},
            "config": dataclasses.asdict(config)}


def export_nodule_models(detector_config: DetectorConfig, detector: keras.Model, crop_config: CropModelConfig,
                         crop_model: keras.Model, model_set_folder: str, trained_on: str) -> None:
    """Writes both members and the manifest of `model_set_folder` from float32 models."""
    detect = network_call(detector)
    segment = network_call(crop_model)

    def serve_detector(image: tf.Tensor, coord: tf.Tensor) -> dict:
        return {"outputs": tf.cast(detect({"image": image, "coord": coord}), tf.float32)}

    def serve_crop(image: tf.Tensor) -> dict:
        outputs = segment(image)
        return {"mask_probability": tf.nn.softmax(tf.cast(outputs["mask"], tf.float32))[..., 1],
                "malignancy_probability": tf.sigmoid(tf.cast(outputs["malignancy"], tf.float32))[:, 0]}

    export_member(detector, {"serving_default": Signature(serve_detector, [
        tf.TensorSpec([None, None, None, None, 1], tf.float32, name="image"),
        tf.TensorSpec([None, None, None, None, 3], tf.float32, name="coord")])},
        detector_metadata(detector_config), os.path.join(model_set_folder, MEMBERS["detector"]))
    export_member(crop_model, {"serving_default": Signature(serve_crop, [
        tf.TensorSpec([None, None, None, None, 1], tf.float32, name="image")])},
        crop_metadata(crop_config), os.path.join(model_set_folder, MEMBERS["crop_model"]))
    name = os.path.basename(os.path.normpath(model_set_folder))
    write_manifest(model_set_folder, {
        "format_version": 1, "name": name, "pipeline": SYSTEM, "modality": "CT", "dimensionality": 3,
        "input_channels": ["CT"], "side_inputs": [], "members": MEMBERS, "outputs": ["label_map", "findings"],
        "labels": LABELS, "trained_on": trained_on, "spacing_mm": [detector_config.spacing_mm] * 3,
        "description": "Lung nodules in chest CT: DeepLung 3D Res18 detection (Zhu et al. 2018), per-nodule mask "
                       "and malignancy from a DynUNet on 64^3 crops; label k of <case>.nii.gz is nodule k of "
                       "<case>.json."})


def main(argv: list[str]) -> None:
    del argv
    values = flags.FLAGS
    detector_config, detector = restore_model(DetectorConfig, build_detector, values.load_detector, None)
    crop_config, crop_model = restore_model(CropModelConfig, build_crop_model, values.load_crop_model, None)
    export_nodule_models(detector_config, detector, crop_config, crop_model, values.model_set_folder,
                         values.trained_on)
    print(f"wrote {values.model_set_folder}")


if __name__ == "__main__":
    flags.DEFINE_string("load_detector", None, "Detector training output (config.json, checkpoints/).")
    flags.DEFINE_string("load_crop_model", None, "Crop model training output (config.json, checkpoints/).")
    flags.DEFINE_string("model_set_folder", "saved_models/lidc_nodules", "Model set folder to write.")
    flags.DEFINE_string("trained_on", "not stated", "What the weights were trained on (written to the manifest).")
    flags.mark_flags_as_required(["load_detector", "load_crop_model"])
    app.run(main)
