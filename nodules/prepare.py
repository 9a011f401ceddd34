"""Converts a lung nodule data set once into the nodule training cache (`nodules.cache`) and writes its
cross-validation folds.

Usage: python -m nodules.prepare --dataset_folder DATA --cache_folder CACHE [--layout lidc|idc|luna16]
       [--num_folds 10] [--seed 0] [--cv_folder DIR]
Every scan under --dataset_folder becomes a case: the detector's 1 mm volume and its nodules as boxes.
- `--layout lidc`: TCIA's LIDC-IDRI/<patient>/<study>/<series>/ with the annotation XML beside the slices;
  `--layout idc`: the Imaging Data Commons' CT series with a DICOM SEG + SR per reading (`nodules.idc`). Nodules
  >= 3 mm with readers grouped, consensus centre and size, malignancy from the mean rating, and a crop of CT and
  consensus mask around each (the crop model's training data). Folds split patients, shuffled with --seed.
- `--layout luna16`: `subset*/<seriesuid>.mhd` with `annotations.csv` (centre and diameter; no outlines, no
  ratings): detector training data only, no crops. The folds are the ten subsets (fold k holds out subset k - 1),
  as LUNA16 and DeepLung split them; scans outside subset folders are shuffled into --num_folds folds.
Folds go to <dataset_folder>/setup/cv unless --cv_folder says otherwise; fold 0 trains on all. A scan that cannot
be read is reported in one line and skipped; the run then exits non-zero with the list.
Docs: docs/nodules.md
"""
from __future__ import annotations

import preprocessing.quiet_startup  # noqa: F401 - first: hides TensorFlow's C++ start-up lines

import os
import sys

import numpy as np
from absl import app, flags
from tqdm import tqdm

from nodules.cache import nodule_boxes, write_index, write_scan
from nodules.config import CropModelConfig, DetectorConfig
from nodules.idc import annotated_series
from nodules.lidc_scan import LidcNodule
from nodules.lidc_xml import AnnotationError
from nodules.luna16 import Luna16Error, luna16_scans, read_annotations
from nodules.nodule_crops import crop_geometry, ct_crop, mask_crop
from nodules.preprocess import detector_volume
from preprocessing.cross_validation import write_folds, write_test_folds
from preprocessing.image_geometry import ImageGeometry
from preprocessing.image_io import ImageReadError, read_image

flags.DEFINE_string("dataset_folder", None, "LIDC-IDRI download (TCIA: series folders with their annotation XML; "
                    "IDC: CT, SEG and SR series) or the LUNA16 folder (subset*/, annotations.csv).")
flags.DEFINE_enum("layout", "lidc", ["lidc", "idc", "luna16"], "Data set: LIDC-IDRI from TCIA (XML) or IDC (DICOM "
                  "SEG + SR), or LUNA16.")
flags.DEFINE_string("cache_folder", None, "Training cache to write.")
flags.DEFINE_integer("num_folds", 10, "Cross-validation folds (over patients).")
flags.DEFINE_integer("seed", 0, "Seed of the fold shuffling.")
flags.DEFINE_string("cv_folder", None, "Fold files folder (default: <dataset_folder>/setup/cv).")
flags.mark_flags_as_required(["dataset_folder", "cache_folder"])
FLAGS = flags.FLAGS


def cache_case(cache_folder: str, case_id: str, hu: np.ndarray, geometry: ImageGeometry,
               nodules: list[LidcNodule] | None, centres_mm: np.ndarray, diameters_mm: np.ndarray) -> dict:
    """Caches one scan: its detector volume and nodule boxes; with LIDC `nodules` also their malignancy, readers
    and crops (LUNA16: none). Returns its index entry (without the patient)."""
    config, crop_config = DetectorConfig(), CropModelConfig()
    context = int(round(crop_config.context_mm / crop_config.spacing_mm))
    crop_size = tuple(n + 2 * context for n in crop_config.crop_size)
    volume = detector_volume(hu, geometry, config)
    if not volume.lungs_found:
        tqdm.write(f"{case_id}: no lungs found; the whole scan is used", file=sys.stderr)
    boxes = nodule_boxes(volume, centres_mm, diameters_mm)
    nodules = nodules or []
    grids = [crop_geometry(n.centre_mm, crop_size, crop_config.spacing_mm) for n in nodules]
    crops = np.array([ct_crop(hu, geometry, g) for g in grids]).reshape(-1, *crop_size)
    masks = np.array([mask_crop(n.consensus, geometry, g) for n, g in zip(nodules, grids)]).reshape(-1, *crop_size)
    malignancy = [n.malignancy for n in nodules] or [None] * len(boxes)
    write_scan(cache_folder, case_id, volume, boxes, malignancy, [len(n.readings) for n in nodules] or
               [0] * len(boxes), crops, masks)
    return {"nodules": len(boxes), "shape": list(volume.image.shape)}


