"""Evaluates a chest X-ray model set on labelled films (any X-ray layout): Dice, NSD and HD95 per lung and for both
lungs, at the film's own size (mm where the pixel spacing is known) and at 256 x 256 pixels as the original computes
them, with each mask's quality estimate and how well it predicts the true Dice.

Usage: python -m cfcm.evaluate --model_set saved_models/cxr_lungs --base_dataset_folder DATA --layout paired
       [--case_pattern 'MCUCXR_.*'] [--cv_folder DATA/setup/cv --fold 1] [--spacing_mm 0.687,0.836]
       [--quality_threshold 0.95] [--tta] --output_folder OUT
Writes OUT/cases.csv (one row per film) and OUT/summary.json; prints the means per data set (the case id's prefix
before the first '_': MCUCXR, CHNCXR), and for the quality estimate (`cfcm.quality.confidence`, as the entrypoint
reports it; with --tta also the test-time-augmentation agreement) its Spearman correlation with the true Dice and
the share of masks under Dice 0.9 that --quality_threshold flags. --fold evaluates that fold's test films only.
Docs: docs/cfcm.md
"""
from __future__ import annotations

import preprocessing.quiet_startup  # noqa: F401 - first: hides TensorFlow's C++ start-up lines

import csv
import json
import os

import cv2
import numpy as np
import tensorflow as tf
from absl import app, flags
from tqdm import tqdm

from cfcm.quality import agreement, confidence
from evaluation.metrics import dice, hausdorff_95, label_metrics
from evaluation.rank_correlation import spearman
from preprocessing.atomic import atomic_path
from preprocessing.cross_validation import load_fold
from preprocessing.xray_cases import XRAY_LAYOUTS, read_xray_case, xray_cases
from serving.loading import load_member, read_metadata

ORIGINAL_GRID = 256
LOW_DICE = 0.9

flags.DEFINE_string("model_set", None, "CFCM model set folder (manifest.json + member).")
flags.DEFINE_string("base_dataset_folder", None, "Chest X-ray folder with lung masks.")
flags.DEFINE_enum("layout", "montgomery", list(XRAY_LAYOUTS), "Layout of --base_dataset_folder.")
flags.DEFINE_string("case_pattern", None, "Regular expression the case ids must match.")
flags.DEFINE_string("cv_folder", None, "Fold files folder (with --fold).")
flags.DEFINE_integer("fold", None, "Evaluate this fold's test films only.")
flags.DEFINE_list("spacing_mm", None, "Pixel spacing x,y in mm of the films (default: the file's; PNG: 1 pixel).")
flags.DEFINE_float("nsd_tolerance_mm", 2.0, "Normalized surface Dice tolerance, in the units of --spacing_mm.")
flags.DEFINE_bool("tta", False, "Also the test-time-augmentation agreement per mask (4 more network runs per film).")
flags.DEFINE_float("quality_threshold", 0.95, "Masks with a quality estimate below this are flagged.")
flags.DEFINE_string("output_folder", None, "Where cases.csv and summary.json go.")
flags.mark_flags_as_required(["model_set", "base_dataset_folder", "output_folder"])
FLAGS = flags.FLAGS


def original_grid(labels: np.ndarray) -> np.ndarray:
    """A label map resized (nearest) to the original's 256 x 256 evaluation grid."""
    return cv2.resize(labels, (ORIGINAL_GRID, ORIGINAL_GRID), interpolation=cv2.INTER_NEAREST)


def film_metrics(prediction: np.ndarray, reference: np.ndarray, label_names: dict[int, str],
                 spacing_yx: tuple[float, float], tolerance: float) -> dict[str, float]:
    """{'<label>_dice', ..., 'lungs_dice', 'lungs_nsd', 'lungs_hd95', 'lungs_dice_256', 'lungs_hd95_256px'} of one
    film: per label and for both lungs at the film's size (distances in the units of `spacing_yx`), and both lungs
    on the original's 256 x 256 grid (distances in pixels)."""
    values = {}
    for label, metrics in label_metrics(prediction, reference, list(label_names), spacing_yx, tolerance,
                                        surface=False).items():
        values[f"{label_names[label]}_dice"] = metrics["dice"]
    lungs = label_metrics((prediction > 0).astype(np.uint8), (reference > 0).astype(np.uint8), [1], spacing_yx,
                          tolerance)[1]
    values.update({f"lungs_{name}": value for name, value in lungs.items()})
    small_prediction, small_reference = original_grid(prediction) > 0, original_grid(reference) > 0
    values["lungs_dice_256"] = dice(small_prediction, small_reference)
    values["lungs_hd95_256px"] = hausdorff_95(small_prediction, small_reference, (1.0, 1.0))
    return values


