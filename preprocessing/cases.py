"""Case lists from the dataset layouts the toolkit accepts, and label loading for each.

Layouts (exactly as the public datasets ship):
- FLARE21: `TrainingImg/train_XXX_0000.nii.gz`, `TrainingMask/train_XXX.nii.gz`,
  `ValidationImg/validation_XXX_0000.nii.gz` (optional `ValidationMask/validation_XXX.nii.gz`).
- Montgomery County chest X-ray set: `CXR_png/MCUCXR_XXXX_Y.png` with masks of the same name in
  `ManualMask/leftMask/` and `ManualMask/rightMask/` (0 / 255).
- NIH Pancreas-CT (TCIA): `Pancreas-CT/PANCREAS_XXXX/<study>/<series>/*.dcm` (or `DOI/` instead of
  `Pancreas-CT/`) with labels `TCIA_pancreas_labels-<date>/labelXXXX.nii.gz`.
- AutoPET (FDG PET/CT whole body): nnU-Net style `imagesTr/CASE_0000.nii.gz` (PET, SUV), optionally
  `imagesTr/CASE_0001.nii.gz` (CT), `labelsTr/CASE.nii.gz`; or the original release's per-study folders
  `FDG-PET-CT-Lesions/<patient>/<study>/SUV.nii.gz`, `CTres.nii.gz`, `SEG.nii.gz`.
- Generic (nnU-Net style): `CASE_0000.nii.gz` images with `CASE.nii.gz` label maps, in one folder or a
  separate label folder.
"""
from __future__ import annotations

import dataclasses
import os
import re

import numpy as np

from preprocessing.image_geometry import ImageGeometry
from preprocessing.atomic import full_suffix
from preprocessing.image_io import IMAGE_SUFFIXES, ImageReadError, case_name, largest_file_folder, read_image

CHANNEL_SUFFIX = "_0000"


@dataclasses.dataclass(frozen=True)
class Case:
    """One image with its label files.

    Attributes:
        case_id: identifier used in fold files and output names ('train_000', 'MCUCXR_0001_0').
        image_path: the image file or DICOM series folder.
        label_paths: () for unlabelled cases; one label map; or several binary masks that are
            merged into one label map (mask i -> label i + 1, see `merge_masks`).
        more_channels: further image channels on the image's grid, in channel order (_0001, ...).
    """

    case_id: str
    image_path: str
    label_paths: tuple[str, ...] = ()
    more_channels: tuple[str, ...] = ()


def image_files(folder: str, what: str = "dataset") -> list[str]:
    """Sorted image file names of `folder` (no hidden files); a missing folder raises '<folder>: <what> folder not
    found'."""
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{folder}: {what} folder not found")
    return sorted(name for name in os.listdir(folder)
                  if not name.startswith(".") and any(name.lower().endswith(s) for s in IMAGE_SUFFIXES))


def _channel_cases(image_folder: str, label_folder: str | None, require_labels: bool) -> list[Case]:
    cases = []
    for name in image_files(image_folder):
        stem = case_name(name)
        if not stem.endswith(CHANNEL_SUFFIX):
            continue
        case_id = stem[: -len(CHANNEL_SUFFIX)]
        suffix = name[len(stem):]
        labels: tuple[str, ...] = ()
        if label_folder is not None:
            label = os.path.join(label_folder, case_id + suffix)
            if os.path.exists(label):
                labels = (label,)
            elif require_labels:
                raise FileNotFoundError(f"{label}: label map missing for image {os.path.join(image_folder, name)}")
        cases.append(Case(case_id, os.path.join(image_folder, name), labels))
    return cases


