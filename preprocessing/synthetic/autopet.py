"""Whole-body FDG PET/CT phantoms with lesion masks, in the AutoPET layouts.

PET in SUV (float32): a body with low uptake, organs with physiological uptake (brain, heart, liver, kidneys,
bladder) and hot lesions whose number, volume and uptake follow AutoPET's published figures (half the cases without
any; docs/interactive.md compares them), blurred to a PET resolution and with multiplicative noise. CT (int16 HU)
on the same grid (AutoPET's `CTres`): air, soft tissue, lungs, spine and skull. Label (uint8): 1 in the lesions.

World coordinates follow DICOM/ITK LPS (+x patient's left, +y posterior, +z superior); direction is the identity;
the scan runs from the top of the head down `axial_extent_mm`.

Layouts:
- 'nnunet': `imagesTr/<case>_0000.nii.gz` (PET), `imagesTr/<case>_0001.nii.gz` (CT), `labelsTr/<case>.nii.gz`.
- 'studies' (the original release): `FDG-PET-CT-Lesions/<case>/<study>/SUV.nii.gz`, `CTres.nii.gz`, `SEG.nii.gz`.
"""
from __future__ import annotations

import dataclasses
import os

import numpy as np
import SimpleITK as sitk

from preprocessing.image_geometry import ImageGeometry
from preprocessing.image_io import write_image
from preprocessing.synthetic.shapes import deformed_ellipsoid, world_axes

LAYOUTS = ("nnunet", "studies")
STUDIES_FOLDER = "FDG-PET-CT-Lesions"


@dataclasses.dataclass(frozen=True)
class AutoPETPhantomConfig:
    """Size, acquisition and content of the phantoms (defaults: AutoPET's PET grid).

    Attributes:
        in_plane_size: voxels per in-plane axis (x and y).
        in_plane_spacing_mm: in-plane voxel size range (mm).
        slice_spacing_mm: slice spacing (mm).
        axial_extent_mm: scanned length range from the top of the head (mm).
        body_scale: size of the anatomy relative to an adult (smaller phantoms for tests).
        lesion_free_probability: probability that a case has no lesion (AutoPET: 513 of 1014 studies).
        lesions_median, lesions_log_sd: lesions per case with lesions, log-normal with this median and standard
            deviation of its logarithm, at least 1 (AutoPET: median 6 per positive study).
        max_lesions: largest number of lesions in a case.
        lesion_volume_median_ml, lesion_volume_log_sd: lesion volume (mL), log-normal (AutoPET: median about 1 mL,
            a long tail of bulky lesions); not scaled with body_scale, so that lesions have their real size in
            voxels of the network grid.
        max_lesion_radius_mm: largest semi-axis of a lesion (mm, times body_scale: bulky lesions fit the body).
        lesion_suv_median, lesion_suv_log_sd: lesion uptake (SUV before the PET blur), log-normal, at least twice
            the tissue the lesion replaces (AutoPET: median lesion voxel SUV about 4.7).
        resolution_mm: full width at half maximum of the PET blur (mm).
        noise: range of the relative standard deviation of the multiplicative PET noise.
    """

    in_plane_size: int = 400
    in_plane_spacing_mm: tuple[float, float] = (2.0, 2.1)
    slice_spacing_mm: float = 3.0
    axial_extent_mm: tuple[float, float] = (950.0, 1150.0)
    body_scale: float = 1.0
    lesion_free_probability: float = 0.5
    lesions_median: float = 6.0
    lesions_log_sd: float = 1.0
    max_lesions: int = 40
    lesion_volume_median_ml: float = 1.5
    lesion_volume_log_sd: float = 1.8
    max_lesion_radius_mm: float = 60.0
    lesion_suv_median: float = 6.0
    lesion_suv_log_sd: float = 0.45
    resolution_mm: float = 6.0
    noise: tuple[float, float] = (0.08, 0.18)


# Organs: name, centre (x, depth below the head top, y) mm, semi-axes (x, y, z) mm, SUV range, CT HU.
_ORGANS = (
    ("brain", (0.0, 100.0, 5.0), (62.0, 80.0, 70.0), (6.0, 12.0), 35),
    ("heart", (25.0, 480.0, -10.0), (55.0, 50.0, 55.0), (2.0, 6.0), 45),
    ("liver", (-70.0, 610.0, 0.0), (75.0, 70.0, 80.0), (1.5, 3.0), 60),
    ("kidney", (-70.0, 700.0, 45.0), (28.0, 28.0, 55.0), (3.0, 8.0), 35),
    ("kidney", (70.0, 710.0, 45.0), (28.0, 28.0, 55.0), (3.0, 8.0), 35),
    ("bladder", (0.0, 880.0, -25.0), (40.0, 35.0, 35.0), (10.0, 40.0), 10),
)


