"""Trains the nodule crop model (mask and malignancy) on a nodule cache (`python -m nodules.prepare`).

Usage: python -m nodules.train_crop_model --cache_folder CACHE --base_output_folder OUT [--fold 1] [--epochs 100]
       [--batch_size 2] [--crop_size 64,64,64] [--filters 32,64,128,256,320] [--mixed_precision]
       [--distribution default|mirrored|multi_worker] [--devices /gpu:0,/gpu:1]
Every field of `nodules.config.CropModelConfig` is a flag with the original's default; the config is written to
OUT/config.json. Fold 0 trains on every patient (no validation). Interrupted runs resume from the latest
checkpoint.
"""
from __future__ import annotations

import preprocessing.quiet_startup  # noqa: F401 - first: hides TensorFlow's C++ start-up lines

import os

from absl import app, flags

from networks.config_flags import config_from_flags, define_config_flags
from networks.config_io import write_config
from networks.distribution import is_chief
from networks.training_flags import define_distribution_flags, strategy
from nodules.config import CropModelConfig
from nodules.crop_training import CropTraining, train_crop_model

flags.DEFINE_string("cache_folder", None, "Nodule cache written by python -m nodules.prepare.")
flags.DEFINE_string("base_output_folder", None, "Training output: checkpoints, TensorBoard logs, CSVs.")
flags.DEFINE_integer("fold", 1, "Cross-validation fold (its patients validate; 0: train on all).")
define_config_flags(CropModelConfig, skip=("strides",))
flags.DEFINE_list("strides", ["x".join(map(str, s)) for s in CropModelConfig().strides],
                  "Stride (z x y x x) per DynUNet level, e.g. 1x1x1,2x2x2.")
flags.DEFINE_bool("mixed_precision", False, "float16 on GPU, bfloat16 on CPU (exports are always float32).")
flags.DEFINE_integer("seed", 0, "Seed of crops, augmentation and weight initialisation.")
flags.DEFINE_float("ema_decay", 0.0, "Addition: export a moving average of the weights (0: the trained weights).")
flags.mark_flags_as_required(["cache_folder", "base_output_folder"])
define_distribution_flags()
FLAGS = flags.FLAGS


def main(argv: list[str]) -> None:
    del argv
    strides = tuple(tuple(int(v) for v in s.split("x")) for s in FLAGS.strides)
    config = config_from_flags(CropModelConfig, FLAGS, skip=("strides",), strides=strides)
    run = CropTraining(FLAGS.base_output_folder, FLAGS.mixed_precision, FLAGS.seed, FLAGS.ema_decay)
    distribution = strategy()
    if is_chief(distribution):
        os.makedirs(FLAGS.base_output_folder, exist_ok=True)
        write_config(config, os.path.join(FLAGS.base_output_folder, "config.json"))
    _, metrics = train_crop_model(config, FLAGS.cache_folder, FLAGS.fold, run, distribution)
    print("final validation: " + (", ".join(f"{k} {v:.4f}" for k, v in metrics.items()) or "none"))


if __name__ == "__main__":
    app.run(main)
