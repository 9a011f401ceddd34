"""Validation during training: predict whole cases and report mean Dice per label."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from evaluation.metrics import dice
from preprocessing.cases import Case
from preprocessing.pipeline import Loader

PredictLabels = Callable[[np.ndarray], np.ndarray]


def mean_dice(cases: list[Case], loader: Loader, normalize: Callable, predict_labels: PredictLabels,
              label_names: dict[int, str]) -> dict[str, float]:
    """{'dice_<name>': mean Dice over cases, ..., 'dice_mean': mean over labels}.

    `predict_labels` maps a normalised image [z, y, x] (float32) to a label map of the same shape;
    references come from `loader` on the same grid.
    """
    scores: dict[int, list[float]] = {label: [] for label in label_names}
    for case in cases:
        image, reference = loader(case)
        predicted = predict_labels(np.asarray(normalize(image.astype(np.float32))))
        for label in label_names:
            scores[label].append(dice(predicted == label, reference == label))
    metrics = {f"dice_{name}": float(np.mean(scores[label])) for label, name in label_names.items()}
    metrics["dice_mean"] = float(np.mean(list(metrics.values())))
    return metrics


def pad_to_multiple(volume: np.ndarray, multiple: int, pad_value: float) -> np.ndarray:
    """Pads the leading three axes at their ends up to multiples of `multiple` voxels."""
    padding = [(0, -n % multiple) for n in volume.shape[:3]] + [(0, 0)] * (volume.ndim - 3)
    return np.pad(volume, padding, constant_values=pad_value)
