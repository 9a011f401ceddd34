"""Trains the localization network.

Usage: python -m localization.train --base_dataset_folder FLARE21 --base_output_folder OUT/localization [--cv 1]
       [--max_iter 100000] [--test_iter 10000] [--learning_rate 1e-5] [--batch_size 1] [--mixed_precision]
       [--distribution default|mirrored|multi_worker] [--devices /gpu:0,/gpu:1]
Interrupted runs resume from the latest checkpoint in --base_output_folder.
Docs: docs/ct_multi_organ.md
"""
from __future__ import annotations

import preprocessing.quiet_startup  # noqa: F401 - first: hides TensorFlow's C++ start-up lines

import dataclasses
import os

from absl import app, flags

from localization.config import LocalizationConfig
from localization.training import train_localization
from networks.config_io import write_config
from networks.distribution import is_chief
from networks.training_flags import (cv_folder, define_training_flags, shared_config_values, strategy,
                                     training_settings)

DEFAULTS = LocalizationConfig()
define_training_flags(DEFAULTS, batch_size=1)
flags.DEFINE_integer("num_filters", DEFAULTS.num_filters, "Filters per convolution (all levels).")
flags.DEFINE_integer("num_levels", DEFAULTS.num_levels, "U-Net levels.")
FLAGS = flags.FLAGS


def main(argv: list[str]) -> None:
    del argv
    config = dataclasses.replace(DEFAULTS, num_filters=FLAGS.num_filters, num_levels=FLAGS.num_levels,
                                 **shared_config_values())
    distribution = strategy()
    if is_chief(distribution):
        write_config(config, os.path.join(FLAGS.base_output_folder, "config.json"))
    _, metrics = train_localization(config, FLAGS.base_dataset_folder, training_settings(config), FLAGS.cv, cv_folder(),
                                    FLAGS.mixed_precision, FLAGS.cache, FLAGS.seed, distribution)
    print("final validation: " + (", ".join(f"{k} {v:.4f}" for k, v in metrics.items()) or "none (cv 0)"))


if __name__ == "__main__":
    app.run(main)
