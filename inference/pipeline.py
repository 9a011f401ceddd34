"""The base of every system's inference pipeline: a model set in, per case inputs -> result -> files out.

A system subclasses `Pipeline` in its own package (`<system>/pipeline.py`), sets `output_suffix` and
implements `predict`; the runtime loads it through `inference.registry` and runs each case through its
`load`, `compute` and `save` (`inference.batch.CaseStages`).
Volumes reach `predict` in canonical orientation (`preprocessing.orientation`: index axes along LPS, by
axis permutations and flips only), and its labels go back exactly onto the input's grid.
"""
from __future__ import annotations

import dataclasses
import os
import time

import numpy as np
import pydicom

from inference.batch import CaseReport
from inference.dicom_seg import SEG_SUFFIX, radiograph_segmentation, save_dicom, series_segmentation
from inference.inputs import CaseImages, CaseInput, read_case
from inference.model_sets import ModelSet
from inference.results import LabelMap, write_result
from preprocessing.image_geometry import ImageGeometry
from preprocessing.orientation import Reorientation, to_canonical
from serving.loading import load_member, read_metadata


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """Settings of a run shared by the pipelines.

    Attributes:
        batch_size: windows (or slices) per network call.
        overlap: sliding-window overlap, 0 <= overlap < 1; None: the model set's own (`Pipeline.overlap`).
        keep_spacing: never enlarge a network's spacing to fit a large region into its largest input; run a
            sliding window over the region instead (an addition; the original enlarges the spacing).
        max_extent_mm: volumes longer than this along an axis (mm) are refused as implausible (a wrong spacing
            in the header would otherwise cost many times the time and memory).
        dicom_seg: also write `<case>.seg.dcm`, a DICOM Segmentation object referencing the input series, for
            cases whose input is a DICOM series (`inference.dicom_seg`).
    """

    batch_size: int = 1
    overlap: float | None = None
    keep_spacing: bool = False
    max_extent_mm: float = 2000.0
    dicom_seg: bool = False


def canonical_images(images: CaseImages) -> tuple[CaseImages, Reorientation | None]:
    """The channels of a volume in canonical orientation, and the reorientation that undoes it (None for 2D
    images, which are left as they are: radiographs have no patient axes to match)."""
    if images.geometry.ndim != 3:
        return images, None
    converted = [to_canonical(channel, images.geometry) for channel in images.channels]
    return CaseImages(tuple(c[0] for c in converted), converted[0][1]), converted[0][2]


@dataclasses.dataclass(frozen=True)
class LoadedCase:
    """A case read: the input's geometry, its channels in canonical orientation and the reorientation back."""

    geometry: ImageGeometry
    canonical: CaseImages
    reorientation: Reorientation | None


@dataclasses.dataclass(frozen=True)
class ComputedCase:
    """A case's result on the input's grid, its DICOM SEG (or None) and the note for the summary."""

    result: LabelMap
    seg: pydicom.Dataset | None
    note: str


class Pipeline:
    """Loads every member of a model set (checked against the manifest: system = its pipeline, role = its
    key) and runs cases in the batch's three steps (`inference.batch.CaseStages`): `load` the channels ->
    `compute` (`predict`) -> `save` the result atomically."""

    output_suffix = ".nii.gz"
    default_overlap = 0.5
    """Sliding-window overlap of the pipeline's networks when `RunOptions.overlap` is None (a subclass sets its
    original's)."""

    def __init__(self, model_set: ModelSet, options: RunOptions):
        self.model_set = model_set
        self.options = options
        manifest = model_set.manifest
        self.members = {role: load_member(os.path.join(model_set.folder, folder), manifest["pipeline"], role)
                        for role, folder in manifest["members"].items()}
        self.metadata = {role: read_metadata(member) for role, member in self.members.items()}
        self.label_names = {int(k): v for k, v in manifest["labels"].items()}

    @property
    def overlap(self) -> float:
        """The run's sliding-window overlap: `--overlap` when given, else the pipeline's `default_overlap`."""
        return self.default_overlap if self.options.overlap is None else self.options.overlap

    def read(self, case: CaseInput) -> CaseImages:
        """The case's channels, on one grid, as the manifest describes them."""
        manifest = self.model_set.manifest
        return read_case(case, manifest["dimensionality"], manifest["input_channels"], self.options.max_extent_mm)

    def predict(self, images: CaseImages, side_inputs: dict[str, str]) -> LabelMap:
        """The result of one case on its input grid (with seconds per stage in `timings`)."""
        raise NotImplementedError

    def load(self, case: CaseInput) -> LoadedCase:
        """Reads a case's channels and puts them in canonical orientation (I/O and NumPy only: the batch runs it
        for the next case in a background thread)."""
        images = self.read(case)
        canonical, reorientation = canonical_images(images)
        return LoadedCase(images.geometry, canonical, reorientation)

    def compute(self, case: CaseInput, loaded: LoadedCase) -> ComputedCase:
        """`predict` on the canonical images, the result put back onto the input's grid, and the DICOM SEG when
        asked for (built before anything is written)."""
        result = self.predict(loaded.canonical, case.side_inputs)
        if loaded.reorientation is not None and not loaded.reorientation.is_identity:
            result = dataclasses.replace(result, geometry=loaded.geometry,
                                         labels=np.ascontiguousarray(loaded.reorientation.invert(result.labels)))
        notes = [result.note] if result.note else []
        seg = None
        if self.options.dicom_seg:
            seg, problem = self._dicom_seg(case, result)
            notes += [problem] if problem else []
        return ComputedCase(result, seg, "; ".join(notes))

    def save(self, case: CaseInput, computed: ComputedCase, output_base: str) -> CaseReport:
        """Writes `<output_base><output_suffix>` (after the SEG, if any: the label map's presence marks the case
        done); returns seconds per stage and the result's figures."""
        del case
        start = time.perf_counter()
        if computed.seg is not None:
            save_dicom(computed.seg, output_base + SEG_SUFFIX)
        write_result(computed.result, output_base, self.output_suffix)
        return CaseReport({**computed.result.timings, "write": time.perf_counter() - start}, computed.result.figures,
                          computed.note)

    def _dicom_seg(self, case: CaseInput, result: LabelMap) -> tuple[pydicom.Dataset | None, str]:
        """(the SEG of a case read from a DICOM series or a single-frame DICOM radiograph, or None with the reason
        for the summary: input not DICOM, nothing segmented). Built before anything is written and saved before the
        label map (whose presence marks a case done), so that an input it cannot reference fails the case with no
        output."""
        source = case.channels[0]
        if result.geometry.ndim == 2 and source.lower().endswith(".dcm"):
            seg = radiograph_segmentation(result.labels, source, result.label_names, self.model_set.name)
        elif result.geometry.ndim == 3 and os.path.isdir(source):
            seg = series_segmentation(result.labels, source, result.label_names, self.model_set.name)
        else:
            return None, "no DICOM SEG: the input is not DICOM"
        return seg, "" if seg is not None else "no DICOM SEG: nothing segmented"
