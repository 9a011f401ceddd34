"""Trains the localization network.

Usage: python -m localization.train --base_dataset_folder FLARE21 --base_output_folder OUT/localization [--cv 1]
       [--max_iter 50000] [--test_iter 5000] [--learning_rate 1e-5] [--batch_size 1] [--mixed_precision]
Interrupted runs resume from the latest checkpoint in --base_output_folder.
"""
from __future__ import annotations

import dataclasses
import os

from absl import app, flags

from localization.config import LocalizationConfig
from localization.training import train_localization
from networks.config_io import write_config
from networks.train_loop import TrainingSettings
from networks.training_flags import define_training_flags

DEFAULTS = LocalizationConfig()
define_training_flags(learning_rate=DEFAULTS.learning_rate, max_iter=50000, test_iter=5000, batch_size=1)
flags.DEFINE_integer("num_filters", DEFAULTS.num_filters, "Filters per convolution (all levels).")
flags.DEFINE_integer("num_levels", DEFAULTS.num_levels, "U-Net levels.")
flags.DEFINE_float("dropout", DEFAULTS.dropout, "Dropout ratio.")
flags.DEFINE_float("spacing", DEFAULTS.spacing_mm, "Isotropic input spacing in mm.")
flags.DEFINE_list("patch_shape", [str(n) for n in DEFAULTS.patch_shape], "Training input z,y,x in voxels.")
flags.DEFINE_list("window_hu", [str(v) for v in DEFAULTS.window_hu], "Intensity window low,high in HU.")
flags.DEFINE_float("ema_decay", DEFAULTS.ema_decay, "Decay of the weight moving average that is exported.")
FLAGS = flags.FLAGS


def main(argv: list[str]) -> None:
    del argv
    config = dataclasses.replace(
        DEFAULTS, num_filters=FLAGS.num_filters, num_levels=FLAGS.num_levels, dropout=FLAGS.dropout,
        spacing_mm=FLAGS.spacing, patch_shape=tuple(int(n) for n in FLAGS.patch_shape),
        window_hu=tuple(float(v) for v in FLAGS.window_hu), learning_rate=FLAGS.learning_rate,
        ema_decay=FLAGS.ema_decay)
    settings = TrainingSettings(FLAGS.base_output_folder, FLAGS.max_iter, FLAGS.test_iter, FLAGS.learning_rate,
                                FLAGS.ema_decay, FLAGS.log_iter)
    cv_folder = FLAGS.cv_folder or os.path.join(FLAGS.base_dataset_folder, "setup", "cv")
    write_config(config, os.path.join(FLAGS.base_output_folder, "config.json"))
    _, metrics = train_localization(config, FLAGS.base_dataset_folder, settings, FLAGS.cv, cv_folder,
                                    FLAGS.batch_size, FLAGS.mixed_precision, FLAGS.cache, FLAGS.seed)
    print("final validation: " + (", ".join(f"{k} {v:.4f}" for k, v in metrics.items()) or "none (cv 0)"))


if __name__ == "__main__":
    app.run(main)
