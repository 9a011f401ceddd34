"""The cases of a cohort, found through Beam's `FileSystems` (a local path or an object store the installed Beam
extras support) and grouped exactly as the entrypoint groups a folder (`inference.inputs.group_cases`): nnU-Net
channel files `CASE_0000`, `CASE_0001`, ... form one case, every other image file is a case, and the DICOM files of
one folder form one series case named after the folder (a lone `.dcm` file is a case of its own, as a radiograph).

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
    cases = [CohortCase(case, tuple((p,) for p in case.channels)) for case in group_cases(sorted(files))]
    cases += [CohortCase(CaseInput(posixpath.basename(folder), (folder,)), (tuple(members),))
              for folder, members in series.items() if len(members) > 1]
    return sorted(_distinct_names(cases), key=lambda c: c.case.name)


def _distinct_names(cases: list[CohortCase]) -> list[CohortCase]:
    """The cases, each case whose output name another one also has (two series folders 'CT' in different
    patients' folders, a folder 'x' beside 'x.nii.gz') given a problem naming the others, so that no output
    overwrites another's (as `group_cases` does within a folder)."""
    by_name: dict[str, list[CohortCase]] = {}
    for element in cases:
        by_name.setdefault(element.case.name, []).append(element)
    result = []
    for name, group in by_name.items():
        for element in group:
            if len(group) > 1 and not element.case.problem:
                source = element.case.channels[0]
                others = ", ".join(e.case.channels[0] for e in group if e is not element)
                problem = (f"{source}: gives the output name '{name}' as {others} does; segment them into "
                           "different output paths")
                element = CohortCase(dataclasses.replace(element.case, problem=problem), element.channel_files)
            result.append(element)
    return result
