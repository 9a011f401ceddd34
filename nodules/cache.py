"""The nodule training cache: per scan the detector's volume (`nodules.preprocess.DetectorVolume`) and its
nodules as boxes in that volume, written once by `python -m nodules.prepare`.

Layout: `<cache>/<case>.npz` (image uint8 [z, y, x]; spacing, origin, direction (ITK order); boxes float32
[n, 4] = centre (z, y, x) in voxels of the image and diameter in voxels; malignancy int8 [n] (1 malignant,
0 benign, -1 indeterminate or unknown); readers int8 [n] (0: unknown); crops int16 [n, z, y, x]: HU around each
nodule on the crop model's grid widened by its context (`nodules.nodule_crops`); masks uint8, the consensus masks
there; a LUNA16 scan has boxes only, no crops) and `<cache>/cases.json` ({"cv_folder": the folds' folder,
"cases": {case: {"patient", "nodules", "shape", "folder"}}}).
"""
from __future__ import annotations

import dataclasses
import json
import os

import numpy as np

from nodules.preprocess import DetectorVolume
from preprocessing.atomic import atomic_path
from preprocessing.image_geometry import ImageGeometry

INDEX = "cases.json"


@dataclasses.dataclass(frozen=True)
class CachedScan:
    """One cached scan (see the module docstring)."""
    image: np.ndarray
    geometry: ImageGeometry
    boxes: np.ndarray
    malignancy: np.ndarray
    readers: np.ndarray
    crops: np.ndarray
    masks: np.ndarray


def nodule_boxes(volume: DetectorVolume, centres_mm: np.ndarray, diameters_mm: np.ndarray) -> np.ndarray:
    """[n, 4] boxes (z, y, x, d) in voxels of the volume for world centres (x, y, z) and diameters in mm."""
    if len(centres_mm) == 0:
        return np.zeros((0, 4), np.float32)
    index_xyz = volume.geometry.physical_to_index(np.asarray(centres_mm, np.float64).reshape(-1, 3))
    spacing = float(volume.geometry.spacing[0])
    return np.column_stack([index_xyz[:, ::-1], np.asarray(diameters_mm) / spacing]).astype(np.float32)


def write_scan(cache_folder: str, case_id: str, volume: DetectorVolume, boxes: np.ndarray,
               malignancy: list[int | None], readers: list[int], crops: np.ndarray, masks: np.ndarray) -> None:
    """Writes one scan's entry atomically."""
    geometry = volume.geometry
    with atomic_path(os.path.join(cache_folder, f"{case_id}.npz")) as temp, open(temp, "wb") as handle:
        np.savez(handle, image=volume.image, spacing=np.asarray(geometry.spacing),
                 origin=np.asarray(geometry.origin), direction=np.asarray(geometry.direction),
                 boxes=np.asarray(boxes, np.float32).reshape(-1, 4),
                 malignancy=np.array([-1 if m is None else m for m in malignancy], np.int8),
                 readers=np.asarray(readers, np.int8), crops=np.round(crops).astype(np.int16),
                 masks=masks.astype(np.uint8))


def read_scan(cache_folder: str, case_id: str) -> CachedScan:
    with np.load(os.path.join(cache_folder, f"{case_id}.npz")) as data:
        image = data["image"]
        geometry = ImageGeometry(size=tuple(int(v) for v in image.shape[::-1]),
                                 spacing=tuple(float(v) for v in data["spacing"]),
                                 origin=tuple(float(v) for v in data["origin"]),
                                 direction=tuple(float(v) for v in data["direction"]))
        return CachedScan(image, geometry, data["boxes"], data["malignancy"], data["readers"], data["crops"],
                          data["masks"])


def write_index(cache_folder: str, entries: dict[str, dict], cv_folder: str) -> None:
    with atomic_path(os.path.join(cache_folder, INDEX)) as temp, open(temp, "w") as handle:
        json.dump({"cv_folder": os.path.abspath(cv_folder), "cases": entries}, handle, indent=1, sort_keys=True)


def read_index(cache_folder: str) -> tuple[dict[str, dict], str]:
    """({case: entry}, the folds' folder) of a cache."""
    path = os.path.join(cache_folder, INDEX)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no nodule cache here; run python -m nodules.prepare first")
    with open(path) as handle:
        index = json.load(handle)
    return index["cases"], index["cv_folder"]
