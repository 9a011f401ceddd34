"""The FLARE21 CT pipeline with a model set's SavedModels: localization -> organ box -> SCN (sliding window
when the box exceeds the patch) -> probabilities back onto the original grid -> largest connected
components per organ."""
from __future__ import annotations

import time

import numpy as np
import tensorflow as tf

from inference.inputs import CaseImages
from inference.pipeline import Pipeline
from inference.postprocess import keep_largest_components
from inference.results import LabelMap
from inference.sliding_window import sliding_window_inference
from preprocessing.intensity import AIR_HU, windowed_value


class EfficientSCNPipeline(Pipeline):
    """Members: `localization`, `segmentation` (network SavedModels) and `geometry` (traced tf_utils)."""

    output_suffix = ".nii.gz"

    def _network_input(self, volume: tf.Tensor, spacing: tf.Tensor, box: dict, role: str) -> dict:
        metadata = self.metadata[role]
        return self.members["geometry"].signatures["network_input"](
            volume=volume, spacing=spacing, start_mm=box["start_mm"], end_mm=box["end_mm"],
            target_spacing=tf.constant(metadata["spacing_mm"][0], tf.float32),
            window_hu=tf.constant(metadata["normalization"]["window_hu"], tf.float32),
            size_multiple=tf.constant(metadata["size_multiple"], tf.int32))

    def _segment_region(self, image: np.ndarray) -> np.ndarray:
        serve = self.members["segmentation"].signatures["serving_default"]

        def predict(batch: np.ndarray) -> np.ndarray:
            return serve(image=tf.constant(batch))["probabilities"].numpy()

        metadata = self.metadata["segmentation"]
        patch = tuple(metadata["patch_shape"])
        if all(n <= p for n, p in zip(image.shape[:3], patch)):
            return predict(image[None])[0]
        air = windowed_value(AIR_HU, metadata["normalization"]["window_hu"])
        return sliding_window_inference(image, patch, predict, len(self.label_names), self.options.overlap,
                                        self.options.batch_size, pad_value=air)

    def predict(self, images: CaseImages, side_inputs: dict[str, str]) -> LabelMap:
        """Labels (uint8) of a CT volume [z, y, x] in HU on the volume's own grid."""
        del side_inputs
        geometry_fns = self.members["geometry"].signatures
        volume, geometry = images.channels[0], images.geometry
        timings = {}
        start = time.perf_counter()
        tensor = tf.constant(volume, tf.float32)
        spacing = tf.constant(geometry.array_spacing, tf.float32)
        shape = tf.constant(volume.shape, tf.int32)
        whole = geometry_fns["whole_volume_box"](volume_shape=shape, spacing=spacing)
        localization_input = self._network_input(tensor, spacing, whole, "localization")
        timings["preprocess"] = time.perf_counter() - start

        start = time.perf_counter()
        localization = self.metadata["localization"]
        serve = self.members["localization"].signatures["serving_default"]
        probabilities = serve(image=localization_input["image"])["probabilities"]
        box = geometry_fns["bounding_box"](
            probabilities=probabilities, coarse_spacing=tf.constant(localization["spacing_mm"], tf.float32),
            margin_mm=tf.constant(localization["bbox_margin_mm"], tf.float32), volume_shape=shape, spacing=spacing)
        timings["localize"] = time.perf_counter() - start

        start = time.perf_counter()
        region = self._network_input(tensor, spacing, box, "segmentation")
        region_probabilities = self._segment_region(region["image"].numpy()[0])
        cover = tuple(int(n) for n in region["shape"].numpy())
        region_probabilities = region_probabilities[:cover[0], :cover[1], :cover[2]]
        timings["segment"] = time.perf_counter() - start

        start = time.perf_counter()
        segmentation = self.metadata["segmentation"]
        labels = geometry_fns["labels_on_original_grid"](
            probabilities=tf.constant(region_probabilities),
            roi_spacing=tf.constant(segmentation["spacing_mm"], tf.float32), start_mm=box["start_mm"],
            volume_shape=shape, spacing=spacing)["labels"].numpy()
        components = {int(k): v for k, v in segmentation["components_per_label"].items()}
        labels = keep_largest_components(labels, components)
        timings["postprocess"] = time.perf_counter() - start
        shapes = {"localization": tuple(localization_input["image"].shape[1:4]),
                  "segmentation": tuple(region["image"].shape[1:4])}
        return LabelMap(labels, geometry, self.label_names, timings, shapes)