def lidc_cases(dataset_folder: str, layout: str, cache_folder: str) -> tuple[dict[str, dict], dict[str, dict]]:
    """({case: index entry} of the cached scans, {case: {"patient", "folder"}} of all found) of an LIDC download
    (TCIA or IDC)."""
    series = annotated_series(dataset_folder, layout)
    found = {entry.case_id: {"patient": entry.patient_id, "folder": entry.folder} for entry in series}
    entries = {}
    for entry in tqdm(series, desc="prepare"):
        try:
            hu, geometry, nodules = entry.read()
        except (ImageReadError, AnnotationError) as error:
            tqdm.write(f"{entry.case_id}: {error}", file=sys.stderr)
            continue
        cached = cache_case(cache_folder, entry.case_id, hu, geometry, nodules,
                            np.array([n.centre_mm for n in nodules]).reshape(-1, 3),
                            np.array([n.diameter_mm for n in nodules]))
        entries[entry.case_id] = {**found[entry.case_id], **cached}
    return entries, found


def luna16_cases(dataset_folder: str, cache_folder: str) -> tuple[dict[str, dict], dict[str, dict]]:
    """({seriesuid: index entry} of the cached scans, {seriesuid: {"patient", "folder"}} of all found) of a LUNA16
    folder (nodules of annotations.csv)."""
    annotations = read_annotations(os.path.join(dataset_folder, "annotations.csv"))
    empty = (np.zeros((0, 3)), np.zeros(0))
    found = {uid: {"patient": uid, "folder": path} for uid, path in sorted(luna16_scans(dataset_folder).items())}
    entries = {}
    for uid, scan in tqdm(found.items(), desc="prepare"):
        try:
            hu, geometry = read_image(scan["folder"], ndim=3)
        except ImageReadError as error:
            tqdm.write(f"{uid}: {error}", file=sys.stderr)
            continue
        centres, diameters = annotations.get(uid, empty)
        entries[uid] = {**scan, **cache_case(cache_folder, uid, hu, geometry, None, centres, diameters)}
    return entries, found


def write_case_folds(found: dict[str, dict], layout: str, cv_folder: str, num_folds: int, seed: int) -> None:
    """Folds over the scans found ({case: {"patient", "folder"}}, failed ones included, so that mending one keeps
    the folds): LIDC `num_folds` folds over patients; LUNA16 one fold per subset folder (shuffled folds when the
    scans lie outside subset folders)."""
    patients = sorted({entry["patient"] for entry in found.values()})
    subsets = {case: os.path.basename(os.path.dirname(entry["folder"])) for case, entry in found.items()}
    if layout == "luna16" and all(s.startswith("subset") and s[6:].isdigit() for s in subsets.values()):
        numbers = sorted({int(s[6:]) for s in subsets.values()})
        write_test_folds(patients, [[c for c, s in subsets.items() if int(s[6:]) == n] for n in numbers], cv_folder)
    else:
        write_folds(patients, cv_folder, num_folds, seed)


def main(argv: list[str]) -> None:
    del argv
    if not os.path.isdir(FLAGS.dataset_folder):
        sys.exit(f"{FLAGS.dataset_folder}: not a folder")
    try:
        if FLAGS.layout == "luna16":
            entries, found = luna16_cases(FLAGS.dataset_folder, FLAGS.cache_folder)
        else:
            entries, found = lidc_cases(FLAGS.dataset_folder, FLAGS.layout, FLAGS.cache_folder)
    except Luna16Error as error:
        sys.exit(f"error: {error}")
    if not found:
        sys.exit(f"{FLAGS.dataset_folder}: no scans found for --layout {FLAGS.layout} (lidc: series folders with an "
                 "LidcReadMessage XML; idc: CT series; luna16: subset*/*.mhd)")
    cv_folder = FLAGS.cv_folder or os.path.join(FLAGS.dataset_folder, "setup", "cv")
    write_index(FLAGS.cache_folder, entries, cv_folder)
    write_case_folds(found, FLAGS.layout, cv_folder, FLAGS.num_folds, FLAGS.seed)
    print(f"cached {len(entries)} series with {sum(e['nodules'] for e in entries.values())} nodules in "
          f"{FLAGS.cache_folder}; folds in {cv_folder}")
    failures = sorted(set(found) - set(entries))
    if failures:
        sys.exit(f"{len(failures)} series failed: {', '.join(failures)}")


if __name__ == "__main__":
    app.run(main)
