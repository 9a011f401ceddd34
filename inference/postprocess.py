"""Post-processing of label maps."""
from __future__ import annotations

import numpy as np
import SimpleITK as sitk


def keep_largest_components(labels: np.ndarray, components_per_label: dict[int, int]) -> np.ndarray:
    """Keeps, for each label, its `components_per_label[label]` largest connected components (default 1;
    face connectivity); other voxels of that label become background. Works for 2D and 3D."""
    result = np.zeros_like(labels)
    for label in np.unique(labels):
        if label == 0:
            continue
        keep = components_per_label.get(int(label), 1)
        mask = sitk.GetImageFromArray((labels == label).astype(np.uint8))
        components = sitk.RelabelComponent(sitk.ConnectedComponent(mask), sortByObjectSize=True)
        ranked = sitk.GetArrayFromImage(components)
        result[(ranked > 0) & (ranked <= keep)] = label
    return result
