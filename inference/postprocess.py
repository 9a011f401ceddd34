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
    face connectivity); other voxels of that label become background. Works for 2D and 3D; the work is
    done inside the bounding box of the labelled voxels only."""
    result = np.zeros_like(labels)
    box = labelled_box(labels)
    if box is None:
        return result
    region = labels[box]
    kept = np.zeros_like(region)
    for label in np.unique(region):
        if label == 0:
            continue
        keep = components_per_label.get(int(label), 1)
        mask = sitk.GetImageFromArray((region == label).astype(np.uint8))
        components = sitk.RelabelComponent(sitk.ConnectedComponent(mask), sortByObjectSize=True)
        ranked = sitk.GetArrayViewFromImage(components)
        kept[(ranked > 0) & (ranked <= keep)] = label
    result[box] = kept
    return result
