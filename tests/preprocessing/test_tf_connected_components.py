"""Connected components in TensorFlow give SciPy's partition (6-connectivity) on random masks; the largest
component of hand-built masks; the occupied indices and the grown bounding box per axis; and the removal of small
components on hand-built masks, with its empty and half-volume rules (tests/rstn/test_post_processing.py ties it to
RSTN's SimpleITK post-processing)."""
import numpy as np
import pytest
import tensorflow as tf
from scipy import ndimage

from preprocessing.tf_connected_components import (component_labels, grown_box, keep_large_components,
                                                   largest_component, occupied_per_axis)


@pytest.mark.parametrize("shape, density", [((30, 40), 0.5), ((12, 20, 16), 0.3), ((12, 20, 16), 0.6)])
def test_partition_equals_scipy(shape, density):
    for seed in range(3):
        mask = np.random.default_rng(seed).random(shape) < density
        expected, count = ndimage.label(mask)
        got = component_labels(tf.constant(mask)).numpy()
        assert ((got > 0) == mask).all()
        pairs = {(int(a), int(b)) for a, b in zip(expected[mask], got[mask])}
        assert len(pairs) == count == len({b for _, b in pairs}), "one label per SciPy component and vice versa"


def test_largest_component_of_hand_built_masks():
    mask = np.zeros((10, 10, 10), bool)
    mask[1:3, 1:3, 1:3] = True          # 8 voxels
    mask[5:8, 5:8, 5:9] = True          # 36 voxels
    mask[0, 9, 9] = True
    mask[4, 4, 4] = True                # touches the big block only diagonally: its own component
    largest = largest_component(mask).numpy()
    expected = np.zeros_like(mask)
    expected[5:8, 5:8, 5:9] = True
    assert (largest == expected).all()
    assert not largest_component(np.zeros((3, 3, 3), bool)).numpy().any()
    ties = np.zeros((4, 4), bool)
    ties[0, 2:4] = ties[3, 0:2] = True
    np.testing.assert_array_equal(largest_component(ties).numpy(), np.pad(np.ones((1, 2), bool), ((0, 3), (2, 0))))


def test_grown_box_grows_each_axis_by_its_own_amount_inside_the_array():
    mask = np.zeros((10, 12, 14), bool)
    mask[4, 5:7, 1] = True
    mask[6, 6, 3] = True
    start, end = grown_box(tf.constant(mask))
    assert start.numpy().tolist() == [3, 4, 0] and end.numpy().tolist() == [8, 8, 5], "1 voxel by default"
    start, end = grown_box(tf.constant(mask), (2, 0, 5))
    assert start.numpy().tolist() == [2, 5, 0] and end.numpy().tolist() == [9, 7, 9]
    with pytest.raises(ValueError, match="growth has 2 values"):
        grown_box(tf.constant(mask), (1, 1))


@pytest.mark.parametrize("shape, density", [((7,), 0.3), ((9, 11), 0.05), ((6, 8, 10), 0.01), ((6, 8, 10), 0.7),
                                            ((3, 4, 5, 6), 0.02)])
def test_occupied_per_axis_equals_any_over_the_other_axes(shape, density):
    for seed in range(3):
        mask = np.random.default_rng(seed).random(shape) < density
        mask.flat[seed] = True                       # never empty
        for compiled in (False, True):
            profile = tf.function(occupied_per_axis) if compiled else occupied_per_axis
            got = profile(tf.constant(mask))
            assert len(got) == len(shape)
            for axis, occupied in enumerate(got):
                others = tuple(a for a in range(len(shape)) if a != axis)
                np.testing.assert_array_equal(occupied.numpy(), mask.any(axis=others))


def test_keep_large_components_returns_empty_and_half_volume_masks_unchanged():
    empty = np.zeros((3, 4, 5), np.uint8)
    np.testing.assert_array_equal(keep_large_components(empty, 0.5).numpy(), empty)
    half = np.zeros((4, 4, 4), np.uint8)
    half[:2] = 1
    half[1, 3, 3] = 0
    half[3, 0, 0] = 1                   # 32 voxels = half the volume, a one-voxel component among them
    for mask in (half, half.astype(bool)):
        np.testing.assert_array_equal(keep_large_components(tf.constant(mask), 0.5).numpy(), mask)
    below = half.copy()
    below[0, 0, 0] = 0                  # 31 voxels: the small component goes, as in the original
    expected = below.copy()
    expected[3, 0, 0] = 0
    np.testing.assert_array_equal(keep_large_components(below, 0.5).numpy(), expected)


def test_keep_large_components_of_a_box_applies_the_half_rule_to_the_array_it_was_cut_from():
    """RSTN's rounds post-process the round's box of a larger volume: half of the box is not half of the volume."""
    half = np.zeros((4, 4, 4), np.uint8)
    half[:2] = 1
    half[3, 0, 0] = 1                   # 33 voxels: more than half of the box, a one-voxel component among them
    np.testing.assert_array_equal(keep_large_components(half, 0.5).numpy(), half)
    expected = half.copy()
    expected[3, 0, 0] = 0
    np.testing.assert_array_equal(keep_large_components(half, 0.5, array_size=68).numpy(), expected)
    np.testing.assert_array_equal(keep_large_components(half, 0.5, array_size=67).numpy(), half)
