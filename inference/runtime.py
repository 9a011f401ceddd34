"""One inference run: cases from the input path, a model set per case (named or chosen), the pipelines
loaded before any case is computed, the batch, the summary."""
from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import sys
import threading
from collections.abc import Iterator

from inference.batch import INTERRUPTED, CaseStages, run_batch, summary_lines, write_summary_csv
from inference.inputs import CaseInput, group_cases, list_inputs, with_side_inputs
from inference.model_sets import ModelChoiceError, ModelSet, NoModelSetError, choose_model_set, find_model_sets
from inference.pipeline import Pipeline, RunOptions
from inference.preflight import lock_output_folder, option_problems, prepare_output_folder
from inference.registry import pipeline_class
from preprocessing.atomic import remove_temporaries
from preprocessing.image_io import ImageReadError, image_dimension, image_modality
from serving.loading import ModelError
from serving.manifest import ManifestError

EXIT_OK, EXIT_CASES_FAILED, EXIT_SETUP, EXIT_INTERRUPTED = 0, 1, 2, 130


@dataclasses.dataclass(frozen=True)
class RunRequest:
    """What the user asked for.

    Attributes:
        input_path: a file, a DICOM series folder, or a folder of inputs.
        output_path: output folder.
        saved_models_folder: folder of model sets (or one model set folder).
        model: model set name; None chooses per input among the installed sets.
        dimensionality: restricts the automatic choice to 2D or 3D sets (None: any).
        side_inputs: {side input name: folder with <case>.json files}.
        options: batch size and overlap.
        overwrite: recompute cases whose output exists.
        pipelined: read the next case and write the previous one in background threads while a case runs
            (`inference.batch.run_batch`); False runs the cases one after the other.
    """

    input_path: str
    output_path: str
    saved_models_folder: str
    model: str | None = None
    dimensionality: int | None = None
    side_inputs: dict[str, str] = dataclasses.field(default_factory=dict)
    options: RunOptions = RunOptions()
    overwrite: bool = False
    pipelined: bool = True


def assign_model_set(case: CaseInput, sets: dict[str, ModelSet], request: RunRequest) -> ModelSet | str:
    """The model set of a case, or the one-line problem that keeps it from having one."""
    if case.problem:
        return case.problem
    if request.model is not None:
        return sets[request.model]
    try:
        dimensionality = image_dimension(case.channels[0])
        modality = image_modality(case.channels[0]) if dimensionality == 2 else None
    except ImageReadError as error:
        return str(error)
    if request.dimensionality is not None and dimensionality != request.dimensionality:
        return f"{case.channels[0]}: is {dimensionality}D, the requested pipeline takes {request.dimensionality}D"
    if dimensionality == 2 and modality is None:
        return (f"{case.channels[0]}: a 2D image that is neither PNG / JPEG nor a DICOM file stating its modality, "
                "so not known to be a radiograph; choose a model set with --model")
    try:
        return choose_model_set(sets, dimensionality, modality)
    except NoModelSetError as error:
        return f"{case.channels[0]}: {error}"


def installed_sets(request: RunRequest) -> dict[str, ModelSet]:
    """The installed model sets; ModelChoiceError when `request.model` names none of them (and the errors of
    `find_model_sets`)."""
    sets = find_model_sets(request.saved_models_folder)
    if request.model is not None and request.model not in sets:
        raise ModelChoiceError(f"{request.saved_models_folder}: no model set '{request.model}' "
                               f"(installed: {', '.join(sorted(sets))})")
    return sets


def plan(request: RunRequest) -> tuple[list[CaseInput], dict[tuple[str, ...], ModelSet | str]]:
    """(cases, {case channels: model set or problem}); raises for what stops the whole run."""
    sets = installed_sets(request)
    cases = group_cases(list_inputs(request.input_path))
    for name, folder in request.side_inputs.items():
        cases = with_side_inputs(cases, name, folder)
    return cases, {case.channels: assign_model_set(case, sets, request) for case in cases}


def run(request: RunRequest) -> int:
    """Runs the request; returns the exit code (0 all ok, 1 a case failed, 2 nothing could start, 130 interrupted
    by SIGINT or SIGTERM: the summary so far is written)."""
    problems = option_problems(request.options)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        return EXIT_SETUP
    try:
        cases, assignment = plan(request)
    except (FileNotFoundError, ManifestError, ModelChoiceError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_SETUP
    problem = prepare_output_folder(request.output_path, request.input_path)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_SETUP
    lock = lock_output_folder(request.output_path)
    if lock is None:
        print(f"error: {request.output_path}: another inference run is writing into this folder; wait for it "
              "to end or choose another output folder", file=sys.stderr)
        return EXIT_SETUP
    try:
        return _run_locked(request, cases, assignment)
    finally:
        os.close(lock)


def _run_locked(request: RunRequest, cases: list[CaseInput],
                assignment: dict[tuple[str, ...], ModelSet | str]) -> int:
    """The run once its output folder is locked: pipelines loaded, leftovers removed, the batch, the summary."""
    pipelines: dict[str, Pipeline] = {}
    try:
        for model_set in {s.name: s for s in assignment.values() if isinstance(s, ModelSet)}.values():
            pipelines[model_set.name] = pipeline_class(model_set.manifest["pipeline"])(model_set, request.options)
    except (ModelError, ManifestError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_SETUP

    def suffix(case: CaseInput) -> str:
        chosen = assignment[case.channels]
        return pipelines[chosen.name].output_suffix if isinstance(chosen, ModelSet) else ""

    def pipeline_of(case: CaseInput) -> Pipeline:
        chosen = assignment[case.channels]
        if not isinstance(chosen, ModelSet):
            raise ValueError(chosen)
        return pipelines[chosen.name]

    stages = CaseStages(load=lambda case: pipeline_of(case).load(case),
                        compute=lambda case, loaded: pipeline_of(case).compute(case, loaded),
                        save=lambda case, computed, base: pipeline_of(case).save(case, computed, base))
    removed = remove_temporaries(request.output_path)
    if removed:
        print(f"removed {len(removed)} temporary file(s) an interrupted run left in {request.output_path}",
              file=sys.stderr)
    with _termination_as_interrupt():
        results = run_batch(cases, request.output_path, suffix, stages, request.overwrite, request.pipelined)
    summary = os.path.join(request.output_path, "summary.csv")
    try:
        write_summary_csv(results, summary)
    except OSError as error:
        print(f"error: {summary}: not written: {error.strerror or error}", file=sys.stderr)
    print("\n".join(summary_lines(results)))
    if any(r.status == INTERRUPTED for r in results):
        return EXIT_INTERRUPTED
    return EXIT_CASES_FAILED if any(r.status == "failed" for r in results) else EXIT_OK


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


@contextlib.contextmanager
def _termination_as_interrupt() -> Iterator[None]:
    """SIGTERM (`docker stop`) interrupts like SIGINT (Ctrl-C) while the block runs in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def list_models(saved_models_folder: str) -> int:
    """Prints every installed model set; exit code 2 when there is none or a manifest is broken."""
    try:
        sets = find_model_sets(saved_models_folder)
    except (FileNotFoundError, ManifestError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_SETUP
    print("\n\n".join("\n".join(s.description()) for s in sets.values()))
    return EXIT_OK
