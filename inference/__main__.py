"""The single inference entrypoint.

Usage: python -m inference --input_path IN --output_path OUT [--saved_models_folder saved_models]
       [--pipeline auto|ct|xray] [--batch_size 1] [--overlap 0.5] [--overwrite]

The pipeline is chosen per input from its header (`--pipeline` forces one): 3D volumes (NIfTI, MHA, NRRD,
DICOM series folders) go through localization + SCN into OUT/<case>.nii.gz (FLARE naming:
'validation_000_0000.nii.gz' -> 'validation_000.nii.gz') with the input's exact size, spacing, origin and
direction; 2D images (PNG, JPEG, single DICOM X-rays, single-slice files) go through CFCM into
OUT/<name>.png at the image's original size (0/255 for one lung label, label values otherwise). A bad
case is reported and skipped; the exit code is 1 when any case failed (failures listed at the end) and 2
when nothing could start. OUT/summary.csv has per-case timings.
"""
from __future__ import annotations

import os
import sys

from absl import app, flags

from inference.batch import list_inputs, run_batch, summary_lines, write_summary_csv
from inference.ct_pipeline import CTSegmenter
from inference.loaded_models import ModelError
from inference.run_case import ct_case, xray_case
from inference.xray_pipeline import XraySegmenter
from preprocessing.image_io import ImageReadError, image_dimension

flags.DEFINE_string("input_path", None, "Input image file, DICOM series folder, or folder of inputs.")
flags.DEFINE_string("output_path", None, "Output folder.")
flags.DEFINE_string("saved_models_folder", "saved_models", "Folder with the exported SavedModels.")
flags.DEFINE_enum("pipeline", "auto", ["auto", "ct", "xray"], "Pipeline: chosen per input (auto) or forced.")
flags.DEFINE_integer("batch_size", 1, "Sliding windows per network call (CT).")
flags.DEFINE_float("overlap", 0.5, "Sliding-window overlap (CT).")
flags.DEFINE_bool("overwrite", False, "Recompute cases whose output exists.")
flags.mark_flags_as_required(["input_path", "output_path"])
FLAGS = flags.FLAGS

SUFFIXES = {"ct": ".nii.gz", "xray": ".png"}


def pipeline_of(path: str, forced: str) -> str:
    """'ct' or 'xray' for an input; unreadable headers go to the CT reader, which reports them."""
    if forced != "auto":
        return forced
    try:
        return "xray" if image_dimension(path) == 2 else "ct"
    except ImageReadError:
        return "ct"


def main(argv: list[str]) -> int:
    del argv
    try:
        inputs = list_inputs(FLAGS.input_path)
        kinds = {path: pipeline_of(path, FLAGS.pipeline) for path in inputs}
        segmenters = {}
        if "ct" in kinds.values():
            segmenters["ct"] = CTSegmenter.load(FLAGS.saved_models_folder, FLAGS.batch_size, FLAGS.overlap)
        if "xray" in kinds.values():
            segmenters["xray"] = XraySegmenter.load(FLAGS.saved_models_folder)
    except (FileNotFoundError, ModelError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    cases = {"ct": ct_case, "xray": xray_case}

    def process(input_path: str, output_path: str) -> dict[str, float]:
        kind = kinds[input_path]
        return cases[kind](segmenters[kind], input_path, output_path).timings

    results = run_batch(inputs, FLAGS.output_path, lambda path: SUFFIXES[kinds[path]], process, FLAGS.overwrite)
    write_summary_csv(results, os.path.join(FLAGS.output_path, "summary.csv"))
    print("\n".join(summary_lines(results)))
    return 1 if any(r.status == "failed" for r in results) else 0


if __name__ == "__main__":
    app.run(main)
