"""The guidance built in the clicks' boxes equals the whole grid's: clicks far apart (separate boxes), close together
(merged boxes whose Gaussians add up and raise the maximum), on the border, one channel empty, Gaussian blobs
instead of disks, a grid so small that the boxes fill it (its minimum is no longer 0), a single click given flat and
clicks outside the grid (clamped onto it, as the original does)."""
import numpy as np
import pytest

from interactive.guidance import guidance_channels
from interactive.guidance_pieces import box_shape, click_boxes, guidance_pieces, intersection, paste


def whole_grid(shape):
    return tuple(slice(0, n) for n in shape)


@pytest.mark.parametrize("foreground, background, shape, sigma, disks", [
    ([[5, 5, 5], [60, 70, 80]], [[30, 2, 90]], (64, 80, 96), 1.0, True),
    ([[10, 10, 10], [10, 11, 12], [12, 12, 12]], [], (30, 40, 50), 1.0, True),
    ([[0, 0, 0], [29, 39, 49]], [[0, 39, 25]], (30, 40, 50), 2.0, False),
    ([], [[3, 4, 5]], (20, 20, 20), 1.0, True),
    ([[1, 2, 3]], [[4, 4, 4]], (6, 7, 8), 1.0, False),
    ([5, 5, 5], [[10, 10, 10], [-3, 12, 40]], (20, 20, 20), 1.0, True),
])
def test_pieces_equal_the_whole_grid(foreground, background, shape, sigma, disks):
    foreground = np.array(foreground, np.int32)
    background = np.array(background, np.int32).reshape(-1, 3)
    pieces = guidance_pieces(foreground, background, shape, sigma, disks)
    expected = guidance_channels(foreground, background, shape, sigma, disks).numpy()
    np.testing.assert_array_equal(paste(pieces, whole_grid(shape)), expected)
    for (a, _), (b, _) in zip(pieces, pieces[1:]):
        assert intersection(a, b) is None
    assert expected.any()


def test_far_clicks_cost_two_small_boxes_and_no_clicks_none():
    boxes = click_boxes(np.array([[10, 10, 10], [300, 200, 200]]), (400, 400, 600), margin=5)
    assert [box_shape(box) for box, _ in boxes] == [(11, 11, 11), (11, 11, 11)]
    assert guidance_pieces(np.zeros((0, 3)), np.zeros((0, 3)), (10, 10, 10)) == []


def test_overlapping_cubes_merge_until_disjoint():
    boxes = click_boxes(np.array([[10, 10, 10], [30, 10, 10], [20, 10, 10]]), (64, 64, 64), margin=5)
    assert len(boxes) == 1 and box_shape(boxes[0][0]) == (31, 11, 11)
    assert sorted(boxes[0][1]) == [0, 1, 2]
