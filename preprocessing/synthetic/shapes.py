"""Smooth random shapes shared by the synthetic generators (pure NumPy, any dimension)."""
from __future__ import annotations

import numpy as np

from preprocessing.image_geometry import ImageGeometry


def world_axes(geometry: ImageGeometry) -> list[np.ndarray]:
    """World coordinates (mm) of the voxel centres along the array axes (z, y, x) of a grid with identity
    direction."""
    return [(geometry.origin[a] + geometry.spacing[a] * np.arange(geometry.size[a])).astype(np.float32)
            for a in (2, 1, 0)]


def deformed_ellipsoid(axes: list[np.ndarray], center: np.ndarray, radii: np.ndarray, rng: np.random.Generator,
                       amplitude: float = 0.1, wavelength: tuple[float, float] = (60.0, 120.0),
                       waves: int = 3) -> tuple[tuple[slice, ...], np.ndarray]:
    """An ellipsoid whose boundary is perturbed by smooth random waves, computed in its bounding box only.

    Args:
        axes: increasing world coordinates of the grid along each array axis (mm, array order).
        center, radii: ellipsoid centre and semi-axes per array axis (mm).
        amplitude: maximum relative boundary perturbation of each wave.
        wavelength: range of the waves' wavelengths (mm).

    Returns:
        (box, mask): index slices of the bounding box in the grid and the boolean mask inside it.
    """
    reach = 1.0 + amplitude * waves
    box = tuple(slice(int(np.searchsorted(a, m - r * reach)), int(np.searchsorted(a, m + r * reach, "right")))
                for a, m, r in zip(axes, center, radii))
    ndim = len(axes)
    coords = [a[b].reshape([-1 if i == k else 1 for i in range(ndim)]) for k, (a, b) in enumerate(zip(axes, box))]
    q = np.sqrt(sum(((c - m) / r) ** 2 for c, m, r in zip(coords, center, radii)))
    for _ in range(waves):
        direction = rng.normal(size=ndim)
        direction /= np.linalg.norm(direction)
        frequency = 2 * np.pi / rng.uniform(*wavelength)
        phase = rng.uniform(0, 2 * np.pi)
        projection = sum(d * (c - m) for d, c, m in zip(direction, coords, center))
        q = q + rng.uniform(0.3, 1.0) * amplitude * np.sin(frequency * projection + phase)
    return box, np.broadcast_to(q < 1.0, tuple(b.stop - b.start for b in box))
