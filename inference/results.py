"""What a pipeline returns for a case, and how the runtime writes it.

- `LabelMap`: labels on the input's own grid -> `<case>.nii.gz` (3D) or `<case>.png` (2D: 0/255 when the
  set has one foreground label, label values otherwise).
- `Findings`: a label map plus a list of findings (JSON objects, e.g. one per nodule) -> the label map and
  `<case>.json`.
"""
from __future__ import annotations

import dataclasses
import json

import numpy as np

from preprocessing.atomic import atomic_path, full_suffix
from preprocessing.image_geometry import ImageGeometry
from preprocessing.image_io import OPENCV_SUFFIXES, write_image


@dataclasses.dataclass(frozen=True)
class LabelMap:
    """Labels (uint8, array order) on `geometry` (the input's grid), the set's label names, seconds per stage,
    the network input shapes that were run, other per-case figures for the summary (e.g. RSTN's rounds), and a
    note the summary shows (e.g. why the result is empty)."""

    labels: np.ndarray
    geometry: ImageGeometry
    label_names: dict[int, str]
    timings: dict[str, float]
    network_inputs: dict[str, tuple[int, ...]] = dataclasses.field(default_factory=dict)
    figures: dict[str, float] = dataclasses.field(default_factory=dict)
    note: str = ""


@dataclasses.dataclass(frozen=True)
class Findings(LabelMap):
    """A label map and its findings (JSON-serialisable dicts, world coordinates in mm)."""

    findings: tuple[dict, ...] = ()


def stored_values(labels: np.ndarray, num_labels: int, path: str) -> np.ndarray:
    """The values written for a label map: 0/255 in an 8-bit image when there is one foreground label, the
    label values otherwise."""
    if full_suffix(path).lower() in OPENCV_SUFFIXES and num_labels == 2:
        return (labels > 0).astype(np.uint8) * 255
    return labels.astype(np.uint8)


def write_result(result: LabelMap, output_base: str, suffix: str) -> list[str]:
    """Writes a result atomically as `<output_base><suffix>` (after `<output_base>.json` for findings: the label
    map's presence marks a case done, so a run stopped between the two redoes the case); returns the paths
    written."""
    path = output_base + suffix
    written = []
    if isinstance(result, Findings):
        with atomic_path(output_base + ".json") as temp, open(temp, "w", encoding="utf-8") as handle:
            json.dump({"findings": list(result.findings)}, handle, indent=2)
        written.append(output_base + ".json")
    write_image(stored_values(result.labels, len(result.label_names), path), result.geometry, path)
    return written + [path]
