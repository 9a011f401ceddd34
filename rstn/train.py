"""Trains RSTN on one plane or all three in turn (each plane its own model), from an `rstn.prepare` cache.

Usage: python -m rstn.train --cache_folder CACHE --base_output_folder OUT/rstn --plane X|Y|Z|A --fold N
       [--cv_folder DIR] [--init_weights VGG16.weights.h5] [--mixed_precision] [--seed 0]
       [--optimizer adam] (an addition, for training from scratch)
       [--distribution default|mirrored|multi_worker] [--devices ...]
       and every RSTNConfig field as a flag, default the original's, e.g. --epochs 2,6,8 --learning_rate 1e-5
       --fine_lr_multiplier 10 --momentum 0.99 --weight_decay 5e-4 --crop_margin 20 --organ_ids 1
Fold N trains on the cases outside fold N of the folds `rstn.prepare` wrote (fold 0: all cases). Plane P goes to
<base_output_folder>/<P>/ (checkpoints, TensorBoard logs, train.csv, the plane's config.json); the config also to
<base_output_folder>/config.json (that of the last run: planes may be trained with different epochs).
Interrupted runs resume from the latest checkpoint.
Docs: docs/rstn.md
"""
from __future__ import annotations

import preprocessing.quiet_startup  # noqa: F401 - first: hides TensorFlow's C++ start-up lines

import os

from absl import app, flags

from networks.config_flags import config_from_flags, define_config_flags
from networks.config_io import write_config
from networks.distribution import is_chief
from networks.training_flags import define_distribution_flags, strategy
from preprocessing.cross_validation import load_fold
from rstn.cache import read_index
from rstn.config import PLANES, RSTNConfig
from rstn.data import SliceStream
from rstn.training import RSTNTraining, train_plane

flags.DEFINE_string("cache_folder", None, "Training cache written by `python -m rstn.prepare`.")
flags.DEFINE_string("base_output_folder", None, "Training output: one folder per plane, config.json.")
flags.DEFINE_enum("plane", "A", [*PLANES, "A"], "Plane to train: X, Y, Z, or A for the three in turn.")
flags.DEFINE_integer("fold", 0, "Cross-validation fold: 0 trains on all cases, 1..K hold out that fold.")
flags.DEFINE_string("cv_folder", None, "Fold files folder (default: the one `rstn.prepare` wrote).")
flags.DEFINE_string("init_weights", None, "A Keras VGG-16 weights file for both trunks (default: from scratch).")
flags.DEFINE_bool("mixed_precision", False, "float16 (GPU) / bfloat16 (CPU) training; exports stay float32.")
flags.DEFINE_integer("seed", 0, "Seed of the weights, the epoch orders and the crop margins.")
flags.DEFINE_integer("log_iter", 10, "Write the losses every this many steps.")
flags.DEFINE_enum("optimizer", "sgd", ["sgd", "adam"],
                  "sgd: the original's SGD with parameter groups; adam: an addition for training from scratch.")
define_config_flags(RSTNConfig)
define_distribution_flags()
flags.mark_flags_as_required(["cache_folder", "base_output_folder"])
FLAGS = flags.FLAGS


def main(argv: list[str]) -> None:
    del argv
    config = config_from_flags(RSTNConfig, FLAGS)
    index = read_index(FLAGS.cache_folder)
    if tuple(index["organ_ids"]) != config.organ_ids:
        print(f"note: the cache's slice lists were made for organ ids {index['organ_ids']}, "
              f"training uses {list(config.organ_ids)}")
    train_ids, _ = load_fold(FLAGS.cv_folder or index["cv_folder"], FLAGS.fold)
    train_ids = [case_id for case_id in train_ids if case_id in index["cases"]]
    distribution = strategy()
    if is_chief(distribution):
        write_config(config, os.path.join(FLAGS.base_output_folder, "config.json"))
    for plane in PLANES if FLAGS.plane == "A" else (FLAGS.plane,):
        if is_chief(distribution):
            write_config(config, os.path.join(FLAGS.base_output_folder, plane, "config.json"))
        stream = SliceStream.of(FLAGS.cache_folder, plane, config, train_ids, FLAGS.seed)
        run = RSTNTraining(os.path.join(FLAGS.base_output_folder, plane), FLAGS.mixed_precision, FLAGS.seed,
                           FLAGS.init_weights, FLAGS.log_iter, FLAGS.optimizer)
        train_plane(config, stream, run, distribution)


if __name__ == "__main__":
    app.run(main)
