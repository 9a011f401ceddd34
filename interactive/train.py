"""Trains the click-guided DynUNet on an AutoPET folder (either layout), as SW-FastEdit trains it.

Usage: python -m interactive.train --base_dataset_folder AUTOPET --base_output_folder OUT [--epochs 100]
       [--input_channels PT] [--train_crop_size 224,224,224] [--roi_size 128,128,128] [--train_clicks 10]
       [--click_rule uniform|edt_max|edt_weighted] [--filters ...] [--strides 1x1x1,2x2x2,...]
       [--mixed_precision] [--distribution default|mirrored|multi_worker] [--devices /gpu:0,/gpu:1]
       [--init_model_set saved_models/autopet_interactive]
Every field of `interactive.config.InteractiveConfig` is a flag with the original's default; the config is
written to OUT/config.json. Interrupted runs resume from the latest checkpoint. `--init_model_set` (an addition)
starts from an exported set's weights instead of random ones, with a fresh Adam and cosine schedule from
--learning_rate: fine-tuning it on one's own data, with the set's own network flags (checked before any case loads).
Docs: docs/interactive.md
"""
from __future__ import annotations

import preprocessing.quiet_startup  # noqa: F401 - first: hides TensorFlow's C++ start-up lines

from absl import app, flags

from interactive.config import InteractiveConfig
from interactive.training import InteractiveTraining, initial_weights, train_interactive
from networks.config_flags import config_from_flags, define_config_flags
from networks.training_flags import (define_distribution_flags, define_run_flags, define_strides_flag, parsed_strides,
                                     print_final, start_run)
from serving.loading import ModelError

flags.DEFINE_string("base_dataset_folder", None, "AutoPET folder: imagesTr/ + labelsTr/, or FDG-PET-CT-Lesions/.")
flags.DEFINE_string("base_output_folder", None, "Training output: checkpoints, TensorBoard logs, CSVs.")
define_config_flags(InteractiveConfig, skip=("strides",))
define_strides_flag(InteractiveConfig().strides)
define_run_flags()
flags.DEFINE_integer("validation_batch", 1, "Windows per network call in validation.")
flags.DEFINE_string("init_model_set", None, "Addition: start from this model set's weights (fine-tuning; its own "
                    "network flags). A checkpoint in --base_output_folder (resume) takes precedence.")
flags.mark_flags_as_required(["base_dataset_folder", "base_output_folder"])
define_distribution_flags()
FLAGS = flags.FLAGS


def main(argv: list[str]) -> None:
    del argv
    config = config_from_flags(InteractiveConfig, FLAGS, skip=("strides",), strides=parsed_strides())
    run = InteractiveTraining(FLAGS.base_output_folder, FLAGS.mixed_precision, FLAGS.seed, FLAGS.ema_decay,
                              FLAGS.validation_batch)
    distribution = start_run(config, FLAGS.base_output_folder)
    try:
        initial = initial_weights(FLAGS.init_model_set, config) if FLAGS.init_model_set else None
    except (ModelError, ValueError) as error:
        raise app.UsageError(str(error)) from error
    print_final(train_interactive(config, FLAGS.base_dataset_folder, run, distribution, initial)[1])


if __name__ == "__main__":
    app.run(main)
