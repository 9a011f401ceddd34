"""The original's testing stages, each its own command, on the test cases of a fold (`rstn.testing`).

Usage: python -m rstn.test --stage coarse|oracle --plane X|Y|Z|A --load_model_base OUT/rstn --cache_folder CACHE
           --fold N [--results_folder OUT/rstn/results_fold<N>] [--slice_batch 8]
       python -m rstn.test --stage coarse_fusion|oracle_fusion ...
       python -m rstn.test --stage coarse2fine ...      (needs the coarse results of the three planes)
Results: <results_folder>/<stage>[_<plane>]/results.csv and summary.txt (mean, std, min, max).
Docs: docs/rstn.md
"""
from __future__ import annotations

import preprocessing.quiet_startup  # noqa: F401 - first: hides TensorFlow's C++ start-up lines

import os
import sys

from absl import app, flags

from networks.config_io import read_config
from preprocessing.cross_validation import load_fold
from rstn.cache import read_index
from rstn.config import PLANES, RSTNConfig
from rstn.testing import coarse_to_fine_stage, fusion_stage, plane_stage

STAGES = ("coarse", "oracle", "coarse_fusion", "oracle_fusion", "coarse2fine")
flags.DEFINE_enum("stage", None, list(STAGES), "Testing stage.")
flags.DEFINE_enum("plane", "A", [*PLANES, "A"], "coarse / oracle: plane, or A for the three.")
flags.DEFINE_string("load_model_base", None, "Training output folder (config.json, one folder per plane).")
flags.DEFINE_string("cache_folder", None, "The `rstn.prepare` cache holding the test cases.")
flags.DEFINE_integer("fold", 1, "Cross-validation fold whose test cases are evaluated.")
flags.DEFINE_string("cv_folder", None, "Fold files folder (default: the one `rstn.prepare` wrote).")
flags.DEFINE_string("results_folder", None, "Results (default: <load_model_base>/results_fold<N>).")
flags.DEFINE_integer("slice_batch", 8, "Slice stacks per network call (coarse and oracle).")
flags.mark_flags_as_required(["stage", "load_model_base", "cache_folder"])
FLAGS = flags.FLAGS


def main(argv: list[str]) -> int:
    del argv
    try:
        run_stage()
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def run_stage() -> None:
    """Runs `--stage` on the test cases of `--fold` and prints its summary."""
    index = read_index(FLAGS.cache_folder)
    _, test_ids = load_fold(FLAGS.cv_folder or index["cv_folder"], FLAGS.fold)
    case_ids = [case_id for case_id in test_ids if case_id in index["cases"]]
    if not case_ids:
        raise app.UsageError(f"fold {FLAGS.fold} has no test case in {FLAGS.cache_folder}")
    results = FLAGS.results_folder or os.path.join(FLAGS.load_model_base, f"results_fold{FLAGS.fold}")
    config = read_config(RSTNConfig, os.path.join(FLAGS.load_model_base, "config.json"))
    if FLAGS.stage in ("coarse", "oracle"):
        for plane in PLANES if FLAGS.plane == "A" else (FLAGS.plane,):
            lines = plane_stage(FLAGS.stage, FLAGS.cache_folder, case_ids, FLAGS.load_model_base, plane, results,
                                FLAGS.slice_batch)
            print(f"{FLAGS.stage} {plane}:\n" + "\n".join(lines))
    elif FLAGS.stage.endswith("_fusion"):
        lines = fusion_stage(FLAGS.stage.split("_")[0], FLAGS.cache_folder, case_ids, config.organ_ids, results,
                             config.postprocess_threshold)
        print(f"{FLAGS.stage}:\n" + "\n".join(lines))
    else:
        lines = coarse_to_fine_stage(FLAGS.cache_folder, case_ids, FLAGS.load_model_base, results, FLAGS.slice_batch)
        print("coarse-to-fine:\n" + "\n".join(lines))


if __name__ == "__main__":
    app.run(main)
