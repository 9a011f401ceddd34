"""Chest X-ray lung segmentation with a CFCM model set: the member's `segment` signature normalises, resizes, runs
the network and resizes back inside the graph; each mask gets a quality estimate and plausibility note
(`cfcm.quality`)."""
from __future__ import annotations

import time

import numpy as np
import tensorflow as tf

from cfcm.quality import agreement, plausibility_note
from inference.inputs import CaseImages
from inference.pipeline import Pipeline
from inference.results import Findings


class CFCMPipeline(Pipeline):
    """Member: `segmentation` (the CFCM SavedModel). Writes PNG masks at the image's own size and `<case>.json`
    with the mask's quality estimate and lung areas."""

    output_suffix = ".png"

    def segment(self, image: np.ndarray) -> np.ndarray:
        """uint8 labels [y, x] of a 2D image [y, x] in the network's grey-value convention."""
        signature = self.members["segmentation"].signatures["segment"]
        return signature(image=tf.constant(image, tf.float32))["labels"].numpy()

    def predict(self, images: CaseImages, side_inputs: dict[str, str]) -> Findings:
        """Labels (uint8, the image's own size) of a 2D image [y, x], its quality estimate (`figures['quality']`,
        also in the findings) and a note when the mask is implausible."""
        del side_inputs
        image = images.channels[0]
        start = time.perf_counter()
        labels = self.segment(image)
        segmented = time.perf_counter()
        quality = agreement(self.segment, image, labels)
        timings = {"segment": segmented - start, "quality": time.perf_counter() - segmented}
        input_shape = tuple(self.metadata["segmentation"]["input_shape"][:2])
        pixel_mm2 = float(np.prod(images.geometry.spacing))
        areas = {f"{name}_area_mm2": float(np.count_nonzero(labels == value)) * pixel_mm2
                 for value, name in self.label_names.items() if value}
        fraction = float(np.count_nonzero(labels)) / labels.size
        note = plausibility_note(labels, separate=len(self.label_names) > 2)
        finding = {"quality": quality, "lung_fraction_of_image": fraction, **areas, "note": note}
        return Findings(labels, images.geometry, self.label_names, timings, {"cfcm": input_shape},
                        {"quality": quality, "lung_fraction": fraction}, note, (finding,))
