"""Organ segmentation with an RSTN model set (one member, `rstn`): its `segment` signature runs the coarse stage on
the three planes, their mean thresholded (round 0), then the fine rounds until the inter-round DSC reaches the
threshold, all in the graph (`rstn.rounds_graph`); the last round's mask is the result. A set of the older layout
(one member per plane) is refused before any case, in one line (`rstn.model_set.check_layout`)."""
from __future__ import annotations

import time

import numpy as np
import tensorflow as tf

from inference.inputs import CaseImages
from inference.model_sets import ModelSet
from inference.pipeline import Pipeline, RunOptions
from inference.results import LabelMap
from rstn.model_set import ROLE, check_layout


class RSTNPipeline(Pipeline):
    """Writes a label map (1 = the organ) on the input's grid; the summary reports the fine rounds run, the last
    inter-round DSC, and the voxels of round 0 and of the result."""

    def __init__(self, model_set: ModelSet, options: RunOptions):
        check_layout(model_set.folder, model_set.manifest)
        super().__init__(model_set, options)

    def predict(self, images: CaseImages, side_inputs: dict[str, str]) -> LabelMap:
        del side_inputs
        start = time.perf_counter()
        result = self.members[ROLE].signatures["segment"](
            volume=tf.constant(images.channels[0], tf.float32),
            slice_batch=tf.constant(max(1, self.options.batch_size), tf.int32))
        timings = {"segment": time.perf_counter() - start}
        labels = result["labels"].numpy()
        dscs = result["inter_round_dsc"].numpy()
        figures = {"fine_rounds": float(result["rounds"]), "coarse_voxels": float(np.count_nonzero(
            result["coarse_labels"].numpy())), "voxels": float(np.count_nonzero(labels))}
        if dscs.size:
            figures["inter_dsc"] = float(dscs[-1])
        return LabelMap(labels, images.geometry, self.label_names, timings, {}, figures)
