"""Click-guided PET lesion segmentation with an interactive model set, through the single entrypoint.

Per case (channel files beyond the set's channels, e.g. AutoPET's CT `_0001` for a PET-only set, are left aside):
the channels onto the network grid (canonical orientation, the set's spacing and intensity scaling), the
clicks of `<clicks_path>/<case>.json` (`{"foreground": [[x, y, z], ...], "background": [[x, y, z], ...]}`, world
points in mm of the image; no file = no clicks) made into guidance by the member's `guidance` signature, the
sliding window over the whole volume (`serving_default`, Gaussian blending), argmax, and the labels back onto the
input's grid (nearest neighbour).
"""
from __future__ import annotations

import dataclasses
import json
import time

import numpy as np
import tensorflow as tf

from inference.inputs import CaseImages, CaseInput
from inference.pipeline import Pipeline
from inference.results import LabelMap
from inference.sliding_window import sliding_window_inference
from interactive.model_set import trained_config
from interactive.preprocess import network_input
from interactive.session import Session
from interactive.window_logits import window_logits
from preprocessing.geometry import resample
from preprocessing.points import point_array
from preprocessing.image_geometry import ImageGeometry
from serving.loading import ModelError

CLICK_KINDS = ("foreground", "background")


class ClickFileError(ValueError):
    """A clicks file that cannot be used; the message names the file and the problem."""


def read_clicks(path: str | None) -> dict[str, np.ndarray]:
    """{'foreground', 'background'}: world points [n, 3] (x, y, z) in mm from a clicks JSON file (None: no
    clicks)."""
    clicks = {kind: np.zeros((0, 3), np.float64) for kind in CLICK_KINDS}
    if path is None:
        return clicks
    try:
        with open(path, encoding="utf-8") as handle:
            content = json.load(handle)
    except (OSError, ValueError) as error:
        raise ClickFileError(f"{path}: cannot be read as JSON ({error})") from error
    if not isinstance(content, dict) or set(content) - set(CLICK_KINDS):
        raise ClickFileError(f"{path}: expected an object with 'foreground' and/or 'background' lists of [x, y, z] "
                             "points in mm")
    for kind in CLICK_KINDS:
        points = point_array(content.get(kind, []))
        if points is None:
            raise ClickFileError(f"{path}: '{kind}' must be a list of [x, y, z] points in mm (finite numbers)")
        clicks[kind] = points
    return clicks


class InteractivePipeline(Pipeline):
    """Member: `segmentation` (the click-guided DynUNet). Side input: `clicks`."""

    def __init__(self, model_set, options):
        super().__init__(model_set, options)
        try:
            self.config = trained_config(self.metadata["segmentation"], model_set.folder)
        except ValueError as error:
            raise ModelError(str(error)) from error
        self.default_overlap = self.config.overlap  # the set's own: SW-FastEdit validates with 0.25
        member = self.members["segmentation"]
        self.logits = window_logits(member.signatures["serving_default"])
        self.guidance = member.signatures["guidance"]

    def read(self, case: CaseInput) -> CaseImages:
        """The case's channels the set uses: a PET-only set reads `_0000` and leaves an AutoPET CT (`_0001`) aside."""
        used = len(self.model_set.manifest["input_channels"])
        return super().read(dataclasses.replace(case, channels=case.channels[:used]))

    def guidance_channels(self, clicks: dict[str, np.ndarray], grid: ImageGeometry, path: str | None) -> np.ndarray:
        """[z, y, x, 2] guidance of the clicks on the network grid; a click outside the image is an error."""
        outputs = self.guidance(lesion_mm=tf.constant(clicks["foreground"], tf.float32),
                                background_mm=tf.constant(clicks["background"], tf.float32),
                                shape=tf.constant(grid.shape, tf.int32), origin=tf.constant(grid.origin, tf.float64),
                                spacing=tf.constant(grid.spacing, tf.float64),
                                direction=tf.constant(grid.direction, tf.float64))
        for kind, key in (("foreground", "lesion_inside"), ("background", "background_inside")):
            outside = np.flatnonzero(~outputs[key].numpy())
            if outside.size:
                point = ", ".join(f"{v:g}" for v in clicks[kind][outside[0]])
                raise ClickFileError(f"{path}: {kind} click {outside[0] + 1} at ({point}) mm lies outside the image")
        return outputs["guidance"].numpy()

    def session(self, images: CaseImages) -> Session:
        """A click session on one case's channels (what a server keeps per image: only the windows a click changes
        run again)."""
        return Session(self.members["segmentation"], list(images.channels), images.geometry, self.overlap,
                       self.options.batch_size, self.config)

    def predict(self, images: CaseImages, side_inputs: dict[str, str]) -> LabelMap:
        """Lesion labels (uint8) on the input's grid, with the clicks of the case's side input."""
        start = time.perf_counter()
        path = side_inputs.get("clicks")
        clicks = read_clicks(path)
        image, grid = network_input(list(images.channels), images.geometry, self.config)
        volume = np.concatenate([image, self.guidance_channels(clicks, grid, path)], axis=-1)
        prepared = time.perf_counter()
        logits = sliding_window_inference(volume, self.config.roi_size, self.logits, 2, overlap=self.overlap,
                                          batch_size=self.options.batch_size)
        segmented = time.perf_counter()
        labels = resample(np.argmax(logits, axis=-1).astype(np.uint8), grid, images.geometry, "nearest")
        voxel_ml = float(np.prod(images.geometry.spacing)) / 1000.0
        timings = {"preprocess": prepared - start, "segment": segmented - prepared,
                   "postprocess": time.perf_counter() - segmented}
        figures = {"clicks": float(sum(len(v) for v in clicks.values())), "lesion_ml": float(labels.sum() * voxel_ml)}
        return LabelMap(labels, images.geometry, self.label_names, timings, {"network": tuple(volume.shape)},
                        figures)
