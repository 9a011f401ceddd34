"""Writes TrainingImg_small/ and TrainingMask_small/ of a FLARE21 folder at a coarse spacing.

The localization network is trained on these instead of the full-resolution volumes: reading and
resampling them is several times faster. Each axis finer than `--spacing` mm is resampled to it
(images linear with anti-aliasing, labels per-label linear); coarser axes are kept. Cases whose
outputs already exist are skipped unless --overwrite.

Usage: python -m preprocessing.downsample --base_dataset_folder DIR [--spacing 3.0] [--overwrite]
"""
from __future__ import annotations

import os

from absl import app, flags
from tqdm import tqdm

from preprocessing.cases import Case, flare21_cases, read_label
from preprocessing.geometry import resample_to_spacing
from preprocessing.image_io import read_image, write_image

FLAGS = flags.FLAGS
flags.DEFINE_string("base_dataset_folder", None, "FLARE21 folder with TrainingImg/ and TrainingMask/.")
flags.DEFINE_float("spacing", 3.0, "Coarse spacing in mm; axes already coarser are kept.")
flags.DEFINE_bool("overwrite", False, "Rewrite cases that already have outputs.")
flags.mark_flag_as_required("base_dataset_folder")


def small_paths(base_folder: str, case: Case) -> tuple[str, str]:
    """(image, label) output paths of `case` in TrainingImg_small/ and TrainingMask_small/."""
    return (os.path.join(base_folder, "TrainingImg_small", os.path.basename(case.image_path)),
            os.path.join(base_folder, "TrainingMask_small", os.path.basename(case.label_paths[0])))


def downsample_case(case: Case, image_path: str, label_path: str, spacing_mm: float) -> None:
    """Writes the image and label of `case` resampled so that no axis is finer than `spacing_mm`."""
    image, geometry = read_image(case.image_path, ndim=3)
    label, label_geometry = read_label(case, ndim=3)
    target = tuple(max(s, spacing_mm) for s in geometry.spacing)
    small_image, small_geometry = resample_to_spacing(image, geometry, target, "linear", float(image.min()),
                                                      antialias=True)
    small_label, _ = resample_to_spacing(label, label_geometry, target, "label_linear")
    write_image(small_image, small_geometry, image_path)
    write_image(small_label, small_geometry, label_path)


def main(argv: list[str]) -> None:
    del argv
    cases = flare21_cases(FLAGS.base_dataset_folder, "training")
    done = skipped = 0
    for case in tqdm(cases, desc="downsample"):
        image_path, label_path = small_paths(FLAGS.base_dataset_folder, case)
        if not FLAGS.overwrite and os.path.exists(image_path) and os.path.exists(label_path):
            skipped += 1
            continue
        downsample_case(case, image_path, label_path, FLAGS.spacing)
        done += 1
    print(f"downsampled {done} cases to {FLAGS.spacing} mm, skipped {skipped} already done "
          f"({os.path.join(FLAGS.base_dataset_folder, 'TrainingImg_small')})")


if __name__ == "__main__":
    app.run(main)
