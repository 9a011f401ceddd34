"""Detector training crops as DeepLung draws them: zoom, oversampling, crop placement, flips, labels."""
import dataclasses

import numpy as np
import pytest

from nodules import detector_data as dd
from nodules.anchors import decode
from nodules.config import DetectorConfig

PLAIN = dataclasses.replace(DetectorConfig(), crop_size=(32, 32, 32), bound_size=4, scale_augmentation=False,
                            flip=False, num_neg=50)


def test_zoom_aligns_corners_like_scipy():
    np.testing.assert_allclose(dd.zoom_linear(np.array([0.0, 10.0]), 1.5), [0.0, 5.0, 10.0])
    out = dd.zoom_linear(np.arange(8, dtype=np.float32).reshape(2, 2, 2), 2.0)
    assert out.shape == (4, 4, 4) and out[0, 0, 0] == 0 and out[-1, -1, -1] == 7
    assert out[0, 0, 1] == pytest.approx(1 / 3)


def test_epoch_oversamples_large_nodules():
    boxes = [np.array([[10, 10, 10, 2.0], [10, 10, 10, 5.0]]), np.array([[9, 9, 9, 15.0], [9, 9, 9, 25.0]])]
    samples = dd.epoch_samples(boxes, DetectorConfig())
    assert [samples.count(p) for p in [(0, 0), (0, 1), (1, 0), (1, 1)]] == [0, 1, 3, 7]
    assert dd.epoch_length(len(samples), DetectorConfig()) == int(11 / 0.7)


def _ramp(shape) -> np.ndarray:
    z, y, x = np.meshgrid(*[np.arange(n) for n in shape], indexing="ij")
    return (z * 10000 + y * 100 + x).astype(np.float64)


def test_nodule_crop_cuts_the_image_around_the_nodule():
    image = _ramp((60, 70, 80))
    target = np.array([30.0, 40.0, 50.0, 6.0])
    for seed in range(5):
        crop, moved, boxes, coord = dd.nodule_crop(image, target, target[None], PLAIN, np.random.default_rng(seed))
        start = target[:3] - moved[:3]
        assert np.all(moved[:3] - moved[3] / 2 >= PLAIN.bound_size - 1)
        assert np.all(moved[:3] + moved[3] / 2 <= 32 - PLAIN.bound_size + 1)
        z, y, x = start.astype(int)
        assert crop[0, 0, 0] == image[z, y, x] and crop.shape == (32, 32, 32)
        np.testing.assert_allclose(boxes[0], moved)
        np.testing.assert_allclose(coord[0, 0, 0], start / np.array(image.shape) - 0.5, atol=1e-6)


def test_crop_beyond_the_scan_is_padded():
    image = np.zeros((40, 40, 40), np.uint8)
    crop, moved, _, _ = dd.nodule_crop(image, np.array([2.0, 20.0, 20.0, 4.0]), np.zeros((0, 4)), PLAIN,
                                       np.random.default_rng(0))
    start = 2.0 - moved[0]
    assert start < 0 and np.all(crop[: int(-start)] == PLAIN.pad_value) and np.all(crop[int(-start):] == 0)


def test_scaled_and_flipped_crop_keeps_the_nodule_under_its_box():
    config = dataclasses.replace(PLAIN, scale_augmentation=True, flip=True, crop_size=(48, 48, 48))
    image = np.zeros((80, 80, 80), np.float32)
    zz, yy, xx = np.meshgrid(*[np.arange(80)] * 3, indexing="ij")
    target = np.array([40.0, 35.0, 45.0, 10.0])
    image[(zz - 40) ** 2 + (yy - 35) ** 2 + (xx - 45) ** 2 <= 25] = 255.0
    for seed in range(6):
        crop, moved, _, _ = dd.nodule_crop(image, target, target[None], config, np.random.default_rng(seed))
        centre = tuple(np.round(moved[:3]).astype(int))
        assert crop[centre] > 200, (seed, moved)
        assert 7.5 <= moved[3] <= 12.5


def test_training_sample_has_one_positive_for_a_nodule_and_none_for_a_random_crop():
    images = [np.full((50, 50, 50), 100, np.uint8)]
    boxes = [np.array([[25.0, 25.0, 25.0, 8.0]])]
    samples = dd.epoch_samples(boxes, PLAIN)
    image, coord, labels = dd.training_sample(images, boxes, samples, 0, PLAIN, np.random.default_rng(0))
    assert image.shape == (32, 32, 32, 1) and coord.shape == (8, 8, 8, 3) and labels.shape == (8, 8, 8, 3, 5)
    assert image.max() == pytest.approx((100 - 128) / 128)
    assert (labels[..., 0] == 1).sum() == 1
    output = labels.copy()
    output[..., 0] = np.where(labels[..., 0] == 1, 5.0, -9.0)
    assert decode(output, PLAIN)[0, 4] == pytest.approx(8.0, rel=1e-5)
    _, _, random_labels = dd.training_sample(images, boxes, samples, 1, PLAIN, np.random.default_rng(0))
    assert (random_labels[..., 0] == 1).sum() == 0