def _body(axes: list[np.ndarray], top: float, scale: float, rng: np.random.Generator) -> np.ndarray:
    """Boolean body mask [z, y, x]: head, neck, torso and two legs along the depth below the head top."""
    z, y, x = axes[0][:, None, None], axes[1][None, :, None], axes[2][None, None, :]
    depth = (top - z) / scale
    x, y = x / scale, y / scale
    half_width, half_depth = rng.uniform(145, 175), rng.uniform(95, 120)
    head = (x / 75) ** 2 + (y / 95) ** 2 + ((depth - 110) / 110) ** 2 < 1
    neck = (depth >= 200) & (depth < 290) & ((x / 55) ** 2 + (y / 55) ** 2 < 1)
    torso = (depth >= 270) & (depth < 930) & ((x / half_width) ** 2 + (y / half_depth) ** 2 < 1)
    legs = (depth >= 900) & (((np.abs(x) - 90) / 75) ** 2 + (y / 80) ** 2 < 1)
    return head | neck | torso | legs


def _lesion_centre(rng: np.random.Generator, allowed: np.ndarray) -> tuple[int, int, int] | None:
    """A random voxel index where `allowed` is True (rejection sampling), or None after 10000 tries."""
    for _ in range(10000):
        index = tuple(int(rng.integers(n)) for n in allowed.shape)
        if allowed[index]:
            return index
    return None


def lesion_count(rng: np.random.Generator, config: AutoPETPhantomConfig) -> int:
    """Lesions of one case: 0 with `lesion_free_probability`, else log-normal, 1..max_lesions."""
    if rng.random() < config.lesion_free_probability:
        return 0
    count = rng.lognormal(np.log(config.lesions_median), config.lesions_log_sd)
    return int(np.clip(np.round(count), 1, config.max_lesions))


def lesion_radii(rng: np.random.Generator, config: AutoPETPhantomConfig) -> np.ndarray:
    """Semi-axes (mm, array order z, y, x) of one lesion: an ellipsoid of log-normal volume with axis ratios up to
    about 1.4, each semi-axis at most `max_lesion_radius_mm` x body_scale."""
    volume_mm3 = 1000.0 * rng.lognormal(np.log(config.lesion_volume_median_ml), config.lesion_volume_log_sd)
    shape = rng.uniform(0.75, 1.3, 3)
    radii = shape * (3.0 * volume_mm3 / (4.0 * np.pi * np.prod(shape))) ** (1.0 / 3.0)
    return np.minimum(radii, config.max_lesion_radius_mm * config.body_scale)


