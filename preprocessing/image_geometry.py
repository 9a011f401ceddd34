"""The physical grid of an image: size, spacing, origin and direction, in ITK's (x, y, z) order."""
from __future__ import annotations

import dataclasses

import numpy as np
import SimpleITK as sitk


@dataclasses.dataclass(frozen=True)
class ImageGeometry:
    """Physical grid of a 2D or 3D image, stored exactly as SimpleITK reports it.

    Attributes:
        size: voxels per axis, (x, y, z) order.
        spacing: voxel size in mm, (x, y, z) order.
        origin: world position in mm of the centre of voxel index (0, 0, 0), (x, y, z) order.
        direction: direction cosine matrix flattened row-major; column i is the world direction
            of index axis i.

    The NumPy array of such an image has shape `reversed(size)`, i.e. (z, y, x).
    """

    size: tuple[int, ...]
    spacing: tuple[float, ...]
    origin: tuple[float, ...]
    direction: tuple[float, ...]

    def __post_init__(self) -> None:
        ndim = len(self.size)
        if len(self.spacing) != ndim or len(self.origin) != ndim or len(self.direction) != ndim * ndim:
            raise ValueError(f"inconsistent geometry dimensions: {self}")

    @property
    def ndim(self) -> int:
        return len(self.size)

    @property
    def shape(self) -> tuple[int, ...]:
        """Array shape, (z, y, x) order."""
        return tuple(reversed(self.size))

    @property
    def array_spacing(self) -> tuple[float, ...]:
        """Spacing in mm in array axis order, (z, y, x)."""
        return tuple(reversed(self.spacing))

    @property
    def direction_matrix(self) -> np.ndarray:
        return np.asarray(self.direction, dtype=np.float64).reshape(self.ndim, self.ndim)

    @classmethod
    def of(cls, image: sitk.Image) -> "ImageGeometry":
        return cls(
            size=tuple(int(s) for s in image.GetSize()),
            spacing=tuple(float(s) for s in image.GetSpacing()),
            origin=tuple(float(o) for o in image.GetOrigin()),
            direction=tuple(float(d) for d in image.GetDirection()),
        )

    def apply_to(self, image: sitk.Image) -> sitk.Image:
        """Sets spacing, origin and direction of `image` (whose size must match) and returns it."""
        if tuple(image.GetSize()) != self.size:
            raise ValueError(f"image size {image.GetSize()} does not match geometry size {self.size}")
        image.SetSpacing(self.spacing)
        image.SetOrigin(self.origin)
        image.SetDirection(self.direction)
        return image

    def index_to_physical(self, index_xyz: np.ndarray) -> np.ndarray:
        """Maps continuous indices [..., ndim] in (x, y, z) order to world points in mm."""
        index = np.asarray(index_xyz, dtype=np.float64)
        matrix = self.direction_matrix * np.asarray(self.spacing)[None, :]
        return index @ matrix.T + np.asarray(self.origin)

    def physical_to_index(self, points_xyz: np.ndarray) -> np.ndarray:
        """Maps world points [..., ndim] in mm to continuous indices in (x, y, z) order."""
        points = np.asarray(points_xyz, dtype=np.float64) - np.asarray(self.origin)
        matrix = self.direction_matrix * np.asarray(self.spacing)[None, :]
        return points @ np.linalg.inv(matrix).T

    def same_grid(self, other: "ImageGeometry", tolerance: float = 1e-4) -> bool:
        """True when both describe the same voxel grid (size equal; spacing, origin and direction within
        `tolerance`, mm for spacing and origin)."""
        return (self.size == other.size
                and np.allclose(self.spacing, other.spacing, atol=tolerance)
                and np.allclose(self.origin, other.origin, atol=tolerance)
                and np.allclose(self.direction, other.direction, atol=tolerance))

    def with_spacing(self, spacing: tuple[float, ...]) -> "ImageGeometry":
        """The lattice of this grid at a new spacing (mm, x-y-z): ceil(n x old / new) voxels per axis (an excess
        below 1e-3 voxels ignored, at least 1), same direction, centred on the same world point.

        The rule of `preprocessing.network_grid.lattice_size` / `lattice_offset`, so NumPy and TF paths agree.
        """
        size = tuple(max(1, int(np.ceil(n * old / new - 1e-3)))
                     for n, old, new in zip(self.size, self.spacing, spacing))
        first = [((n - 1) * old - (m - 1) * new) / 2.0 / old
                 for n, m, old, new in zip(self.size, size, self.spacing, spacing)]
        origin = tuple(float(v) for v in self.index_to_physical(np.asarray(first)))
        return dataclasses.replace(self, size=size, spacing=tuple(float(s) for s in spacing), origin=origin)

    def cropped(self, start_zyx: tuple[int, ...], shape_zyx: tuple[int, ...]) -> "ImageGeometry":
        """The grid of the sub-array starting at voxel `start_zyx` (array order, may be negative)."""
        start_xyz = np.asarray(start_zyx[::-1], dtype=np.float64)
        origin = tuple(float(v) for v in self.index_to_physical(start_xyz))
        return dataclasses.replace(self, size=tuple(int(s) for s in shape_zyx[::-1]), origin=origin)
