"""The single inference entrypoint.

Usage: python -m inference --input_path IN --output_path OUT [--saved_models_folder saved_models]
       [--pipeline ct] [--batch_size 1] [--overlap 0.5] [--overwrite]

CT (3D) inputs: every NIfTI/MHA/NRRD file and DICOM series folder in IN is segmented into
OUT/<case>.nii.gz (FLARE naming: 'validation_000_0000.nii.gz' -> 'validation_000.nii.gz') with the
input's exact size, spacing, origin and direction. A bad case is reported and skipped; the exit code is
non-zero when any case failed, and the failures are listed at the end. OUT/summary.csv has per-case timings.
"""
from __future__ import annotations

import os
import sys
import time

from absl import app, flags

from inference.batch import list_inputs, run_batch, summary_lines, write_summary_csv
from inference.ct_pipeline import CTSegmenter, ModelError
from preprocessing.image_io import read_image, write_image

flags.DEFINE_string("input_path", None, "Input image file, DICOM series folder, or folder of inputs.")
flags.DEFINE_string("output_path", None, "Output folder.")
flags.DEFINE_string("saved_models_folder", os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                                        "saved_models"), "Folder with the exported SavedModels.")
flags.DEFINE_enum("pipeline", "ct", ["ct"], "Which pipeline to run.")
flags.DEFINE_integer("batch_size", 1, "Sliding windows per network call.")
flags.DEFINE_float("overlap", 0.5, "Sliding-window overlap.")
flags.DEFINE_bool("overwrite", False, "Recompute cases whose output exists.")
flags.mark_flags_as_required(["input_path", "output_path"])
FLAGS = flags.FLAGS


def ct_case(segmenter: CTSegmenter):
    """The per-case function of the CT pipeline: read -> segment -> write (atomic)."""
    def process(input_path: str, output_path: str) -> dict[str, float]:
        start = time.perf_counter()
        volume, geometry = read_image(input_path, ndim=3)
        timings = {"read": time.perf_counter() - start}
        result = segmenter.segment(volume, geometry)
        timings.update(result.timings)
        start = time.perf_counter()
        write_image(result.labels, geometry, output_path)
        timings["write"] = time.perf_counter() - start
        return timings
    return process


def main(argv: list[str]) -> int:
    del argv
    try:
        inputs = list_inputs(FLAGS.input_path)
        segmenter = CTSegmenter.load(FLAGS.saved_models_folder, FLAGS.batch_size, FLAGS.overlap)
    except (FileNotFoundError, ModelError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    results = run_batch(inputs, FLAGS.output_path, ".nii.gz", ct_case(segmenter), FLAGS.overwrite)
    write_summary_csv(results, os.path.join(FLAGS.output_path, "summary.csv"))
    print("\n".join(summary_lines(results)))
    return 1 if any(r.status == "failed" for r in results) else 0


if __name__ == "__main__":
    app.run(main)
