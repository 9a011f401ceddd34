"""Loading exported SavedModels with a check of their kind, and the result type shared by the pipelines."""
from __future__ import annotations

import dataclasses
import os

import numpy as np
import tensorflow as tf

from inference.export_base import read_metadata


class ModelError(RuntimeError):
    """A SavedModel is missing or is not the kind of model expected; the message names the folder."""


def load_saved_model(folder: str, kind: str | None):
    """Loads a SavedModel and checks its metadata's model kind (None: a module without metadata)."""
    if not os.path.isfile(os.path.join(folder, "saved_model.pb")):
        raise ModelError(f"{folder}: SavedModel not found (export it or run 'make demo-models')")
    model = tf.saved_model.load(folder)
    if kind is not None:
        found = read_metadata(model).get("model_kind")
        if found != kind:
            raise ModelError(f"{folder}: SavedModel is a '{found}' model, expected '{kind}'")
    return model


@dataclasses.dataclass(frozen=True)
class SegmentationResult:
    """Labels on the input grid, seconds per stage, and the network input shapes (z, y, x) that were run."""

    labels: np.ndarray
    timings: dict[str, float]
    network_inputs: dict[str, tuple[int, ...]]
