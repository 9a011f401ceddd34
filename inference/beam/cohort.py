"""The cohort pipeline: cases -> (skipped: outputs already there) | Reshuffle | SegmentCase -> summary.csv and
dead_letter.csv, each written once at the end, and the temporaries of failed attempts removed."""
from __future__ import annotations

import csv
import io
import os
import sys
import tempfile

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

from inference.batch import CaseResult, summary_lines, write_summary_csv
from inference.beam.cases import CohortCase, cohort_cases
from inference.beam.segment import DEAD_LETTER, SegmentCase, write_temporary
from inference.model_sets import ModelChoiceError
from inference.registry import pipeline_class
from inference.runtime import EXIT_CASES_FAILED, EXIT_OK, EXIT_SETUP, RunRequest, installed_sets
from preprocessing.atomic import TEMP_PREFIX
from serving.manifest import ManifestError

SUMMARY = "summary.csv"
DEAD_LETTER_FILE = "dead_letter.csv"


def pending_cases(cases: list[CohortCase], output_path: str, suffixes: set[str], overwrite: bool
                  ) -> tuple[list[CohortCase], list[CaseResult]]:
    """(cases to run, `skipped` rows of the cases whose label map is already in `output_path`), decided once
    before the pipeline runs (so that a retried bundle recomputes rather than skips)."""
    existing = set()
    if not overwrite:  # a match, not exists(): an object-store prefix is no object of its own
        existing = {_base_name(m.path) for m in
                    FileSystems.match([FileSystems.join(output_path, "*")])[0].metadata_list}
    run, skipped = [], []
    for element in cases:
        case = element.case
        if not case.problem and any(case.name + suffix in existing for suffix in suffixes):
            skipped.append(CaseResult(case.name, case.channels[0], "skipped"))
        else:
            run.append(element)
    return run, skipped


def _base_name(path: str) -> str:
    """The last component of a local or object-store path."""
    return path.rstrip("/").rsplit("/", 1)[-1]


def finish(rows: list[CaseResult], dead: list[CaseResult], output_path: str) -> None:
    """Writes summary.csv (every case, by name) and dead_letter.csv (the failed cases and their reasons), each
    renamed into place as a case's outputs are, and removes the temporaries that failed attempts left in the output
    path."""
    with tempfile.TemporaryDirectory() as folder:
        write_summary_csv(sorted(rows, key=lambda r: r.name), os.path.join(folder, SUMMARY))
        with open(os.path.join(folder, DEAD_LETTER_FILE), "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["case", "input", "error"])
            writer.writerows([r.name, r.input_path, r.error] for r in sorted(dead, key=lambda r: r.name))
        for name in (SUMMARY, DEAD_LETTER_FILE):
            FileSystems.rename([write_temporary(os.path.join(folder, name), output_path, name)],
                               [FileSystems.join(output_path, name)])
    leftovers = [m.path for m in FileSystems.match([FileSystems.join(output_path, TEMP_PREFIX + "*")])[0].metadata_list]
    if leftovers:
        FileSystems.delete(leftovers)


def build(root: beam.Pipeline, cases: list[CohortCase], skipped: list[CaseResult], request: RunRequest,
          segment: type[SegmentCase] = SegmentCase) -> None:
    """Adds the cohort's transforms to `root` (`segment`: the DoFn class, a test's wrapper in the retry test)."""
    segmented = (root | "cases" >> beam.Create(cases, reshuffle=False) | "spread" >> beam.Reshuffle()
                 | "segment" >> beam.ParDo(segment(request)).with_outputs(DEAD_LETTER, main="rows"))
    rows = ((segmented.rows, root | "skipped" >> beam.Create(skipped, reshuffle=False)) | "all rows" >> beam.Flatten()
            | "row list" >> beam.combiners.ToList())
    dead = segmented[DEAD_LETTER] | "dead list" >> beam.combiners.ToList()
    (root | "once" >> beam.Create([None])
     | "write summary" >> beam.Map(lambda _, r, d: finish(r, d, request.output_path),
                                   beam.pvalue.AsSingleton(rows), beam.pvalue.AsSingleton(dead)))


def read_summary(output_path: str) -> list[CaseResult]:
    """The rows of OUT/summary.csv."""
    with FileSystems.open(FileSystems.join(output_path, SUMMARY),
                          compression_type=CompressionTypes.UNCOMPRESSED) as reader:
        table = list(csv.DictReader(io.TextIOWrapper(reader, encoding="utf-8")))
    return [CaseResult(r["case"], r["input"], r["status"], {"total": float(r["total_s"])} if r.get("total_s") not in
                       (None, "", "nan") else {}, float(r["peak_rss_mb"]), r["error"], note=r["note"]) for r in table]


def run_cohort(request: RunRequest, pipeline_args: list[str]) -> int:
    """Runs the cohort of `request.input_path` (a pattern) on the Beam runner of `pipeline_args`; returns the
    entrypoint's exit code (0 all ok or skipped, 1 a case failed, 2 nothing could start)."""
    try:
        sets = installed_sets(request)
        cases = cohort_cases(request.input_path)
    except (FileNotFoundError, ManifestError, ModelChoiceError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_SETUP
    chosen = [sets[request.model]] if request.model else list(sets.values())
    suffixes = {pipeline_class(s.manifest["pipeline"]).output_suffix for s in chosen}
    if not FileSystems.exists(request.output_path):
        FileSystems.mkdirs(request.output_path)
    to_run, skipped = pending_cases(cases, request.output_path, suffixes, request.overwrite)
    print(f"{len(cases)} case(s): {len(to_run)} to run, {len(skipped)} already done")
    with beam.Pipeline(options=PipelineOptions(pipeline_args)) as root:
        build(root, to_run, skipped, request)
    results = read_summary(request.output_path)
    print("\n".join(summary_lines(results)))
    return EXIT_CASES_FAILED if any(r.status == "failed" for r in results) else EXIT_OK

