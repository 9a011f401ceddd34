"""Evaluates predicted label maps against references: Dice, normalized surface Dice and HD95 per case and label.

Usage: python -m inference.evaluate --prediction_path OUT --reference_path MASKS [--labels 1:liver,2:kidney,...]
       [--nsd_tolerance_mm 1.0] [--output_csv OUT/metrics.csv] [--output_json OUT/metrics.json]
       (installed command: medseg-evaluate, the same flags)

Predictions and references are paired by case name (`validation_000.nii.gz` in both folders). A
Montgomery `ManualMask` folder (with `leftMask/` and `rightMask/`) is accepted as reference for 2D lung
masks: the patient's right (1) and left (2) lung (`preprocessing.lung_masks`) when the predictions name both, else
both lungs as label 1; an NIH `TCIA_pancreas_labels-*` folder pairs `label0001.nii.gz`
with the prediction `PANCREAS_0001.nii.gz` (label 1, pancreas). Binary 0/255 masks count as label 1.
Geometry must match; spacing comes from the reference (mm), or from --spacing_mm for formats that store
none (PNG: 1 pixel otherwise), so surface metrics are in mm where the spacing is known.
Docs: docs/entrypoint.md
"""
from __future__ import annotations

import csv
import json
import os

import numpy as np
from absl import flags

from evaluation.metrics import FLARE21_NSD_TOLERANCE_MM, label_metrics
from inference.console import run_command
from preprocessing.atomic import atomic_path
from preprocessing.cases import nih_case_of_label
from preprocessing.image_io import IMAGE_SUFFIXES, case_name, read_image
from preprocessing.lung_masks import LUNG_LABEL_NAMES, lung_labels

FLARE21_LABELS = {1: "liver", 2: "kidney", 3: "spleen", 4: "pancreas"}

flags.DEFINE_string("prediction_path", None, "Folder of predicted label maps.")
flags.DEFINE_string("reference_path", None, "Folder of reference label maps with the same case names.")
flags.DEFINE_list("labels", None, "label:name pairs to evaluate (default: right and left lung, or lungs, for "
                  "ManualMask, pancreas for NIH labels, else the FLARE21 organs).")
flags.DEFINE_float("spacing_mm", None, "Pixel/voxel spacing to use instead of the reference's (e.g. 0.0875 for "
                   "Montgomery PNGs).")
flags.DEFINE_float("nsd_tolerance_mm", FLARE21_NSD_TOLERANCE_MM, "Normalized surface Dice tolerance in mm.")
flags.DEFINE_string("output_csv", None, "CSV output (default <prediction_path>/metrics.csv).")
flags.DEFINE_string("output_json", None, "JSON output (default <prediction_path>/metrics.json).")
flags.mark_flags_as_required(["prediction_path", "reference_path"])
FLAGS = flags.FLAGS


MONTGOMERY_LABELS = {1: "lungs"}
SIDED_LUNG_LABELS = dict(enumerate(LUNG_LABEL_NAMES, start=1))
NIH_LABELS = {1: "pancreas"}


def _images(folder: str) -> dict[str, str]:
    return {case_name(name): os.path.join(folder, name) for name in sorted(os.listdir(folder))
            if name.lower().endswith(IMAGE_SUFFIXES) and not name.startswith(".")}


def is_montgomery_masks(folder: str) -> bool:
    return all(os.path.isdir(os.path.join(folder, side)) for side in ("leftMask", "rightMask"))


def is_nih_labels(folder: str) -> bool:
    names = _images(folder)
    return bool(names) and all(nih_case_of_label(name) for name in names)


def _references(folder: str) -> dict[str, list[str]]:
    """{case: [mask files]}: one label map per case, or left + right lung masks for a ManualMask folder; NIH
    label files under their case's name."""
    if is_montgomery_masks(folder):
        left = _images(os.path.join(folder, "leftMask"))
        right = _images(os.path.join(folder, "rightMask"))
        return {case: [left[case], right[case]] for case in left if case in right}
    if is_nih_labels(folder):
        return {nih_case_of_label(name): [path] for name, path in _images(folder).items()}
    return {case: [path] for case, path in _images(folder).items()}


def default_labels(reference_folder: str, prediction_folder: str) -> dict[int, str]:
    """The labels evaluated without --labels: right and left lung (ManualMask, predictions with label 2) or lungs
    (ManualMask, binary predictions), pancreas (NIH labels), else the FLARE21 organs."""
    if is_montgomery_masks(reference_folder):
        predictions = list(_images(prediction_folder).values())
        sided = bool(predictions) and set(np.unique(read_image(predictions[0])[0])) - {0, 1} == {2}
        return SIDED_LUNG_LABELS if sided else MONTGOMERY_LABELS
    return NIH_LABELS if is_nih_labels(reference_folder) else FLARE21_LABELS


