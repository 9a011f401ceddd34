"""How a prediction fits each lesion (found voxels, the size of the predicted objects touching it, false objects) and
the threshold ceiling (each lesion cut at its best intensity threshold), on built cases with known answers."""
import math

import numpy as np
import pytest

from interactive.lesion_fit import CaseFit, LesionFit, case_fit, lesion_components, threshold_ceiling
from tests.interactive.masks import cube


def test_a_halo_a_partial_find_a_miss_and_false_objects_are_measured_per_lesion():
    shape = (24, 24, 24)
    small, large, missed = cube(shape, (2, 2, 2), (4, 4, 4)), cube(shape, (10, 10, 10), (16, 16, 16)), \
        cube(shape, (20, 20, 20), (22, 22, 22))
    halo = cube(shape, (1, 1, 1), (5, 5, 5))
    half = cube(shape, (10, 10, 10), (13, 16, 16))
    false_near, false_far = cube(shape, (0, 20, 0), (1, 22, 1)), cube(shape, (20, 0, 0), (23, 3, 3))
    fit = case_fit(halo | half | false_near | false_far, small | large | missed)
    assert fit == CaseFit((LesionFit(8, 8, 64), LesionFit(216, 108, 108), LesionFit(8, 0, 0)), (27, 2), 64 + 108)
    assert fit.summary() == {"lesions": 3, "lesions_found": 2, "median_object_to_lesion": 4.25, "false_objects": 2,
                             "false_object_voxels": 29,
                             "dice_without_false_objects": pytest.approx(2 * (8 + 108) / (64 + 108 + 232))}
    with_false = 2 * (8 + 108) / (64 + 108 + 29 + 232)
    assert fit.dice_without_false_objects() > with_false


def test_an_object_touching_two_lesions_counts_once():
    shape = (12, 12, 12)
    lesions = cube(shape, (2, 2, 2), (4, 4, 4)) | cube(shape, (6, 2, 2), (8, 4, 4))
    bridge = cube(shape, (2, 2, 2), (8, 4, 4))
    fit = case_fit(bridge, lesions)
    assert fit.touching_object_voxels == 24 and [lesion.object_voxels for lesion in fit.lesions] == [24, 24]
    assert fit.dice_without_false_objects() == pytest.approx(2 * 16 / (24 + 16))


def test_lesions_and_objects_are_26_connected():
    shape = (6, 6, 6)
    corners = cube(shape, (1, 1, 1), (2, 2, 2)) | cube(shape, (2, 2, 2), (3, 3, 3))
    assert lesion_components(corners).max() == 1
    empty = case_fit(np.zeros(shape, bool), np.zeros(shape, bool))
    assert empty == CaseFit((), (), 0) and math.isnan(empty.summary()["median_object_to_lesion"])
    assert math.isnan(empty.dice_without_false_objects())


def test_the_threshold_ceiling_cuts_each_lesion_at_its_own_threshold_and_falls_with_blur():
    shape = (24, 24, 24)
    faint, hot = cube(shape, (4, 4, 4), (8, 8, 8)), cube(shape, (14, 14, 14), (20, 20, 20))
    label = faint | hot
    # the faint lesion (3) is darker than the organ around the hot one (4): no single threshold separates both
    image = np.ones(shape)
    image[11:, 11:, 11:] = 4.0
    image[faint], image[hot] = 3.0, 10.0
    image[0, 0, 0] = 20.0  # bright, but outside every lesion's zone
    assert threshold_ceiling(image, label) == 1.0
    single = image >= 3.0
    assert 2 * (single & label).sum() / (single.sum() + label.sum()) < 0.5
    blurred = image
    for axis in range(3):  # a box blur of 5 voxels along each axis: partial-volume edges
        blurred = sum(np.roll(blurred, shift, axis) for shift in range(-2, 3)) / 5.0
    assert 0.5 < threshold_ceiling(blurred, label) < 1.0
    assert math.isnan(threshold_ceiling(image, np.zeros(shape, bool)))
