"""The single inference entrypoint.

Usage: python -m inference --input_path IN --output_path OUT [--model SET] [--saved_models_folder saved_models]
       [--clicks_path CLICKS] [--batch_size 1] [--overlap O] [--keep_spacing] [--overwrite] [--dicom_seg]
       [--nopipelined]
       python -m inference --list_models [--saved_models_folder saved_models]
Installed commands: medseg-predict (the same flags), medseg-models (= --list_models).

Each file / DICOM series folder in IN (nnU-Net channel files CASE_0000, CASE_0001, ... together) is a case, run
by the set --model names or else the one installed set (or the default one) that takes its dimensionality.
Outputs: OUT/<case>.<ext> on the input's exact grid, findings as <case>.json, OUT/summary.csv. A bad case is
reported and skipped; exit 1 if any case failed, 2 if nothing could start, 130 when stopped by a signal.
Docs: docs/entrypoint.md
"""
from __future__ import annotations

import preprocessing.quiet_startup  # noqa: F401 - first: hides TensorFlow's C++ start-up lines

import sys

from absl import flags

from inference import run_flags
from inference.console import run_command
from inference.run_flags import DIMENSIONALITY, define_run_flags, run_options, side_input_folders
from inference.runtime import EXIT_SETUP, RunRequest, list_models, run

flags.DEFINE_string("input_path", None, "Input image file, DICOM series folder, or folder of inputs.")
flags.DEFINE_string("output_path", None, "Output folder.")
flags.DEFINE_bool("list_models", False, "Print the installed model sets and exit.")
flags.DEFINE_bool("pipelined", True, "Read the next case and write the previous one in background threads while a "
                  "case runs the networks (up to three cases in memory); --nopipelined runs cases one by one.")
define_run_flags()
flags.adopt_module_key_flags(run_flags)
FLAGS = flags.FLAGS


def main(argv: list[str]) -> int:
    del argv
    if FLAGS.list_models:
        return list_models(FLAGS.saved_models_folder)
    if not FLAGS.input_path or not FLAGS.output_path:
        print("error: --input_path and --output_path are required (or --list_models)", file=sys.stderr)
        return EXIT_SETUP
    request = RunRequest(FLAGS.input_path, FLAGS.output_path, FLAGS.saved_models_folder, FLAGS.model,
                         DIMENSIONALITY[FLAGS.pipeline], side_input_folders(), run_options(), FLAGS.overwrite,
                         FLAGS.pipelined)
    return run(request)


def console() -> None:
    """`medseg-predict`: the entrypoint as an installed command (the same flags)."""
    run_command(main, __name__)


def models_console() -> None:
    """`medseg-models [--saved_models_folder DIR]`: prints the installed model sets (`--list_models`)."""
    run_command(lambda argv: list_models(FLAGS.saved_models_folder), __name__)


if __name__ == "__main__":
    console()
