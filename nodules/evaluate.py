"""Evaluates a nodule model set: detection by FROC and CPM (LUNA16 rules, with a bootstrap interval over scans),
and on LIDC also segmentation by Dice and malignancy by ROC AUC.

Usage: python -m nodules.evaluate --model_set saved_models/lidc_nodules --dataset_folder LIDC --output_folder OUT
       [--layout lidc|idc] [--bootstrap 1000] [--seed 0]
       python -m nodules.evaluate --layout luna16 --dataset_folder LUNA16 --output_folder OUT
       [--model_set SET | --results CAD.csv] [--annotations A.csv] [--annotations_excluded E.csv]
       [--seriesuids S.csv]
LIDC (TCIA's XML, or with --layout idc the Imaging Data Commons' DICOM SEG + SR): every annotated series under
--dataset_folder counts (give it scans the set was not trained on). Detection:
all candidates above the detector's threshold against the consensus nodules (centre, equivalent diameter).
Segmentation and malignancy are judged given the nodule, as LIDC studies report them: the crop model at each
reference nodule's centre, its mask against the consensus mask on the crop grid (Dice), its probability against
the mean-rating label (nodules rated 3 on average left out).
LUNA16: the scans of seriesuids.csv (default: every subset*/*.mhd found) against annotations.csv, with the
findings of annotations_excluded.csv irrelevant (defaults: the files in --dataset_folder or its
evaluationScript/annotations/); the detections of the model set (written to OUT/results.csv in the challenge's
format) or of an existing CAD result (--results), as the official script evaluates them.
Writes OUT/nodules.json (figures and per-nodule rows), OUT/froc.png and (LIDC) OUT/roc.png.
Docs: docs/nodules.md
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
from nodules.idc import annotated_series
from nodules.lidc_xml import AnnotationError
from nodules.luna16 import (Luna16Error, luna16_scans, read_annotations, read_results, read_seriesuids,
                            write_results)
from nodules.luna16 import scan_findings as luna16_findings
from nodules.nodule_crops import mask_crop
from nodules.pipeline import NodulePipeline
from nodules.roc import roc_auc, roc_curve
from preprocessing.atomic import atomic_path
from preprocessing.image_io import ImageReadError, read_image

flags.DEFINE_enum("layout", "lidc", ["lidc", "idc", "luna16"], "Dataset layout: LIDC-IDRI from TCIA (XML) or IDC "
                  "(DICOM SEG + SR), or LUNA16.")
flags.DEFINE_string("model_set", "saved_models/lidc_nodules", "Nodule model set folder.")
flags.DEFINE_string("dataset_folder", None, "LIDC-IDRI download (series folders with their annotation XML), or the "
                    "LUNA16 folder (subset*/, annotations.csv).")
flags.DEFINE_string("results", None, "luna16: evaluate this CAD result CSV instead of running the model set.")
flags.DEFINE_string("annotations", None, "luna16: annotations.csv (default: in --dataset_folder).")
flags.DEFINE_string("annotations_excluded", None, "luna16: annotations_excluded.csv (default: in --dataset_folder "
                    "or its evaluationScript/annotations/).")
flags.DEFINE_string("seriesuids", None, "luna16: seriesuids.csv (default: every scan found).")
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


def detection_summary(outcomes: list, bootstrap: int, seed: int) -> dict:
    """CPM, sensitivities at the CPM rates, the FROC curve and (with `bootstrap` samples) its interval."""
    value, sensitivities = cpm(outcomes)
    fp_rate, sensitivity = froc_curve(outcomes)
    summary = {"cpm": value, "sensitivity_at": dict(zip(map(str, CPM_RATES), sensitivities.tolist())),
               "froc": {"fp_per_scan": fp_rate.tolist(), "sensitivity": sensitivity.tolist()}}
    if bootstrap:
        summary["cpm_bootstrap"] = bootstrap_cpm(outcomes, bootstrap, seed=seed)
    return summary


def _first_file(*paths: str) -> str:
    return next((p for p in paths if os.path.isfile(p)), paths[0])


def evaluate_luna16(dataset_folder: str, model_set: str | None, results_path: str | None, annotations: str | None,
                    excluded: str | None, seriesuids: str | None, output_folder: str, bootstrap: int,
                    seed: int) -> dict:
    """The LUNA16 evaluation (see the module docstring)."""
    annotations = annotations or os.path.join(dataset_folder, "annotations.csv")
    excluded = excluded or _first_file(os.path.join(dataset_folder, "annotations_excluded.csv"),
                                       os.path.join(dataset_folder, "evaluationScript", "annotations",
                                                    "annotations_excluded.csv"))
    scans = luna16_scans(dataset_folder)
    uids = read_seriesuids(seriesuids) if seriesuids else sorted(scans)
    if results_path is None:
        pipeline = load_pipeline(model_set)
        rows = []
        for uid in tqdm(uids, desc="scans"):
            if uid not in scans:
                raise Luna16Error(f"{dataset_folder}: no subset*/{uid}.mhd for a scan of the evaluation")
            hu, geometry = read_image(scans[uid], ndim=3)
            canonical, _ = canonical_images(CaseImages((hu.astype(np.float32),), geometry))
            rows.append((uid, pipeline.candidates(canonical.channels[0], canonical.geometry)[1]))
        results_path = os.path.join(output_folder, "results.csv")
        os.makedirs(output_folder, exist_ok=True)
        write_results(results_path, rows)
    outcomes = [scan_outcome(f) for f in luna16_findings(uids, read_annotations(annotations),
                                                         read_annotations(excluded), read_results(results_path))]
    return {"scans": len(outcomes), "nodules": int(sum(o.nodule_scores.size for o in outcomes)), "rows": [],
            "results": results_path, **detection_summary(outcomes, bootstrap, seed)}


def evaluate(pipeline: NodulePipeline, dataset_folder: str, bootstrap: int, seed: int, layout: str = "lidc") -> dict:
    """The LIDC figures and per-nodule rows (see the module docstring) of a TCIA (`layout` 'lidc') or IDC
    download."""
    outcomes, rows = [], []
    for entry in tqdm(annotated_series(dataset_folder, layout), desc="scans"):
        hu, geometry, nodules = entry.read()
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
        summary.update({**detection_summary(outcomes, bootstrap, seed),
                        "dice_mean": float(np.mean([r["dice"] for r in rows]))})
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
    try:
        if FLAGS.layout == "luna16":
            summary = evaluate_luna16(FLAGS.dataset_folder, FLAGS.model_set, FLAGS.results, FLAGS.annotations,
                                      FLAGS.annotations_excluded, FLAGS.seriesuids, FLAGS.output_folder,
                                      FLAGS.bootstrap, FLAGS.seed)
        else:
            summary = evaluate(load_pipeline(FLAGS.model_set), FLAGS.dataset_folder, FLAGS.bootstrap, FLAGS.seed,
                               FLAGS.layout)
    except (Luna16Error, FileNotFoundError, AnnotationError, ImageReadError) as error:
        sys.exit(f"error: {error}")
    write_outputs(summary, FLAGS.output_folder)
    print(f"{summary['scans']} scans, {summary['nodules']} nodules")
    if "cpm" in summary:
        interval = summary.get("cpm_bootstrap", {}).get("cpm")
        band = f" (95% CI {interval[1]:.3f}-{interval[2]:.3f})" if interval else ""
        print(f"CPM {summary['cpm']:.3f}{band}; sensitivity at " + ", ".join(
            f"{r} FP/scan {s:.3f}" for r, s in summary["sensitivity_at"].items()))
    if "dice_mean" in summary:
        print(f"segmentation Dice (mean over nodules) {summary['dice_mean']:.3f}")
    if "malignancy_auc" in summary:
        print(f"malignancy AUC {summary['malignancy_auc']:.3f} over {summary['malignancy_nodules']} nodules")
    elif FLAGS.layout != "luna16":
        print("malignancy AUC: needs benign and malignant nodules")
    print(f"wrote {FLAGS.output_folder}/nodules.json, froc.png" + (", roc.png" if "roc" in summary else ""))


if __name__ == "__main__":
    app.run(main)
