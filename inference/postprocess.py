"""Post-processing of label maps."""
from __future__ import annotations

import numpy as np
import SimpleITK as sitk


def labelled_box(labels: np.ndarray) -> tuple[slice, ...] | None:
    """Slices of the bounding box of the non-zero voxels (None if there are none), found with per-axis
    reductions so that no index list of the whole volume is built."""
    foreground = labels > 0
    box = []
    for axis in range(labels.ndim):
        present = np.flatnonzero(foreground.any(axis=tuple(a for a in range(labels.ndim) if a != axis)))
        if present.size == 0:
            return None
        box.append(slice(int(present[0]), int(present[-1]) + 1))
    return tuple(box)


SLAB_VOXELS = 1 << 22
"""Voxels per `np.bincount` call when counting component sizes (each call makes an int64 copy of its slab)."""


def component_sizes(components: np.ndarray, count: int) -> np.ndarray:
    """Voxels per component id (index 0: background) of a component image [any shape] with ids 0..`count`,
    counted slab by slab along the first axis so that no int64 copy of the whole image is made."""
    flat = components.reshape(components.shape[0], -1)
    step = max(1, SLAB_VOXELS // max(1, flat.shape[1]))
    sizes = np.zeros(count + 1, np.int64)
    for start in range(0, flat.shape[0], step):
        sizes += np.bincount(flat[start:start + step].ravel(), minlength=count + 1)
    return sizes


def largest_ids(sizes: np.ndarray, keep: int) -> np.ndarray:
    """Ids (>= 1) of the `keep` largest components given `sizes` per id (index 0: background); equal sizes are
    ranked by the lower id first, as ITK's RelabelComponentImageFilter ranks them."""
    return np.argsort(-sizes[1:], kind="stable")[:keep] + 1


def keep_largest_components(labels: np.ndarray, components_per_label: dict[int, int]) -> np.ndarray:
    """Keeps, for each label, its `components_per_label[label]` largest connected components (default 1;
    face connectivity); other voxels of that label become background. Works for 2D and 3D on non-negative integer
    labels.

    Memory: one copy of the labels' bounding box for ITK; then, one label at a time, that label's own box as a
    mask and its component ids (uint32), from which the largest are chosen directly (no relabelled copy)."""
    result = np.zeros_like(labels)
    labelled = labelled_box(labels)
    if labelled is None:
        return result
    kept = result[labelled]
    image = sitk.GetImageFromArray(labels[labelled])
    statistics = sitk.LabelStatisticsImageFilter()
    statistics.Execute(image, image)
    for label in sorted(statistics.GetLabels()):
        if label == 0:
            continue
        bounds = statistics.GetBoundingBox(label)  # (x min, x max, y min, y max, z min, z max) voxels, inclusive
        low, high = bounds[0::2], bounds[1::2]
        mask = sitk.BinaryThreshold(sitk.RegionOfInterest(image, [h - lo + 1 for lo, h in zip(low, high)], low),
                                    label, label, 1, 0)
        finder = sitk.ConnectedComponentImageFilter()
        components = finder.Execute(mask)
        del mask
        ids = sitk.GetArrayViewFromImage(components)  # a view: valid while `components` lives
        target = kept[tuple(slice(lo, h + 1) for lo, h in zip(low[::-1], high[::-1]))]
        for component in largest_ids(component_sizes(ids, finder.GetObjectCount()),
                                     components_per_label.get(int(label), 1)):
            target[ids == component] = label
    return result