def flare21_cases(base_folder: str, split: str = "training") -> list[Case]:
    """Cases of a FLARE21 folder.

    Args:
        split: 'training' (TrainingImg + TrainingMask, labels required) or 'validation'
            (ValidationImg, with ValidationMask labels where present).
    """
    if split == "training":
        return _channel_cases(os.path.join(base_folder, "TrainingImg"), os.path.join(base_folder, "TrainingMask"),
                              require_labels=True)
    if split == "validation":
        return _channel_cases(os.path.join(base_folder, "ValidationImg"),
                              os.path.join(base_folder, "ValidationMask"), require_labels=False)
    raise ValueError(f"unknown FLARE21 split {split!r}; expected 'training' or 'validation'")


MONTGOMERY_NAME = re.compile(r"^MCUCXR_\d{4}_[01]\.png$")


def montgomery_cases(base_folder: str) -> list[Case]:
    """Cases of the Montgomery County set: label_paths = (left lung mask, right lung mask)."""
    image_folder = os.path.join(base_folder, "CXR_png")
    cases = []
    for name in image_files(image_folder):
        if not MONTGOMERY_NAME.match(name):
            continue
        masks = tuple(os.path.join(base_folder, "ManualMask", side, name) for side in ("leftMask", "rightMask"))
        missing = [m for m in masks if not os.path.exists(m)]
        if missing:
            raise FileNotFoundError(f"{missing[0]}: lung mask missing for image {os.path.join(image_folder, name)}")
        cases.append(Case(case_name(name), os.path.join(image_folder, name), masks))
    return cases


NIH_CASE = re.compile(r"^PANCREAS_(\d{4})$")
NIH_IMAGE_FOLDERS = ("Pancreas-CT", "DOI")
NIH_LABEL_FOLDER = re.compile(r"^TCIA_pancreas_labels")
NIH_LABEL_FILE = re.compile(r"^label(\d{4})$")


def nih_case_of_label(name: str) -> str | None:
    """The NIH case a label file belongs to by its case name: 'label0001' -> 'PANCREAS_0001' (None otherwise)."""
    match = NIH_LABEL_FILE.match(name)
    return f"PANCREAS_{match.group(1)}" if match else None


def nih_pancreas_cases(base_folder: str) -> list[Case]:
    """Cases of the NIH Pancreas-CT release, sorted by case number: image_path = the case's DICOM series
    folder, label_paths = (labelXXXX.nii.gz,). Every case needs its label."""
    image_root = next((os.path.join(base_folder, name) for name in NIH_IMAGE_FOLDERS
                       if os.path.isdir(os.path.join(base_folder, name))), None)
    if image_root is None:
        raise FileNotFoundError(f"{base_folder}: no {' or '.join(NIH_IMAGE_FOLDERS)} folder (NIH Pancreas-CT layout)")
    label_roots = sorted(name for name in os.listdir(base_folder) if NIH_LABEL_FOLDER.match(name)
                         and os.path.isdir(os.path.join(base_folder, name)))
    if not label_roots:
        raise FileNotFoundError(f"{base_folder}: no TCIA_pancreas_labels-* folder (NIH Pancreas-CT layout)")
    cases = []
    for name in sorted(os.listdir(image_root)):
        match = NIH_CASE.match(name)
        if not match:
            continue
        label = os.path.join(base_folder, label_roots[0], f"label{match.group(1)}.nii.gz")
        if not os.path.exists(label):
            raise FileNotFoundError(f"{label}: label missing for {os.path.join(image_root, name)}")
        cases.append(Case(name, largest_file_folder(os.path.join(image_root, name)), (label,)))
    return cases


AUTOPET_STUDIES_FOLDER = "FDG-PET-CT-Lesions"
AUTOPET_STUDY_FILES = ("SUV.nii.gz", "CTres.nii.gz", "SEG.nii.gz")


