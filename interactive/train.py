"""Trains the click-guided DynUNet on an AutoPET folder (either layout), as SW-FastEdit trains it.

Usage: python -m interactive.train --base_dataset_folder AUTOPET --base_output_folder OUT [--epochs 100]
       [--input_channels PT] [--train_crop_size 224,224,224] [--roi_size 128,128,128] [--train_clicks 10]
       [--click_rule uniform|edt_max|edt_weighted] [--filters ...] [--strides 1x1x1,2x2x2,...]
       [--mixed_precision] [--distribution default|mirrored|multi_worker] [--devices /gpu:0,/gpu:1]
Every field of `interactive.config.InteractiveConfig` is a flag with the original's default; the config is
written to OUT/config.json. Interrupted runs resume from the latest checkpoint.
"""
from __future__ import annotations

import preprocessing.quiet_startup  # noqa: F401 - first: hides TensorFlow's C++ start-up lines

import os

from absl import app, flags

from interactive.config import InteractiveConfig
from interactive.training import InteractiveTraining, train_interactive
from networks.config_flags import config_from_flags, define_config_flags
from networks.config_io import write_config
from networks.distribution import is_chief
from networks.training_flags import define_distribution_flags, strategy

flags.DEFINE_string("base_dataset_folder", None, "AutoPET folder: imagesTr/ + labelsTr/, or FDG-PET-CT-Lesions/.")
flags.DEFINE_string("base_output_folder", None, "Training output: checkpoints, TensorBoard logs, CSVs.")
define_config_flags(InteractiveConfig, skip=("strides",))
flags.DEFINE_list("strides", ["x".join(map(str, s)) for s in InteractiveConfig().strides],
                  "Stride (z x y x x) per DynUNet level, e.g. 1x1x1,2x2x2,1x2x2.")
flags.DEFINE_bool("mixed_precision", False, "float16 on GPU, bfloat16 on CPU (exports are always float32).")
flags.DEFINE_integer("seed", 0, "Seed of crops, augmentation, clicks and weight initialisation.")
flags.DEFINE_float("ema_decay", 0.0, "Addition: export a moving average of the weights (0: the trained weights).")
flags.DEFINE_integer("validation_batch", 1, "Windows per network call in validation.")
flags.mark_flags_as_required(["base_dataset_folder", "base_output_folder"])
define_distribution_flags()
FLAGS = flags.FLAGS


def main(argv: list[str]) -> None:
    del argv
    strides = tuple(tuple(int(v) for v in s.split("x")) for s in FLAGS.strides)
    config = config_from_flags(InteractiveConfig, FLAGS, skip=("strides",), strides=strides)
    run = InteractiveTraining(FLAGS.base_output_folder, FLAGS.mixed_precision, FLAGS.seed, FLAGS.ema_decay,
                              FLAGS.validation_batch)
    distribution = strategy()
    if is_chief(distribution):
        os.makedirs(FLAGS.base_output_folder, exist_ok=True)
        write_config(config, os.path.join(FLAGS.base_output_folder, "config.json"))
    _, metrics = train_interactive(config, FLAGS.base_dataset_folder, run, distribution)
    print("final validation: " + (", ".join(f"{k} {v:.4f}" for k, v in metrics.items()) or "none"))


if __name__ == "__main__":
    app.run(main)
