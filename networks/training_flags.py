"""absl flags shared by the training scripts (each script defines its model's own flags beside these)."""
from __future__ import annotations

from absl import flags


def define_training_flags(learning_rate: float, max_iter: int, test_iter: int, batch_size: int) -> None:
    """Defines --base_dataset_folder, --base_output_folder, --cv, --max_iter, --test_iter, --learning_rate,
    --log_iter, --batch_size, --mixed_precision, --cache, --seed with the model's defaults."""
    flags.DEFINE_string("base_dataset_folder", None, "FLARE21-layout data set folder.")
    flags.DEFINE_string("base_output_folder", None, "Training output: checkpoints, TensorBoard logs, CSVs.")
    flags.DEFINE_integer("cv", 0, "Cross-validation fold: 0 trains on all data, 1..4 hold out that fold.")
    flags.DEFINE_string("cv_folder", None, "Fold files folder (default: <base_dataset_folder>/setup/cv).")
    flags.DEFINE_integer("max_iter", max_iter, "Training iterations.")
    flags.DEFINE_integer("test_iter", test_iter, "Validate and checkpoint every this many iterations.")
    flags.DEFINE_integer("log_iter", 10, "Log training losses (TensorBoard, train.csv) every this many iterations.")
    flags.DEFINE_float("learning_rate", learning_rate, "Adam learning rate.")
    flags.DEFINE_integer("batch_size", batch_size, "Patches per batch.")
    flags.DEFINE_bool("mixed_precision", False, "Train with mixed_float16 (exported models are always float32).")
    flags.DEFINE_string("cache", None, "Cache preprocessed cases: '' in memory, a file path on disk; unset: none.")
    flags.DEFINE_integer("seed", 0, "Seed of shuffling, augmentation and weight initialisation.")
    flags.mark_flags_as_required(["base_dataset_folder", "base_output_folder"])
