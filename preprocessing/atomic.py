"""Atomic file and directory writes: a temporary path beside the target, renamed onto it on success.

Temporaries are named `.tmp-<target name>.<random>.tmp<suffix>` (directories: `...tmp`, replaced ones
`...old`), so that a run killed mid-write leaves something `remove_temporaries` recognises. Files and folders
get the permissions the process umask gives new ones (0644 / 0755 under the usual 022), not mkstemp's 0600.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator

_DOUBLE_SUFFIXES = (".nii.gz", ".tar.gz")
TEMP_PREFIX = ".tmp-"


def _process_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# Read once at import: setting the umask to read it is process-wide, and writes may run beside other threads.
_UMASK = _process_umask()


def remove_temporaries(folder: str) -> list[str]:
    """Removes the temporaries an interrupted write left directly in `folder`; returns their names."""
    if not os.path.isdir(folder):
        return []
    names = sorted(name for name in os.listdir(folder) if name.startswith(TEMP_PREFIX))
    for name in names:
        path = os.path.join(folder, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.remove(path)
    return names


def full_suffix(path: str) -> str:
    """The file type suffix of `path`, with double suffixes such as '.nii.gz' kept whole."""
    name = os.path.basename(path).lower()
    for suffix in _DOUBLE_SUFFIXES:
        if name.endswith(suffix):
            return os.path.basename(path)[-len(suffix):]
    return os.path.splitext(path)[1]


@contextlib.contextmanager
def atomic_path(path: str) -> Iterator[str]:
    """Yields a temporary file path in the folder of `path`, with the same suffix.

    Write the file there; when the block exits normally it is renamed onto `path` (an atomic
    replace on POSIX), otherwise it is deleted. Readers never see a half-written `path`.
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temp = tempfile.mkstemp(
        prefix=f"{TEMP_PREFIX}{os.path.basename(path)}.", suffix=f".tmp{full_suffix(path)}", dir=folder)
    os.close(handle)
    try:
        yield temp
        os.chmod(temp, 0o666 & ~_UMASK)
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.remove(temp)


@contextlib.contextmanager
def atomic_directory(path: str, replace: bool = True) -> Iterator[str]:
    """Yields a temporary directory beside `path`; on success it replaces `path` (an old one is removed), or
    with `replace` False becomes `path` only if no other writer has made a non-empty `path` meanwhile (the
    temporary one is then dropped, and readers never see `path` missing).

    Used for SavedModels and checkpoints, which are folders: a crash leaves either the previous
    complete folder or the new complete folder, never a mixture.
    """
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    temp = tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.path.basename(path)}.", suffix=".tmp", dir=parent)
    os.chmod(temp, 0o777 & ~_UMASK)
    try:
        yield temp
        if not replace:
            with contextlib.suppress(OSError):
                os.rename(temp, path)
        elif os.path.isdir(path):
            old = tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.path.basename(path)}.", suffix=".old", dir=parent)
            os.replace(path, os.path.join(old, "previous"))
            os.replace(temp, path)
            shutil.rmtree(old)
        else:
            os.replace(temp, path)
    finally:
        if os.path.isdir(temp):
            shutil.rmtree(temp)
