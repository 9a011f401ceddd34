"""Cross-validation splits as plain text files (one case id per line), reproducible from a seed.

Layout, as in the FLARE21 EfficientSCN setup: `setup/cv/<fold>/train.txt` and `setup/cv/<fold>/test.txt`.
Fold 0 trains on all cases (its test list is empty); folds 1..K split the cases into K disjoint
test sets, each fold training on the rest.
"""
from __future__ import annotations

import os
import random

from preprocessing.atomic import atomic_path


def _write_lines(path: str, lines: list[str]) -> None:
    with atomic_path(path) as temp, open(temp, "w") as handle:
        handle.write("".join(f"{line}\n" for line in lines))


def _read_lines(path: str) -> list[str]:
    with open(path) as handle:
        return [line.strip() for line in handle if line.strip()]


def write_folds(case_ids: list[str], cv_folder: str, num_folds: int = 4, seed: int = 0) -> None:
    """Writes folds 0..num_folds for `case_ids` (shuffled with `seed`) into `cv_folder`.

    With fewer cases than folds only fold 0 (all cases) is written.
    """
    ids = sorted(case_ids)
    random.Random(seed).shuffle(ids)
    _write_lines(os.path.join(cv_folder, "0", "train.txt"), sorted(ids))
    _write_lines(os.path.join(cv_folder, "0", "test.txt"), [])
    if len(ids) < num_folds:
        return
    for fold in range(1, num_folds + 1):
        test = sorted(ids[fold - 1::num_folds])
        train = sorted(set(ids) - set(test))
        _write_lines(os.path.join(cv_folder, str(fold), "test.txt"), test)
        _write_lines(os.path.join(cv_folder, str(fold), "train.txt"), train)


def load_fold(cv_folder: str, fold: int) -> tuple[list[str], list[str]]:
    """(train ids, test ids) of `fold` from `cv_folder`."""
    folder = os.path.join(cv_folder, str(fold))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{folder}: cross-validation fold {fold} not found (too few cases for folds, "
                                f"or written with fewer folds)")
    return _read_lines(os.path.join(folder, "train.txt")), _read_lines(os.path.join(folder, "test.txt"))


def ensure_folds(case_ids: list[str], cv_folder: str, fold: int, num_folds: int = 4,
                 seed: int = 0) -> tuple[list[str], list[str]]:
    """Loads `fold`, writing all folds first if `cv_folder` has none; checks the ids exist."""
    if not os.path.isdir(os.path.join(cv_folder, "0")):
        write_folds(case_ids, cv_folder, num_folds, seed)
    train, test = load_fold(cv_folder, fold)
    unknown = sorted(set(train + test) - set(case_ids))
    if unknown:
        raise ValueError(f"{cv_folder}: fold {fold} names cases not in the dataset: {', '.join(unknown[:5])}")
    return train, test
