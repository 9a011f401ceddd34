"""Segments a cohort on Apache Beam: the entrypoint's cases, model choice and stages, run by a Beam runner.

Usage: python -m inference.beam --input_pattern PATTERN --output_path OUT [--model SET] [the entrypoint's options]
       [Beam options: --runner DirectRunner --direct_num_workers 2 --direct_running_mode multi_processing, ...]
PATTERN and OUT are local paths or object-store URLs the installed Beam extras read (gs://, s3://, ...). Each case
is one element; a worker loads its model sets once; outputs are the entrypoint's, renamed into place; a failed case
goes to OUT/dead_letter.csv with its one-line reason; OUT/summary.csv lists every case. A rerun skips cases whose
output exists (unless --overwrite). Exit 0 all ok, 1 a case failed, 2 nothing could start.
Docs: docs/cohorts.md
"""
from __future__ import annotations

import preprocessing.quiet_startup  # noqa: F401 - first: hides TensorFlow's C++ start-up lines

import logging
import sys

from absl import app, flags

from inference import run_flags
from inference.beam.cohort import run_cohort
from inference.run_flags import DIMENSIONALITY, define_run_flags, run_options, side_input_folders
from inference.runtime import RunRequest

flags.DEFINE_string("input_pattern", None, "Cases: a glob of files (DICOM files of a folder form a series) or a "
                    "local folder, as the entrypoint's --input_path.")
flags.DEFINE_string("output_path", None, "Output folder or object-store prefix.")
define_run_flags()
flags.adopt_module_key_flags(run_flags)
flags.mark_flags_as_required(["input_pattern", "output_path"])
FLAGS = flags.FLAGS


def main(argv: list[str]) -> int:
    logging.getLogger().setLevel(logging.WARNING)
    beam_args = argv[1:]
    if not any(a.startswith("--default_sdk_harness_log_level") for a in beam_args):
        beam_args.append("--default_sdk_harness_log_level=WARNING")
    request = RunRequest(FLAGS.input_pattern, FLAGS.output_path, FLAGS.saved_models_folder, FLAGS.model,
                         DIMENSIONALITY[FLAGS.pipeline], side_input_folders(), run_options(), FLAGS.overwrite)
    return run_cohort(request, beam_args)


def parse_known(argv: list[str]) -> list[str]:
    """Parses this module's flags and leaves the rest (Beam's pipeline options) in the returned argv."""
    try:
        return FLAGS(argv, known_only=True)
    except flags.Error as error:
        print(f"FATAL Flags parsing error: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    app.run(main, flags_parser=parse_known)
