"""Trains CFCM (or the plain ResNet ablation with --nomemory) on a chest X-ray folder with lung masks.

Usage: python -m cfcm.train --base_dataset_folder MONTGOMERY --base_output_folder OUT/cfcm [--fold 1] [flags below]
Also (--helpfull): additions --head softmax, --resize letterbox, --normalization percentile, --augment,
--ema_decay 0.999, --clip_gradients; --distribution mirrored|multi_worker, --devices /gpu:0,/gpu:1.
Folds live in <base_dataset_folder>/setup/cv; on the 138 Montgomery films they are the original's three test
splits. Interrupted runs resume from the latest checkpoint.
Docs: docs/cfcm.md
"""
from __future__ import annotations

import preprocessing.quiet_startup  # noqa: F401 - first: hides TensorFlow's C++ start-up lines

import dataclasses
import os

from absl import app, flags

from cfcm.addition_flags import define_addition_flags
from cfcm.config import ADDED_INTENSITY_AUGMENTATION, ADDED_SPATIAL_AUGMENTATION, CFCMConfig
from cfcm.training import CFCMTraining, train_cfcm
from preprocessing.lung_masks import LUNG_LABEL_NAMES
from preprocessing.xray_cases import XRAY_LAYOUTS
from networks.config_io import write_config
from networks.distribution import is_chief
from networks.training_flags import define_distribution_flags, strategy

DEFAULTS = CFCMConfig()
flags.DEFINE_string("base_dataset_folder", None, "Chest X-ray folder with lung masks, in --layout.")
flags.DEFINE_enum("layout", CFCMTraining("").layout, list(XRAY_LAYOUTS),
                  "Folder layout (docs/data_layouts.md).")
flags.DEFINE_string("case_pattern", None, "Regular expression the case ids must match.")
flags.DEFINE_string("base_output_folder", None, "Training output: checkpoints, TensorBoard logs, CSVs.")
flags.DEFINE_integer("fold", 1, "Cross-validation fold: 0 = all data, 1..3 hold out that fold.")
flags.DEFINE_string("cv_folder", None, "Fold files folder (default: <base_dataset_folder>/setup/cv).")
flags.DEFINE_enum("resnet_depth", str(DEFAULTS.resnet_depth), ["18", "34", "50", "101"], "ResNet encoder depth.")
flags.DEFINE_bool("memory", DEFAULTS.memory, "The ConvLSTM context memory; --nomemory: plain ResNet.")
flags.DEFINE_integer("base_filters", DEFAULTS.base_filters, "Filters of the first encoder level.")
flags.DEFINE_float("batch_norm_decay", DEFAULTS.batch_norm_decay,
                   "Decay of the batch-norm moving statistics.")
flags.DEFINE_integer("epochs", DEFAULTS.epochs, "Training epochs.")
flags.DEFINE_integer("batch_size", CFCMTraining("").batch_size, "Images per global batch (split across replicas).")
flags.DEFINE_float("learning_rate", DEFAULTS.learning_rate, "Adam learning rate.")
flags.DEFINE_integer("image_size", DEFAULTS.image_size, "Network input side (pixels, multiple of 16).")
flags.DEFINE_enum("loss", DEFAULTS.loss, ["dice", "cross_entropy", "dice_ce"], "Training loss.")
flags.DEFINE_bool("separate_labels", False, "Right (1) and left (2) lung instead of one label.")
flags.DEFINE_bool("mixed_precision", False, "float16 (GPU) / bfloat16 (CPU) training; exports are float32.")
flags.DEFINE_string("cache", None, "Cache images: '' in memory, or a folder (.npz).")
flags.DEFINE_integer("seed", 0, "Seed of shuffling, augmentation and weights.")
flags.mark_flags_as_required(["base_dataset_folder", "base_output_folder"])
define_addition_flags()
define_distribution_flags()
FLAGS = flags.FLAGS


def main(argv: list[str]) -> None:
    del argv
    labels = LUNG_LABEL_NAMES if FLAGS.separate_labels else ("lungs",)
    config = dataclasses.replace(
        DEFAULTS, resnet_depth=int(FLAGS.resnet_depth), memory=FLAGS.memory, base_filters=FLAGS.base_filters,
        batch_norm_decay=FLAGS.batch_norm_decay,
        epochs=FLAGS.epochs, learning_rate=FLAGS.learning_rate, image_size=FLAGS.image_size, loss=FLAGS.loss,
        num_labels=len(labels) + 1, label_names=labels, head=FLAGS.head, resize=FLAGS.resize,
        normalization=FLAGS.normalization,
        spatial_augmentation=ADDED_SPATIAL_AUGMENTATION if FLAGS.augment else None,
        intensity_augmentation=ADDED_INTENSITY_AUGMENTATION if FLAGS.augment else None)
    run = CFCMTraining(FLAGS.base_output_folder, FLAGS.fold, FLAGS.layout, FLAGS.case_pattern, FLAGS.batch_size,
                       FLAGS.mixed_precision, FLAGS.cache, FLAGS.seed, FLAGS.ema_decay, FLAGS.clip_gradients)
    cv_folder = FLAGS.cv_folder or os.path.join(FLAGS.base_dataset_folder, "setup", "cv")
    distribution = strategy()
    if is_chief(distribution):
        write_config(config, os.path.join(FLAGS.base_output_folder, "config.json"))
    _, metrics = train_cfcm(config, FLAGS.base_dataset_folder, run, cv_folder, distribution)
    print("final validation: " + (", ".join(f"{k} {v:.4f}" for k, v in metrics.items()) or "none (fold 0)"))


if __name__ == "__main__":
    app.run(main)
