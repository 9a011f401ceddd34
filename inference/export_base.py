"""SavedModel export shared by every network (the contract the inference entrypoint relies on).

Every network SavedModel has two signatures:
- `serving_default(image)`: `image` float32 [batch, *spatial, channels] (the normalised network input,
  channels last; spatial sizes multiples of `size_multiple`) -> {'probabilities': float32
  [batch, *spatial, num_labels]}, channel 0 = background.
- `metadata()` -> {'json': string scalar}: a JSON object with at least `format_version`, `model_kind`
  ('localization', 'segmentation', 'cfcm'), `labels` ({"0": "background", ...}), `input_shape`
  (per-axis sizes or null for dynamic), `size_multiple`, and the preprocessing it expects
  (`spacing_mm` in array order, `window_hu` or `normalization`, `patch_shape`).
Graphs are float32 (mixed precision is only used in training), so they run on CPU and GPU.
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable

import keras
import tensorflow as tf
from absl import flags

from networks.config_io import read_config
from networks.train_loop import model_weights
from preprocessing.atomic import atomic_directory

FORMAT_VERSION = 1


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


def define_export_flags(default_output_folder: str) -> None:
    """Defines --load_model_base, --load_model_iter and --output_folder for an export script."""
    flags.DEFINE_string("load_model_base", None, "Training output folder (config.json, checkpoints/).")
    flags.DEFINE_integer("load_model_iter", None, "Checkpoint iteration; latest if unset.")
    flags.DEFINE_string("output_folder", default_output_folder, "SavedModel folder to write.")
    flags.mark_flag_as_required("load_model_base")


def export_main(export: Callable[[str, int | None, str], None]) -> Callable[[list[str]], None]:
    """The absl `main` of an export script: runs `export(load_model_base, load_model_iter, output_folder)`."""
    def main(argv: list[str]) -> None:
        del argv
        values = flags.FLAGS
        export(values.load_model_base, values.load_model_iter, values.output_folder)
        print(f"wrote {values.output_folder}")
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
    tf.train.Checkpoint(weights=model_weights(model), ema=ema).restore(path).assert_existing_objects_matched()
    for variable, average in zip(model.trainable_variables, ema):
        variable.assign(average)


class NetworkModule(tf.Module):
    """The exported module: `serve` (probabilities), `metadata` (JSON) and optional extra functions."""

    def __init__(self, model: keras.Model, probabilities_fn, metadata: dict, input_spec: tf.TensorSpec,
                 extra_functions: dict | None = None):
        super().__init__(name=metadata["model_kind"])
        # The model is only reached through closures, and its tf.Variables are tracked once here:
        # tracking the Keras model as an attribute as well would store some weights twice.
        self.model_variables = [v.value for v in model.variables]
        self._network = lambda batch: model(batch, training=False)
        self._probabilities_fn = probabilities_fn
        self._metadata_json = tf.constant(json.dumps(metadata, sort_keys=True))
        self.serve = tf.function(self._serve, input_signature=[input_spec])
        self.metadata = tf.function(self._metadata, input_signature=[])
        self.extra_signatures = {}
        for name, (function, spec) in (extra_functions or {}).items():
            traced = tf.function(self._bind(function), input_signature=[spec])
            setattr(self, name, traced)
            self.extra_signatures[name] = traced

    def _bind(self, function):
        def bound(inputs: tf.Tensor) -> dict:
            return function(self._network, inputs)
        return bound

    def _serve(self, image: tf.Tensor) -> dict:
        return {"probabilities": tf.cast(self._probabilities_fn(self._network(image)), tf.float32)}

    def _metadata(self) -> dict:
        return {"json": self._metadata_json}


def export_network(model: keras.Model, probabilities_fn, metadata: dict, input_spec: tf.TensorSpec,
                   output_folder: str, extra_functions: dict | None = None) -> None:
    """Writes the SavedModel atomically (a previous export is replaced only once the new one is complete).

    `extra_functions` maps signature names to (function(network, input) -> dict of tensors, input spec);
    `network` is the Keras model in inference mode.
    """
    metadata = {"format_version": FORMAT_VERSION, **metadata}
    module = NetworkModule(model, probabilities_fn, metadata, input_spec, extra_functions)
    signatures = {"serving_default": module.serve, "metadata": module.metadata, **module.extra_signatures}
    with atomic_directory(output_folder) as temp:
        tf.saved_model.save(module, temp, signatures=signatures)


def read_metadata(saved_model) -> dict:
    """The metadata JSON of a loaded network SavedModel."""
    return json.loads(saved_model.signatures["metadata"]()["json"].numpy().decode())
