"""The cases of a cohort, found through Beam's `FileSystems` (a local path or an object store the installed Beam
extras support) and grouped exactly as the entrypoint groups a folder (`inference.inputs.group_cases`): nnU-Net
channel files `CASE_0000`, `CASE_0001`, ... form one case, every other image file is a case, and the DICOM files of
one folder form one series case named after the folder (a lone `.dcm` file is a case of its own, as a radiograph);
inputs that would give one output name fail with a line naming each other, as the entrypoint's do.

A pattern without wildcards that names a local folder is listed as the entrypoint lists `--input_path`.
"""
from __future__ import annotations

import dataclasses
import os
import posixpath

from apache_beam.io.filesystems import FileSystems

from inference.inputs import CaseInput, group_cases, list_inputs
from preprocessing.atomic import full_suffix
from preprocessing.image_io import IMAGE_SUFFIXES

DICOM_SUFFIX = ".dcm"


@dataclasses.dataclass(frozen=True)
class CohortCase:
    """One element of the pipeline: the case (channel paths: files or series folders; a grouping problem in its
    `problem`) and the files of each channel (one file, or a series' files)."""

    case: CaseInput
    channel_files: tuple[tuple[str, ...], ...]


def _is_dicom(path: str) -> bool:
    """A DICOM file name: '.dcm', or no suffix at all (as many scanners write them)."""
    return full_suffix(posixpath.basename(path)).lower() in (DICOM_SUFFIX, "")


def _series_files(folder: str) -> tuple[str, ...]:
    return tuple(sorted(m.path for m in FileSystems.match([FileSystems.join(folder, "*")])[0].metadata_list
                        if not posixpath.basename(m.path).startswith(".")))


def cohort_cases(input_pattern: str) -> list[CohortCase]:
    """The cases of `input_pattern` (a glob such as 'gs://bucket/ct/*.nii.gz' or '/data/cohort/*/*', or a local
    folder), sorted by name; FileNotFoundError when it matches nothing."""
    if os.path.isdir(input_pattern):
        paths = list_inputs(input_pattern)
        return [CohortCase(case, tuple(_series_files(p) if os.path.isdir(p) else (p,) for p in case.channels))
                for case in group_cases(paths)]
    matched = sorted(m.path for m in FileSystems.match([input_pattern])[0].metadata_list)
    if not matched:
        raise FileNotFoundError(f"{input_pattern}: matches no file")
    series: dict[str, list[str]] = {}
    files = []
    for path in matched:
        if _is_dicom(path) and not posixpath.basename(path).startswith("."):
            series.setdefault(posixpath.dirname(path), []).append(path)
        elif full_suffix(path).lower() in IMAGE_SUFFIXES:
            files.append(path)
    files += [members[0] for members in series.values()
              if len(members) == 1 and members[0].lower().endswith(DICOM_SUFFIX)]
    folders = {folder: tuple(members) for folder, members in series.items() if len(members) > 1}
    cases = group_cases(sorted(files + list(folders)), frozenset(folders))
    return [CohortCase(case, tuple(folders.get(p, (p,)) for p in case.channels)) for case in cases]
