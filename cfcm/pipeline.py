"""Chest X-ray lung segmentation with a CFCM model set: the member's `segment` signature normalises,
letterboxes, runs the network and resizes back inside the graph."""
from __future__ import annotations

import time

import tensorflow as tf

from inference.inputs import CaseImages
from inference.pipeline import Pipeline
from inference.results import LabelMap


class CFCMPipeline(Pipeline):
    """Member: `segmentation` (the CFCM SavedModel). Writes PNG masks at the image's own size."""

    output_suffix = ".png"

    def predict(self, images: CaseImages, side_inputs: dict[str, str]) -> LabelMap:
        """Labels (uint8, the image's own size) of a 2D image [y, x] of raw pixel values."""
        del side_inputs
        start = time.perf_counter()
        segment = self.members["segmentation"].signatures["segment"]
        labels = segment(image=tf.constant(images.channels[0], tf.float32))["labels"].numpy()
        timings = {"segment": time.perf_counter() - start}
        input_shape = tuple(self.metadata["segmentation"]["input_shape"][:2])
        return LabelMap(labels, images.geometry, self.label_names, timings, {"cfcm": input_shape})
