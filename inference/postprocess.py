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


def keep_largest_components(labels: np.ndarray, components_per_label: dict[int, int]) -> np.ndarray:
    """Keeps, for each label, its `components_per_label[label]` largest connected components (default 1;
    face connectivity); other voxels of that label become background. Works for 2D and 3D on non-negative integer
    labels; each label's components are found inside that label's own bounding box only."""
    result = np.zeros_like(labels)
    labelled = labelled_box(labels)
    if labelled is None:
        return result
    region, kept = labels[labelled], result[labelled]
    for label in np.flatnonzero(np.bincount(region.ravel()))[1:]:
        mask = region == label
        box = labelled_box(mask)
        keep = components_per_label.get(int(label), 1)
        components = sitk.RelabelComponent(sitk.ConnectedComponent(sitk.GetImageFromArray(mask[box].view(np.uint8))),
                                           sortByObjectSize=True)
        ranked = sitk.GetArrayViewFromImage(components)
        kept[box][(ranked > 0) & (ranked <= keep)] = label
    return result
