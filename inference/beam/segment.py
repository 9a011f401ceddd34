"""The DoFn that segments one case of a cohort with the entrypoint's own stages.

Per case: the inputs are copied from their `FileSystems` paths into a local temporary folder (a series' files into
a folder named after it, the clicks file beside them); the model set is chosen as the entrypoint chooses it; the
set's pipeline runs `load -> compute -> save` into a local folder; each output is copied to OUT under a temporary
name and renamed into place, the label map last (its presence marks the case done, as for the entrypoint).

A case that fails in its own stages (an unreadable image, no set for it, an input gone or unreadable for its
permissions, ...) yields a `failed` summary row and a dead-letter row with the entrypoint's one-line reason. Anything
else (other file-system errors, a worker dying) propagates, so that the runner retries the bundle; a retried case
computes again and its renames replace what an earlier attempt may have published, so no case ends with a partial or
a second output.
"""
from __future__ import annotations

import dataclasses
import os
import posixpath
import shutil
import tempfile
import time
import uuid

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from inference.batch import CaseResult, failure_message, peak_rss_mb
from inference.beam.cases import CohortCase
from inference.inputs import CaseInput
from inference.model_sets import ModelSet, find_model_sets
from inference.pipeline import Pipeline
from inference.registry import pipeline_class
from inference.runtime import RunRequest, assign_model_set
from preprocessing.atomic import TEMP_PREFIX

DEAD_LETTER = "dead_letter"


def _copy_from(source: str, target: str) -> None:
    """Copies a file's bytes as stored (Beam would otherwise gunzip a '.gz' file on the way)."""
    with FileSystems.open(source, compression_type=CompressionTypes.UNCOMPRESSED) as reader, \
            open(target, "wb") as writer:
        shutil.copyfileobj(reader, writer, 1 << 20)


def write_temporary(local: str, output_path: str, name: str) -> str:
    """Copies the local file `local` to a temporary name beside `output_path/name` (bytes as stored); returns that
    name, for a rename into place."""
    temporary = FileSystems.join(output_path, f"{TEMP_PREFIX}{name}.{uuid.uuid4().hex}.tmp")
    with open(local, "rb") as reader, \
            FileSystems.create(temporary, compression_type=CompressionTypes.UNCOMPRESSED) as writer:
        shutil.copyfileobj(reader, writer, 1 << 20)
    return temporary


class SegmentCase(beam.DoFn):
    """Segments `CohortCase` elements; yields `CaseResult` rows and, tagged `DEAD_LETTER`, the failed ones. The
    model sets are found in `setup` (once per worker); a set's pipeline (its SavedModels) loads on first use and
    stays for the worker's life."""

    def __init__(self, request: RunRequest):
        self.request = request
        self.sets: dict[str, ModelSet] = {}
        self.pipelines: dict[str, Pipeline] = {}

    def setup(self) -> None:
        self.sets = find_model_sets(self.request.saved_models_folder)
        if self.request.model is not None:
            self._pipeline(self.sets[self.request.model])

    def _pipeline(self, model_set: ModelSet) -> Pipeline:
        if model_set.name not in self.pipelines:
            self.pipelines[model_set.name] = pipeline_class(model_set.manifest["pipeline"])(model_set,
                                                                                            self.request.options)
        return self.pipelines[model_set.name]

    def process(self, element: CohortCase):
        start = time.perf_counter()
        case = element.case
        with tempfile.TemporaryDirectory(prefix="medseg-beam-") as work:
            local = case
            outputs = os.path.join(work, "out")
            os.makedirs(outputs)
            try:
                if case.problem:
                    raise ValueError(case.problem)
                try:
                    local = self._localize(element, os.path.join(work, "in"))
                except (FileNotFoundError, PermissionError) as error:
                    raise ValueError(f"{case.channels[0]}: cannot be copied from its file system: "
                                     f"{error.strerror or error}") from error
                chosen = assign_model_set(local, self.sets, self.request)
                if not isinstance(chosen, ModelSet):
                    raise ValueError(chosen)
                pipeline = self._pipeline(chosen)
                report = pipeline.save(local, pipeline.compute(local, pipeline.load(local)),
                                       os.path.join(outputs, case.name))
            except Exception as error:  # noqa: BLE001 - a bad case goes to the dead letter, the job goes on
                message = failure_message(local, error)
                for local_path, source in zip(local.channels, case.channels):
                    message = message.replace(local_path, source)
                row = CaseResult(case.name, case.channels[0], "failed", {"total": time.perf_counter() - start},
                                 peak_rss_mb(), message)
                yield beam.pvalue.TaggedOutput(DEAD_LETTER, row)
                yield row
                return
            self._publish(outputs, case.name + pipeline.output_suffix)
        yield CaseResult(case.name, case.channels[0], "ok", {**report.timings, "total": time.perf_counter() - start},
                         peak_rss_mb(), figures=report.figures, note=report.note)

    def _localize(self, element: CohortCase, folder: str) -> CaseInput:
        """The case with its inputs (and side inputs) copied into `folder`."""
        os.makedirs(folder)
        channels = []
        for source, files in zip(element.case.channels, element.channel_files):
            name = posixpath.basename(source.rstrip("/"))
            target = os.path.join(folder, name)
            if len(files) == 1 and files[0] == source:
                _copy_from(source, target)
            else:
                os.makedirs(target)
                for file in files:
                    _copy_from(file, os.path.join(target, posixpath.basename(file)))
            channels.append(target)
        side_inputs = {}
        for side, side_folder in self.request.side_inputs.items():
            source = FileSystems.join(side_folder, element.case.name + ".json")
            if FileSystems.exists(source):
                side_inputs[side] = os.path.join(folder, f"{side}.json")
                _copy_from(source, side_inputs[side])
        return dataclasses.replace(element.case, channels=tuple(channels), side_inputs=side_inputs)

    def _publish(self, folder: str, label_name: str) -> None:
        """Copies every file of `folder` to the output path, each under a temporary name then renamed, the label
        map `label_name` last."""
        names = sorted(os.listdir(folder), key=lambda n: n == label_name)
        for name in names:
            temporary = write_temporary(os.path.join(folder, name), self.request.output_path, name)
            self._rename(temporary, FileSystems.join(self.request.output_path, name))

    @staticmethod
    def _rename(temporary: str, final: str) -> None:
        """Renames onto `final`, replacing what is there (os.rename locally; copy then delete on object stores,
        whose readers never see a partial object)."""
        FileSystems.rename([temporary], [final])
