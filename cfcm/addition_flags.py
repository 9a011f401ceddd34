"""absl flags of cfcm.train's additions to the original (--helpfull lists them; docs/cfcm.md explains each)."""
from __future__ import annotations

from absl import flags

from cfcm.config import CFCMConfig
from cfcm.training import CFCMTraining


def define_addition_flags() -> None:
    """Defines --head, --resize, --normalization, --augment, --ema_decay and --clip_gradients with the original's
    behaviour as their defaults."""
    defaults, run = CFCMConfig(), CFCMTraining("")
    flags.DEFINE_enum("head", defaults.head, ["sigmoid", "softmax"], "Output head (softmax: an addition).")
    flags.DEFINE_enum("resize", defaults.resize, ["square", "letterbox"],
                      "Input resize rule (letterbox: an addition).")
    flags.DEFINE_enum("normalization", defaults.normalization, ["raw", "percentile"],
                      "Grey values as read, or percentiles 1..99 to [0, 1] (an addition).")
    flags.DEFINE_bool("augment", False, "Addition: spatial and intensity augmentation (the original has none).")
    flags.DEFINE_float("ema_decay", run.ema_decay, "Addition: export a moving average of the weights.")
    flags.DEFINE_bool("clip_gradients", run.clip_gradients,
                      "Addition: clip gradient norms at 5x their running average.")
