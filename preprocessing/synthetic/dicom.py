"""Writes a CT volume as a DICOM series the way scanners and TCIA releases store one: one file per slice,
unsigned stored values with a rescale intercept of -1024 HU, and the geometry and identity tags a reader needs
(Image Position / Orientation (Patient), Pixel Spacing, Slice Thickness, Instance Number, study / series / SOP
Instance UIDs, Frame of Reference UID)."""
from __future__ import annotations

import contextlib
import locale
import os
from collections.abc import Iterator

import numpy as np
import SimpleITK as sitk

from preprocessing.image_geometry import ImageGeometry

RESCALE_INTERCEPT = -1024
UID_ROOT = "1.2.826.0.1.3680043.2.1125"


def _decimal(values) -> str:
    return "\\".join(f"{float(v):.6f}".rstrip("0").rstrip(".") for v in values)


@contextlib.contextmanager
def _locale_kept() -> Iterator[None]:
    """Restores the process locale afterwards: GDCM's DICOM writer (behind SimpleITK) sets the C locale when it
    formats numeric tags, after which Python's default text encoding is ASCII."""
    saved = locale.setlocale(locale.LC_ALL)
    try:
        yield
    finally:
        locale.setlocale(locale.LC_ALL, saved)


def series_uids(uid_suffix: str, count: int) -> tuple[str, str, list[str]]:
    """(Study, Series and per-slice SOP Instance UIDs, in array order) that `write_ct_series` gives a series of
    `count` slices with `uid_suffix`."""
    return (f"{UID_ROOT}.1.{uid_suffix}", f"{UID_ROOT}.2.{uid_suffix}",
            [f"{UID_ROOT}.3.{uid_suffix}.{z + 1}" for z in range(count)])


def write_ct_series(folder: str, hu: np.ndarray, geometry: ImageGeometry, patient_id: str, uid_suffix: str,
                    file_names: list[str] | None = None) -> list[str]:
    """Writes `hu` (int16 [z, y, x]) with `geometry` as one file per slice into `folder`; returns the paths.

    Args:
        uid_suffix: digits that make the study / series / SOP UIDs of this series unique.
        file_names: one name per slice, in array order (default `1-001.dcm`, `1-002.dcm`, ... as TCIA names
            them, numbered from the top slice, as Instance Numbers are).
    """
    count = hu.shape[0]
    names = file_names or [f"1-{count - z:03d}.dcm" for z in range(count)]
    if len(names) != count:
        raise ValueError(f"{len(names)} file names for {count} slices")
    os.makedirs(folder, exist_ok=True)
    direction = np.asarray(geometry.direction).reshape(3, 3)
    study_uid, series_uid, sop_uids = series_uids(uid_suffix, count)
    writer = sitk.ImageFileWriter()
    writer.KeepOriginalImageUIDOn()
    paths = []
    with _locale_kept():  # GDCM's writer switches the process to the C locale
        for z in range(count):
            position = np.asarray(geometry.origin) + direction[:, 2] * geometry.spacing[2] * z
            # GDCM stores (HU - intercept) / slope and a reader gets HU back.
            image = sitk.GetImageFromArray(hu[z:z + 1].astype(np.int16))
            image.SetSpacing(geometry.spacing)
            image.SetOrigin(tuple(position))
            image.SetDirection(geometry.direction)
            tags = {
                "0008|0060": "CT", "0010|0020": patient_id, "0010|0010": patient_id,
                "0020|000d": study_uid, "0020|000e": series_uid, "0008|0018": sop_uids[z],
                "0020|0052": f"{UID_ROOT}.4.{uid_suffix}",
                "0008|0016": "1.2.840.10008.5.1.4.1.1.2",
                "0020|0032": _decimal(position), "0020|0037": _decimal(list(direction[:, 0]) + list(direction[:, 1])),
                "0028|0030": _decimal((geometry.spacing[1], geometry.spacing[0])),
                "0018|0050": _decimal((geometry.spacing[2],)), "0020|0013": str(count - z),
                "0028|1052": str(RESCALE_INTERCEPT), "0028|1053": "1", "0028|1054": "HU",
            }
            for key, value in tags.items():
                image.SetMetaData(key, value)
            path = os.path.join(folder, names[z])
            writer.SetFileName(path)
            writer.Execute(image)
            paths.append(path)
    return paths