def _autopet_studies(root: str) -> list[Case]:
    cases = []
    for patient in sorted(os.listdir(root)):
        folder = os.path.join(root, patient)
        if patient.startswith(".") or not os.path.isdir(folder):
            continue
        studies = sorted(name for name in os.listdir(folder)
                         if os.path.isfile(os.path.join(folder, name, AUTOPET_STUDY_FILES[0])))
        for study in studies:
            pet, ct, seg = (os.path.join(folder, study, name) for name in AUTOPET_STUDY_FILES)
            case_id = patient if len(studies) == 1 else f"{patient}_{study[:10]}"
            cases.append(Case(case_id, pet, (seg,) if os.path.exists(seg) else (), (ct,) if os.path.exists(ct) else ()))
    return cases


def autopet_cases(base_folder: str, channels: int = 1, require_labels: bool = True) -> list[Case]:
    """Cases of an AutoPET folder in either layout (see the module docstring): image_path = the PET (SUV),
    more_channels = (the CT,) when `channels` is 2, label_paths = (the lesion mask,) where present. A folder
    with `imagesTr/` is read as nnU-Net style, else `FDG-PET-CT-Lesions/` (or `base_folder` itself) as the per-study
    release. A case without its label (when required) or its CT (when asked for) is an error naming the file."""
    if os.path.isdir(os.path.join(base_folder, "imagesTr")):
        cases = [dataclasses.replace(case, more_channels=(os.path.join(
                     os.path.dirname(case.image_path), case.case_id + "_0001" + full_suffix(case.image_path)),))
                 for case in _channel_cases(os.path.join(base_folder, "imagesTr"),
                                            os.path.join(base_folder, "labelsTr"), require_labels)]
    else:
        root = os.path.join(base_folder, AUTOPET_STUDIES_FOLDER)
        cases = _autopet_studies(root if os.path.isdir(root) else base_folder)
        if require_labels:
            for case in cases:
                if not case.label_paths:
                    raise FileNotFoundError(f"{os.path.join(os.path.dirname(case.image_path), 'SEG.nii.gz')}: "
                                            f"lesion mask missing for {case.image_path}")
    if not cases:
        raise FileNotFoundError(f"{base_folder}: no AutoPET case (imagesTr/CASE_0000.nii.gz or "
                                f"{AUTOPET_STUDIES_FOLDER}/<patient>/<study>/SUV.nii.gz)")
    if channels == 1:
        return [dataclasses.replace(case, more_channels=()) for case in cases]
    for case in cases:
        ct = case.more_channels[0] if case.more_channels else os.path.join(os.path.dirname(case.image_path),
                                                                           AUTOPET_STUDY_FILES[1])
        if not os.path.exists(ct):
            raise FileNotFoundError(f"{ct}: CT missing for {case.image_path} (two channels need PET and CT)")
    return cases


def generic_cases(image_folder: str, label_folder: str | None = None, require_labels: bool = True) -> list[Case]:
    """`CASE_0000.<ext>` images with `CASE.<ext>` label maps (in `label_folder`, default the image folder)."""
    return _channel_cases(image_folder, label_folder or image_folder, require_labels)


def merge_masks(masks: list[np.ndarray], separate_labels: bool) -> np.ndarray:
    """Merges binary masks into one uint8 label map: mask i -> label i + 1, or all -> 1.

    Where masks overlap, the later mask wins.
    """
    label = np.zeros(masks[0].shape, np.uint8)
    for index, mask in enumerate(masks):
        label[mask > 0] = index + 1 if separate_labels else 1
    return label


def read_label(case: Case, ndim: int | None = None, separate_labels: bool = True) -> tuple[np.ndarray, ImageGeometry]:
    """The label map of `case` (uint8, array order) and its geometry; masks are merged by `merge_masks`."""
    if not case.label_paths:
        raise ImageReadError(case.image_path, "case has no label")
    arrays = []
    geometry = None
    for path in case.label_paths:
        array, geometry = read_image(path, ndim)
        arrays.append(array)
    if any(a.shape != arrays[0].shape for a in arrays):
        raise ImageReadError(case.label_paths[-1], "masks of one case differ in size")
    if len(arrays) == 1:
        return arrays[0].astype(np.uint8), geometry
    return merge_masks(arrays, separate_labels), geometry
