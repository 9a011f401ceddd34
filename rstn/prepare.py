"""Converts a data set once into the RSTN training cache (`rstn.cache`) and writes its cross-validation folds.

Usage: python -m rstn.prepare --dataset_folder NIH --cache_folder CACHE [--layout nih]
       python -m rstn.prepare --layout generic --dataset_folder IMAGES [--label_folder LABELS] --cache_folder CACHE
       [--organ_ids 1] [--window_hu -100,240] [--num_folds 4] [--seed 0] [--cv_folder DIR]
NIH: the original's folds, contiguous in case order (fold k of ours = its FD(k-1); 82 cases -> 1-20, 21-40,
41-61, 62-82); generic layouts: folds shuffled with --seed. Folds go to <dataset_folder>/setup/cv unless
--cv_folder says otherwise; fold 0 trains on all cases. A case that cannot be read is reported in one line and
skipped (it keeps its place in the folds); the run then exits non-zero with the list.
Docs: docs/rstn.md
"""
from __future__ import annotations

import os
import sys

from absl import app, flags
from tqdm import tqdm

from preprocessing.cases import generic_cases, nih_pancreas_cases
from preprocessing.cross_validation import write_folds
from preprocessing.image_io import ImageReadError
from rstn.cache import write_case, write_index
from rstn.config import RSTNConfig

DEFAULTS = RSTNConfig()
flags.DEFINE_enum("layout", "nih", ["nih", "generic"], "nih: NIH Pancreas-CT release; generic: CASE_0000 + CASE.")
flags.DEFINE_string("dataset_folder", None, "NIH release folder (Pancreas-CT/, TCIA_pancreas_labels-*/) or the "
                    "generic layout's image folder.")
flags.DEFINE_string("label_folder", None, "generic layout: label folder (default: the image folder).")
flags.DEFINE_string("cache_folder", None, "Training cache to write.")
flags.DEFINE_list("organ_ids", [str(v) for v in DEFAULTS.organ_ids], "Label values of the target organ.")
flags.DEFINE_list("window_hu", [str(v) for v in DEFAULTS.window_hu], "Intensity window low,high in HU.")
flags.DEFINE_integer("num_folds", 4, "Cross-validation folds.")
flags.DEFINE_integer("seed", 0, "Seed of the generic layout's fold shuffling.")
flags.DEFINE_string("cv_folder", None, "Fold files folder (default: <dataset_folder>/setup/cv).")
flags.mark_flags_as_required(["dataset_folder", "cache_folder"])
FLAGS = flags.FLAGS


def main(argv: list[str]) -> None:
    del argv
    try:
        cases = nih_pancreas_cases(FLAGS.dataset_folder) if FLAGS.layout == "nih" else \
            generic_cases(FLAGS.dataset_folder, FLAGS.label_folder)
    except FileNotFoundError as error:
        sys.exit(str(error))
    if not cases:
        sys.exit(f"{FLAGS.dataset_folder}: no cases found in the {FLAGS.layout} layout")
    organ_ids = tuple(int(v) for v in FLAGS.organ_ids)
    window = (float(FLAGS.window_hu[0]), float(FLAGS.window_hu[1]))
    statistics, entries, failures = {}, {}, []
    for case in tqdm(cases, desc="prepare"):
        try:
            statistics[case.case_id], entries[case.case_id] = write_case(FLAGS.cache_folder, case, organ_ids, window)
        except ImageReadError as error:
            tqdm.write(f"{case.case_id}: {error}", file=sys.stderr)
            failures.append(case.case_id)
    cv_folder = FLAGS.cv_folder or os.path.join(FLAGS.dataset_folder, "setup", "cv")
    write_index(FLAGS.cache_folder, statistics, entries, organ_ids, window, cv_folder)
    write_folds([case.case_id for case in cases], cv_folder, FLAGS.num_folds, FLAGS.seed,
                contiguous=FLAGS.layout == "nih")
    print(f"cached {len(statistics)} case(s) in {FLAGS.cache_folder}; folds in {cv_folder}")
    if failures:
        sys.exit(f"{len(failures)} case(s) failed: {', '.join(failures)}")


if __name__ == "__main__":
    app.run(main)
