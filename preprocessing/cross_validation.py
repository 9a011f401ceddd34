"""Cross-validation splits as plain text files (one case id per line), reproducible from a seed.

Layout, as in the FLARE21 EfficientSCN setup: `setup/cv/<fold>/train.txt` and `setup/cv/<fold>/test.txt`.
Fold 0 trains on all cases (its test list is empty); folds 1..K split the cases into K disjoint
test sets, each fold training on the rest.
"""
from __future__ import annotations

import os
import random

from preprocessing.atomic import atomic_directory


LISTS = ("train.txt", "test.txt")


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
    """Writes folds 1..K, fold k testing on `tests[k - 1]` and training on the rest (e.g. LUNA16's ten subsets),
    then fold 0 (all of `case_ids`): each fold folder appears whole, and fold 0, whose presence `ensure_folds`
    takes for "folds written", appears last (workers of one distributed run may write the same folds at once)."""
    for fold, test in enumerate(tests, start=1):
        _write_fold(os.path.join(cv_folder, str(fold)), sorted(set(case_ids) - set(test)), sorted(test))
    _write_fold(os.path.join(cv_folder, "0"), sorted(case_ids), [])


def _write_fold(folder: str, train: list[str], test: list[str]) -> None:
    """`folder`/train.txt and test.txt as one atomic folder. The same fold already there is left in place, and so
    is a fold another process puts there while this one writes (the workers of a run write identical folds)."""
    there = os.path.isdir(folder)
    paths = [os.path.join(folder, name) for name in LISTS]
    if there and all(os.path.isfile(path) for path in paths) and [_read_lines(path) for path in paths] == [train, test]:
        return
    with atomic_directory(folder, replace=there) as temp:
        for name, lines in zip(LISTS, (train, test)):
            with open(os.path.join(temp, name), "w") as handle:
                handle.write("".join(f"{line}\n" for line in lines))


def load_fold(cv_folder: str, fold: int) -> tuple[list[str], list[str]]:
    """(train ids, test ids) of `fold` from `cv_folder`."""
    folder = os.path.join(cv_folder, str(fold))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{folder}: cross-validation fold {fold} not found (too few cases for folds, "
                                f"or written with fewer folds)")
    train, test = (_read_lines(os.path.join(folder, name)) for name in LISTS)
    return train, test


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