def _as_labels(array: np.ndarray) -> np.ndarray:
    """Binary 0/255 masks become label 1; label maps are returned as they are."""
    return (array > 0).astype(np.uint8) if set(np.unique(array)) <= {0, 255} and array.max() == 255 else array


def evaluate_folders(prediction_folder: str, reference_folder: str, labels: dict[int, str],
                     tolerance_mm: float = FLARE21_NSD_TOLERANCE_MM, spacing_mm: float | None = None) -> dict:
    """{'cases': {case: {label name: {dice, nsd, hd95}}}, 'mean': {label name: {...}}, 'missing': [...]}.

    Means ignore NaN (HD95 is NaN where exactly one of prediction and reference is empty).
    """
    predictions, references = _images(prediction_folder), _references(reference_folder)
    if not references:
        raise FileNotFoundError(f"{reference_folder}: no reference label maps found")
    cases = {}
    for case, reference_paths in references.items():
        if case not in predictions:
            continue
        masks = [read_image(path)[0] for path in reference_paths]
        geometry = read_image(reference_paths[0])[1]
        reference = lung_labels(masks, separate=len(labels) > 1) if len(masks) > 1 else _as_labels(masks[0])
        prediction = _as_labels(read_image(predictions[case])[0])
        if prediction.shape != reference.shape:
            raise ValueError(f"{predictions[case]}: size {prediction.shape} differs from reference {reference.shape}")
        spacing = (spacing_mm,) * reference.ndim if spacing_mm else geometry.array_spacing
        values = label_metrics(prediction, reference, list(labels), spacing, tolerance_mm)
        cases[case] = {labels[label]: metrics for label, metrics in values.items()}
    mean = {}
    for name in labels.values():
        mean[name] = {metric: float(np.nanmean([c[name][metric] for c in cases.values()])) if cases else float("nan")
                      for metric in ("dice", "nsd", "hd95")}
    return {"cases": cases, "mean": mean, "missing": sorted(set(references) - set(predictions))}


def write_outputs(results: dict, csv_path: str, json_path: str) -> None:
    """Writes per-case, per-label rows to CSV and the whole result to JSON (NaN as null), atomically."""
    with atomic_path(csv_path) as temp, open(temp, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case", "label", "dice", "nsd", "hd95_mm"])
        for case, per_label in results["cases"].items():
            for name, m in per_label.items():
                writer.writerow([case, name, f"{m['dice']:.4f}", f"{m['nsd']:.4f}", f"{m['hd95']:.3f}"])
    clean = json.loads(json.dumps(results), parse_constant=lambda _: None)
    with atomic_path(json_path) as temp, open(temp, "w") as handle:
        json.dump(clean, handle, indent=2)


def main(argv: list[str]) -> int:
    del argv
    if FLAGS.labels:
        labels = {int(k): v for k, v in (item.split(":", 1) for item in FLAGS.labels)}
    else:
        labels = default_labels(FLAGS.reference_path, FLAGS.prediction_path)
    results = evaluate_folders(FLAGS.prediction_path, FLAGS.reference_path, labels, FLAGS.nsd_tolerance_mm,
                               FLAGS.spacing_mm)
    write_outputs(results, FLAGS.output_csv or os.path.join(FLAGS.prediction_path, "metrics.csv"),
                  FLAGS.output_json or os.path.join(FLAGS.prediction_path, "metrics.json"))
    print(f"{len(results['cases'])} cases evaluated" + (f", missing predictions: {', '.join(results['missing'])}"
                                                         if results["missing"] else ""))
    names = list(results["mean"])
    width = max(len(case) for case in results["cases"]) if results["cases"] else 4
    print(f"{'Dice':<{width}} " + " ".join(f"{name:>9}" for name in names))
    for case, per_label in results["cases"].items():
        print(f"{case:<{width}} " + " ".join(f"{per_label[name]['dice']:>9.4f}" for name in names))
    print(f"{'label':<12} {'Dice':>7} {'NSD':>7} {'HD95 mm':>8}")
    for name, m in results["mean"].items():
        print(f"{name:<12} {m['dice']:>7.4f} {m['nsd']:>7.4f} {m['hd95']:>8.2f}")
    dice_mean = float(np.nanmean([m["dice"] for m in results["mean"].values()]))
    print(f"{'mean':<12} {dice_mean:>7.4f}")
    return 1 if results["missing"] or not results["cases"] else 0


def console() -> None:
    """`medseg-evaluate`: this module as an installed command (the same flags)."""
    run_command(main, __name__)


if __name__ == "__main__":
    console()
