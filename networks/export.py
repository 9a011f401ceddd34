"""From a training output folder to a member of a model set: restore the EMA weights into a float32 Keras
model and save it through the serving contract (`serving.exporter`), atomically.

Export scripts share the flags `--load_model_base`, `--load_model_iter`, `--model_set_folder`,
`--trained_on` and `--default_set`.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import keras
import tensorflow as tf
from absl import flags

from networks.config_io import read_config
from networks.train_loop import model_weights
from preprocessing.atomic import atomic_directory, atomic_path
from serving.exporter import ExportModule, Signature, save
from serving.manifest import MANIFEST_NAME, manifest_json, read_manifest


def checkpoint_path(load_model_base: str, load_model_iter: int | None) -> str:
    """The checkpoint of iteration `load_model_iter` (latest if None) in `<load_model_base>/checkpoints`."""
    folder = os.path.join(load_model_base, "checkpoints")
    if load_model_iter is None:
        path = tf.train.latest_checkpoint(folder)
    else:
        path = os.path.join(folder, f"ckpt-{load_model_iter}")
    if path is None or not tf.io.gfile.exists(path + ".index"):
        which = "" if load_model_iter is None else f" for iteration {load_model_iter}"
        raise FileNotFoundError(f"{folder}: no checkpoint{which}")
    return path


def define_export_flags(default_model_set_folder: str) -> None:
    """Defines --load_model_base, --load_model_iter, --model_set_folder, --trained_on and --default_set."""
    flags.DEFINE_string("load_model_base", None, "Training output folder (config.json, checkpoints/).")
    flags.DEFINE_integer("load_model_iter", None, "Checkpoint iteration; latest if unset.")
    flags.DEFINE_string("model_set_folder", default_model_set_folder,
                        "Model set folder: the member is written into a subfolder, with the set's manifest.")
    flags.DEFINE_string("trained_on", "not stated", "What the weights were trained on (written to the manifest).")
    flags.DEFINE_bool("default_set", False,
                      "Mark the set as the default for its modality and dimensionality: chosen when several installed "
                      "sets accept an input and --model is not given (needs the export that writes the manifest).")
    flags.mark_flag_as_required("load_model_base")


ExportFn = Callable[[str, int | None, str, str], None]


def export_main(export: ExportFn) -> Callable[[list[str]], None]:
    """The absl `main` of an export script: `export(load_model_base, load_model_iter, model_set_folder,
    trained_on)`, then the set marked default with `--default_set`."""
    def main(argv: list[str]) -> None:
        del argv
        values = flags.FLAGS
        export(values.load_model_base, values.load_model_iter, values.model_set_folder, values.trained_on)
        if values.default_set:
            mark_default(values.model_set_folder)
        print(f"wrote {values.model_set_folder}")
    return main


def restore_model(config_cls: type, build: Callable, load_model_base: str, load_model_iter: int | None):
    """(config, float32 Keras model with the checkpoint's EMA weights) from a training output folder."""
    keras.mixed_precision.set_global_policy("float32")
    config = read_config(config_cls, os.path.join(load_model_base, "config.json"))
    model = build(config)
    load_ema_weights(model, checkpoint_path(load_model_base, load_model_iter))
    return config, model


def load_ema_weights(model: keras.Model, path: str) -> None:
    """Loads a training checkpoint into `model`: all its variables (BatchNorm statistics included), then the
    exponential-moving-average values of the trainable ones."""
    ema = [tf.Variable(tf.zeros_like(v), name=f"ema_{i}") for i, v in enumerate(model.trainable_variables)]
    tf.train.Checkpoint(weights=model_weights(model), ema=ema).restore(path).assert_existing_objects_matched() \
        .expect_partial()
    for variable, average in zip(model.trainable_variables, ema):
        variable.assign(average)


def export_member(models: keras.Model | Sequence[keras.Model], signatures: dict[str, Signature], metadata: dict,
                  output_folder: str) -> None:
    """Writes one SavedModel (float32) atomically: a previous export is replaced only once the new one is complete.
    The variables of `models` (one Keras model, or several that the signatures share, e.g. RSTN's three planes)
    are tracked once each."""
    models = [models] if isinstance(models, keras.Model) else list(models)
    module = ExportModule(metadata["role"], [v for model in models for v in model_weights(model)], signatures,
                          metadata)
    with atomic_directory(output_folder) as temp:
        save(module, temp)


def write_manifest(set_folder: str, manifest: dict) -> None:
    """Writes `<set_folder>/manifest.json` (validated) atomically."""
    with atomic_path(os.path.join(set_folder, MANIFEST_NAME)) as temp, open(temp, "w", encoding="utf-8") as handle:
        handle.write(manifest_json(manifest))


def mark_default(set_folder: str) -> None:
    """Rewrites the manifest of `set_folder` with `"default": true` (see `serving.manifest`)."""
    if not os.path.isfile(os.path.join(set_folder, MANIFEST_NAME)):
        raise FileNotFoundError(f"{set_folder}: no {MANIFEST_NAME} to mark as default; pass --default_set to the "
                                "export that writes the manifest")
    write_manifest(set_folder, {**read_manifest(set_folder), "default": True})


def network_call(model: keras.Model) -> Callable[[tf.Tensor], object]:
    """The model in inference mode, as the exported functions call it."""
    return lambda batch: model(batch, training=False)


def network_grid_metadata(config) -> dict:
    """The metadata a CT pipeline needs to build a network's input grid (`inference.tf_utils.network_input`)
    from a config with spacing_mm, input_sigma_mm, valid_sizes (z, y, x), spacing_tolerance, size_multiple."""
    return {"smoothing_sigma_mm": config.input_sigma_mm, "valid_sizes": [list(v) for v in config.valid_sizes],
            "spacing_tolerance": config.spacing_tolerance, "size_multiple": config.size_multiple}
