"""Converts an LIDC-IDRI download once into the nodule training cache (`nodules.cache`) and writes its
cross-validation folds.

Usage: python -m nodules.prepare --dataset_folder LIDC --cache_folder CACHE [--layout lidc|idc] [--num_folds 10]
       [--seed 0] [--cv_folder DIR]
Every annotated CT series under --dataset_folder (`--layout lidc`: TCIA's LIDC-IDRI/<patient>/<study>/<series>/,
the annotation XML beside the slices; `--layout idc`: the Imaging Data Commons' CT series with a DICOM SEG + SR
per reading, `nodules.idc`) becomes a case: the detector's 1 mm volume and its nodules >= 3 mm (readers grouped,
consensus centre and size, malignancy from the mean rating, and a crop of CT and consensus mask around each). Folds split patients, not series (as LUNA16's
subsets), shuffled with --seed, into <dataset_folder>/setup/cv unless --cv_folder says otherwise; fold 0 trains
on all. A series that cannot be read is reported in one line and skipped; the run then exits non-zero with the
list.
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
from nodules.idc import idc_series
from nodules.lidc_scan import lidc_series
from nodules.lidc_xml import AnnotationError
from nodules.nodule_crops import crop_geometry, ct_crop, mask_crop
from nodules.preprocess import detector_volume
from preprocessing.cross_validation import write_folds
from preprocessing.image_io import ImageReadError

flags.DEFINE_string("dataset_folder", None, "LIDC-IDRI download (TCIA: series folders with their annotation XML; "
                    "IDC: CT, SEG and SR series).")
flags.DEFINE_enum("layout", "lidc", ["lidc", "idc"], "Annotation format: TCIA's LIDC XML or IDC's DICOM SEG + SR.")
flags.DEFINE_string("cache_folder", None, "Training cache to write.")
flags.DEFINE_integer("num_folds", 10, "Cross-validation folds (over patients).")
flags.DEFINE_integer("seed", 0, "Seed of the fold shuffling.")
flags.DEFINE_string("cv_folder", None, "Fold files folder (default: <dataset_folder>/setup/cv).")
flags.mark_flags_as_required(["dataset_folder", "cache_folder"])
FLAGS = flags.FLAGS


def main(argv: list[str]) -> None:
    del argv
    if not os.path.isdir(FLAGS.dataset_folder):
        sys.exit(f"{FLAGS.dataset_folder}: not a folder")
    series = (idc_series if FLAGS.layout == "idc" else lidc_series)(FLAGS.dataset_folder)
    if not series:
        sys.exit(f"{FLAGS.dataset_folder}: no annotated LIDC CT series found (--layout lidc: series folders with an "
                 "LidcReadMessage XML; --layout idc: CT series)")
    config, crop_config = DetectorConfig(), CropModelConfig()
    context = int(round(crop_config.context_mm / crop_config.spacing_mm))
    crop_size = tuple(n + 2 * context for n in crop_config.crop_size)
    entries, failures = {}, []
    for entry in tqdm(series, desc="prepare"):
        try:
            hu, geometry, nodules = entry.read()
        except (ImageReadError, AnnotationError) as error:
            tqdm.write(f"{entry.case_id}: {error}", file=sys.stderr)
            failures.append(entry.case_id)
            continue
        volume = detector_volume(hu, geometry, config)
        if not volume.lungs_found:
            tqdm.write(f"{entry.case_id}: {entry.folder}: no lungs found; the whole scan is used", file=sys.stderr)
        boxes = nodule_boxes(volume, np.array([n.centre_mm for n in nodules]).reshape(-1, 3),
                             np.array([n.diameter_mm for n in nodules]))
        grids = [crop_geometry(n.centre_mm, crop_size, crop_config.spacing_mm) for n in nodules]
        crops = np.array([ct_crop(hu, geometry, g) for g in grids]).reshape(-1, *crop_size)
        masks = np.array([mask_crop(n.consensus, geometry, g) for n, g in zip(nodules, grids)]).reshape(-1, *crop_size)
        write_scan(FLAGS.cache_folder, entry.case_id, volume, boxes, [n.malignancy for n in nodules],
                   [len(n.readings) for n in nodules], crops, masks)
        entries[entry.case_id] = {"patient": entry.patient_id, "nodules": len(nodules),
                                  "shape": list(volume.image.shape), "folder": entry.folder}
    cv_folder = FLAGS.cv_folder or os.path.join(FLAGS.dataset_folder, "setup", "cv")
    write_index(FLAGS.cache_folder, entries, cv_folder)
    write_folds(sorted({entry.patient_id for entry in series}), cv_folder, FLAGS.num_folds, FLAGS.seed)
    print(f"cached {len(entries)} series with {sum(e['nodules'] for e in entries.values())} nodules in "
          f"{FLAGS.cache_folder}; folds (patients) in {cv_folder}")
    if failures:
        sys.exit(f"{len(failures)} series failed: {', '.join(failures)}")


if __name__ == "__main__":
    app.run(main)
