"""Detector anchors on hand values: cube IoU, anchor matching, training labels, decoding, NMS."""
import numpy as np
import pytest

from nodules import anchors
from nodules.config import DetectorConfig

CONFIG = DetectorConfig()


def test_cell_centres_are_the_middle_of_each_stride():
    np.testing.assert_allclose(anchors.cell_centres(3, 4), [1.5, 5.5, 9.5])


def test_cube_iou_by_hand():
    # cubes of side 2 shifted by 1 along z: intersection 1 x 2 x 2 = 4, union 8 + 8 - 4 = 12
    assert anchors.cube_iou([0, 0, 0, 2], [1, 0, 0, 2]) == pytest.approx(4 / 12)
    # a side-2 cube inside a side-4 cube: 8 / 64
    assert anchors.cube_iou([0, 0, 0, 4], [0.5, 0.5, 0.5, 2]) == pytest.approx(8 / 64)
    assert anchors.cube_iou([0, 0, 0, 2], [5, 0, 0, 2]) == 0.0


def test_anchor_cells_match_a_brute_force_search():
    box = np.array([21.0, 30.0, 10.0, 9.0])
    grid = (24, 24, 24)
    found = anchors.anchor_cells(box, 10.0, 0.02, grid, 4)
    cells = np.stack(np.meshgrid(*[np.arange(n) for n in grid], indexing="ij"), -1).reshape(-1, 3)
    cubes = np.concatenate([1.5 + 4 * cells, np.full((len(cells), 1), 10.0)], 1)
    expected = cells[anchors.cube_iou(cubes, box) >= 0.02]
    assert {tuple(c) for c in found} == {tuple(c) for c in expected} and len(found) > 0


def test_labels_have_one_positive_encoding_the_target_and_ignore_its_neighbourhood():
    rng = np.random.default_rng(0)
    target = np.array([41.5, 45.5, 49.5, 10.0])  # exactly on cell (10, 11, 12) with the 10 mm anchor
    labels = anchors.detection_labels((24, 24, 24), target, target[None], CONFIG, rng)
    positives = np.argwhere(labels[..., 0] == 1)
    assert len(positives) == 1
    z, y, x, a = positives[0]
    centre = 1.5 + 4 * np.array([z, y, x])
    anchor = CONFIG.anchors_mm[a]
    np.testing.assert_allclose(labels[z, y, x, a, 1:4], (target[:3] - centre) / anchor, atol=1e-6)
    assert labels[z, y, x, a, 4] == pytest.approx(np.log(10.0 / anchor))
    assert anchors.cube_iou([*centre, anchor], target) >= CONFIG.th_pos_train
    assert (labels[..., 0] == -1).sum() == CONFIG.num_neg
    assert labels[10, 11, 12, 1, 0] != -1  # the anchors on the nodule are never negatives


def test_target_without_a_good_anchor_takes_the_nearest_cell_and_size():
    rng = np.random.default_rng(0)
    target = np.array([42.0, 45.0, 50.0, 3.0])  # far smaller than the 5 mm anchor: no IoU >= 0.5
    labels = anchors.detection_labels((24, 24, 24), target, target[None], CONFIG, rng, train=False)
    assert [tuple(p) for p in np.argwhere(labels[..., 0] == 1)] == [(10, 11, 12, 0)]
    assert (labels[..., 0] == -1).sum() > CONFIG.num_neg  # no sampling outside training


def test_decode_inverts_the_label_encoding_and_thresholds():
    rng = np.random.default_rng(1)
    target = np.array([30.0, 50.0, 70.0, 12.0])
    labels = anchors.detection_labels((24, 24, 24), target, target[None], CONFIG, rng)
    output = labels.copy()
    output[..., 0] = np.where(labels[..., 0] == 1, 2.0, -10.0)
    detections = anchors.decode(output, CONFIG)
    assert detections.shape == (1, 5)
    np.testing.assert_allclose(detections[0], [2.0, *target], atol=1e-5)


def test_nms_keeps_the_best_of_overlapping_cubes():
    detections = np.array([[0.5, 10, 10, 10, 8], [0.9, 11, 10, 10, 8], [0.7, 40, 40, 40, 8], [0.6, 10, 10, 30, 8]])
    kept = anchors.cube_nms(detections, 0.1)
    np.testing.assert_array_equal(kept[:, 0], [0.9, 0.7, 0.6])


def test_nms_equals_the_one_at_a_time_rule_and_bounds_its_candidates():
    rng = np.random.default_rng(3)
    detections = np.column_stack([rng.uniform(size=300), rng.uniform(0, 40, size=(300, 3)), rng.uniform(3, 12, 300)])
    kept = anchors.cube_nms(detections, 0.1)
    reference = []
    for detection in detections[np.argsort(-detections[:, 0])]:
        if all(anchors.cube_iou(k[1:], detection[1:]) < 0.1 for k in reference):
            reference.append(detection)
    np.testing.assert_array_equal(kept, np.array(reference))
    assert len(anchors.cube_nms(detections, 0.1, max_candidates=5)) <= 5
