"""CT multi-organ segmentation with the exported SavedModels: localization -> crop -> SCN (sliding window)
-> back onto the original grid -> largest connected components."""
from __future__ import annotations

import dataclasses
import os
import time

import numpy as np
import tensorflow as tf

from inference.export_base import read_metadata
from inference.loaded_models import SegmentationResult, load_saved_model
from inference.postprocess import keep_largest_components
from inference.sliding_window import sliding_window_inference
from preprocessing.image_geometry import ImageGeometry


@dataclasses.dataclass
class CTSegmenter:
    """Runs the CT pipeline; load with `CTSegmenter.load(saved_models_folder)`.

    Attributes:
        batch_size: sliding windows per network call.
        overlap: sliding-window overlap (0..1).
    """

    tf_utils: object
    localization: object
    segmentation: object
    batch_size: int = 1
    overlap: float = 0.5

    def __post_init__(self) -> None:
        self.localization_metadata = read_metadata(self.localization)
        self.segmentation_metadata = read_metadata(self.segmentation)
        self.labels = {int(k): v for k, v in self.segmentation_metadata["labels"].items()}

    @classmethod
    def load(cls, saved_models_folder: str, batch_size: int = 1, overlap: float = 0.5) -> "CTSegmenter":
        return cls(load_saved_model(os.path.join(saved_models_folder, "tf_utils_module"), None),
                   load_saved_model(os.path.join(saved_models_folder, "localization"), "localization"),
                   load_saved_model(os.path.join(saved_models_folder, "segmentation"), "segmentation"),
                   batch_size, overlap)

    def _input(self, volume: tf.Tensor, spacing: tf.Tensor, box: dict, metadata: dict) -> dict:
        return self.tf_utils.network_input(volume, spacing, box["start_mm"], box["end_mm"],
                                           tf.constant(metadata["spacing_mm"][0], tf.float32),
                                           tf.constant(metadata["window_hu"], tf.float32),
                                           tf.constant(metadata["size_multiple"], tf.int32))

    def _segment_region(self, image: np.ndarray) -> np.ndarray:
        metadata = self.segmentation_metadata
        serve = self.segmentation.signatures["serving_default"]

        def predict(batch: np.ndarray) -> np.ndarray:
            return serve(image=tf.constant(batch))["probabilities"].numpy()

        patch = tuple(metadata["patch_shape"])
        if all(n <= p for n, p in zip(image.shape[:3], patch)):
            return predict(image[None])[0]
        return sliding_window_inference(image, patch, predict, len(self.labels), self.overlap, self.batch_size,
                                        pad_value=-1.0)

    def segment(self, volume: np.ndarray, geometry: ImageGeometry) -> SegmentationResult:
        """Segments a CT volume [z, y, x] in HU; labels are uint8 on the volume's own grid."""
        timings = {}
        start = time.perf_counter()
        tensor = tf.constant(volume, tf.float32)
        spacing = tf.constant(geometry.array_spacing, tf.float32)
        shape = tf.constant(volume.shape, tf.int32)
        localization_input = self._input(tensor, spacing, self.tf_utils.whole_volume_box(shape, spacing),
                                         self.localization_metadata)
        timings["preprocess"] = time.perf_counter() - start

        start = time.perf_counter()
        serve = self.localization.signatures["serving_default"]
        probabilities = serve(image=localization_input["image"])["probabilities"]
        coarse = tf.constant(self.localization_metadata["spacing_mm"], tf.float32)
        margin = tf.constant(self.localization_metadata["bbox_margin_mm"], tf.float32)
        box = self.tf_utils.bounding_box(probabilities, coarse, margin, shape, spacing)
        timings["localize"] = time.perf_counter() - start

        start = time.perf_counter()
        region = self._input(tensor, spacing, box, self.segmentation_metadata)
        region_probabilities = self._segment_region(region["image"].numpy()[0])
        cover = tuple(int(n) for n in region["shape"].numpy())
        region_probabilities = region_probabilities[:cover[0], :cover[1], :cover[2]]
        timings["segment"] = time.perf_counter() - start

        start = time.perf_counter()
        labels = self.tf_utils.labels_on_original_grid(
            tf.constant(region_probabilities), tf.constant(self.segmentation_metadata["spacing_mm"], tf.float32),
            box["start_mm"], shape, spacing).numpy()
        components = {int(k): v for k, v in self.segmentation_metadata.get("components_per_label", {}).items()}
        labels = keep_largest_components(labels, components)
        timings["postprocess"] = time.perf_counter() - start
        shapes = {"localization": tuple(localization_input["image"].shape[1:4]),
                  "segmentation": tuple(region["image"].shape[1:4])}
        return SegmentationResult(labels, timings, shapes)
