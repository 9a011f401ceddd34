"""Canonical orientation: the networks always see images whose index axes run along the world axes of DICOM /
ITK LPS (+x towards the patient's left, +y posterior, +z superior), i.e. an identity direction matrix, as
the original EfficientSCN does with `sitk.DICOMOrient(image, "LPS")`.

Only axis permutations and flips are used (no resampling), so the way back is exact: `from_canonical`
returns an array on the input's own grid. For an oblique direction the index axes are matched to the
closest world axes; the canonical grid is then the same voxels relabelled (its direction stays oblique).

Arrays are in array axis order ((z, y, x) or (y, x)); geometry in ITK's (x, y, z) order.
"""
from __future__ import annotations

import dataclasses
import itertools

import numpy as np

from preprocessing.image_geometry import ImageGeometry


@dataclasses.dataclass(frozen=True)
class Reorientation:
    """How an image's index axes map to the canonical ones (ITK axis order).

    Attributes:
        permutation: canonical index axis j is the input's index axis permutation[j].
        flips: canonical index axis j runs against the input's axis where True.
    """

    permutation: tuple[int, ...]
    flips: tuple[bool, ...]

    @property
    def is_identity(self) -> bool:
        return self.permutation == tuple(range(len(self.permutation))) and not any(self.flips)

    def _array_axes(self) -> list[int]:
        n = len(self.permutation)
        return [n - 1 - self.permutation[n - 1 - b] for b in range(n)]

    def _array_flips(self) -> tuple[int, ...]:
        n = len(self.flips)
        return tuple(b for b in range(n) if self.flips[n - 1 - b])

    def apply(self, array: np.ndarray) -> np.ndarray:
        """The input array (array order, optional trailing channel axes) in canonical orientation (a view)."""
        n = len(self.permutation)
        axes = self._array_axes() + list(range(n, array.ndim))
        return np.flip(np.transpose(array, axes), self._array_flips())

    def invert(self, array: np.ndarray) -> np.ndarray:
        """A canonical-orientation array back in the input's orientation (a view), so on the input's grid."""
        n = len(self.permutation)
        flipped = np.flip(array, self._array_flips())
        inverse = np.argsort(self._array_axes()).tolist() + list(range(n, array.ndim))
        return np.transpose(flipped, inverse)


def canonical_reorientation(geometry: ImageGeometry) -> Reorientation:
    """The permutation and flips that bring the index axes closest to the world axes (for each world axis
    the index axis with the largest |cosine|, jointly over all permutations), pointing the positive way."""
    n = geometry.ndim
    direction = geometry.direction_matrix
    best = max(itertools.permutations(range(n)),
               key=lambda perm: sum(abs(direction[j, perm[j]]) for j in range(n)))
    return Reorientation(tuple(best), tuple(bool(direction[j, best[j]] < 0) for j in range(n)))


def canonical_geometry(geometry: ImageGeometry, reorientation: Reorientation) -> ImageGeometry:
    """The geometry of the reoriented image: the same voxels, index axes permuted and flipped."""
    n = geometry.ndim
    direction = geometry.direction_matrix
    perm, flips = reorientation.permutation, reorientation.flips
    new_direction = np.stack([direction[:, perm[j]] * (-1.0 if flips[j] else 1.0) for j in range(n)], axis=1)
    first = np.zeros(n)
    for j in range(n):
        first[perm[j]] = geometry.size[perm[j]] - 1 if flips[j] else 0
    origin = geometry.index_to_physical(first[None])[0]
    return ImageGeometry(tuple(geometry.size[p] for p in perm), tuple(geometry.spacing[p] for p in perm),
                         tuple(float(o) for o in origin), tuple(float(d) for d in new_direction.ravel()))


def to_canonical(array: np.ndarray, geometry: ImageGeometry) -> tuple[np.ndarray, ImageGeometry, Reorientation]:
    """(array in canonical orientation, its geometry, the reorientation to undo with `Reorientation.invert`)."""
    reorientation = canonical_reorientation(geometry)
    if reorientation.is_identity:
        return array, geometry, reorientation
    return (np.ascontiguousarray(reorientation.apply(array)), canonical_geometry(geometry, reorientation),
            reorientation)
