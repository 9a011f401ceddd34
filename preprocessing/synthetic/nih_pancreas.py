"""Abdominal CT phantoms in the NIH Pancreas-CT (TCIA) layout: a DICOM series per case and a pancreas label.

The phantom is the abdominal one of `flare21` (liver, kidneys, spleen, vessels, spine, fat) at the NIH
acquisition ranges, contrast-enhanced as NIH Pancreas-CT is (the pancreas at 90-130 HU in a rim of fat, as a real
pancreas sits in peripancreatic fat); only its pancreas (a thin, elongated organ next to other enhanced organs) is
labelled (1). Layout::

    Pancreas-CT/PANCREAS_0001/<study>/<series>/1-001.dcm ...
    TCIA_pancreas_labels-02-05-2017/label0001.nii.gz
"""
from __future__ import annotations

import os

import numpy as np

from preprocessing.image_io import write_image
from preprocessing.synthetic import flare21
from preprocessing.synthetic.dicom import write_ct_series

LABEL_FOLDER = "TCIA_pancreas_labels-02-05-2017"


def nih_config(in_plane_size: int = 512) -> flare21.Flare21PhantomConfig:
    """NIH Pancreas-CT acquisitions: 512 x 512 slices over a 340-500 mm field of view, 1.5-2.5 mm apart, in the
    portal-venous phase: the pancreas enhanced to 90-130 HU and wrapped in 2-6 mm of fat."""
    return flare21.Flare21PhantomConfig(in_plane_size=in_plane_size, fov_mm=(340.0, 500.0),
                                        slice_thickness_mm=(1.5, 2.5), axial_extent_mm=(240.0, 340.0),
                                        pancreas_hu=(90.0, 130.0), pancreas_fat_mm=(2.0, 6.0))


def write_dataset(output_folder: str, num_cases: int, seed: int = 0,
                  config: flare21.Flare21PhantomConfig | None = None, progress: bool = True) -> list[str]:
    """Writes cases PANCREAS_0001.. (series folders and label files); returns their paths."""
    from tqdm import tqdm

    rng = np.random.default_rng(seed)
    config = config or nih_config()
    written = []
    for number in tqdm(range(1, num_cases + 1), desc="NIH pancreas phantoms", disable=not progress):
        image, label, geometry = flare21.phantom(rng, config)
        study = f"11-24-2015-PANCREAS{number:04d}-Pancreas-{rng.integers(10000, 99999)}"
        series = f"Pancreas-{rng.integers(10000, 99999)}"
        folder = os.path.join(output_folder, "Pancreas-CT", f"PANCREAS_{number:04d}", study, series)
        write_ct_series(folder, image, geometry, f"PANCREAS_{number:04d}", f"{seed}.{number}")
        label_path = os.path.join(output_folder, LABEL_FOLDER, f"label{number:04d}.nii.gz")
        write_image((label == flare21.PANCREAS).astype(np.uint8), geometry, label_path)
        written += [folder, label_path]
    return written
