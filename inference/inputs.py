"""What a batch is made of: input paths grouped into cases (nnU-Net channel files, DICOM series folders),
with side inputs (e.g. clicks) found by case name, and the reading of a case's channels.

Channel files follow the nnU-Net convention: `CASE_0000.nii.gz`, `CASE_0001.nii.gz`, ... are the channels
0, 1, ... of case `CASE` (FLARE21's `validation_000_0000.nii.gz` is the single channel of
`validation_000`). Any other file, and every DICOM series folder (NIH's `PANCREAS_0001` too), is a one-channel
case named after it.
"""
from __future__ import annotations

import dataclasses
import os
import re

import numpy as np

from preprocessing.image_geometry import ImageGeometry
from preprocessing.image_io import IMAGE_SUFFIXES, ImageReadError, case_name, read_image
from preprocessing.xray_io import read_xray

CHANNEL_FILE = re.compile(r"^(?P<case>.+)_(?P<channel>\d{4})$")


@dataclasses.dataclass(frozen=True)
class CaseInput:
    """One case of a batch.

    Attributes:
        name: the case name; outputs are `<name><suffix>`.
        channels: the channel inputs in order (files or DICOM series folders).
        side_inputs: {side input name: file path} where the case has one (e.g. 'clicks' -> CASE.json).
        problem: why the case cannot run, found when grouping (one line naming its input), or ''.
    """

    name: str
    channels: tuple[str, ...]
    side_inputs: dict[str, str] = dataclasses.field(default_factory=dict)
    problem: str = ""


@dataclasses.dataclass(frozen=True)
class CaseImages:
    """The read channels of a case on one grid: arrays in (z, y, x) / (y, x) order and their geometry."""

    channels: tuple[np.ndarray, ...]
    geometry: ImageGeometry


def list_inputs(input_path: str) -> list[str]:
    """Input images: a single file; a DICOM series folder; or a folder's image files and series subfolders."""
    if os.path.isfile(input_path):
        return [input_path]
    if not os.path.isdir(input_path):
        raise FileNotFoundError(f"{input_path}: input path not found")
    entries = sorted(e for e in os.listdir(input_path) if not e.startswith("."))
    images = [os.path.join(input_path, e) for e in entries
              if os.path.isdir(os.path.join(input_path, e)) or e.lower().endswith(IMAGE_SUFFIXES)]
    if images:
        return images
    if entries:
        return [input_path]
    raise FileNotFoundError(f"{input_path}: input folder is empty")


def _channel_file(path: str, folders: frozenset[str] = frozenset()) -> re.Match | None:
    """The channel-file match of a file name (None for other names and for folders: local ones, and `folders`,
    series folders on another file system)."""
    return None if path in folders or os.path.isdir(path) else CHANNEL_FILE.match(case_name(path))


def output_name(input_path: str) -> str:
    """The case name of an input: 'validation_000_0000.nii.gz' -> 'validation_000', 'x.png' -> 'x', a series
    folder 'PANCREAS_0001' -> 'PANCREAS_0001'."""
    match = _channel_file(input_path)
    return match.group("case") if match else case_name(input_path)


def group_cases(paths: list[str], folders: frozenset[str] = frozenset()) -> list[CaseInput]:
    """Groups input paths into cases: channel files of one case together, ordered by channel number; a folder
    (local, or one of `folders`: DICOM series folders on another file system) is a case named after it. Inputs that
    would give one output name (`x.png` and `x.jpg`; `case_0000.nii.gz` and `case.mha`; two patients' series
    folders `CT`) are each a case of their own with a problem naming the others (by file name within a folder, by
    path across folders), so that none overwrites another's output."""
    groups: dict[str, list[tuple[int, str]]] = {}
    for path in paths:
        match = _channel_file(path, folders)
        channel, name = (int(match.group("channel")), match.group("case")) if match else (0, case_name(path))
        groups.setdefault(name, []).append((channel, path))
    cases = []
    for name, members in sorted(groups.items()):
        channels = [channel for channel, _ in members]
        if len(set(channels)) == len(channels):
            cases.append(CaseInput(name, tuple(path for _, path in sorted(members))))
            continue
        paths = sorted(path for _, path in members)
        for path in paths:
            others = ", ".join(os.path.basename(other) if os.path.dirname(other) == os.path.dirname(path) else other
                               for other in paths if other != path)
            problem = (f"{path}: gives the output name '{name}' as {others} does; rename one so that neither output "
                       "overwrites the other")
            cases.append(CaseInput(name, (path,), problem=problem))
    return cases


