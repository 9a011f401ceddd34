"""Evaluates a nodule model set on annotated LIDC series: detection by FROC and CPM (LUNA16 rules, with a bootstrap
interval over scans), segmentation by Dice and malignancy by ROC AUC.

Usage: python -m nodules.evaluate --model_set saved_models/lidc_nodules --dataset_folder LIDC --output_folder OUT
       [--bootstrap 1000] [--seed 0]
Every annotated series under --dataset_folder counts (give it scans the set was not trained on). Detection: all
candidates above the detector's threshold against the consensus nodules (centre, equivalent diameter). Segmentation
and malignancy are judged given the nodule, as LIDC studies report them: the crop model at each reference nodule's
centre, its mask against the consensus mask on the crop grid (Dice), its probability against the mean-rating
label (nodules rated 3 on average left out). Writes OUT/nodules.json (figures and per-nodule rows), OUT/froc.png and
OUT/roc.png.
"""
from __future__ import annotations

import preprocessing.quiet_startup  # noqa: F401 - first: hides TensorFlow's C++ start-up lines

import json
import os
import sys

import numpy as np
from absl import app, flags
from tqdm import tqdm

from evaluation.metrics import dice
from evaluation.plots import Line, line_chart
from inference.model_sets import find_model_sets
from inference.pipeline import RunOptions, canonical_images
from inference.inputs import CaseImages
from nodules.froc import CPM_RATES, ScanFindings, bootstrap_cpm, cpm, froc_curve, scan_outcome
from nodules.lidc_scan import lidc_series, read_lidc_scan
from nodules.nodule_crops import mask_crop
from nodules.pipeline import NodulePipeline
from nodules.roc import roc_auc, roc_curve
from preprocessing.atomic import atomic_path

flags.DEFINE_string("model_set", "saved_models/lidc_nodules", "Nodule model set folder.")
flags.DEFINE_string("dataset_folder", None, "LIDC-IDRI download (series folders with their annotation XML).")
flags.DEFINE_string("output_folder", None, "Output folder for nodules.json, froc.png and roc.png.")
flags.DEFINE_integer("bootstrap", 1000, "Bootstrap samples of the CPM interval (0: none).")
flags.DEFINE_integer("seed", 0, "Seed of the bootstrap.")
flags.mark_flags_as_required(["dataset_folder", "output_folder"])
FLAGS = flags.FLAGS


def load_pipeline(model_set: str) -> NodulePipeline:
    folder = os.path.abspath(model_set)
    sets = find_model_sets(os.path.dirname(folder))
    name = os.path.basename(folder)
    if name not in sets:
        raise FileNotFoundError(f"{model_set}: not a model set (no manifest.json)")
    return NodulePipeline(sets[name], RunOptions())


