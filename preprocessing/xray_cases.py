"""Chest X-ray datasets with lung masks in the layouts they are released in, and their (image, lung label) pairs.

Layouts (`XRAY_LAYOUTS`), read exactly as released:
- 'montgomery': NLM's Montgomery County set, `CXR_png/MCUCXR_XXXX_Y.png` with one mask per lung of the same name
  in `ManualMask/leftMask/` and `ManualMask/rightMask/` (0 / 255).
- 'shenzhen': NLM's Shenzhen set with Stirenko et al.'s lung masks, `CXR_png/CHNCXR_XXXX_Y.png` with
  `<mask folder>/CHNCXR_XXXX_Y_mask.png` (both lungs in one mask); the mask folder is `masks/`, `mask/` (the
  Kaggle release) or `ManualMask/`. The released masks cover 566 of the 662 films: films without one are skipped.
- 'paired': a folder of images and a folder of masks with equal stems (`cxr/` + `masks/` by default, as in
  public resized copies of both sets; both lungs in one mask, anti-aliased masks thresholded at 128).
"""
from __future__ import annotations

import os
import re

import numpy as np

from preprocessing.cases import Case, image_files, montgomery_cases
from preprocessing.image_io import ImageReadError, case_name, read_image
from preprocessing.lung_masks import lung_labels
from preprocessing.xray_io import read_xray

XRAY_LAYOUTS = ("montgomery", "shenzhen", "paired")
SHENZHEN_NAME = re.compile(r"^CHNCXR_\d{4}_[01]\.png$")
SHENZHEN_MASK_FOLDERS = ("masks", "mask", "ManualMask")
MASK_SUFFIX = "_mask"


def shenzhen_mask_folder(base_folder: str) -> str:
    """The first of `SHENZHEN_MASK_FOLDERS` under `base_folder` that exists."""
    for name in SHENZHEN_MASK_FOLDERS:
        if os.path.isdir(os.path.join(base_folder, name)):
            return os.path.join(base_folder, name)
    raise FileNotFoundError(f"{base_folder}: no Shenzhen mask folder ({', '.join(SHENZHEN_MASK_FOLDERS)})")


def shenzhen_cases(base_folder: str) -> list[Case]:
    """Shenzhen cases with a released mask (`CHNCXR_XXXX_Y_mask.png`); a mask without its film raises."""
    image_folder = os.path.join(base_folder, "CXR_png")
    images = {case_name(n): n for n in image_files(image_folder, "Shenzhen image (CXR_png)") if SHENZHEN_NAME.match(n)}
    mask_folder = shenzhen_mask_folder(base_folder)
    cases = []
    for name in image_files(mask_folder, "Shenzhen mask"):
        stem = case_name(name)
        if not stem.endswith(MASK_SUFFIX):
            continue
        image = images.get(stem[: -len(MASK_SUFFIX)])
        if image is None:
            raise FileNotFoundError(f"{os.path.join(mask_folder, name)}: no image "
                                    f"{stem[: -len(MASK_SUFFIX)]}.png in {image_folder} for this mask")
        cases.append(Case(case_name(image), os.path.join(image_folder, image), (os.path.join(mask_folder, name),)))
    return sorted(cases, key=lambda c: c.case_id)


def paired_cases(base_folder: str, images: str = "cxr", masks: str = "masks") -> list[Case]:
    """Cases of `base_folder/images` with the mask of the same stem in `base_folder/masks`; an image without a
    mask, or a mask without an image, raises."""
    image_folder, mask_folder = os.path.join(base_folder, images), os.path.join(base_folder, masks)
    images_by_stem = {case_name(n): n for n in image_files(image_folder, "image")}
    masks_by_stem = {case_name(n): n for n in image_files(mask_folder, "mask")}
    for stem, name in images_by_stem.items():
        if stem not in masks_by_stem:
            raise FileNotFoundError(f"{os.path.join(mask_folder, stem)}.*: mask missing for image "
                                    f"{os.path.join(image_folder, name)}")
    for stem, name in masks_by_stem.items():
        if stem not in images_by_stem:
            raise FileNotFoundError(f"{os.path.join(mask_folder, name)}: no image {stem}.* in {image_folder} "
                                    "for this mask")
    return [Case(stem, os.path.join(image_folder, name), (os.path.join(mask_folder, masks_by_stem[stem]),))
            for stem, name in sorted(images_by_stem.items())]


def xray_cases(base_folder: str, layout: str, case_pattern: str | None = None) -> list[Case]:
    """The cases of `base_folder` in `layout` (one of XRAY_LAYOUTS), those whose id matches the regular expression
    `case_pattern` (whole id) when given."""
    readers = {"montgomery": montgomery_cases, "shenzhen": shenzhen_cases, "paired": paired_cases}
    if layout not in readers:
        raise ValueError(f"layout must be one of {XRAY_LAYOUTS}, not {layout!r}")
    cases = readers[layout](base_folder)
    if case_pattern:
        pattern = re.compile(case_pattern)
        cases = [c for c in cases if pattern.fullmatch(c.case_id)]
    if not cases:
        raise FileNotFoundError(f"{base_folder}: no {layout} cases" + (f" matching {case_pattern!r}"
                                                                        if case_pattern else ""))
    return cases


def read_xray_case(case: Case, separate_labels: bool) -> tuple[np.ndarray, np.ndarray]:
    """(image float32 [y, x] in the X-ray grey-value convention (`preprocessing.xray_io`), lung labels uint8 [y, x]:
    right lung 1 and left lung 2 when `separate_labels`, else lungs 1). A mask of another size than its image
    raises ImageReadError naming the mask."""
    image, _ = read_xray(case.image_path)
    masks = []
    for path in case.label_paths:
        mask, _ = read_image(path, ndim=2)
        if mask.shape != image.shape:
            raise ImageReadError(path, f"mask is {mask.shape[1]}x{mask.shape[0]} pixels, its image "
                                       f"{case.image_path} {image.shape[1]}x{image.shape[0]}")
        masks.append(mask)
    return image, lung_labels(masks, separate_labels)
