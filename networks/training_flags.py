"""absl flags shared by the volumetric training scripts (each script adds its model's own flags)."""
from __future__ import annotations

import os

from absl import flags

from networks.distribution import DISTRIBUTIONS, make_strategy
from networks.train_loop import TrainingSettings

FLAGS = flags.FLAGS


def define_training_flags(defaults, batch_size: int) -> None:
    """Defines the data, schedule and shared model flags, with `defaults` (a config dataclass having
    learning_rate, dropout, spacing_mm, valid_sizes, window_hu, ema_decay, max_iter and test_iter) as default
    values."""
    flags.DEFINE_string("base_dataset_folder", None, "FLARE21-layout data set folder.")
    flags.DEFINE_string("base_output_folder", None, "Training output: checkpoints, TensorBoard logs, CSVs.")
    flags.DEFINE_integer("cv", 0, "Cross-validation fold: 0 trains on all data, 1..4 hold out that fold.")
    flags.DEFINE_string("cv_folder", None, "Fold files folder (default: <base_dataset_folder>/setup/cv).")
    flags.DEFINE_integer("max_iter", defaults.max_iter, "Training iterations.")
    flags.DEFINE_integer("test_iter", defaults.test_iter, "Validate and checkpoint every this many iterations.")
    flags.DEFINE_integer("log_iter", 10, "Log training losses (TensorBoard, train.csv) every this many iterations.")
    flags.DEFINE_float("learning_rate", defaults.learning_rate, "Adam learning rate.")
    flags.DEFINE_integer("batch_size", batch_size, "Patches per global batch (split across replicas).")
    flags.DEFINE_bool("mixed_precision", False,
                      "Mixed precision training: float16 on GPU, bfloat16 on CPU (exports are always float32).")
    flags.DEFINE_string("cache", None, "Cache loaded cases: '' in memory, a folder on disk (.npz); unset: none.")
    flags.DEFINE_integer("seed", 0, "Seed of shuffling, augmentation and weight initialisation.")
    flags.DEFINE_float("dropout", defaults.dropout, "Dropout ratio.")
    flags.DEFINE_float("spacing", defaults.spacing_mm, "Isotropic input spacing in mm.")
    flags.DEFINE_string("valid_sizes", format_valid_sizes(defaults.valid_sizes),
                        "Network input sizes in voxels per axis, z/y/x, e.g. 32,64,96/32,64/32,64,96.")
    flags.DEFINE_list("window_hu", [str(v) for v in defaults.window_hu], "Intensity window low,high in HU.")
    flags.DEFINE_float("ema_decay", defaults.ema_decay, "Decay of the weight moving average that is exported.")
    flags.mark_flags_as_required(["base_dataset_folder", "base_output_folder"])
    define_distribution_flags()


def format_valid_sizes(valid_sizes: tuple[tuple[int, ...], ...]) -> str:
    """'z sizes/y sizes/x sizes', each comma-separated."""
    return "/".join(",".join(str(n) for n in sizes) for sizes in valid_sizes)


def parse_valid_sizes(text: str) -> tuple[tuple[int, ...], ...]:
    """The inverse of `format_valid_sizes`; each axis sorted ascending."""
    axes = text.split("/")
    if len(axes) != 3 or not all(axes):
        raise ValueError(f"--valid_sizes needs three '/'-separated lists (z/y/x), got {text!r}")
    return tuple(tuple(sorted(int(n) for n in axis.split(","))) for axis in axes)


def define_run_flags() -> None:
    """Defines --mixed_precision, --seed and --ema_decay of the epoch-based training scripts (interactive, nodules),
    whose originals export the trained weights."""
    flags.DEFINE_bool("mixed_precision", False, "float16 on GPU, bfloat16 on CPU (exports are always float32).")
    flags.DEFINE_integer("seed", 0, "Seed of crops, augmentation, clicks and weight initialisation.")
    flags.DEFINE_float("ema_decay", 0.0, "Addition: export a moving average of the weights (0: the trained weights).")


def define_strides_flag(default: tuple[tuple[int, int, int], ...]) -> None:
    """Defines --strides: a DynUNet's stride per level as z x y x x."""
    flags.DEFINE_list("strides", ["x".join(map(str, s)) for s in default],
                      "Stride (z x y x x) per DynUNet level, e.g. 1x1x1,2x2x2,1x2x2.")


def parsed_strides() -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(int(v) for v in s.split("x")) for s in FLAGS.strides)


def start_run(config, output_folder: str):
    """The tf.distribute strategy of the flags; its chief writes `config` to <output_folder>/config.json."""
    distribution = strategy()
    write_run_config(config, output_folder, distribution)
    return distribution


def write_run_config(config, output_folder: str, distribution) -> None:
    """The chief of `distribution` writes `config` to <output_folder>/config.json (for a run whose config is final
    only once its strategy exists, e.g. one that takes fields from a model set: loading it starts TensorFlow)."""
    from networks.config_io import write_config
    from networks.distribution import is_chief

    if is_chief(distribution):
        os.makedirs(output_folder, exist_ok=True)
        write_config(config, os.path.join(output_folder, "config.json"))


def print_final(metrics: dict) -> None:
    print("final validation: " + (", ".join(f"{k} {v:.4f}" for k, v in metrics.items()) or "none"))


def define_distribution_flags() -> None:
    """Defines --distribution and --devices (every training script)."""
    flags.DEFINE_enum("distribution", "default", list(DISTRIBUTIONS),
                      "default: one device; mirrored: MirroredStrategy over the local GPUs (or --devices); "
                      "multi_worker: MultiWorkerMirroredStrategy over the TF_CONFIG cluster.")
    flags.DEFINE_list("devices", None, "Devices for --distribution mirrored (default: all local GPUs).")


def strategy():
    """The tf.distribute strategy the flags ask for."""
    return make_strategy(FLAGS.distribution, FLAGS.devices)


def shared_config_values() -> dict:
    """The config fields set by the shared flags."""
    return {"dropout": FLAGS.dropout, "spacing_mm": FLAGS.spacing,
            "valid_sizes": parse_valid_sizes(FLAGS.valid_sizes),
            "window_hu": tuple(float(v) for v in FLAGS.window_hu), "learning_rate": FLAGS.learning_rate,
            "ema_decay": FLAGS.ema_decay, "max_iter": FLAGS.max_iter, "test_iter": FLAGS.test_iter}


def training_settings(config) -> TrainingSettings:
    """The trainer settings of a run of `config` (schedule from the config, logging and batch from the flags)."""
    return TrainingSettings(FLAGS.base_output_folder, config.max_iter, config.test_iter, config.learning_rate,
                            config.ema_decay, FLAGS.log_iter, FLAGS.batch_size, config.loss_scale)


def cv_folder() -> str:
    return FLAGS.cv_folder or os.path.join(FLAGS.base_dataset_folder, "setup", "cv")
