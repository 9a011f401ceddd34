"""Chest X-ray phantoms (8-bit PNG) with left/right lung masks, in the Montgomery County layout (or Shenzhen's, or
folders of images and masks).

Images are posterior-anterior views: the patient's left lung appears on the image's right, as in the
real set, and its mask goes to `ManualMask/leftMask/`.
"""
from __future__ import annotations

import dataclasses
import os

import cv2
import numpy as np

from preprocessing.image_geometry import ImageGeometry
from preprocessing.image_io import write_image
from preprocessing.synthetic.shapes import deformed_ellipsoid


@dataclasses.dataclass(frozen=True)
class MontgomeryPhantomConfig:
    """Image size range (pixels): the long side is drawn from `long_side`, the aspect from `aspect`."""

    long_side: tuple[int, int] = (600, 2048)
    aspect: tuple[float, float] = (0.82, 1.22)


def _band(u: np.ndarray, v: np.ndarray, curve_v: np.ndarray, half_width: float) -> np.ndarray:
    """Soft band of the given half width (normalised units) around the curve v = curve_v(u)."""
    return np.exp(-0.5 * ((v - curve_v) / half_width) ** 2)


def phantom(rng: np.random.Generator, config: MontgomeryPhantomConfig = MontgomeryPhantomConfig()
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One phantom: (image uint8 [y, x], left lung mask uint8 0/255, right lung mask uint8 0/255)."""
    long_side = int(rng.integers(config.long_side[0], config.long_side[1] + 1))
    aspect = rng.uniform(*config.aspect)
    height, width = (long_side, int(long_side / aspect)) if aspect > 1 else (int(long_side * aspect), long_side)
    v_axis = np.linspace(0.0, 1.0, height, dtype=np.float32)
    u_axis = np.linspace(0.0, 1.0, width, dtype=np.float32)
    v, u = v_axis[:, None], u_axis[None, :]
    mid = 0.5 + rng.uniform(-0.03, 0.03)

    torso = ((u - mid) / rng.uniform(0.40, 0.47)) ** 2 + ((v - 0.62) / 0.62) ** 2 < 1.0
    image = np.where(torso, rng.uniform(150, 185), rng.uniform(10, 35)).astype(np.float32)

    heart_box, heart = deformed_ellipsoid([v_axis, u_axis], np.array([0.62, mid + 0.06]),
                                          np.array([0.15, 0.14]) * rng.uniform(0.9, 1.1, 2), rng,
                                          amplitude=0.05, wavelength=(0.3, 0.6))
    heart_mask = np.zeros((height, width), bool)
    heart_mask[heart_box] = heart

    masks = {}
    lung_value = rng.uniform(45, 75)
    for side, sign in (("right", -1.0), ("left", 1.0)):
        center = np.array([0.45 + rng.uniform(-0.02, 0.02), mid + sign * rng.uniform(0.17, 0.21)])
        radii = np.array([rng.uniform(0.24, 0.29), rng.uniform(0.12, 0.15)])
        box, lung = deformed_ellipsoid([v_axis, u_axis], center, radii, rng, amplitude=0.06, wavelength=(0.2, 0.5))
        mask = np.zeros((height, width), bool)
        mask[box] = lung
        mask &= ~heart_mask & torso
        masks[side] = mask
        gradient = 1.0 + 0.4 * (v - center[0]) / radii[0]
        image = np.where(mask, lung_value * gradient, image)
    image = np.where(heart_mask & ~masks["left"] & ~masks["right"], image + rng.uniform(10, 25), image)

    spine = np.exp(-0.5 * ((u - mid) / 0.025) ** 2) * 40.0
    ribs = np.zeros((height, width), np.float32)
    for index in range(10):
        top = 0.2 + index * 0.065
        for sign in (-1.0, 1.0):
            side_u = np.clip(sign * (u - mid), 0.0, None)
            curve = top + 0.25 * (side_u - 0.2) ** 2 - 0.04 * side_u
            ribs += (_band(u, v, curve, 0.008) * (side_u > 0.04) * (side_u < 0.42)).astype(np.float32)
    clavicles = sum(_band(u, v, 0.14 + 0.12 * np.abs(u - mid) - 0.2 * (u - mid) ** 2, 0.01) for _ in (0,))
    clavicles = clavicles * (np.abs(u - mid) < 0.3) * (np.abs(u - mid) > 0.03)
    image = image + (spine + 45.0 * ribs + 60.0 * clavicles) * torso

    image = cv2.GaussianBlur(image, (0, 0), sigmaX=max(1.0, long_side / 600.0))
    image = image * rng.uniform(0.85, 1.15) + rng.uniform(-15, 15)
    image = image + rng.normal(0.0, rng.uniform(2, 6), image.shape).astype(np.float32)
    image = np.clip(np.round(image), 0, 255).astype(np.uint8)
    return image, masks["left"].astype(np.uint8) * 255, masks["right"].astype(np.uint8) * 255


XRAY_LAYOUTS = ("montgomery", "shenzhen", "paired")


def _layout_files(layout: str, index: int, finding: int, image: np.ndarray, left: np.ndarray, right: np.ndarray
                  ) -> list[tuple[str, np.ndarray]]:
    """(relative path, array) of one phantom in `layout` (`preprocessing.xray_cases` reads each): Montgomery's
    image + one mask per lung; Shenzhen's `CHNCXR_XXXX_Y.png` + `masks/CHNCXR_XXXX_Y_mask.png` (every fifth film
    without a mask, as in the released masks); 'paired': `cxr/` + `masks/` of equal names, both lungs in one mask."""
    both = np.maximum(left, right)
    if layout == "montgomery":
        name = f"MCUCXR_{index:04d}_{finding}.png"
        return [(os.path.join("CXR_png", name), image), (os.path.join("ManualMask", "leftMask", name), left),
                (os.path.join("ManualMask", "rightMask", name), right)]
    stem = f"CHNCXR_{index + 1:04d}_{finding}"
    if layout == "shenzhen":
        masks = [] if index % 5 == 4 else [(os.path.join("masks", f"{stem}_mask.png"), both)]
        return [(os.path.join("CXR_png", f"{stem}.png"), image)] + masks
    return [(os.path.join("cxr", f"{stem}.png"), image), (os.path.join("masks", f"{stem}.png"), both)]


def write_dataset(output_folder: str, num_cases: int, seed: int = 0,
                  config: MontgomeryPhantomConfig = MontgomeryPhantomConfig(), progress: bool = True,
                  layout: str = "montgomery") -> list[str]:
    """Writes chest X-ray phantoms in `layout` (one of XRAY_LAYOUTS): by default Montgomery's
    `CXR_png/MCUCXR_XXXX_Y.png` and `ManualMask/{leftMask,rightMask}/MCUCXR_XXXX_Y.png`."""
    from tqdm import tqdm

    if layout not in XRAY_LAYOUTS:
        raise ValueError(f"layout must be one of {XRAY_LAYOUTS}, not {layout!r}")
    rng = np.random.default_rng(seed)
    written = []
    for index in tqdm(range(num_cases), desc="chest X-ray phantoms", disable=not progress):
        image, left, right = phantom(rng, config)
        finding = int(rng.integers(0, 2))
        geometry = ImageGeometry(image.shape[::-1], (1.0, 1.0), (0.0, 0.0), (1.0, 0.0, 0.0, 1.0))
        for relative, array in _layout_files(layout, index, finding, image, left, right):
            path = os.path.join(output_folder, relative)
            write_image(array, geometry, path)
            written.append(path)
    return written
