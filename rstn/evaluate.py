"""Evaluates an RSTN model set on an NIH Pancreas-CT folder: its `segment` signature (the whole coarse-to-fine loop
in one SavedModel call) on every case, scored against the case's label.

Usage: python -m rstn.evaluate --dataset_folder NIH [--model_set saved_models/pancreas_rstn]
           [--output_folder rstn_evaluation] [--slice_batch 8]
NIH: `Pancreas-CT/` (or `DOI/`) series folders with `TCIA_pancreas_labels-*/labelXXXX.nii.gz`, as
`rstn.prepare` reads them (`python -m preprocessing.synthetic nih_pancreas` writes phantoms in that layout).
Prints per case the DSC of the coarse fusion (round 0) and of the final round, the fine rounds run and the last
inter-round DSC, then the means and the coarse-to-fine gain (mean final DSC - mean coarse DSC); writes
<output_folder>/results.csv (one row per case) and summary.txt (what is printed), atomically. A case that cannot
be read is reported in one line and skipped; the run then exits non-zero with the list.
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

from evaluation.metrics import dice
from preprocessing.cases import nih_pancreas_cases
from preprocessing.image_io import ImageReadError
from rstn.cache import read_case
from rstn.model_set import load_rstn
from rstn.testing import write_results
from serving import ManifestError, ModelError, read_metadata

flags.DEFINE_string("dataset_folder", None, "NIH Pancreas-CT folder (Pancreas-CT/ or DOI/, TCIA_pancreas_labels-*/).")
flags.DEFINE_string("model_set", "saved_models/pancreas_rstn", "RSTN model set folder.")
flags.DEFINE_string("output_folder", "rstn_evaluation", "Where results.csv and summary.txt go.")
flags.DEFINE_integer("slice_batch", 8, "Slice stacks per network call.")
flags.mark_flag_as_required("dataset_folder")
FLAGS = flags.FLAGS


def evaluate_case(member, volume: np.ndarray, target: np.ndarray, slice_batch: int) -> dict[str, float | int]:
    """{coarse_dsc, dsc, rounds, inter_dsc (last; NaN without fine rounds)} of `segment` on a volume [z, y, x] HU in
    canonical orientation against its organ mask `target`."""
    result = member.signatures["segment"](volume=tf.constant(volume, tf.float32),
                                          slice_batch=tf.constant(slice_batch, tf.int32))
    inter = result["inter_round_dsc"].numpy()
    return {"coarse_dsc": dice(result["coarse_labels"].numpy(), target), "dsc": dice(result["labels"].numpy(), target),
            "rounds": int(result["rounds"]), "inter_dsc": float(inter[-1]) if inter.size else float("nan")}


def summary_lines(rows: list[dict]) -> list[str]:
    """One line per case, the means (the inter-round DSC's over the cases that ran a round) and the gain."""
    lines = [f"{'case':<16} {'coarse DSC':>10} {'DSC':>8} {'rounds':>6} {'inter DSC':>9}"]
    lines += [f"{row['case']:<16} {row['coarse_dsc']:>10.4f} {row['dsc']:>8.4f} {row['rounds']:>6d} "
              f"{row['inter_dsc']:>9.4f}" for row in rows]
    means = {key: np.nanmean([row[key] for row in rows]) if any(np.isfinite(row[key]) for row in rows)
             else float("nan") for key in ("coarse_dsc", "dsc", "rounds", "inter_dsc")}
    lines.append(f"{'mean':<16} {means['coarse_dsc']:>10.4f} {means['dsc']:>8.4f} {means['rounds']:>6.2f} "
                 f"{means['inter_dsc']:>9.4f}")
    lines.append(f"coarse-to-fine gain (mean DSC - mean coarse DSC): {means['dsc'] - means['coarse_dsc']:+.4f} "
                 f"over {len(rows)} case(s)")
    return lines


def main(argv: list[str]) -> None:
    del argv
    try:
        cases = nih_pancreas_cases(FLAGS.dataset_folder)
        if not cases:
            raise FileNotFoundError(f"{FLAGS.dataset_folder}: no case (no PANCREAS_XXXX series folder)")
        member = load_rstn(FLAGS.model_set)
    except (FileNotFoundError, ManifestError, ModelError) as error:
        sys.exit(str(error))
    organ_ids = tuple(read_metadata(member)["config"]["organ_ids"])
    rows, failures = [], []
    for case in tqdm(cases, desc="cases", unit="case"):
        try:
            volume, labels, _ = read_case(case)
        except ImageReadError as error:
            tqdm.write(f"{case.case_id}: {error}", file=sys.stderr)
            failures.append(case.case_id)
            continue
        target = np.isin(labels, organ_ids)
        rows.append({"case": case.case_id, **evaluate_case(member, volume, target, FLAGS.slice_batch)})
    if rows:
        print("\n".join(write_results(FLAGS.output_folder, rows, summary_lines)))
        print(f"wrote {os.path.join(FLAGS.output_folder, 'results.csv')}")
    if failures:
        sys.exit(f"{len(failures)} case(s) failed: {', '.join(failures)}")


if __name__ == "__main__":
    app.run(main)
