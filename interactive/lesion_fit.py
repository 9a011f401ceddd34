"""How a lesion prediction fits each lesion of the reference, and the Dice a threshold on the image could reach:
the figures that tell a network's misplaced boundary apart from an image that does not show the lesion.

Per reference lesion (a 26-connected component of the label, as AutoPET counts lesions): its voxels, the voxels the
prediction found in it, and the voxels of the predicted objects (26-connected components of the prediction) that
touch it. Objects several times a lesion's size are the halo around it that a background click on the halo erases
with the lesion; objects touching no lesion are false objects. The threshold ceiling is the Dice of the image cut,
around each lesion, at that lesion's best threshold: what an intensity rule that knows where the lesions are could
reach on this image.

Arrays are [z, y, x] on one grid; distances in voxels.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import SimpleITK as sitk


@dataclasses.dataclass(frozen=True)
class LesionFit:
    """One reference lesion against a prediction.

    Attributes:
        voxels: voxels of the lesion.
        found_voxels: voxels of the lesion the prediction marks.
        object_voxels: voxels of the predicted objects touching the lesion (0 when it is missed).
    """

    voxels: int
    found_voxels: int
    object_voxels: int


@dataclasses.dataclass(frozen=True)
class CaseFit:
    """A prediction against every lesion of a case: `lesions` (`LesionFit`, in component order), the voxels of
    each predicted object that touches no lesion (`false_objects`, largest first) and the voxels of the predicted
    objects that touch a lesion (`touching_object_voxels`, each object once)."""

    lesions: tuple[LesionFit, ...]
    false_objects: tuple[int, ...]
    touching_object_voxels: int

    def dice_without_false_objects(self) -> float:
        """The Dice the prediction would have without its false objects (nan without lesions): how much of the
        Dice the false objects cost, against what the objects at the lesions (their halo or shortfall) cost."""
        lesion_voxels = sum(fit.voxels for fit in self.lesions)
        if not lesion_voxels:
            return float("nan")
        return 2.0 * sum(fit.found_voxels for fit in self.lesions) / (self.touching_object_voxels + lesion_voxels)

    def summary(self) -> dict:
        """Lesions, lesions found (any voxel), the median object / lesion size ratio of the found lesions (nan if
        none), the false objects, their voxels and the Dice without them."""
        ratios = [fit.object_voxels / fit.voxels for fit in self.lesions if fit.found_voxels]
        return {"lesions": len(self.lesions), "lesions_found": len(ratios),
                "median_object_to_lesion": float(np.median(ratios)) if ratios else float("nan"),
                "false_objects": len(self.false_objects), "false_object_voxels": int(sum(self.false_objects)),
                "dice_without_false_objects": self.dice_without_false_objects()}


def lesion_components(mask: np.ndarray) -> np.ndarray:
    """int32 [z, y, x]: the 26-connected components of the boolean `mask`, numbered 1..n (0 outside)."""
    image = sitk.GetImageFromArray(np.asarray(mask, np.uint8))
    return sitk.GetArrayFromImage(sitk.ConnectedComponent(image, True)).astype(np.int32)


def case_fit(prediction: np.ndarray, label: np.ndarray) -> CaseFit:
    """How the boolean `prediction` fits each lesion of the boolean `label` (same shape)."""
    prediction, label = np.asarray(prediction, bool), np.asarray(label, bool)
    lesions, objects = lesion_components(label), lesion_components(prediction)
    count = int(lesions.max())
    lesion_sizes, object_sizes = np.bincount(lesions.ravel(), minlength=count + 1), np.bincount(objects.ravel())
    found = np.bincount(lesions[prediction], minlength=count + 1)
    both = (lesions > 0) & (objects > 0)
    touching = np.unique(np.stack([lesions[both], objects[both]], 1), axis=0)  # (lesion, object) pairs
    object_voxels = np.bincount(touching[:, 0], object_sizes[touching[:, 1]], minlength=count + 1)
    fits = [LesionFit(int(lesion_sizes[i]), int(found[i]), int(object_voxels[i])) for i in range(1, count + 1)]
    false_objects = sorted(object_sizes[np.setdiff1d(np.arange(1, object_sizes.size), touching[:, 1])].tolist(),
                           reverse=True)
    return CaseFit(tuple(fits), tuple(false_objects), int(object_sizes[np.unique(touching[:, 1])].sum()))


def nearest_lesion(lesions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(float32 distance in voxels to the nearest lesion, int32 number of that lesion), both [z, y, x], of the
    numbered `lesions` [z, y, x] (0 outside; at least one lesion): SimpleITK's Danielsson map and its Voronoi
    partition."""
    distances = sitk.DanielssonDistanceMapImageFilter()
    distances.SetInputIsBinary(False)
    distances.SetUseImageSpacing(False)
    distances.SetSquaredDistance(False)
    distance = sitk.GetArrayFromImage(distances.Execute(sitk.GetImageFromArray(lesions.astype(np.int32))))
    return distance, sitk.GetArrayFromImage(distances.GetVoronoiMap()).astype(np.int32)


def threshold_ceiling(image: np.ndarray, label: np.ndarray, radius: float = 3.0, levels: int = 99) -> float:
    """Dice of `image` (one channel [z, y, x], e.g. SUV) thresholded, within `radius` voxels of the boolean
    `label`, per lesion at the threshold that maximises that lesion's Dice (each voxel belongs to its nearest
    lesion; `levels` candidate thresholds, quantiles of the lesion's zone); nan without lesions."""
    label = np.asarray(label, bool)
    if not label.any():
        return float("nan")
    image = np.asarray(image, np.float64)
    lesions = lesion_components(label)
    distance, nearest = nearest_lesion(lesions)
    zone = distance <= radius
    values, truth, owner = image[zone], label[zone], nearest[zone]
    marked = np.zeros_like(truth)
    for index in range(1, int(lesions.max()) + 1):
        mine = owner == index
        candidates = np.quantile(values[mine], np.linspace(0.0, 1.0, levels))
        cut = values[mine][None] >= candidates[:, None]
        dice = 2.0 * (cut & truth[mine][None]).sum(1) / (cut.sum(1) + truth[mine].sum())
        marked[mine] = cut[int(np.argmax(dice))]
    return float(2.0 * (marked & truth).sum() / (marked.sum() + label.sum()))
