"""Lung nodules in a chest CT with a nodule model set, through the single entrypoint.

Per case: the detector's volume (`nodules.preprocess`: 1 mm, lungs cropped and windowed), whole-volume detection
(`nodules.detection`: cubes with context, decoding, NMS); the detections of probability >= `REPORT_PROBABILITY`
(at most `MAX_NODULES`, most probable first) each get a crop of the CT around their centre, the crop model's mask
and malignancy; the masks go back onto the input's grid (linear, at one half) as labels 1, 2, ... in detection
order (a voxel claimed twice keeps the first). Outputs: `<case>.nii.gz` and `<case>.json` with, per nodule, its
label, centre and mask box in world mm (x, y, z), diameters (the detector's cube and the mask's equivalent
sphere), volume, detection probability and malignancy probability. Label k is named 'nodule k' (the segment
label of a DICOM SEG).
"""
from __future__ import annotations

import time

import numpy as np
import tensorflow as tf

from inference.inputs import CaseImages
from inference.pipeline import Pipeline
from inference.results import Findings
from networks.config_io import config_from_dict
from nodules.config import CropModelConfig, DetectorConfig
from nodules.crop_model import crop_input
from nodules.detection import detect
from nodules.nodule_crops import crop_geometry, ct_crop
from nodules.preprocess import DetectorVolume, detector_volume
from preprocessing.geometry import resample
from preprocessing.image_geometry import ImageGeometry

REPORT_PROBABILITY = 0.5
MAX_NODULES = 20


def paste_region(crop_grid: ImageGeometry, geometry: ImageGeometry) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """(start, shape) in array order of the input voxels the crop grid covers (None: it misses the image)."""
    corners = np.array(np.meshgrid(*[[0, n - 1] for n in crop_grid.size], indexing="ij")).reshape(3, -1).T
    index = geometry.physical_to_index(crop_grid.index_to_physical(corners))
    low = np.maximum(np.floor(index.min(axis=0)).astype(int), 0)
    high = np.minimum(np.ceil(index.max(axis=0)).astype(int) + 1, geometry.size)
    if np.any(high <= low):
        return None
    return tuple(int(v) for v in low[::-1]), tuple(int(v) for v in (high - low)[::-1])


class NodulePipeline(Pipeline):
    """Members: `detector` (DeepLung 3D Res18) and `crop_model` (mask and malignancy)."""

    def __init__(self, model_set, options):
        super().__init__(model_set, options)
        self.detector_config = config_from_dict(DetectorConfig, self.metadata["detector"]["config"])
        self.crop_config = config_from_dict(CropModelConfig, self.metadata["crop_model"]["config"])
        self.detector = self.members["detector"].signatures["serving_default"]
        self.crop_model = self.members["crop_model"].signatures["serving_default"]

    def _detector_outputs(self, image: np.ndarray, coord: np.ndarray) -> np.ndarray:
        return self.detector(image=tf.constant(image), coord=tf.constant(coord))["outputs"].numpy()

    def candidates(self, hu: np.ndarray, geometry: ImageGeometry) -> tuple[DetectorVolume, np.ndarray]:
        """(the detector volume, every detection above the detector's threshold: [n, 5] probability, x, y, z,
        diameter in world mm, most probable first) of a CT."""
        volume = detector_volume(hu, geometry, self.detector_config)
        return volume, detect(self._detector_outputs, volume, self.detector_config)

    def crop_outputs(self, hu: np.ndarray, geometry: ImageGeometry, centre_mm) -> tuple[ImageGeometry, np.ndarray,
                                                                                        float]:
        """(crop grid, mask probability on it, malignancy probability) of the crop model around a world point."""
        grid = crop_geometry(tuple(centre_mm), self.crop_config.crop_size, self.crop_config.spacing_mm)
        image = crop_input(ct_crop(hu, geometry, grid), self.crop_config)
        outputs = self.crop_model(image=tf.constant(image[None, ..., None]))
        return grid, outputs["mask_probability"].numpy()[0], float(outputs["malignancy_probability"].numpy()[0])

    def predict(self, images: CaseImages, side_inputs: dict[str, str]) -> Findings:
        start = time.perf_counter()
        hu, geometry = images.channels[0].astype(np.float32), images.geometry
        volume = detector_volume(hu, geometry, self.detector_config)
        prepared = time.perf_counter()
        detections = detect(self._detector_outputs, volume, self.detector_config)
        detections = detections[detections[:, 0] >= REPORT_PROBABILITY][:MAX_NODULES]
        detected = time.perf_counter()
        labels = np.zeros(geometry.shape, np.uint8)
        findings = []
        voxel_ml = float(np.prod(geometry.spacing)) / 1000.0
        for number, (probability, x, y, z, diameter) in enumerate(detections, start=1):
            grid, mask_probability, malignancy = self.crop_outputs(hu, geometry, (x, y, z))
            region = paste_region(grid, geometry)
            voxels = np.zeros((0, 3), int)
            if region is not None:
                target = geometry.cropped(*region)
                fraction = resample(mask_probability, grid, target, "linear", 0.0)
                inside = labels[tuple(slice(a, a + n) for a, n in zip(*region))]
                piece = (fraction >= self.crop_config.mask_threshold) & (inside == 0)
                inside[piece] = number
                voxels = (np.argwhere(piece) + np.asarray(region[0]))[:, ::-1]
            finding = {"label": number, "centre_mm": [float(x), float(y), float(z)],
                       "detection_probability": float(probability), "detector_diameter_mm": float(diameter),
                       "malignancy_probability": malignancy, "volume_ml": float(len(voxels) * voxel_ml)}
            if len(voxels):
                corners = geometry.index_to_physical(np.array([voxels.min(axis=0), voxels.max(axis=0)]))
                finding["box_mm"] = {"min": corners.min(axis=0).tolist(), "max": corners.max(axis=0).tolist()}
                finding["mask_diameter_mm"] = float((6.0 * finding["volume_ml"] * 1000.0 / np.pi) ** (1.0 / 3.0))
            findings.append(finding)
        timings = {"preprocess": prepared - start, "detect": detected - prepared,
                   "segment": time.perf_counter() - detected}
        note = "" if volume.lungs_found else "no lungs found: the whole scan was searched"
        names = {0: self.label_names[0], **{f["label"]: f"{self.label_names[1]} {f['label']}" for f in findings}}
        return Findings(labels, geometry, names, timings, {"detector": volume.image.shape},
                        {"nodules": float(len(findings))}, note, tuple(findings))
