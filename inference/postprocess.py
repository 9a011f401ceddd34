"""Post-processing of label maps."""
from __future__ import annotations

import numpy as np
import SimpleITK as sitk


def labelled_box(labels: np.ndarray) -> tuple[slice, ...] | None:
    """Slices of the bounding box of the non-zero voxels (None if there are none), found with per-axis
    reductions so that neither an index list nor a mask of the whole volume is built."""
    box = []
    for axis in range(labels.ndim):
        present = np.flatnonzero(labels.any(axis=tuple(a for a in range(labels.ndim) if a != axis)))
        if present.size == 0:
            return None
        box.append(slice(int(present[0]), int(present[-1]) + 1))
    return tuple(box)


SLAB_VOXELS = 1 << 20
"""Voxels per `np.bincount` call in `value_counts` (each call makes an int64 copy of its slab)."""


def value_counts(values: np.ndarray, largest: int) -> np.ndarray:
    """Occurrences of 0..`largest` in an array of non-negative integers [any shape, any strides], counted slab by
    slab along the first axis so that no int64 copy of the whole array is made."""
    step = max(1, SLAB_VOXELS // max(1, values[:1].size))
    counts = np.zeros(largest + 1, np.int64)
    for start in range(0, values.shape[0], step):
        counts += np.bincount(values[start:start + step].ravel(), minlength=largest + 1)
    return counts


def largest_ids(sizes: np.ndarray, keep: int) -> np.ndarray:
    """Ids (>= 1) of the `keep` largest components given `sizes` per id (index 0: background); equal sizes are
    ranked by the lower id first, as ITK's RelabelComponentImageFilter ranks them."""
    return np.argsort(-sizes[1:], kind="stable")[:keep] + 1


def keep_largest_components(labels: np.ndarray, components_per_label: dict[int, int]) -> np.ndarray:
    """Keeps, for each label, its `components_per_label[label]` largest connected components (default 1;
    face connectivity); other voxels of that label become background. Works for 2D and 3D on non-negative integer
    labels.

    Memory: one label at a time, a mask of the labels' bounding box, then only that label's own box as ITK's
    input and its component ids (uint32), from which the largest are chosen directly (no relabelled copy)."""
    result = np.zeros(labels.shape, labels.dtype)  # untouched pages outside the labelled box stay unallocated
    labelled = labelled_box(labels)
    if labelled is None:
        return result
    region, kept = labels[labelled], result[labelled]
    for label in np.flatnonzero(value_counts(region, int(region.max()))[1:]) + 1:
        mask = region == label
        box = labelled_box(mask)
        image = sitk.GetImageFromArray(mask[box].view(np.uint8))
        del mask
        finder = sitk.ConnectedComponentImageFilter()
        components = finder.Execute(image)
        del image
        ids = sitk.GetArrayViewFromImage(components)  # a view: valid while `components` lives
        target = kept[box]
        for component in largest_ids(value_counts(ids, finder.GetObjectCount()),
                                     components_per_label.get(int(label), 1)):
            target[ids == component] = label
    return result
