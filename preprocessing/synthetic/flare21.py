"""Abdominal CT phantoms in HU with liver, kidneys, spleen and pancreas labels, in the FLARE21 layout.

World coordinates follow DICOM/ITK LPS: +x towards the patient's left, +y posterior, +z superior;
direction is the identity, as in most FLARE21 volumes.
"""
from __future__ import annotations

import dataclasses
import os

import numpy as np
import SimpleITK as sitk

from preprocessing.image_geometry import ImageGeometry
from preprocessing.image_io import write_image
from preprocessing.synthetic.shapes import deformed_ellipsoid, world_axes

LABELS = {1: "liver", 2: "kidney", 3: "spleen", 4: "pancreas"}
PANCREAS = 4


@dataclasses.dataclass(frozen=True)
class Flare21PhantomConfig:
    """Size and acquisition ranges of the phantoms (defaults: typical FLARE21 abdominal CT).

    Attributes:
        in_plane_size: voxels per in-plane axis (x and y).
        fov_mm: in-plane field of view range; spacing = fov / in_plane_size (0.68-0.9 mm at 512).
        slice_thickness_mm: slice spacing range.
        axial_extent_mm: scanned length range along z.
        pancreas_hu: mean HU range of the pancreas (None: the template's 35-50 HU, unenhanced soft tissue; a
            portal-venous pancreas is about 90-130 HU).
        pancreas_fat_mm: range of the thickness (mm) of the fat that wraps the pancreas (0: none, the cavity's
            soft tissue touches it).
    """

    in_plane_size: int = 512
    fov_mm: tuple[float, float] = (350.0, 460.0)
    slice_thickness_mm: tuple[float, float] = (2.5, 5.0)
    axial_extent_mm: tuple[float, float] = (280.0, 380.0)
    pancreas_hu: tuple[float, float] | None = None
    pancreas_fat_mm: tuple[float, float] = (0.0, 0.0)


# Organ templates: label, centre offset from the body centre (x, y, z) mm, semi-axes (x, y, z) mm,
# mean HU range. Lists with several lobes are unions.
_ORGANS = (
    (4, [((15.0, 10.0, 0.0), (65.0, 13.0, 16.0))], (35.0, 50.0)),
    (2, [((-72.0, 48.0, -40.0), (26.0, 28.0, 52.0))], (130.0, 190.0)),
    (2, [((72.0, 48.0, -30.0), (26.0, 28.0, 52.0))], (130.0, 190.0)),
    (3, [((85.0, 40.0, 40.0), (26.0, 42.0, 50.0))], (95.0, 120.0)),
    (1, [((-65.0, -5.0, 45.0), (68.0, 78.0, 72.0)), ((-5.0, -30.0, 60.0), (45.0, 42.0, 38.0))], (55.0, 80.0)),
)


