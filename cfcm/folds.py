"""The original's Montgomery cross-validation: CFCM-2D's three fixed test splits (44, 48 and 46 films), shipped as
case ids in `montgomery_folds.json`."""
from __future__ import annotations

import json
import os

from preprocessing.cross_validation import write_test_folds

FOLDS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "montgomery_folds.json")


def original_test_folds() -> list[list[str]]:
    """The test case ids of folds 1, 2 and 3 (CFCM-2D's `2_3-1`, `1_3-2` and `1_2-3` experiments)."""
    with open(FOLDS_FILE) as handle:
        tests = json.load(handle)["test"]
    return [tests[str(fold)] for fold in range(1, len(tests) + 1)]


def write_original_folds(case_ids: list[str], cv_folder: str) -> bool:
    """Writes the original's folds into `cv_folder` (when it has none) if `case_ids` are the original's 138 films;
    True when `cv_folder` then holds them."""
    tests = original_test_folds()
    if sorted(case_ids) != sorted(i for test in tests for i in test):
        return False
    if not os.path.isdir(os.path.join(cv_folder, "0")):
        write_test_folds(case_ids, tests, cv_folder)
    return True
