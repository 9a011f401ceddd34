"""Organ segmentation with an RSTN model set (members plane_X, plane_Y, plane_Z): the coarse stage on the three
planes, their mean thresholded (round 0), then fine rounds until the inter-round DSC reaches the threshold
(`rstn.fusion.coarse_to_fine`); the last round's mask is the result."""
from __future__ import annotations

import time

import numpy as np
import tensorflow as tf

from inference.inputs import CaseImages
from inference.pipeline import Pipeline
from inference.results import LabelMap
from rstn.fusion import coarse_to_fine, mean_of_planes


class RSTNPipeline(Pipeline):
    """Writes a label map (1 = the organ) on the input's grid; the summary reports the fine rounds run and the
    round chosen by the stopping rule."""

    def predict(self, images: CaseImages, side_inputs: dict[str, str]) -> LabelMap:
        del side_inputs
        metadata = next(iter(self.metadata.values()))
        volume = tf.constant(images.channels[0], tf.float32)
        batch = tf.constant(max(1, self.options.batch_size), tf.int32)
        timings = {}
        start = time.perf_counter()
        coarse = [member.signatures["coarse"](volume=volume, slice_batch=batch)["probabilities"].numpy()
                  for member in self.members.values()]
        timings["coarse"] = time.perf_counter() - start

        def fine(score: np.ndarray, mask: np.ndarray) -> np.ndarray:
            planes = [member.signatures["fine"](volume=volume, score=tf.constant(score), mask=tf.constant(mask),
                                                slice_batch=batch)["probabilities"].numpy()
                      for member in self.members.values()]
            return mean_of_planes(planes)

        start = time.perf_counter()
        rounds = coarse_to_fine(mean_of_planes(coarse), fine, metadata["fine_threshold"],
                                metadata["postprocess_threshold"], metadata["max_rounds"], metadata["stop_dsc"])
        timings["fine"] = time.perf_counter() - start
        figures = {"fine_rounds": float(len(rounds.masks) - 1), "stop_round": float(rounds.stop_round)}
        if rounds.inter_dsc:
            figures["inter_dsc"] = rounds.inter_dsc[-1]
        return LabelMap(rounds.final.astype(np.uint8), images.geometry, self.label_names, timings, {}, figures)
