"""Trains the DeepLung nodule detector on a nodule cache (`python -m nodules.prepare`).

Usage: python -m nodules.train_detector --cache_folder CACHE --base_output_folder OUT [--fold 1] [--epochs 150]
       [--batch_size 64] [--crop_size 96,96,96] [--mixed_precision]
       [--distribution default|mirrored|multi_worker] [--devices /gpu:0,/gpu:1]
Every field of `nodules.config.DetectorConfig` is a flag with the original's default; the config is written to
OUT/config.json. Fold 0 trains on every patient (no validation). Interrupted runs resume from the latest
checkpoint.
Docs: docs/nodules.md
"""
from __future__ import annotations

import preprocessing.quiet_startup  # noqa: F401 - first: hides TensorFlow's C++ start-up lines

from absl import app, flags

from networks.config_flags import config_from_flags, define_config_flags
from networks.training_flags import define_distribution_flags, define_run_flags, print_final, start_run
from nodules.config import DetectorConfig
from nodules.detector_training import NoduleTraining, train_detector

flags.DEFINE_string("cache_folder", None, "Nodule cache written by python -m nodules.prepare.")
flags.DEFINE_string("base_output_folder", None, "Training output: checkpoints, TensorBoard logs, CSVs.")
flags.DEFINE_integer("fold", 1, "Cross-validation fold (its patients validate; 0: train on all).")
define_config_flags(DetectorConfig)
define_run_flags()
flags.mark_flags_as_required(["cache_folder", "base_output_folder"])
define_distribution_flags()
FLAGS = flags.FLAGS


def main(argv: list[str]) -> None:
    del argv
    config = config_from_flags(DetectorConfig, FLAGS)
    run = NoduleTraining(FLAGS.base_output_folder, FLAGS.mixed_precision, FLAGS.seed, FLAGS.ema_decay)
    distribution = start_run(config, FLAGS.base_output_folder)
    print_final(train_detector(config, FLAGS.cache_folder, FLAGS.fold, run, distribution)[1])


if __name__ == "__main__":
    app.run(main)