def phantom(rng: np.random.Generator, config: AutoPETPhantomConfig = AutoPETPhantomConfig()
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, ImageGeometry]:
    """One phantom: (PET SUV float32, CT HU int16, lesion label uint8), each [z, y, x], and their geometry."""
    spacing = rng.uniform(*config.in_plane_spacing_mm)
    slices = max(16, int(round(rng.uniform(*config.axial_extent_mm) * config.body_scale / config.slice_spacing_mm)))
    half = spacing * (config.in_plane_size - 1) / 2
    origin = (-half, -half + rng.uniform(-10, 10), rng.uniform(-50.0, 50.0) - config.slice_spacing_mm * (slices - 1))
    geometry = ImageGeometry((config.in_plane_size, config.in_plane_size, slices),
                             (spacing, spacing, config.slice_spacing_mm), origin, (1, 0, 0, 0, 1, 0, 0, 0, 1))
    axes = world_axes(geometry)
    scale = config.body_scale
    top = axes[0][-1] - rng.uniform(0, 10) * scale
    body = _body(axes, top, scale, rng)

    pet = np.where(body, rng.uniform(0.3, 0.8), 0.0).astype(np.float32)
    ct = np.where(body, rng.uniform(20, 50), -1000.0).astype(np.float32)
    z, y, x = axes[0][:, None, None], axes[1][None, :, None], axes[2][None, None, :]
    depth = (top - z) / scale
    for side in (-1, 1):
        box, lung = deformed_ellipsoid(axes, np.array([top - 420 * scale, 5 * scale, side * 80 * scale]),
                                       np.array([120, 75, 60]) * scale, rng, amplitude=0.05)
        pet[box][lung & body[box]] = rng.uniform(0.2, 0.5)
        ct[box][lung & body[box]] = rng.uniform(-850, -750)
    spine = (depth > 200) & (depth < 900) & ((x / (18 * scale)) ** 2 + ((y - 75 * scale) / (18 * scale)) ** 2 < 1)
    ct[spine] = rng.uniform(500, 800)
    skull = ((x / (75 * scale)) ** 2 + (y / (95 * scale)) ** 2 + ((depth - 110) / 110) ** 2)
    ct[(skull < 1) & (skull > 0.8)] = rng.uniform(800, 1200)
    for _, (cx, organ_depth, cy), radii, suv, hu in _ORGANS:
        center = np.array([top - organ_depth * scale, cy * scale, cx * scale]) + rng.uniform(-8, 8, 3) * scale
        box, organ = deformed_ellipsoid(axes, center, np.array(radii)[::-1] * scale * rng.uniform(0.85, 1.15, 3), rng,
                                        amplitude=0.08)
        pet[box][organ & body[box]] = rng.uniform(*suv)
        ct[box][organ & body[box]] = hu

    label = np.zeros(geometry.shape, np.uint8)
    allowed = body & (depth > 230) & (pet < 4.0)
    for _ in range(lesion_count(rng, config)):
        center_index = _lesion_centre(rng, allowed)
        if center_index is None:
            break
        center = np.array([axes[a][center_index[a]] for a in range(3)])
        box, lesion = deformed_ellipsoid(axes, center, lesion_radii(rng, config), rng, amplitude=0.15,
                                         wavelength=(15.0, 40.0))
        lesion = lesion & body[box]
        background = float(np.median(pet[box][lesion])) if lesion.any() else 0.5
        suv = rng.lognormal(np.log(config.lesion_suv_median), config.lesion_suv_log_sd)
        pet[box][lesion] = max(suv, 2.0 * max(background, 0.5))
        label[box][lesion] = 1

    sigma = config.resolution_mm / 2.3548
    blurred = sitk.SmoothingRecursiveGaussian(geometry.apply_to(sitk.GetImageFromArray(pet)), sigma)
    pet = np.maximum(sitk.GetArrayFromImage(blurred), 0.0)
    pet *= np.maximum(1.0 + rng.normal(0.0, rng.uniform(*config.noise), pet.shape), 0.0).astype(np.float32)
    ct = ct + rng.normal(0.0, 12.0, ct.shape).astype(np.float32)
    return pet.astype(np.float32), np.clip(np.round(ct), -1024, 3071).astype(np.int16), label, geometry


def _case_name(rng: np.random.Generator) -> str:
    return "PETCT_" + "".join(rng.choice(list("0123456789abcdef"), 10))


def write_dataset(output_folder: str, num_cases: int, seed: int = 0,
                  config: AutoPETPhantomConfig = AutoPETPhantomConfig(), layout: str = "nnunet",
                  progress: bool = True) -> list[str]:
    """Writes `num_cases` phantoms in `layout` ('nnunet' or 'studies'); returns the paths written."""
    from tqdm import tqdm

    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)} (got {layout!r})")
    rng = np.random.default_rng(seed)
    written = []
    for _ in tqdm(range(num_cases), desc="AutoPET phantoms", disable=not progress):
        case = _case_name(rng)
        pet, ct, label, geometry = phantom(rng, config)
        if layout == "nnunet":
            paths = (os.path.join(output_folder, "imagesTr", f"{case}_0000.nii.gz"),
                     os.path.join(output_folder, "imagesTr", f"{case}_0001.nii.gz"),
                     os.path.join(output_folder, "labelsTr", f"{case}.nii.gz"))
        else:
            study = f"{rng.integers(1, 13):02d}-{rng.integers(1, 29):02d}-20{rng.integers(2, 19):02d}-NA-PET-CT " \
                    f"Ganzkoerper  primaer mit KM-{rng.integers(10000, 99999)}"
            folder = os.path.join(output_folder, STUDIES_FOLDER, case, study)
            paths = tuple(os.path.join(folder, name) for name in ("SUV.nii.gz", "CTres.nii.gz", "SEG.nii.gz"))
        for array, path in zip((pet, ct, label), paths):
            write_image(array, geometry, path)
        written += list(paths)
    return written
