"""Checks that stop a run before anything is computed, each problem one line: the run's options, and the output
folder (not empty, a folder, creatable, writable, not inside the input folder where outputs would be read back
as inputs, not being written by another run)."""
from __future__ import annotations

import fcntl
import os
import tempfile

from inference.pipeline import RunOptions
from preprocessing.atomic import TEMP_PREFIX


def option_problems(options: RunOptions) -> list[str]:
    """One line per option outside its range (batch size >= 1, 0 <= overlap < 1, max extent > 0)."""
    problems = []
    if options.batch_size < 1:
        problems.append(f"--batch_size must be at least 1 (got {options.batch_size})")
    if options.overlap is not None and not 0.0 <= options.overlap < 1.0:
        problems.append(f"--overlap must be in [0, 1) (got {options.overlap:g})")
    if not options.max_extent_mm > 0:
        problems.append(f"--max_extent_mm must be positive (got {options.max_extent_mm:g})")
    return problems


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def prepare_output_folder(output_path: str, input_path: str) -> str | None:
    """Creates the output folder if needed and checks that a file can be written there; returns the problem
    as one line, or None. A folder input must not contain the output folder."""
    if not output_path.strip():
        return "--output_path is empty"
    output = os.path.realpath(output_path)
    if os.path.isdir(input_path) and _inside(output, os.path.realpath(input_path)):
        return (f"{output_path}: the output folder is inside the input folder {input_path}, where outputs would be "
                "read back as inputs; choose another output folder")
    if os.path.exists(output) and not os.path.isdir(output):
        return f"{output_path}: exists and is not a folder"
    try:
        os.makedirs(output, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}write-check.", suffix=".tmp", dir=output)
        os.close(handle)
        os.remove(probe)
    except OSError as error:
        return f"{output_path}: output folder cannot be written: {error.strerror or error}"
    return None


def lock_output_folder(output_path: str) -> int | None:
    """An exclusive lock on the output folder (flock on the folder itself: no lock file, released when the
    process ends, however it ends): its file descriptor, to keep open for the run, or None when another run
    holds it."""
    descriptor = os.open(output_path, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        return None
    return descriptor
