"""From LIDC readers' outlines to nodules: outlines placed on their slices, filled into masks, readings of the same
nodule by different readers grouped, their consensus mask and malignancy label, as pylidc and the common LIDC
conventions do. Volumes are [slice, row, column] in the series' slice order (sorted by position)."""
from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from nodules.lidc_xml import AnnotationError, Outline, ReaderNodule

CONSENSUS_LEVEL = 0.5
MAX_READERS = 4


@dataclasses.dataclass(frozen=True)
class SeriesSlices:
    """What outlines are matched against: per slice of the volume, its SOP Instance UID and z position (mm)."""
    sop_uids: tuple[str, ...]
    z_mm: np.ndarray


def outline_slice(outline: Outline, slices: SeriesSlices, path: str = "") -> int:
    """The slice an outline lies on: by SOP Instance UID, else (no UID, or a UID of no slice) by the nearest z
    position within half a slice spacing. `path` names the annotation file in errors."""
    if outline.sop_uid is not None and outline.sop_uid in slices.sop_uids:
        return slices.sop_uids.index(outline.sop_uid)
    distance = np.abs(slices.z_mm - outline.z_mm)
    nearest = int(distance.argmin())
    spacing = float(np.median(np.abs(np.diff(slices.z_mm)))) if len(slices.z_mm) > 1 else np.inf
    if distance[nearest] > spacing / 2:
        raise AnnotationError(path, f"an outline at z = {outline.z_mm:g} mm lies on no slice of the series "
                                    f"(slices span {slices.z_mm.min():g} to {slices.z_mm.max():g} mm); is the file "
                                    "for another series?")
    return nearest


def filled_outline(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """bool [rows, columns]: the pixels enclosed by an outline, the outline's own pixels excluded (LIDC readers
    drew the first pixels outside the nodule). `points` are (row, column)."""
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [points[:, ::-1].astype(np.int32).reshape(-1, 1, 2)], 1)
    inside = (points[:, 0] >= 0) & (points[:, 0] < shape[0]) & (points[:, 1] >= 0) & (points[:, 1] < shape[1])
    mask[points[inside, 0], points[inside, 1]] = 0
    return mask.astype(bool)


@dataclasses.dataclass(frozen=True)
class BoxMask:
    """A mask in a box of a volume: `mask` (bool [slices, rows, columns]) starts at voxel `start`."""
    start: tuple[int, int, int]
    mask: np.ndarray

    @property
    def stop(self) -> tuple[int, int, int]:
        return tuple(int(a + n) for a, n in zip(self.start, self.mask.shape))


def reader_mask(nodule: ReaderNodule, slices: SeriesSlices, image_shape: tuple[int, int, int],
                path: str = "") -> BoxMask:
    """One reader's nodule (inclusion outlines filled, holes cut out) in the box of its outlines."""
    placed = [(outline_slice(o, slices, path), o) for o in nodule.outlines]
    ks = [k for k, _ in placed]
    points = np.concatenate([o.points for _, o in placed])
    low = np.maximum(points.min(axis=0), 0)
    high = np.minimum(points.max(axis=0) + 1, image_shape[1:])
    start = (min(ks), int(low[0]), int(low[1]))
    mask = np.zeros((max(ks) - min(ks) + 1, int(high[0] - low[0]), int(high[1] - low[1])), bool)
    for inclusion in (True, False):
        for k, outline in placed:
            if outline.inclusion == inclusion:
                filled = filled_outline(outline.points - low, mask.shape[1:])
                mask[k - start[0]] = mask[k - start[0]] | filled if inclusion else mask[k - start[0]] & ~filled
    return BoxMask(start, mask)


def outline_points_ijk(nodule: ReaderNodule, slices: SeriesSlices, path: str = "") -> np.ndarray:
    """[n, 3] (row, column, slice) indices of all the nodule's outline pixels: pylidc's contour matrix."""
    return np.concatenate([np.column_stack([o.points, np.full(len(o.points), outline_slice(o, slices, path))])
                           for o in nodule.outlines]).astype(np.float64)


