"""Chest X-ray segmentation with the exported CFCM SavedModel (preprocessing and resizing run in its graph)."""
from __future__ import annotations

import dataclasses
import os
import time

import numpy as np
import tensorflow as tf

from inference.loaded_models import SegmentationResult, load_saved_model
from inference.export_base import read_metadata


@dataclasses.dataclass
class XraySegmenter:
    """Runs CFCM's `segment` signature on a 2D image; load with `XraySegmenter.load(saved_models_folder)`."""

    model: object

    def __post_init__(self) -> None:
        self.metadata = read_metadata(self.model)
        self.labels = {int(k): v for k, v in self.metadata["labels"].items()}

    @classmethod
    def load(cls, saved_models_folder: str) -> "XraySegmenter":
        return cls(load_saved_model(os.path.join(saved_models_folder, "cfcm"), "cfcm"))

    def segment(self, image: np.ndarray) -> SegmentationResult:
        """Labels (uint8, the image's own size) of a 2D image [y, x] of raw pixel values."""
        start = time.perf_counter()
        labels = self.model.signatures["segment"](image=tf.constant(image, tf.float32))["labels"].numpy()
        timings = {"segment": time.perf_counter() - start}
        return SegmentationResult(labels, timings, {"cfcm": tuple(self.metadata["input_shape"][:2])})

    def mask_values(self, labels: np.ndarray) -> np.ndarray:
        """Output mask: 0/255 for a single foreground label, else the label values (uint8)."""
        return (labels > 0).astype(np.uint8) * 255 if len(self.labels) == 2 else labels.astype(np.uint8)
