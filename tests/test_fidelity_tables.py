"""The fidelity tables of the system pages in docs/ are the source of truth for the systems' defaults: each row
that names a config field must match the dataclass, and where no reason is given ours must equal the original. The
loss formula is checked on hand-computed values that tell the squared from the plain generalized Dice (CFCM's
per-image Dice: `tests/networks/test_layers.py`)."""
import ast
import glob
import os
import re

import numpy as np
import pytest
import tensorflow as tf

from cfcm.config import CFCMConfig
from cfcm.training import CFCMTraining
from interactive.config import InteractiveConfig
from localization.config import LocalizationConfig
from nodules.config import CropModelConfig, DetectorConfig
from networks.losses import generalized_dice_loss
from rstn.config import RSTNConfig
from rstn.training import RSTNTraining
from scn.config import SCNConfig
from tests.conftest import REPO

CONFIGS = {"LocalizationConfig": LocalizationConfig(), "SCNConfig": SCNConfig(), "CFCMConfig": CFCMConfig(),
           "CFCMTraining": CFCMTraining(""), "RSTNConfig": RSTNConfig(),
           "RSTNTraining": RSTNTraining(""), "InteractiveConfig": InteractiveConfig(),
           "DetectorConfig": DetectorConfig(), "CropModelConfig": CropModelConfig()}


def table_rows() -> list[dict[str, str]]:
    """Rows of every fidelity table in the system pages of docs/ (header: setting, config field, original, source,
    ours, reason)."""
    pages = sorted(glob.glob(os.path.join(REPO, "docs", "*.md")))
    text = "\n".join(open(path, encoding="utf-8").read() for path in pages)
    rows = []
    for block in re.findall(r"\| setting \| config field \|.*?\n((?:\|.*\n)+)", text):
        for line in block.splitlines()[1:]:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            rows.append(dict(zip(("setting", "field", "original", "source", "ours", "reason"), cells)))
    return rows


FIELD_ROWS = [row for row in table_rows() if row["field"]]


def config_value(field: str):
    owner, *path = field.strip("`").split(".")
    value = CONFIGS[owner]
    for name in path:
        value = getattr(value, name)
    return value


def test_tables_are_found():
    assert len(FIELD_ROWS) >= 105


@pytest.mark.parametrize("row", FIELD_ROWS, ids=[row["setting"] for row in FIELD_ROWS])
def test_default_matches_the_table(row):
    value = config_value(row["field"])
    assert value == ast.literal_eval(row["ours"]), f"{row['field']} is {value!r}, the table says {row['ours']}"
    if not row["reason"]:
        assert ast.literal_eval(row["original"]) == value, f"{row['setting']}: differs from the original, no reason"


def test_generalized_dice_is_the_squared_form_with_the_original_epsilons():
    labels = tf.constant([[[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]])
    probabilities = tf.constant([[[0.8, 0.2], [0.6, 0.4], [0.3, 0.7], [0.1, 0.9]]])
    # Both labels have 2 voxels: w = 1 / (2^2 + 1e-4). Intersections 1.4 + 1.6 = 3.0;
    # squared denominators (2 + 1.1) + (2 + 1.5) = 6.6; plain (2 + 1.8) + (2 + 2.2) = 8.0.
    w = 1.0 / (4.0 + 1e-4)
    squared = 1.0 - 2.0 * (w * 3.0 + 1e-8) / (w * 6.6 + 1e-8)
    plain = 1.0 - 2.0 * (w * 3.0 + 1e-8) / (w * 8.0 + 1e-8)
    np.testing.assert_allclose(float(generalized_dice_loss(labels, probabilities)), squared, rtol=1e-6)
    np.testing.assert_allclose(float(generalized_dice_loss(labels, probabilities, squared=False)), plain, rtol=1e-6)
    assert abs(squared - 0.0909091) < 1e-6 and abs(plain - 0.25) < 1e-6
