"""Trains the click-guided DynUNet on an AutoPET folder (either layout), as SW-FastEdit trains it.

Usage: python -m interactive.train --base_dataset_folder AUTOPET --base_output_folder OUT [--epochs 100]
       [--input_channels PT] [--train_crop_size 224,224,224] [--roi_size 128,128,128] [--train_clicks 10]
       [--click_rule uniform|edt_max|edt_weighted] [--filters ...] [--strides 1x1x1,2x2x2,...]
       [--mixed_precision] [--distribution default|mirrored|multi_worker] [--devices /gpu:0,/gpu:1]
       [--init_model_set saved_models/autopet_interactive]
Every field of `interactive.config.InteractiveConfig` is a flag with the original's default; the config is
written to OUT/config.json. Interrupted runs resume from the latest checkpoint. `--init_model_set` (an addition)
starts from an exported set's weights instead of random ones, with a fresh Adam and cosine schedule from
--learning_rate: fine-tuning it on one's own data. The set's network, windows, crops and input (grid, intensity,
guidance: `interactive.config.MODEL_SET_FIELDS`) are its own unless given as flags (checked before any case loads);
resume such a run with the same command, --init_model_set included.
Docs: docs/interactive.md
"""
from __future__ import annotations

import preprocessing.quiet_startup  # noqa: F401 - first: hides TensorFlow's C++ start-up lines

import numpy as np
from absl import app, flags

from interactive.config import MODEL_SET_FIELDS, InteractiveConfig, model_set_fields
from interactive.training import InteractiveTraining, check_start, model_set_start, train_interactive
from networks.config_flags import config_from_flags, define_config_flags
from networks.training_flags import (define_distribution_flags, define_run_flags, define_strides_flag, parsed_strides,
                                     print_final, strategy, write_run_config)
from preprocessing.cases import autopet_cases
from serving.loading import ModelError

flags.DEFINE_string("base_dataset_folder", None, "AutoPET folder: imagesTr/ + labelsTr/, or FDG-PET-CT-Lesions/.")
flags.DEFINE_string("base_output_folder", None, "Training output: checkpoints, TensorBoard logs, CSVs.")
define_config_flags(InteractiveConfig, skip=("strides",))
define_strides_flag(InteractiveConfig().strides)
define_run_flags()
flags.DEFINE_integer("validation_batch", 1, "Windows per network call in validation.")
flags.DEFINE_string("init_model_set", None, "Addition: start from this model set's weights (fine-tuning), with its "
                    "network, windows, crops and input settings unless given as flags. A checkpoint in "
                    "--base_output_folder takes precedence (resume with the same command, this flag included).")
flags.mark_flags_as_required(["base_dataset_folder", "base_output_folder"])
define_distribution_flags()
FLAGS = flags.FLAGS


def run_config() -> tuple[InteractiveConfig, list[np.ndarray] | None]:
    """The run's config from the flags and its initial weights (None: random). With --init_model_set, the set's
    weights, and its `MODEL_SET_FIELDS` for those not given as flags; checked against the network (ValueError or
    ModelError naming the set). Loads the set: TensorFlow starts, so the strategy must exist before."""
    fields, set_config, initial = {"strides": parsed_strides()}, None, None
    if FLAGS.init_model_set:
        set_config, initial = model_set_start(FLAGS.init_model_set)
        fields.update(model_set_fields(set_config, {name for name in MODEL_SET_FIELDS if FLAGS[name].present}))
    try:
        config = config_from_flags(InteractiveConfig, FLAGS, skip=tuple(fields), **fields)
    except ValueError as error:
        if set_config is None:
            raise
        raise ValueError(f"{error} (network fields not given as flags come from {FLAGS.init_model_set})") from error
    if set_config is not None:
        check_start(FLAGS.init_model_set, set_config, initial, config)
    return config, initial


def main(argv: list[str]) -> None:
    del argv
    run = InteractiveTraining(FLAGS.base_output_folder, FLAGS.mixed_precision, FLAGS.seed, FLAGS.ema_decay,
                              FLAGS.validation_batch)
    distribution = strategy()
    try:
        config, initial = run_config()
        cases = autopet_cases(FLAGS.base_dataset_folder, len(config.input_channels))  # before any compute
    except (FileNotFoundError, ModelError, ValueError) as error:
        raise app.UsageError(str(error)) from error
    write_run_config(config, FLAGS.base_output_folder, distribution)
    print_final(train_interactive(config, cases, run, distribution, initial)[1])


if __name__ == "__main__":
    app.run(main)
