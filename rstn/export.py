"""Exports a trained RSTN (three planes) as a CT model set: one SavedModel per plane and the manifest.

Usage: python -m rstn.export --load_model_base OUT/rstn [--load_model_iter N]
       [--model_set_folder saved_models/pancreas_rstn] [--trained_on TEXT]
Each plane's weights come from <load_model_base>/<plane>/checkpoints, the config from <load_model_base>/config.json.
Signatures of <model_set_folder>/plane_<P> (volumes [z, y, x] in canonical orientation, `preprocessing.orientation`):
- coarse(volume float32 HU, slice_batch int32 []) -> probabilities float32 [z, y, x]: the coarse network over
    every stack of the plane, averaged per slice.
- fine(volume float32 HU, score float32 [z, y, x], mask uint8 [z, y, x], slice_batch int32 [])
    -> probabilities float32 [z, y, x]: one fine round of the plane from the previous round's fused
    probabilities (score) and mask.
- metadata() -> json (planes, window, margin, thresholds, rounds, config).
The rounds (fusion of the planes, thresholds, post-processing, stopping) run outside the graph
(`rstn.fusion.coarse_to_fine`), because the post-processing's connected components have no TensorFlow op.
Docs: docs/rstn.md
"""
from __future__ import annotations

import preprocessing.quiet_startup  # noqa: F401 - first: hides TensorFlow's C++ start-up lines

import dataclasses
import os

import keras
import tensorflow as tf
from absl import app

from networks.export import define_export_flags, export_main, export_member, write_manifest
from rstn.config import PLANES, RSTNConfig
from rstn.model import RSTN
from rstn.training import restore_plane
from rstn.volume_inference import coarse_probabilities, fine_probabilities
from serving.exporter import Signature

SYSTEM = "rstn"
MEMBERS = {plane: f"plane_{plane}" for plane in PLANES}
PLANE_NAMES = {"X": "coronal images (rows of the (row, column, slice) array)",
               "Y": "sagittal images (columns)", "Z": "axial images (slices)"}


def label_names(config: RSTNConfig) -> dict[str, str]:
    return {"0": "background", "1": config.organ_name}


def rstn_metadata(config: RSTNConfig, plane: str) -> dict:
    """The metadata of one plane's member."""
    return {"system": SYSTEM, "role": plane, "plane": plane, "plane_images": PLANE_NAMES[plane],
            "labels": label_names(config), "orientation": "canonical [z, y, x] (preprocessing.orientation)",
            "normalization": {"kind": "window_hu", "window_hu": list(config.window_hu), "range": [0.0, 1.0]},
            "slice_thickness": config.slice_thickness, "crop_margin": config.crop_margin,
            "coarse_threshold": config.coarse_threshold, "fine_threshold": config.fine_threshold,
            "postprocess_threshold": config.postprocess_threshold, "max_rounds": config.max_rounds,
            "stop_dsc": config.stop_dsc, "config": dataclasses.asdict(config)}


def rstn_manifest(config: RSTNConfig, name: str, trained_on: str) -> dict:
    return {"format_version": 1, "name": name, "pipeline": SYSTEM, "modality": "CT", "dimensionality": 3,
            "input_channels": ["CT"], "side_inputs": [], "members": MEMBERS, "outputs": ["label_map"],
            "labels": label_names(config), "trained_on": trained_on,
            "description": f"{config.organ_name.capitalize()} segmentation with the Recurrent Saliency Transformation "
                           "Network (Yu, Xie et al., CVPR 2018): coarse and fine FCN-8s on three planes, "
                           "coarse-to-fine rounds."}


def export_plane(config: RSTNConfig, model: RSTN, plane: str, folder: str) -> None:
    """Writes one plane's SavedModel (float32) into `folder`."""
    volume = tf.TensorSpec([None, None, None], tf.float32, name="volume")
    slice_batch = tf.TensorSpec([], tf.int32, name="slice_batch")

    def coarse(volume: tf.Tensor, slice_batch: tf.Tensor) -> dict:
        network = lambda stacks: model.coarse(stacks, training=False)  # noqa: E731
        return {"probabilities": coarse_probabilities(volume, plane, network, config, slice_batch)}

    def fine(volume: tf.Tensor, score: tf.Tensor, mask: tf.Tensor, slice_batch: tf.Tensor) -> dict:
        return {"probabilities": fine_probabilities(volume, score, mask, plane, model, config, slice_batch)}

    signatures = {
        "coarse": Signature(coarse, [volume, slice_batch]),
        "fine": Signature(fine, [volume, tf.TensorSpec([None, None, None], tf.float32, name="score"),
                                 tf.TensorSpec([None, None, None], tf.uint8, name="mask"), slice_batch])}
    export_member(model, signatures, rstn_metadata(config, plane), folder)


def export_rstn_models(configs: dict[str, RSTNConfig], models: dict[str, RSTN], model_set_folder: str,
                       trained_on: str) -> None:
    """Writes the three plane members (each with its plane's config) and the manifest of `model_set_folder`."""
    for plane, model in models.items():
        export_plane(configs[plane], model, plane, os.path.join(model_set_folder, MEMBERS[plane]))
    name = os.path.basename(os.path.normpath(model_set_folder))
    write_manifest(model_set_folder, rstn_manifest(configs[PLANES[0]], name, trained_on))


def export_rstn(load_model_base: str, load_model_iter: int | None, model_set_folder: str, trained_on: str) -> None:
    """Exports the planes trained under `load_model_base`, each with its own `<plane>/config.json`."""
    keras.mixed_precision.set_global_policy("float32")
    restored = {plane: restore_plane(load_model_base, plane, load_model_iter) for plane in PLANES}
    export_rstn_models({plane: config for plane, (config, _) in restored.items()},
                       {plane: model for plane, (_, model) in restored.items()}, model_set_folder, trained_on)


if __name__ == "__main__":
    define_export_flags("saved_models/pancreas_rstn")
    app.run(export_main(export_rstn))
