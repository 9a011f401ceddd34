"""Trains the SpatialConfiguration-Net.

Usage: python -m scn.train --base_dataset_folder FLARE21 --base_output_folder OUT/scn [--cv 1] [--max_iter 100000]
       [--test_iter 10000] [--learning_rate 1e-4] [--batch_size 1] [--mixed_precision]
Interrupted runs resume from the latest checkpoint in --base_output_folder.
"""
from __future__ import annotations

import dataclasses
import os

from absl import app, flags

from networks.config_io import write_config
from networks.train_loop import TrainingSettings
from networks.training_flags import define_training_flags
from scn.config import SCNConfig
from scn.training import train_scn

DEFAULTS = SCNConfig()
define_training_flags(learning_rate=DEFAULTS.learning_rate, max_iter=100000, test_iter=10000, batch_size=1)
flags.DEFINE_integer("local_filters", DEFAULTS.local_filters, "Local appearance U-Net filters.")
flags.DEFINE_integer("local_levels", DEFAULTS.local_levels, "Local appearance U-Net levels.")
flags.DEFINE_integer("spatial_filters", DEFAULTS.spatial_filters, "Spatial configuration U-Net filters.")
flags.DEFINE_integer("spatial_levels", DEFAULTS.spatial_levels, "Spatial configuration U-Net levels.")
flags.DEFINE_integer("spatial_downsample", DEFAULTS.spatial_downsample, "Spatial configuration downsampling.")
flags.DEFINE_float("dropout", DEFAULTS.dropout, "Dropout ratio.")
flags.DEFINE_float("local_channel_dropout", DEFAULTS.local_channel_dropout, "Local channel dropout (spatial input).")
flags.DEFINE_float("image_channel_dropout", DEFAULTS.image_channel_dropout, "Image channel dropout (spatial input).")
flags.DEFINE_float("salt_pepper_ratio", DEFAULTS.salt_pepper_ratio, "Salt-and-pepper ratio (spatial input).")
flags.DEFINE_list("loss_weights", [str(w) for w in DEFAULTS.loss_weights], "Final, local, spatial loss weights.")
flags.DEFINE_float("spacing", DEFAULTS.spacing_mm, "Isotropic input spacing in mm.")
flags.DEFINE_list("patch_shape", [str(n) for n in DEFAULTS.patch_shape], "Training patch z,y,x in voxels.")
flags.DEFINE_list("window_hu", [str(v) for v in DEFAULTS.window_hu], "Intensity window low,high in HU.")
flags.DEFINE_float("ema_decay", DEFAULTS.ema_decay, "Decay of the weight moving average that is exported.")
FLAGS = flags.FLAGS


def main(argv: list[str]) -> None:
    del argv
    config = dataclasses.replace(
        DEFAULTS, local_filters=FLAGS.local_filters, local_levels=FLAGS.local_levels,
        spatial_filters=FLAGS.spatial_filters, spatial_levels=FLAGS.spatial_levels,
        spatial_downsample=FLAGS.spatial_downsample, dropout=FLAGS.dropout,
        local_channel_dropout=FLAGS.local_channel_dropout, image_channel_dropout=FLAGS.image_channel_dropout,
        salt_pepper_ratio=FLAGS.salt_pepper_ratio, loss_weights=tuple(float(w) for w in FLAGS.loss_weights),
        spacing_mm=FLAGS.spacing, patch_shape=tuple(int(n) for n in FLAGS.patch_shape),
        window_hu=tuple(float(v) for v in FLAGS.window_hu), learning_rate=FLAGS.learning_rate,
        ema_decay=FLAGS.ema_decay)
    settings = TrainingSettings(FLAGS.base_output_folder, FLAGS.max_iter, FLAGS.test_iter, FLAGS.learning_rate,
                                FLAGS.ema_decay, FLAGS.log_iter)
    cv_folder = FLAGS.cv_folder or os.path.join(FLAGS.base_dataset_folder, "setup", "cv")
    write_config(config, os.path.join(FLAGS.base_output_folder, "config.json"))
    _, metrics = train_scn(config, FLAGS.base_dataset_folder, settings, FLAGS.cv, cv_folder, FLAGS.batch_size,
                           FLAGS.mixed_precision, FLAGS.cache, FLAGS.seed)
    print("final validation: " + (", ".join(f"{k} {v:.4f}" for k, v in metrics.items()) or "none (cv 0)"))


if __name__ == "__main__":
    app.run(main)
