"""Lesion statistics of an AutoPET folder, the figures AutoPET's publications give: the share of lesion-free
studies, lesions per study with lesions (26-connected components, as the published count), lesion volumes, the total
lesion volume (MTV) per study, lesion uptake (SUV of the lesion voxels) and lesion sizes in voxels of a network grid.

Run it on the real AutoPET release and on phantoms of `preprocessing.synthetic autopet` to compare the two.

Usage: python -m interactive.lesion_statistics --dataset_folder AUTOPET [--network_spacing_mm 3,2.03642011,2.03642011]
       [--statistics_json OUT.json]
Docs: docs/interactive.md
"""
from __future__ import annotations

import preprocessing.quiet_startup  # noqa: F401 - first: hides TensorFlow's C++ start-up lines

import dataclasses
import json

import numpy as np
from absl import app, flags
from tqdm import tqdm

from interactive.config import InteractiveConfig
from interactive.lesion_fit import lesion_components
from preprocessing.atomic import atomic_path
from preprocessing.cases import Case, autopet_cases
from preprocessing.image_io import read_image

flags.DEFINE_string("dataset_folder", None, "AutoPET folder (imagesTr/ + labelsTr/, or FDG-PET-CT-Lesions/).")
flags.DEFINE_list("network_spacing_mm", [str(v) for v in InteractiveConfig().spacing_mm],
                  "Network grid spacing (mm, z, y, x) for the lesion sizes in voxels (default: the original's).")
flags.DEFINE_string("statistics_json", None, "Also write the statistics and every lesion's figures here.")
flags.mark_flag_as_required("dataset_folder")
FLAGS = flags.FLAGS


@dataclasses.dataclass(frozen=True)
class StudyLesions:
    """The lesions of one study.

    Attributes:
        case_id: the study.
        volumes_ml: each lesion's volume (mL).
        suv_max: each lesion's highest SUV.
        voxel_suv: the SUV of every lesion voxel.
    """

    case_id: str
    volumes_ml: np.ndarray
    suv_max: np.ndarray
    voxel_suv: np.ndarray


def study_lesions(case_id: str, pet: np.ndarray, label: np.ndarray, spacing_mm: tuple[float, ...]) -> StudyLesions:
    """The 26-connected lesions of `label` (> 0) with the PET `pet` (SUV), both [z, y, x] with voxel size
    `spacing_mm` (z, y, x)."""
    components = lesion_components(label > 0)
    count = int(components.max())
    inside = components > 0
    sizes = np.bincount(components[inside], minlength=count + 1)[1:]
    suv_max = np.full(count, -np.inf)
    np.maximum.at(suv_max, components[inside] - 1, pet[inside])
    voxel_ml = float(np.prod(spacing_mm)) / 1000.0
    return StudyLesions(case_id, sizes * voxel_ml, suv_max, pet[inside].astype(np.float64))


def quartiles(values: np.ndarray) -> dict:
    """{'median', 'q1', 'q3', 'min', 'max', 'mean', 'n'} of `values` (NaN figures when empty)."""
    values = np.asarray(values, np.float64)
    if values.size == 0:
        return {"n": 0, **{k: float("nan") for k in ("median", "q1", "q3", "min", "max", "mean")}}
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    return {"n": int(values.size), "median": float(median), "q1": float(q1), "q3": float(q3),
            "min": float(values.min()), "max": float(values.max()), "mean": float(values.mean())}


def summarize(studies: list[StudyLesions], network_spacing_mm: tuple[float, ...]) -> dict:
    """The dataset's figures: lesion-free share; per study with lesions, the lesion count and the MTV (mL); per
    lesion, the volume (mL), the volume in voxels of the network grid and SUVmax; the SUV of all lesion voxels."""
    positive = [s for s in studies if s.volumes_ml.size]
    volumes = np.concatenate([s.volumes_ml for s in positive]) if positive else np.zeros(0)
    network_voxel_ml = float(np.prod(network_spacing_mm)) / 1000.0
    return {"studies": len(studies), "lesion_free": len(studies) - len(positive),
            "lesion_free_fraction": (len(studies) - len(positive)) / max(len(studies), 1),
            "lesions_per_positive_study": quartiles([s.volumes_ml.size for s in positive]),
            "mtv_ml_per_positive_study": quartiles([s.volumes_ml.sum() for s in positive]),
            "lesion_volume_ml": quartiles(volumes),
            "lesion_network_voxels": quartiles(volumes / network_voxel_ml),
            "lesion_suv_max": quartiles(np.concatenate([s.suv_max for s in positive]) if positive else []),
            "lesion_voxel_suv": quartiles(np.concatenate([s.voxel_suv for s in positive]) if positive else [])}


def read_study(case: Case) -> StudyLesions:
    """A study's lesions from its PET (SUV) and lesion mask (on the PET's grid)."""
    pet, geometry = read_image(case.image_path)
    label, _ = read_image(case.label_paths[0])
    if label.shape != pet.shape:
        raise ValueError(f"{case.label_paths[0]}: lesion mask of shape {label.shape}, PET {pet.shape}")
    return study_lesions(case.case_id, pet, label, tuple(geometry.spacing[::-1]))


def report_lines(summary: dict) -> list[str]:
    """The summary as a table: one row per figure with median, quartiles, range and mean."""
    lines = [f"{summary['studies']} studies, {summary['lesion_free']} lesion-free "
             f"({summary['lesion_free_fraction']:.1%})",
             f"{'figure':<28} {'n':>6} {'median':>9} {'q1':>9} {'q3':>9} {'min':>9} {'max':>9} {'mean':>9}"]
    for key in ("lesions_per_positive_study", "mtv_ml_per_positive_study", "lesion_volume_ml",
                "lesion_network_voxels", "lesion_suv_max", "lesion_voxel_suv"):
        row = summary[key]
        lines.append(f"{key:<28} {row['n']:>6} " + " ".join(f"{row[k]:>9.2f}"
                                                          for k in ("median", "q1", "q3", "min", "max", "mean")))
    return lines


def main(argv: list[str]) -> None:
    del argv
    cases = autopet_cases(FLAGS.dataset_folder)
    studies = [read_study(case) for case in tqdm(cases, desc="studies")]
    summary = summarize(studies, tuple(float(v) for v in FLAGS.network_spacing_mm))
    print("\n".join(report_lines(summary)))
    if FLAGS.statistics_json:
        lesions = [{"case": s.case_id, "volumes_ml": s.volumes_ml.tolist(), "suv_max": s.suv_max.tolist()}
                   for s in studies]
        with atomic_path(FLAGS.statistics_json) as temp, open(temp, "w") as handle:
            json.dump({"summary": summary, "studies": lesions}, handle, indent=1)


if __name__ == "__main__":
    app.run(main)
