"""The FLARE21 CT pipeline with a model set's SavedModels, as the original EfficientSCN runs it: the whole
volume at the localization spacing -> organ box -> one SCN pass over the box (spacing enlarged when the box
is too large; a sliding window with `--keep_spacing`) -> probabilities back onto the original grid -> largest
connected components per organ (an addition)."""
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
from preprocessing.network_grid import largest_valid_size, padded_valid_sizes


class EfficientSCNPipeline(Pipeline):
    """Members: `localization`, `segmentation` (network SavedModels) and `geometry` (traced tf_utils)."""

    output_suffix = ".nii.gz"

    def _network_input(self, volume: tf.Tensor, spacing: tf.Tensor, box: dict, role: str) -> dict:
        metadata = self.metadata[role]
        return self.members["geometry"].signatures["network_input"](
            volume=volume, spacing=spacing, start_mm=box["start_mm"], end_mm=box["end_mm"],
            base_spacing=tf.constant(metadata["spacing_mm"][0], tf.float32),
            sigma_mm=tf.constant(metadata["smoothing_sigma_mm"], tf.float32),
            window_hu=tf.constant(metadata["normalization"]["window_hu"], tf.float32),
            valid_sizes=padded_valid_sizes(metadata["valid_sizes"]),
            spacing_tolerance=tf.constant(metadata["spacing_tolerance"], tf.float32),
            size_multiple=tf.constant(metadata["size_multiple"], tf.int32),
            fit=tf.constant(not self.options.keep_spacing))

    def _segment_region(self, image: np.ndarray) -> np.ndarray:
        serve = self.members["segmentation"].signatures["serving_default"]

        def predict(batch: np.ndarray) -> np.ndarray:
            return serve(image=tf.constant(batch))["probabilities"].numpy()

        metadata = self.metadata["segmentation"]
        window = largest_valid_size(metadata["valid_sizes"])
        if all(n <= w for n, w in zip(image.shape[:3], window)):
            return predict(image[None])[0]
        air = windowed_value(AIR_HU, metadata["normalization"]["window_hu"])
        return sliding_window_inference(image, window, predict, len(self.label_names), self.overlap,
                                        self.options.batch_size, pad_value=air)

    def network_spacing(self, geometry) -> np.ndarray:
        """Spacing (mm, array order) the networks see: a placeholder 1 x 1 x 1 mm spacing is replaced by the
        training data's mean spacing, as the original does."""
        spacing = np.asarray(geometry.array_spacing, np.float32)
        if np.all(spacing == 1.0):
            return np.asarray(self.metadata["segmentation"]["placeholder_spacing_mm"][::-1], np.float32)
        return spacing

    def predict(self, images: CaseImages, side_inputs: dict[str, str]) -> LabelMap:
        """Labels (uint8) of a CT volume [z, y, x] in HU (canonical orientation) on the volume's own grid."""
        del side_inputs
        geometry_fns = self.members["geometry"].signatures
        volume, geometry = images.channels[0], images.geometry
        timings = {}
        start = time.perf_counter()
        tensor = tf.constant(volume, tf.float32)
        spacing = tf.constant(self.network_spacing(geometry))
        shape = tf.constant(volume.shape, tf.int32)
        whole = geometry_fns["whole_volume_box"](volume_shape=shape, spacing=spacing)
        localization_input = self._network_input(tensor, spacing, whole, "localization")
        timings["preprocess"] = time.perf_counter() - start

        start = time.perf_counter()
        serve = self.members["localization"].signatures["serving_default"]
        probabilities = serve(image=localization_input["image"])["probabilities"]
        if not bool(tf.reduce_any(probabilities[..., 1] > probabilities[..., 0])):
            timings["localize"] = time.perf_counter() - start
            return LabelMap(np.zeros(volume.shape, np.uint8), geometry, self.label_names, timings,
                            note="empty: the localization found no region; written as all background")
        box = geometry_fns["bounding_box"](
            probabilities=probabilities, grid_spacing=localization_input["grid_spacing"],
            offset_mm=localization_input["offset_mm"],
            margin_mm=tf.constant(self.metadata["localization"]["bbox_margin_mm"], tf.float32), volume_shape=shape,
            spacing=spacing)
        timings["localize"] = time.perf_counter() - start

        start = time.perf_counter()
        region = self._network_input(tensor, spacing, box, "segmentation")
        del tensor  # the float32 copy of the whole volume: not needed past the network inputs
        region_probabilities = self._segment_region(region["image"].numpy()[0])
        timings["segment"] = time.perf_counter() - start

        start = time.perf_counter()
        labels = geometry_fns["labels_on_original_grid"](
            probabilities=tf.constant(region_probabilities), grid_spacing=region["grid_spacing"],
            start_mm=region["offset_mm"], volume_shape=shape, spacing=spacing)["labels"].numpy()
        segmentation = self.metadata["segmentation"]
        components = {int(k): v for k, v in segmentation["components_per_label"].items()}
        labels = keep_largest_components(labels, components)
        timings["postprocess"] = time.perf_counter() - start
        shapes = {"localization": tuple(localization_input["image"].shape[1:4]),
                  "segmentation": tuple(region["image"].shape[1:4])}
        return LabelMap(labels, geometry, self.label_names, timings, shapes)