def evaluate(pipeline: NodulePipeline, dataset_folder: str, bootstrap: int, seed: int) -> dict:
    """The figures and per-nodule rows (see the module docstring)."""
    outcomes, rows = [], []
    for entry in tqdm(lidc_series(dataset_folder), desc="scans"):
        hu, geometry, nodules = read_lidc_scan(entry.folder)
        canonical, _ = canonical_images(CaseImages((hu.astype(np.float32),), geometry))
        _, detections = pipeline.candidates(canonical.channels[0], canonical.geometry)
        outcomes.append(scan_outcome(ScanFindings(
            nodules=np.array([n.centre_mm for n in nodules]).reshape(-1, 3),
            nodule_diameters_mm=np.array([n.diameter_mm for n in nodules]),
            detections=detections[:, 1:4], probabilities=detections[:, 0])))
        for nodule, score in zip(nodules, outcomes[-1].nodule_scores):
            grid, probability, malignancy = pipeline.crop_outputs(hu, geometry, nodule.centre_mm)
            reference = mask_crop(nodule.consensus, geometry, grid) > 0
            rows.append({"case": entry.case_id, "centre_mm": list(nodule.centre_mm),
                         "diameter_mm": nodule.diameter_mm, "readers": len(nodule.readings),
                         "detection_score": None if np.isnan(score) else float(score),
                         "dice": dice(probability >= pipeline.crop_config.mask_threshold, reference),
                         "malignancy_label": nodule.malignancy, "malignancy_probability": malignancy})
    summary: dict = {"scans": len(outcomes), "nodules": len(rows), "rows": rows}
    if rows:
        value, sensitivities = cpm(outcomes)
        fp_rate, sensitivity = froc_curve(outcomes)
        summary.update({"cpm": value, "sensitivity_at": dict(zip(map(str, CPM_RATES), sensitivities.tolist())),
                        "froc": {"fp_per_scan": fp_rate.tolist(), "sensitivity": sensitivity.tolist()},
                        "dice_mean": float(np.mean([r["dice"] for r in rows]))})
        if bootstrap:
            summary["cpm_bootstrap"] = bootstrap_cpm(outcomes, bootstrap, seed=seed)
    labelled = [r for r in rows if r["malignancy_label"] is not None]
    labels = np.array([r["malignancy_label"] for r in labelled])
    if labelled and 0 < labels.sum() < len(labels):
        scores = np.array([r["malignancy_probability"] for r in labelled])
        fpr, tpr = roc_curve(labels, scores)
        summary.update({"malignancy_auc": roc_auc(labels, scores), "roc": {"fpr": fpr.tolist(), "tpr": tpr.tolist()},
                        "malignancy_nodules": len(labelled)})
    return summary


def write_outputs(summary: dict, output_folder: str) -> None:
    os.makedirs(output_folder, exist_ok=True)
    with atomic_path(os.path.join(output_folder, "nodules.json")) as temp, open(temp, "w") as handle:
        json.dump(summary, handle, indent=1)
    if "froc" in summary:
        froc = summary["froc"]
        line_chart([Line(np.asarray(froc["fp_per_scan"]), np.asarray(froc["sensitivity"]))], list(CPM_RATES),
                   [0.0, 0.5, 1.0], f"FROC (CPM {summary['cpm']:.3f}): sensitivity vs false positives per scan",
                   os.path.join(output_folder, "froc.png"), log_x=True)
    if "roc" in summary:
        roc = summary["roc"]
        line_chart([Line(np.asarray(roc["fpr"]), np.asarray(roc["tpr"])),
                    Line(np.array([0.0, 1.0]), np.array([0.0, 1.0]), (170, 170, 170), 1)], [0.0, 0.5, 1.0],
                   [0.0, 0.5, 1.0], f"Malignancy ROC (AUC {summary['malignancy_auc']:.3f})",
                   os.path.join(output_folder, "roc.png"))


def main(argv: list[str]) -> None:
    del argv
    if not os.path.isdir(FLAGS.dataset_folder):
        sys.exit(f"{FLAGS.dataset_folder}: not a folder")
    summary = evaluate(load_pipeline(FLAGS.model_set), FLAGS.dataset_folder, FLAGS.bootstrap, FLAGS.seed)
    write_outputs(summary, FLAGS.output_folder)
    print(f"{summary['scans']} scans, {summary['nodules']} nodules")
    if "cpm" in summary:
        interval = summary.get("cpm_bootstrap", {}).get("cpm")
        band = f" (95% CI {interval[1]:.3f}-{interval[2]:.3f})" if interval else ""
        print(f"CPM {summary['cpm']:.3f}{band}; sensitivity at " + ", ".join(
            f"{r} FP/scan {s:.3f}" for r, s in summary["sensitivity_at"].items()))
        print(f"segmentation Dice (mean over nodules) {summary['dice_mean']:.3f}")
    if "malignancy_auc" in summary:
        print(f"malignancy AUC {summary['malignancy_auc']:.3f} over {summary['malignancy_nodules']} nodules")
    else:
        print("malignancy AUC: needs benign and malignant nodules")
    print(f"wrote {FLAGS.output_folder}/nodules.json, froc.png, roc.png")


if __name__ == "__main__":
    app.run(main)
