"""Runs the coarse-to-fine experiments of `rstn.diagnostics` with an exported model set on the test cases of a fold.

Usage: python -m rstn.diagnose --model_set saved_models/pancreas_rstn --cache_folder CACHE --fold N
           --output_folder OUT [--plane_sets XYZ,XZ] [--max_rounds 10] [--slice_batch 8] [--cv_folder DIR]
Writes <output_folder>/fixed_point/, split_round1/ (results.csv per case, summary.txt) and rounds_<planes>/
(results.csv per case and round, summary.txt: the mean over cases of each round's DSC, precision and recall,
fused and per plane); prints the summaries.
Docs: docs/rstn.md
"""
from __future__ import annotations

import preprocessing.quiet_startup  # noqa: F401 - first: hides TensorFlow's C++ start-up lines

import os
import sys

import numpy as np
import tensorflow as tf
from absl import app, flags
from tqdm import tqdm

from preprocessing.cross_validation import load_fold
from rstn.cache import read_index
from rstn.config import PLANES
from rstn.diagnostics import fixed_point, round_rows, split_round_one
from rstn.fusion import mean_of_planes
from rstn.model_set import load_rstn
from rstn.testing import column_summary, load_case, write_results
from serving import ManifestError, ModelError, read_metadata

flags.DEFINE_string("model_set", "saved_models/pancreas_rstn", "RSTN model set (its planes' signatures are used).")
flags.DEFINE_string("cache_folder", None, "The `rstn.prepare` cache holding the test cases.")
flags.DEFINE_integer("fold", 1, "Cross-validation fold whose test cases are used.")
flags.DEFINE_string("cv_folder", None, "Fold files folder (default: the one `rstn.prepare` wrote).")
flags.DEFINE_string("output_folder", None, "Where the experiments' results go.")
flags.DEFINE_list("plane_sets", ["XYZ", "XZ"], "Plane sets whose coarse-to-fine rounds are run and reported.")
flags.DEFINE_integer("max_rounds", None, "Fine rounds per plane set (default: the model set's).")
flags.DEFINE_integer("slice_batch", 8, "Slice stacks per network call.")
flags.mark_flags_as_required(["cache_folder", "output_folder"])
FLAGS = flags.FLAGS


def round_summary(rows: list[dict]) -> list[str]:
    """The mean over cases of every column, one line per round."""
    columns = [c for c in rows[0] if c not in ("case", "round")]
    lines = ["round " + " ".join(f"{c:>12}" for c in columns)]
    for index in sorted({row["round"] for row in rows}):
        chosen = [row for row in rows if row["round"] == index]
        values = [np.array([row[c] for row in chosen], np.float64) for c in columns]
        means = [v[np.isfinite(v)].mean() if np.isfinite(v).any() else float("nan") for v in values]
        lines.append(f"{index:>5} " + " ".join(f"{m:>12.4f}" for m in means))
    return lines


def main(argv: list[str]) -> None:
    del argv
    plane_sets = [tuple(p.upper()) for p in FLAGS.plane_sets]
    if any(not planes or set(planes) - set(PLANES) for planes in plane_sets):
        raise app.UsageError(f"--plane_sets: each a combination of {''.join(PLANES)}, not {FLAGS.plane_sets}")
    try:
        member = load_rstn(FLAGS.model_set)
    except (ManifestError, ModelError) as error:
        sys.exit(str(error))
    index = read_index(FLAGS.cache_folder)
    _, test_ids = load_fold(FLAGS.cv_folder or index["cv_folder"], FLAGS.fold)
    case_ids = [case_id for case_id in test_ids if case_id in index["cases"]]
    if not case_ids:
        raise app.UsageError(f"fold {FLAGS.fold} has no test case in {FLAGS.cache_folder}")
    metadata = read_metadata(member)
    threshold, rounds = metadata["fine_threshold"], FLAGS.max_rounds or metadata["max_rounds"]
    organ_ids = tuple(metadata["config"]["organ_ids"])
    batch = tf.constant(FLAGS.slice_batch)
    results: dict[str, list[dict]] = {"fixed_point": [], "split_round1": []}
    results.update({f"rounds_{''.join(p)}": [] for p in plane_sets})
    for case_id in tqdm(case_ids, desc="cases"):
        volume, target = load_case(FLAGS.cache_folder, case_id, organ_ids)
        image = tf.constant(volume, tf.float32)
        coarse = {plane: member.signatures[f"coarse_{plane}"](volume=image, slice_batch=batch)["probabilities"].numpy()
                  for plane in PLANES}

        def fine(plane: str, score: np.ndarray, mask: np.ndarray) -> np.ndarray:
            return member.signatures[f"fine_{plane}"](volume=image, score=tf.constant(score, tf.float32),
                                                      mask=tf.constant(mask, tf.uint8),
                                                      slice_batch=batch)["probabilities"].numpy()

        results["fixed_point"].append({"case": case_id, **fixed_point(fine, PLANES, target, threshold)})
        results["split_round1"].append({"case": case_id, **split_round_one(
            fine, PLANES, mean_of_planes(list(coarse.values())), target, threshold)})
        for planes in plane_sets:
            rows = round_rows(coarse, fine, planes, target, threshold, metadata["postprocess_threshold"], rounds,
                              metadata["stop_dsc"])
            results[f"rounds_{''.join(planes)}"].extend({"case": case_id, **row} for row in rows)
    for name, rows in results.items():
        folder = os.path.join(FLAGS.output_folder, name)
        lines = write_results(folder, rows, round_summary if name.startswith("rounds_") else column_summary)
        print(f"{name}:\n" + "\n".join(lines))


if __name__ == "__main__":
    app.run(main)