def _components(adjacent: np.ndarray) -> np.ndarray:
    """Connected-component label per node of a symmetric boolean adjacency matrix."""
    labels = np.full(len(adjacent), -1)
    for start in range(len(adjacent)):
        if labels[start] >= 0:
            continue
        labels[start] = start
        stack = [start]
        while stack:
            node = stack.pop()
            for other in np.flatnonzero(adjacent[node] & (labels < 0)):
                labels[other] = start
                stack.append(other)
    return np.unique(labels, return_inverse=True)[1]


def _min_distance(a: np.ndarray, b: np.ndarray, beyond: float) -> float:
    """Smallest Euclidean distance between two point sets ([n, 3], [m, 3]); inf when their boxes lie more than
    `beyond` apart."""
    gap = np.maximum(0.0, np.maximum(a.min(axis=0) - b.max(axis=0), b.min(axis=0) - a.max(axis=0)))
    if np.sqrt((gap ** 2).sum()) > beyond:
        return np.inf
    squared = (a ** 2).sum(axis=1)[:, None] + (b ** 2).sum(axis=1)[None, :] - 2.0 * a @ b.T
    return float(np.sqrt(max(squared.min(), 0.0)))


def cluster_readings(points: list[np.ndarray], tolerance: float, factor: float = 0.9,
                     min_tolerance: float = 0.1) -> list[list[int]]:
    """Groups readings of the same nodule, as pylidc's Scan.cluster_annotations: two readings are adjacent when
    the smallest distance between their outline points (`points`: [n, 3] each; pylidc uses (row, column, slice)
    indices with the slice thickness in mm as `tolerance`) is <= `tolerance`; groups are connected components.
    While a group has more than MAX_READERS readings, `tolerance` shrinks by `factor`, not below `min_tolerance`.

    Returns the groups (reading indices), ordered by the mean slice of their readings' outline points.
    """
    count = len(points)
    if count == 0:
        return []
    distance = np.full((count, count), np.inf)
    np.fill_diagonal(distance, 0.0)
    for i in range(count):
        for j in range(i + 1, count):
            distance[i, j] = distance[j, i] = _min_distance(points[i], points[j], tolerance)
    labels = _components(distance <= tolerance)
    while np.bincount(labels).max() > MAX_READERS and tolerance * factor >= min_tolerance:
        tolerance *= factor
        labels = _components(distance <= tolerance)
    groups = [[int(i) for i in np.flatnonzero(labels == label)] for label in range(labels.max() + 1)]
    return sorted(groups, key=lambda group: np.mean([points[i][:, 2].mean() for i in group]))


def consensus_mask(masks: list[BoxMask], level: float = CONSENSUS_LEVEL) -> BoxMask:
    """The voxels marked by at least `level` of the readings (of those in the group, not of four readers), in the
    union of their boxes, as pylidc.utils.consensus."""
    start = np.min([m.start for m in masks], axis=0)
    stop = np.max([m.stop for m in masks], axis=0)
    votes = np.zeros(tuple(stop - start), np.int32)
    for m in masks:
        offset = np.asarray(m.start) - start
        votes[tuple(slice(o, o + n) for o, n in zip(offset, m.mask.shape))] += m.mask
    return BoxMask(tuple(int(v) for v in start), votes >= level * len(masks))


def malignancy_label(ratings: list[int]) -> int | None:
    """1 malignant (mean rating > 3), 0 benign (< 3), None when the mean is 3 (indeterminate) or there is no
    rating: the convention of DeepLung (nodcls/data/extclsshpinfo.py) and most LIDC malignancy work."""
    if not ratings:
        return None
    mean = float(np.mean(ratings))
    return None if mean == 3 else int(mean > 3)
