"""The RSTN training cache: each case once as arrays, and per plane the list of slices with their organ area and
box (the original's `init.py`: `images/`, `labels/` and `lists/training_{X,Y,Z}.txt`).

Layout of a cache folder::

    images/<case>.npy     int16 HU [z, y, x], canonical orientation (memory-mapped when training)
    labels/<case>.npy     uint8 label values [z, y, x], same grid
    slices_X.csv ...      one row per slice of each case and plane: case_id, slice, pixels (of the target organ),
                          row_min, row_max, col_min, col_max (its box in the plane image, -1 when absent),
                          mean_window (mean of the slice clipped to the window, HU)
    cases.json            {"cases": {case_id: {"image": source path, "label": source path, "shape": [z, y, x],
                                     "spacing_mm": [z, y, x]}},
                          "organ_ids", "window_hu": what the lists were made with, "cv_folder": the folds}
"""
from __future__ import annotations

import csv
import json
import os

import numpy as np

from preprocessing.atomic import atomic_path
from preprocessing.cases import Case, read_label
from preprocessing.image_io import ImageReadError, read_image
from preprocessing.orientation import to_canonical
from rstn.config import PLANES
from rstn.planes import plane_view

SLICE_COLUMNS = ("case_id", "slice", "pixels", "row_min", "row_max", "col_min", "col_max", "mean_window")
GEOMETRY_TOLERANCE_MM = 1e-3


def read_case(case: Case) -> tuple[np.ndarray, np.ndarray, tuple[float, ...]]:
    """(HU int16, labels uint8, spacing mm (z, y, x)) of a case in canonical orientation. Raises ImageReadError
    naming the file when either cannot be read or the label's grid differs from the image's."""
    image, geometry = read_image(case.image_path, ndim=3)
    label, label_geometry = read_label(case, ndim=3)
    if not label_geometry.same_grid(geometry, GEOMETRY_TOLERANCE_MM):
        raise ImageReadError(case.label_paths[0], f"label grid {label_geometry.size} / spacing "
                             f"{tuple(round(s, 4) for s in label_geometry.spacing)} / origin "
                             f"{tuple(round(o, 2) for o in label_geometry.origin)} differs from its image's "
                             f"{geometry.size} / {tuple(round(s, 4) for s in geometry.spacing)} / "
                             f"{tuple(round(o, 2) for o in geometry.origin)}")
    canonical, canonical_geometry, _ = to_canonical(image, geometry)
    labels = to_canonical(label, geometry)[0]
    return (np.clip(canonical, -32768, 32767).astype(np.int16), labels.astype(np.uint8),
            tuple(float(v) for v in canonical_geometry.array_spacing))


def slice_statistics(image: np.ndarray, target: np.ndarray, plane: str, window_hu: tuple[float, float]
                     ) -> np.ndarray:
    """int64/float rows [slices, 7] of `SLICE_COLUMNS[1:]` for one plane of a case: slice index, organ pixels,
    its box in the slice image (rows, columns; -1 when absent) and the slice's mean windowed intensity."""
    mask = plane_view(target, plane)
    view = plane_view(image, plane)
    count = mask.shape[0]
    rows_present = mask.any(axis=2)
    columns_present = mask.any(axis=1)

    def first_last(present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        any_ = present.any(axis=1)
        first = np.where(any_, present.argmax(axis=1), -1)
        last = np.where(any_, present.shape[1] - 1 - present[:, ::-1].argmax(axis=1), -1)
        return first, last

    row_min, row_max = first_last(rows_present)
    col_min, col_max = first_last(columns_present)
    pixels = mask.sum(axis=(1, 2))
    windowed = np.clip(view.astype(np.float32), *window_hu).mean(axis=(1, 2))
    return np.column_stack([np.arange(count), pixels, row_min, row_max, col_min, col_max, windowed])


def _save_array(path: str, array: np.ndarray) -> None:
    with atomic_path(path) as temp, open(temp, "wb") as handle:
        np.save(handle, array)


def write_case(cache_folder: str, case: Case, organ_ids: tuple[int, ...], window_hu: tuple[float, float]
               ) -> tuple[dict[str, np.ndarray], dict]:
    """Reads one case, writes its arrays into the cache; returns its slice statistics per plane and its
    cases.json entry."""
    image, labels, spacing = read_case(case)
    _save_array(os.path.join(cache_folder, "images", f"{case.case_id}.npy"), image)
    _save_array(os.path.join(cache_folder, "labels", f"{case.case_id}.npy"), labels)
    target = np.isin(labels, organ_ids)
    entry = {"image": case.image_path, "label": case.label_paths[0], "shape": list(image.shape),
             "spacing_mm": list(spacing)}
    return {plane: slice_statistics(image, target, plane, window_hu) for plane in PLANES}, entry


def write_index(cache_folder: str, statistics: dict[str, dict[str, np.ndarray]], entries: dict[str, dict],
                organ_ids: tuple[int, ...], window_hu: tuple[float, float], cv_folder: str) -> None:
    """Writes `slices_<plane>.csv` and `cases.json` for the cases in `statistics` (in their order)."""
    for plane in PLANES:
        with atomic_path(os.path.join(cache_folder, f"slices_{plane}.csv")) as temp, \
                open(temp, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(SLICE_COLUMNS)
            for case_id, per_plane in statistics.items():
                for row in per_plane[plane]:
                    writer.writerow([case_id, *(int(v) for v in row[:6]), f"{row[6]:.3f}"])
    index = {"organ_ids": list(organ_ids), "window_hu": list(window_hu), "cv_folder": os.path.abspath(cv_folder),
             "cases": {case_id: entries[case_id] for case_id in statistics}}
    with atomic_path(os.path.join(cache_folder, "cases.json")) as temp, open(temp, "w") as handle:
        json.dump(index, handle, indent=2)


def read_slices(cache_folder: str, plane: str) -> dict[str, np.ndarray]:
    """The columns of `slices_<plane>.csv`: {'case_id': str array, 'slice': int array, ...}."""
    path = os.path.join(cache_folder, f"slices_{plane}.csv")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: not found; run `python -m rstn.prepare` first")
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    columns = {"case_id": np.array([r["case_id"] for r in rows])}
    for name in SLICE_COLUMNS[1:-1]:
        columns[name] = np.array([int(r[name]) for r in rows], np.int64)
    columns["mean_window"] = np.array([float(r["mean_window"]) for r in rows], np.float32)
    return columns


def active_slices(pixels: np.ndarray, threshold: float) -> np.ndarray:
    """Boolean mask of the training slices among slices with organ `pixels` (the original's SLICE_THRESHOLD):
    with threshold <= 1, those with at least the area found at position floor(n x threshold) from the top of
    the n non-empty slices sorted by area; with threshold > 1, at least that many pixels. Empty slices never."""
    if threshold > 1:
        minimum = threshold
    else:
        last = int(np.floor((pixels > 0).sum() * threshold))
        if last == 0:
            return np.zeros(pixels.shape, bool)
        minimum = np.sort(pixels, kind="stable")[-last]
    return (pixels >= minimum) & (pixels > 0)


def read_index(cache_folder: str) -> dict:
    """The cache's `cases.json`."""
    path = os.path.join(cache_folder, "cases.json")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: not found; run `python -m rstn.prepare` first")
    with open(path) as handle:
        return json.load(handle)
