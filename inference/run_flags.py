"""The absl flags of a run shared by `python -m inference` and `python -m inference.beam`: model choice, side
inputs and the pipelines' options. Each main calls `define_run_flags()` and adopts them as its key flags."""
from __future__ import annotations

from absl import flags

from inference.pipeline import RunOptions

FLAGS = flags.FLAGS
DIMENSIONALITY = {"auto": None, "ct": 3, "xray": 2}


def define_run_flags() -> None:
    """Defines --saved_models_folder, --model, --pipeline, --clicks_path, --batch_size, --overlap, --keep_spacing,
    --max_extent_mm, --overwrite and --dicom_seg."""
    flags.DEFINE_string("saved_models_folder", "saved_models",
                        "Folder of model sets (saved_models/<set>/manifest.json).")
    flags.DEFINE_string("model", None, "Model set to run (see --list_models); default: chosen per input.")
    flags.DEFINE_enum("pipeline", "auto", list(DIMENSIONALITY),
                      "Restricts the automatic choice to 3D (ct) or 2D (xray) model sets; --model names one set.")
    flags.DEFINE_string("clicks_path", None, "Folder of <case>.json click files (interactive model sets).")
    flags.DEFINE_integer("batch_size", 1, "Sliding windows per network call.")
    flags.DEFINE_float("overlap", None, "Sliding-window overlap in [0, 1); default: the model set's own (0.25 for "
                       "the interactive set, as SW-FastEdit; 0.5 for the others).")
    flags.DEFINE_bool("keep_spacing", False, "Addition: never enlarge a network's spacing to fit a large region; "
                      "slide a window over it instead (the original enlarges the spacing).")
    flags.DEFINE_float("max_extent_mm", 2000.0, "Refuse volumes longer than this along an axis (mm): implausible "
                       "for a scan, usually a wrong spacing in the header.")
    flags.DEFINE_bool("overwrite", False, "Recompute cases whose output exists.")
    flags.DEFINE_bool("dicom_seg", False, "Also write OUT/<case>.seg.dcm, a DICOM Segmentation object referencing "
                      "the input series (3D cases read from a DICOM series folder) or radiograph (a 2D .dcm file).")


def run_options() -> RunOptions:
    """The pipelines' options of the parsed flags."""
    return RunOptions(FLAGS.batch_size, FLAGS.overlap, FLAGS.keep_spacing, FLAGS.max_extent_mm, FLAGS.dicom_seg)


def side_input_folders() -> dict[str, str]:
    """{side input name: folder} of the parsed flags."""
    return {"clicks": FLAGS.clicks_path} if FLAGS.clicks_path else {}
