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


def contiguous_blocks(count: int, num_folds: int) -> list[range]:
    """Index ranges of `num_folds` contiguous test blocks over `count` cases, the later blocks one larger when
    `count` does not divide (OrganSegRSTN's `in_training_set`: 82 cases -> 1-20, 21-40, 41-61, 62-82)."""
    remainder_start = num_folds - count % num_folds
    size = count // num_folds
    return [range(size * f + max(0, f - remainder_start), size * (f + 1) + max(0, f + 1 - remainder_start))
            for f in range(num_folds)]


def write_folds(case_ids: list[str], cv_folder: str, num_folds: int = 4, seed: int = 0,
                contiguous: bool = False) -> None:
    """Writes folds 0..num_folds for `case_ids` into `cv_folder`: shuffled with `seed` and dealt round-robin,
    or (`contiguous`) in the given order cut into `contiguous_blocks`, fold k holding out block k - 1.

    With fewer cases than folds only fold 0 (all cases) is written.
    """
    if len(case_ids) < num_folds:
        write_test_folds(case_ids, [], cv_folder)
        return
    if contiguous:
        tests = [[case_ids[i] for i in block] for block in contiguous_blocks(len(case_ids), num_folds)]
    else:
        ids = sorted(case_ids)
        random.Random(seed).shuffle(ids)
        tests = [ids[fold::num_folds] for fold in range(num_folds)]
    write_test_folds(case_ids, tests, cv_folder)


def write_test_folds(case_ids: list[str], tests: list[list[str]], cv_folder: str) -> None:
    """Writes fold 0 (all of `case_ids`) and folds 1..K, fold k testing on `tests[k - 1]` and training on the
    rest (e.g. LUNA16's ten subsets)."""
    _write_lines(os.path.join(cv_folder, "0", "train.txt"), sorted(case_ids))
    _write_lines(os.path.join(cv_folder, "0", "test.txt"), [])
    for fold, test in enumerate(tests, start=1):
        _write_lines(os.path.join(cv_folder, str(fold), "test.txt"), sorted(test))
        _write_lines(os.path.join(cv_folder, str(fold), "train.txt"), sorted(set(case_ids) - set(test)))


def load_fold(cv_folder: str, fold: int) -> tuple[list[str], list[str]]:
    """(train ids, test ids) of `fold` from `cv_folder`."""
    folder = os.path.join(cv_folder, str(fold))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{folder}: cross-validation fold {fold} not found (too few cases for folds, "
                                f"or written with fewer folds)")
    return _read_lines(os.path.join(folder, "train.txt")), _read_lines(os.path.join(folder, "test.txt"))


def ensure_folds(case_ids: list[str], cv_folder: str, fold: int, num_folds: int = 4,
                 seed: int = 0, contiguous: bool = False) -> tuple[list[str], list[str]]:
    """Loads `fold`, writing all folds first (`write_folds`) if `cv_folder` has none; checks the ids exist."""
    if not os.path.isdir(os.path.join(cv_folder, "0")):
        write_folds(case_ids, cv_folder, num_folds, seed, contiguous)
    train, test = load_fold(cv_folder, fold)
    unknown = sorted(set(train + test) - set(case_ids))
    if unknown:
        raise ValueError(f"{cv_folder}: fold {fold} names cases not in the dataset: {', '.join(unknown[:5])}")
    return train, test
