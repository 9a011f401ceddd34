"""Chest X-ray lung segmentation with a CFCM model set: the member's `segment` signature normalises, resizes, runs
the network and resizes back inside the graph; each mask gets a quality estimate (`cfcm.quality.confidence`)
and a plausibility note."""
from __future__ import annotations

import time

import numpy as np
import tensorflow as tf

from cfcm.quality import confidence, plausibility_note
from inference.inputs import CaseImages
from inference.pipeline import Pipeline
from inference.results import Findings


class CFCMPipeline(Pipeline):
    """Member: `segmentation` (the CFCM SavedModel). Writes PNG masks at the image's own size and `<case>.json`
    with the mask's quality estimate and lung areas."""

    output_suffix = ".png"

    def predict(self, images: CaseImages, side_inputs: dict[str, str]) -> Findings:
        """Labels (uint8, the image's own size) of a 2D image [y, x], its quality estimate (`figures['quality']`,
        also in the findings) and a note when the mask is implausible."""
        del side_inputs
        image = images.channels[0]
        start = time.perf_counter()
        outputs = self.members["segmentation"].signatures["segment"](image=tf.constant(image, tf.float32))
        labels = outputs["labels"].numpy()
        segmented = time.perf_counter()
        quality = confidence(outputs["probabilities"].numpy(), labels, self.metadata["segmentation"]["head"])
        timings = {"segment": segmented - start, "quality": time.perf_counter() - segmented}
        input_shape = tuple(self.metadata["segmentation"]["input_shape"][:2])
        areas = {f"{name}_area_pixels": int(np.count_nonzero(labels == value))
                 for value, name in self.label_names.items() if value}
        fraction = float(np.count_nonzero(labels)) / labels.size
        note = plausibility_note(labels, separate=len(self.label_names) > 2)
        finding = {"quality": quality, "lung_fraction_of_image": fraction, **areas, "note": note}
        return Findings(labels, images.geometry, self.label_names, timings, {"cfcm": input_shape},
                        {"quality": quality, "lung_fraction": fraction}, note, (finding,))