def phantom(rng: np.random.Generator, config: Flare21PhantomConfig = Flare21PhantomConfig()
            ) -> tuple[np.ndarray, np.ndarray, ImageGeometry]:
    """One phantom: (image int16 HU [z, y, x], label uint8 [z, y, x], geometry)."""
    fov = rng.uniform(*config.fov_mm)
    in_plane = fov / config.in_plane_size
    thickness = rng.uniform(*config.slice_thickness_mm)
    slices = max(8, int(round(rng.uniform(*config.axial_extent_mm) / thickness)))
    origin = (-fov / 2 + in_plane / 2, -fov / 2 + in_plane / 2 + rng.uniform(-10, 30), rng.uniform(-700.0, -100.0))
    geometry = ImageGeometry((config.in_plane_size, config.in_plane_size, slices), (in_plane, in_plane, thickness),
                             origin, (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0))
    axes = world_axes(geometry)
    z, y, x = axes[0][:, None, None], axes[1][None, :, None], axes[2][None, None, :]
    z_mid = origin[2] + thickness * (slices - 1) / 2
    body_center = np.array([rng.uniform(-20, 20), rng.uniform(-15, 15), z_mid + rng.uniform(-25, 25)])
    cx, cy, cz = body_center
    half_width = rng.uniform(135, 175) * (1 + 0.05 * np.sin((z - cz) / 120.0))
    half_depth = rng.uniform(100, 125) * (1 + 0.04 * np.cos((z - cz) / 90.0))
    radial = np.sqrt(((x - cx) / half_width) ** 2 + ((y - cy) / half_depth) ** 2)

    image = np.full(geometry.shape, -1000.0, np.float32)
    image[np.broadcast_to(radial < 1.0, image.shape)] = rng.uniform(-110, -80)
    image[np.broadcast_to((radial < 0.93) & (radial >= 0.85), image.shape)] = rng.uniform(40, 60)
    cavity = np.broadcast_to(radial < 0.85, image.shape)
    image[cavity] = rng.uniform(15, 35)
    zyx_center = body_center[::-1]
    for _ in range(6):
        box, fat = deformed_ellipsoid(axes, zyx_center + rng.uniform(-90, 90, 3) * [1, 0.6, 1],
                                      rng.uniform(15, 35, 3), rng, amplitude=0.2)
        image[box][cavity[box] & fat] = rng.uniform(-100, -60)

    spine_center = (cx, cy + 0.6 * half_depth.mean())
    vertebra = np.broadcast_to((x - spine_center[0]) ** 2 + (y - spine_center[1]) ** 2 < 19.0 ** 2, image.shape)
    image[vertebra] = rng.uniform(600, 900)
    cancellous = np.broadcast_to((x - spine_center[0]) ** 2 + (y - spine_center[1]) ** 2 < 15.0 ** 2, image.shape)
    image[cancellous] = rng.uniform(180, 280)
    canal = np.broadcast_to((x - spine_center[0]) ** 2 + (y - spine_center[1] - 27.0) ** 2 < 8.0 ** 2, image.shape)
    image[canal] = rng.uniform(10, 30)
    aorta = np.broadcast_to((x - spine_center[0] - 15.0) ** 2 + (y - spine_center[1] + 30.0) ** 2 < 11.0 ** 2,
                            image.shape)
    image[aorta] = rng.uniform(150, 250)

    label = np.zeros(geometry.shape, np.uint8)
    scale = rng.uniform(0.9, 1.1)
    for value, lobes, hu_range in _ORGANS:
        jitter = rng.uniform(-8, 8, 3)
        hu = rng.uniform(*(config.pancreas_hu if value == PANCREAS and config.pancreas_hu else hu_range))
        for offset, radii in lobes:
            center = (body_center + np.array(offset) * scale + jitter)[::-1]
            box, organ = deformed_ellipsoid(axes, center, np.array(radii)[::-1] * scale * rng.uniform(0.9, 1.1, 3), rng)
            organ = organ & (label[box] == 0)
            label[box][organ] = value
            image[box][organ] = hu
    if config.pancreas_fat_mm[1] > 0:
        wrap_in_fat(image, label, geometry, rng.uniform(*config.pancreas_fat_mm), rng.uniform(-110, -80))

    smooth = sitk.SmoothingRecursiveGaussian(geometry.apply_to(sitk.GetImageFromArray(image)), 1.0)
    image = sitk.GetArrayFromImage(smooth) + rng.normal(0.0, rng.uniform(8, 20), image.shape).astype(np.float32)
    return np.clip(np.round(image), -1024, 3071).astype(np.int16), label, geometry


def wrap_in_fat(image: np.ndarray, label: np.ndarray, geometry: ImageGeometry, thickness_mm: float,
                fat_hu: float) -> None:
    """Sets the unlabelled soft tissue (< 100 HU) within `thickness_mm` of the pancreas to `fat_hu`, in place
    (the peripancreatic fat that outlines a real pancreas); bone and vessels are left as they are."""
    pancreas = geometry.apply_to(sitk.GetImageFromArray((label == PANCREAS).astype(np.uint8)))
    distance = sitk.GetArrayFromImage(sitk.SignedMaurerDistanceMap(pancreas, insideIsPositive=False,
                                                                   squaredDistance=False, useImageSpacing=True))
    rim = (distance > 0) & (distance <= thickness_mm) & (label == 0) & (image > -500) & (image < 100)
    image[rim] = fat_hu


def write_dataset(output_folder: str, num_cases: int, num_validation_cases: int = 0, seed: int = 0,
                  config: Flare21PhantomConfig = Flare21PhantomConfig(), progress: bool = True) -> list[str]:
    """Writes `TrainingImg/train_XXX_0000.nii.gz` + `TrainingMask/train_XXX.nii.gz` and
    `ValidationImg/validation_XXX_0000.nii.gz` + `ValidationMask/validation_XXX.nii.gz`; returns the paths."""
    from tqdm import tqdm

    rng = np.random.default_rng(seed)
    jobs = [("TrainingImg", "TrainingMask", f"train_{i:03d}") for i in range(num_cases)]
    jobs += [("ValidationImg", "ValidationMask", f"validation_{i:03d}") for i in range(num_validation_cases)]
    written = []
    for image_dir, mask_dir, case_id in tqdm(jobs, desc="FLARE21 phantoms", disable=not progress):
        image, label, geometry = phantom(rng, config)
        image_path = os.path.join(output_folder, image_dir, f"{case_id}_0000.nii.gz")
        label_path = os.path.join(output_folder, mask_dir, f"{case_id}.nii.gz")
        write_image(image, geometry, image_path)
        write_image(label, geometry, label_path)
        written += [image_path, label_path]
    return written
