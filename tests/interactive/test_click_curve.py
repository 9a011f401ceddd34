"""The evaluation's click loop (`interactive.training.click_curve`) with a hand-written predictor that obeys the
background guidance: on a lesion-free case each background click erases one false object, and the curve counts the
false voxels per round."""
import numpy as np

from interactive.config import InteractiveConfig
from interactive.training import NetworkCase, click_curve

SHAPE = (8, 16, 16)


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
    config = InteractiveConfig(roi_size=SHAPE)
    curve = click_curve(hot_minus_background_clicks, case, config, clicks=4, seed=0)
    assert curve.predicted_voxels == [24, 16, 8, 0, 0]
    assert np.isnan(curve.dice).all() and curve.effects == []
    assert curve.first.sum() == 24 and not curve.last.any()


def test_a_found_lesion_keeps_its_dice_and_its_voxels():
    image = np.zeros((*SHAPE, 1), np.float32)
    image[2:6, 4:10, 4:10] = 1.0
    label = (image[..., 0] > 0).astype(np.uint8)
    curve = click_curve(hot_minus_background_clicks, NetworkCase("found", image, label), InteractiveConfig(
        roi_size=SHAPE), clicks=2, seed=0, trace_effects=True)
    assert curve.dice == [1.0, 1.0, 1.0] and curve.predicted_voxels == [144, 144, 144]
    assert len(curve.effects) == 2 and all(effect.added_voxels == 0 for effect in curve.effects)