def missing_channels(case: CaseInput) -> list[int]:
    """Channel numbers below the highest one that the case lacks (channel files must be numbered 0..n-1)."""
    present = {int(match.group("channel")) for match in map(_channel_file, case.channels) if match}
    return sorted(set(range(max(present) + 1)) - present) if present else []


def with_side_inputs(cases: list[CaseInput], name: str, folder: str, suffix: str = ".json") -> list[CaseInput]:
    """Attaches `<folder>/<case><suffix>` as side input `name` to every case that has such a file."""
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{folder}: {name} folder not found")
    result = []
    for case in cases:
        path = os.path.join(folder, case.name + suffix)
        extra = {name: path} if os.path.isfile(path) else {}
        result.append(dataclasses.replace(case, side_inputs={**case.side_inputs, **extra}))
    return result


def read_case(case: CaseInput, ndim: int, channel_names: list[str], max_extent_mm: float | None = None) -> CaseImages:
    """Reads the channels of `case` (expected: one per name in `channel_names`, all on one grid); a volume longer
    than `max_extent_mm` along an axis (size x spacing) is refused as physically implausible. A radiograph (a 2D
    'XR' channel) is read in the X-ray networks' grey-value convention (`preprocessing.xray_io`)."""
    if len(case.channels) == 1 and len(channel_names) > 1 and not missing_channels(case):
        return _components_as_channels(case.channels[0], ndim, channel_names, max_extent_mm)
    if len(case.channels) != len(channel_names):
        raise ImageReadError(case.channels[0], f"case '{case.name}' has {len(case.channels)} channel file(s), "
                             f"the model set expects {len(channel_names)} ({', '.join(channel_names)})")
    gaps = missing_channels(case)
    if gaps:
        raise ImageReadError(case.channels[0], f"case '{case.name}' lacks channel file(s) "
                             + ", ".join(f"_{g:04d}" for g in gaps))
    arrays, geometry = [], None
    for path in case.channels:
        array, channel_geometry = read_xray(path) if (ndim, channel_names) == (2, ["XR"]) else read_image(path, ndim)
        if geometry is not None and not channel_geometry.same_grid(geometry):
            raise ImageReadError(path, f"channel grid differs from {case.channels[0]}")
        arrays.append(array)
        geometry = geometry or channel_geometry
    _check_extent(case.channels[0], geometry, max_extent_mm)
    return CaseImages(tuple(arrays), geometry)


def _check_extent(path: str, geometry: ImageGeometry, max_extent_mm: float | None) -> None:
    extent = np.array(geometry.size) * np.array(geometry.spacing)
    if max_extent_mm is not None and geometry.ndim == 3 and (extent > max_extent_mm).any():
        raise ImageReadError(path, f"extent {' x '.join(f'{e:.0f}' for e in extent)} mm (x, y, z) "
                             f"exceeds {max_extent_mm:g} mm along an axis: implausible for a scan "
                             "(--max_extent_mm allows it)")


def _components_as_channels(path: str, ndim: int, channel_names: list[str], max_extent_mm: float | None
                            ) -> CaseImages:
    """The channels of a set taking several from one file whose voxels have that many components."""
    array, geometry = read_image(path, ndim, components=True)
    if array.ndim != geometry.ndim + 1 or array.shape[-1] != len(channel_names):
        components = array.shape[-1] if array.ndim > geometry.ndim else 1
        raise ImageReadError(path, f"has {components} component(s) per voxel; the model set expects "
                             f"{len(channel_names)} channels ({', '.join(channel_names)}) as channel files or "
                             "components")
    _check_extent(path, geometry, max_extent_mm)
    return CaseImages(tuple(np.ascontiguousarray(array[..., i]) for i in range(array.shape[-1])), geometry)
