"""Exports a trained RSTN (three planes) as a CT model set: one SavedModel holding the three planes' networks, and
the manifest.

Usage: python -m rstn.export --load_model_base OUT/rstn [--load_model_iter N]
       [--model_set_folder saved_models/pancreas_rstn] [--trained_on TEXT]
Each plane's weights come from <load_model_base>/<plane>/checkpoints, its config from <plane>/config.json.
Signatures of <model_set_folder>/rstn (role segmentation; volumes [z, y, x] in canonical orientation,
`preprocessing.orientation`):
- segment(volume float32 HU, slice_batch int32 []) -> labels uint8 [z, y, x] (the final round's mask),
    coarse_labels uint8 [z, y, x] (round 0), rounds int32 [] (fine rounds run), inter_round_dsc float32
    [rounds]: the whole coarse-to-fine loop in the graph (`rstn.rounds_graph`).
- fine_round(volume float32 HU, score float32 [z, y, x], mask uint8 [z, y, x], slice_batch int32 []) -> score
    float32 [z, y, x] (the mean of the planes' fine probabilities), mask uint8 [z, y, x] (post-processed),
    inter_round_dsc float64 [] (with the mask given): one round of `segment`'s loop, from any previous round's
    score and mask (e.g. to run rounds with one's own stopping rule, or from a mask drawn by hand).
- coarse_X|Y|Z(volume float32 HU, slice_batch int32 []) -> probabilities float32 [z, y, x]: the plane's coarse
    network over every stack of the plane, averaged per slice.
- fine_X|Y|Z(volume float32 HU, score float32 [z, y, x], mask uint8 [z, y, x], slice_batch int32 [])
    -> probabilities float32 [z, y, x]: one fine round of the plane from the previous round's fused
    probabilities (score) and mask.
- metadata() -> json (planes, window, slices per stack, margin, fine and post-processing thresholds, rounds: the
    same for every plane, `SHARED_FIELDS`; config: plane X's; plane_configs: each plane's).
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
from rstn.model_set import MEMBERS, ROLE, SYSTEM
from rstn.rounds_graph import planes_fine_round, segment_volume
from rstn.training import restore_plane
from rstn.volume_inference import fine_probabilities, model_coarse_probabilities
from serving.exporter import Signature

PLANE_NAMES = {"X": "coronal images (rows of the (row, column, slice) array)",
               "Y": "sagittal images (columns)", "Z": "axial images (slices)"}
SHARED_FIELDS = ("organ_ids", "organ_name", "window_hu", "slice_thickness", "crop_margin", "fine_threshold",
                 "postprocess_threshold", "max_rounds", "stop_dsc")
"""Config fields the three planes must agree on: the labels, the input's preparation (window, slices per stack, fine
margin), which the metadata states once, and the rounds, which fuse the planes."""


def label_names(config: RSTNConfig) -> dict[str, str]:
    return {"0": "background", "1": config.organ_name}


def rounds_config(configs: dict[str, RSTNConfig]) -> RSTNConfig:
    """The config of the labels, the input's preparation and the rounds (the first plane's), after checking that
    every plane has the same `SHARED_FIELDS` (planes may differ in their training, e.g. epochs)."""
    first = configs[PLANES[0]]
    for plane, config in configs.items():
        differing = [name for name in SHARED_FIELDS if getattr(config, name) != getattr(first, name)]
        if differing:
            raise ValueError(f"plane {plane}: {', '.join(differing)} other than plane {PLANES[0]}'s; the planes of a "
                             "set share the labels, the input's preparation and the rounds (rstn.export.SHARED_FIELDS)")
    return first


def rstn_metadata(configs: dict[str, RSTNConfig]) -> dict:
    """The metadata of the set's member: what every plane shares (`SHARED_FIELDS`: window, slices per stack, margin,
    the rounds' settings) once, and every plane's config."""
    config = rounds_config(configs)
    return {"system": SYSTEM, "role": ROLE, "planes": {plane: PLANE_NAMES[plane] for plane in configs},
            "labels": label_names(config), "orientation": "canonical [z, y, x] (preprocessing.orientation)",
            "normalization": {"kind": "window_hu", "window_hu": list(config.window_hu), "range": [0.0, 1.0]},
            "slice_thickness": config.slice_thickness, "crop_margin": config.crop_margin,
            "fine_threshold": config.fine_threshold,
            "postprocess_threshold": config.postprocess_threshold, "max_rounds": config.max_rounds,
            "stop_dsc": config.stop_dsc, "config": dataclasses.asdict(config),
            "plane_configs": {plane: dataclasses.asdict(c) for plane, c in configs.items()}}


def rstn_manifest(config: RSTNConfig, name: str, trained_on: str) -> dict:
    return {"format_version": 1, "name": name, "pipeline": SYSTEM, "modality": "CT", "dimensionality": 3,
            "input_channels": ["CT"], "side_inputs": [], "members": MEMBERS, "outputs": ["label_map"],
            "labels": label_names(config), "trained_on": trained_on,
            "description": f"{config.organ_name.capitalize()} segmentation with the Recurrent Saliency Transformation "
                           "Network (Yu, Xie et al., CVPR 2018): coarse and fine FCN-8s on three planes, "
                           "coarse-to-fine rounds."}


VOLUME = tf.TensorSpec([None, None, None], tf.float32, name="volume")
SLICE_BATCH = tf.TensorSpec([], tf.int32, name="slice_batch")
SCORE = tf.TensorSpec([None, None, None], tf.float32, name="score")
MASK = tf.TensorSpec([None, None, None], tf.uint8, name="mask")


def plane_signatures(config: RSTNConfig, model: RSTN, plane: str) -> dict[str, Signature]:
    """`coarse_<plane>` and `fine_<plane>` of one plane's model."""
    def coarse(volume: tf.Tensor, slice_batch: tf.Tensor) -> dict:
        return {"probabilities": model_coarse_probabilities(volume, plane, model, config, slice_batch)}

    def fine(volume: tf.Tensor, score: tf.Tensor, mask: tf.Tensor, slice_batch: tf.Tensor) -> dict:
        return {"probabilities": fine_probabilities(volume, score, mask, plane, model, config, slice_batch)}

    return {f"coarse_{plane}": Signature(coarse, [VOLUME, SLICE_BATCH]),
            f"fine_{plane}": Signature(fine, [VOLUME, SCORE, MASK, SLICE_BATCH])}


