"""Trains the SpatialConfiguration-Net.

Usage: python -m scn.train --base_dataset_folder FLARE21 --base_output_folder OUT/scn [--cv 1] [--max_iter 100000]
       [--test_iter 10000] [--learning_rate 1e-4] [--batch_size 1] [--mixed_precision]
       [--distribution default|mirrored|multi_worker] [--devices /gpu:0,/gpu:1]
Interrupted runs resume from the latest checkpoint in --base_output_folder.
Docs: docs/ct_multi_organ.md
"""
from __future__ import annotations

import preprocessing.quiet_startup  # noqa: F401 - first: hides TensorFlow's C++ start-up lines

import dataclasses
import os

from absl import app, flags

from networks.config_io import write_config
from networks.distribution import is_chief
from networks.training_flags import (cv_folder, define_training_flags, shared_config_values, strategy,
                                     training_settings)
from scn.config import SCNConfig
from scn.training import train_scn

DEFAULTS = SCNConfig()
define_training_flags(DEFAULTS, batch_size=1)
flags.DEFINE_integer("local_filters", DEFAULTS.local_filters, "Local appearance U-Net filters.")
flags.DEFINE_integer("local_levels", DEFAULTS.local_levels, "Local appearance U-Net levels.")
flags.DEFINE_integer("spatial_filters", DEFAULTS.spatial_filters, "Spatial configuration U-Net filters.")
flags.DEFINE_integer("spatial_levels", DEFAULTS.spatial_levels, "Spatial configuration U-Net levels.")
flags.DEFINE_integer("spatial_downsample", DEFAULTS.spatial_downsample, "Spatial configuration downsampling.")
flags.DEFINE_float("local_channel_dropout", DEFAULTS.local_channel_dropout, "Local channel dropout (spatial input).")
flags.DEFINE_float("image_channel_dropout", DEFAULTS.image_channel_dropout, "Image channel dropout (spatial input).")
flags.DEFINE_float("salt_pepper_ratio", DEFAULTS.salt_pepper_ratio, "Salt-and-pepper ratio (spatial input).")
flags.DEFINE_list("loss_weights", [str(w) for w in DEFAULTS.loss_weights], "Final, local, spatial loss weights.")
FLAGS = flags.FLAGS


def main(argv: list[str]) -> None:
    del argv
    config = dataclasses.replace(
        DEFAULTS, local_filters=FLAGS.local_filters, local_levels=FLAGS.local_levels,
        spatial_filters=FLAGS.spatial_filters, spatial_levels=FLAGS.spatial_levels,
        spatial_downsample=FLAGS.spatial_downsample, local_channel_dropout=FLAGS.local_channel_dropout,
        image_channel_dropout=FLAGS.image_channel_dropout, salt_pepper_ratio=FLAGS.salt_pepper_ratio,
        loss_weights=tuple(float(w) for w in FLAGS.loss_weights), **shared_config_values())
    distribution = strategy()
    if is_chief(distribution):
        write_config(config, os.path.join(FLAGS.base_output_folder, "config.json"))
    _, metrics = train_scn(config, FLAGS.base_dataset_folder, training_settings(config), FLAGS.cv, cv_folder(),
                           FLAGS.mixed_precision, FLAGS.cache, FLAGS.seed, strategy=distribution)
    print("final validation: " + (", ".join(f"{k} {v:.4f}" for k, v in metrics.items()) or "none (cv 0)"))


if __name__ == "__main__":
    app.run(main)
