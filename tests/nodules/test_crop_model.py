"""The crop model: inputs, jittered crops, outputs and loss."""
import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from nodules.config import CropModelConfig
from nodules.crop_data import centred_crop, training_crop
from nodules.crop_model import build_crop_model, crop_input
from nodules.crop_training import crop_loss

TINY = dataclasses.replace(CropModelConfig(), crop_size=(16, 16, 16), context_mm=4.0, centre_jitter_mm=2.0,
                           kernel_sizes=(3, 3), strides=((1, 1, 1), (2, 2, 2)), filters=(4, 8))


def test_input_windows_hu_to_unit_range():
    np.testing.assert_allclose(crop_input(np.array([-1500.0, -1200.0, -300.0, 600.0]), CropModelConfig()),
                               [0.0, 0.0, 0.5, 1.0])


def test_centred_and_jittered_crops_stay_within_the_context():
    hu = np.zeros((24, 24, 24), np.int16)
    mask = np.zeros((24, 24, 24), np.uint8)
    mask[12, 12, 12] = 1  # voxel 8 of the centred 16-voxel crop (the context is 4 voxels)
    image, label = centred_crop(hu, mask, TINY)
    assert image.shape == (16, 16, 16, 1) and label[8, 8, 8] == 1
    for seed in range(10):
        _, jittered = training_crop(hu, mask, TINY, np.random.default_rng(seed))
        z, y, x = np.argwhere(jittered)[0]
        # a start 2 .. 6 puts it at 6 .. 10; a flip (i -> 15 - i) at 5 .. 9
        assert all(5 <= v <= 10 for v in (z, y, x))


def test_model_outputs_mask_logits_and_a_malignancy_logit():
    model = build_crop_model(TINY)
    outputs = model(tf.zeros((2, 16, 16, 16, 1)))
    assert outputs["mask"].shape == (2, 16, 16, 16, 2) and outputs["malignancy"].shape == (2, 1)


def test_indeterminate_nodules_do_not_count_in_the_malignancy_loss():
    outputs = {"mask": tf.zeros((3, 4, 4, 4, 2)), "malignancy": tf.constant([[2.0], [-1.0], [50.0]])}
    labels = {"mask": tf.zeros((3, 4, 4, 4), tf.int32), "malignancy": tf.constant([1, 0, -1])}
    terms = crop_loss(outputs, labels, TINY)
    expected = (np.log1p(np.exp(-2.0)) + np.log1p(np.exp(-1.0))) / 2
    assert float(terms["loss_malignancy"]) == pytest.approx(expected, rel=1e-5)
    none = crop_loss(outputs, {**labels, "malignancy": tf.constant([-1, -1, -1])}, TINY)
    assert float(none["loss_malignancy"]) == 0.0


def test_a_smaller_crop_is_cut_from_the_centre_of_the_cached_one():
    hu = np.zeros((24, 24, 24), np.int16)
    mask = np.zeros((24, 24, 24), np.uint8)
    mask[12, 12, 12] = 1
    small = dataclasses.replace(TINY, crop_size=(8, 8, 8))
    _, label = centred_crop(hu, mask, small)
    assert label.shape == (8, 8, 8) and label[4, 4, 4] == 1
    with pytest.raises(ValueError, match="smaller than crop_size"):
        centred_crop(hu, mask, dataclasses.replace(TINY, crop_size=(32, 32, 32)))