def flagged_share(quality: np.ndarray, true_dice: np.ndarray, threshold: float) -> dict[str, float]:
    """Of the masks under Dice 0.9, the share whose quality is below `threshold` (sensitivity); of all masks, the
    share flagged; of the flagged, the share truly under 0.9 (precision; NaN when none is flagged)."""
    flagged, low = quality < threshold, true_dice < LOW_DICE
    return {"threshold": threshold, "masks_under_0.9": int(low.sum()),
            "flagged_of_those": float(flagged[low].mean()) if low.any() else float("nan"),
            "flagged_of_all": float(flagged.mean()),
            "under_0.9_of_flagged": float(low[flagged].mean()) if flagged.any() else float("nan")}


def summarize(rows: list[dict], threshold: float) -> dict:
    """Means per data set (case id prefix) and over all films, and for each quality estimate its Spearman correlation
    with the true Dice of both lungs and what `threshold` flags."""
    groups = {"all": rows}
    for row in rows:
        groups.setdefault(row["case"].split("_")[0], []).append(row)
    estimates = [key for key in ("quality", "tta_agreement") if key in rows[0]]
    metrics = [key for key in rows[0] if key != "case" and key not in estimates]
    summary = {name: {"films": len(group), **{key: float(np.nanmean([r[key] for r in group])) for key in metrics}}
               for name, group in groups.items()}
    true_dice = np.array([r["lungs_dice"] for r in rows])
    for key in estimates:
        values = np.array([r[key] for r in rows])
        summary[key] = {"spearman_with_lungs_dice": spearman(values, true_dice),
                        **flagged_share(values, true_dice, threshold)}
    return summary


def main(argv: list[str]) -> None:
    del argv
    with open(os.path.join(FLAGS.model_set, "manifest.json")) as handle:
        manifest = json.load(handle)
    member = load_member(os.path.join(FLAGS.model_set, manifest["members"]["segmentation"]), "cfcm", "segmentation")
    label_names = {int(k): v for k, v in manifest["labels"].items() if int(k)}
    head = read_metadata(member)["head"]
    separate = len(label_names) > 1
    cases = xray_cases(FLAGS.base_dataset_folder, FLAGS.layout, FLAGS.case_pattern)
    if FLAGS.fold is not None:
        _, test = load_fold(FLAGS.cv_folder or os.path.join(FLAGS.base_dataset_folder, "setup", "cv"), FLAGS.fold)
        cases = [c for c in cases if c.case_id in set(test)]

    def segment(image: np.ndarray) -> dict[str, np.ndarray]:
        outputs = member.signatures["segment"](image=tf.constant(image, tf.float32))
        return {key: value.numpy() for key, value in outputs.items()}

    spacing = tuple(float(v) for v in FLAGS.spacing_mm[::-1]) if FLAGS.spacing_mm else (1.0, 1.0)
    rows = []
    for case in tqdm(cases, desc="films"):
        image, reference = read_xray_case(case, separate)
        outputs = segment(image)
        prediction = outputs["labels"]
        row = {"case": case.case_id, **film_metrics(prediction, reference, label_names, spacing,
                                                     FLAGS.nsd_tolerance_mm)}
        row["quality"] = confidence(outputs["probabilities"], prediction, head)
        if FLAGS.tta:
            row["tta_agreement"] = agreement(lambda view: segment(view)["labels"], image, prediction)
        rows.append(row)
    summary = summarize(rows, FLAGS.quality_threshold)
    os.makedirs(FLAGS.output_folder, exist_ok=True)
    with atomic_path(os.path.join(FLAGS.output_folder, "cases.csv")) as temp, open(temp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with atomic_path(os.path.join(FLAGS.output_folder, "summary.json")) as temp, open(temp, "w") as handle:
        json.dump(json.loads(json.dumps(summary), parse_constant=lambda _: None), handle, indent=2)
    for name, values in summary.items():
        if "films" in values:
            print(f"{name:<7} films {values['films']:>4}  " + "  ".join(
                f"{key} {value:.4f}" for key, value in values.items() if key != "films"))
        else:
            print(f"{name}: " + ", ".join(f"{key} {value:.4g}" for key, value in values.items()))


if __name__ == "__main__":
    app.run(main)
