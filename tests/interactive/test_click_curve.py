"""The evaluation's click loop (`interactive.training.click_curve`) with a hand-written predictor that obeys the
background guidance disks: each background click erases one false object, and the curve counts the predicted voxels
and scores the Dice per round."""
import numpy as np
import pytest

from interactive.config import InteractiveConfig
from interactive.training import NetworkCase, click_curve

SHAPE = (8, 16, 16)
CONFIG = InteractiveConfig(roi_size=SHAPE, guidance_disks=True)


def hot_minus_background_clicks(windows: np.ndarray) -> np.ndarray:
    """Logits [b, z, y, x, 2] of windows [b, z, y, x, PET + lesion guidance + background guidance]: lesion where the
    PET is hot, unless a background click's disk covers the voxel."""
    lesion = 20.0 * windows[..., 0] - 10.0 - 40.0 * (windows[..., 2] > 0)
    return np.stack([np.zeros_like(lesion), lesion], axis=-1)


def test_background_clicks_erase_the_false_objects_one_per_round():
    image = np.zeros((*SHAPE, 1), np.float32)
    for x in (2, 7, 12):
        image[3:5, 3:5, x:x + 2] = 1.0  # three 2x2x2 hot spots, apart
    case = NetworkCase("lesion_free", image, np.zeros(SHAPE, np.uint8))
    curve = click_curve(hot_minus_background_clicks, case, CONFIG, clicks=3, seed=0, trace_effects=True)
    assert curve.predicted_voxels == [24, 16, 8, 0]
    assert [(effect.added_voxels, effect.removed_voxels) for effect in curve.effects] == [(0, 8)] * 3
    assert np.isnan(curve.dice).all() and curve.first.sum() == 24 and not curve.last.any()


def test_a_false_object_beside_a_found_lesion_goes_with_one_background_click():
    image = np.zeros((*SHAPE, 1), np.float32)
    image[2:6, 4:10, 4:10] = 1.0
    label = (image[..., 0] > 0).astype(np.uint8)
    image[3:5, 12:14, 12:14] = 1.0  # 8 false voxels, 3 voxels from the lesion: beyond a disk's reach
    curve = click_curve(hot_minus_background_clicks, NetworkCase("one_false", image, label), CONFIG, clicks=2, seed=0,
                        trace_effects=True)
    assert curve.dice == pytest.approx([2 * 144 / (152 + 144), 1.0, 1.0]) and curve.predicted_voxels == [152, 144, 144]
    assert curve.effects[0].removed_voxels == 8 and curve.effects[0].added_voxels == 0
    assert curve.last.sum() == 144 and (curve.last == (label > 0)).all()