def segment_signature(configs: dict[str, RSTNConfig], models: dict[str, RSTN]) -> Signature:
    """`segment`: the coarse stage and the rounds of the three planes in one graph."""
    config = rounds_config(configs)

    def segment(volume: tf.Tensor, slice_batch: tf.Tensor) -> dict:
        result = segment_volume(volume, slice_batch, models, configs, config)
        return {"labels": result.labels, "coarse_labels": result.coarse_labels, "rounds": result.rounds,
                "inter_round_dsc": result.inter_round_dsc}

    return Signature(segment, [VOLUME, SLICE_BATCH])


def fine_round_signature(configs: dict[str, RSTNConfig], models: dict[str, RSTN]) -> Signature:
    """`fine_round`: one round of `segment`'s loop."""
    config = rounds_config(configs)

    def fine_round(volume: tf.Tensor, score: tf.Tensor, mask: tf.Tensor, slice_batch: tf.Tensor) -> dict:
        result = planes_fine_round(volume, score, mask, slice_batch, models, configs, config)
        return {"score": result.score, "mask": result.mask, "inter_round_dsc": result.dsc}

    return Signature(fine_round, [VOLUME, SCORE, MASK, SLICE_BATCH])


def export_rstn_models(configs: dict[str, RSTNConfig], models: dict[str, RSTN], model_set_folder: str,
                       trained_on: str) -> None:
    """Writes the set's member (the three planes' networks, each plane with its config: `segment` and the planes'
    signatures) and the manifest of `model_set_folder`."""
    models = {plane: models[plane] for plane in PLANES}
    signatures = {"segment": segment_signature(configs, models), "fine_round": fine_round_signature(configs, models)}
    for plane, model in models.items():
        signatures.update(plane_signatures(configs[plane], model, plane))
    export_member(list(models.values()), signatures, rstn_metadata(configs),
                  os.path.join(model_set_folder, MEMBERS[ROLE]))
    name = os.path.basename(os.path.normpath(model_set_folder))
    write_manifest(model_set_folder, rstn_manifest(rounds_config(configs), name, trained_on))


def export_rstn(load_model_base: str, load_model_iter: int | None, model_set_folder: str, trained_on: str) -> None:
    """Exports the planes trained under `load_model_base`, each with its own `<plane>/config.json`."""
    keras.mixed_precision.set_global_policy("float32")
    restored = {plane: restore_plane(load_model_base, plane, load_model_iter) for plane in PLANES}
    export_rstn_models({plane: config for plane, (config, _) in restored.items()},
                       {plane: model for plane, (_, model) in restored.items()}, model_set_folder, trained_on)


if __name__ == "__main__":
    define_export_flags("saved_models/pancreas_rstn")
    app.run(export_main(export_rstn))
