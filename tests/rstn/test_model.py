"""RSTN networks: FCN-8s output size for any slice size, the fixed bilinear upsampling, the saliency module's
initial state, the fine region (box, margins, crop and paste back) on hand values, the training modes and
the DSC loss on hand values."""
import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from rstn.config import RSTNConfig
from rstn.crop import OUTSIDE_LOGIT, mask_box, sample_box_masks, training_margins, uncrop
from rstn.model import MODE_CODES, RSTN, bilinear_kernel, build_fcn8s, build_saliency_module, dsc_loss

TINY = RSTNConfig(base_filters=4, fc_filters=8)


@pytest.mark.parametrize("rows, columns", [(64, 48), (37, 53), (1, 1), (130, 7)])
def test_fcn8s_output_has_the_input_size(rows, columns):
    assert build_fcn8s(TINY, "coarse")(tf.zeros((2, rows, columns, 3))).shape == (2, rows, columns, 3)


def test_upsampling_kernels_are_fixed_bilinear_and_score_layers_start_at_zero():
    kernel = bilinear_kernel(4, 3)
    np.testing.assert_allclose(kernel[:, :, 0, 0], np.outer([0.25, 0.75, 0.75, 0.25], [0.25, 0.75, 0.75, 0.25]))
    assert kernel[:, :, 0, 1].sum() == 0, "channels are not mixed"
    assert bilinear_kernel(16, 1)[7, 8, 0, 0] == pytest.approx((1.0 - 0.5 / 8) ** 2), "factor 8, centre 7.5"
    model = build_fcn8s(TINY, "fine")
    for name, size in (("upscore2", 4), ("upscore_pool4", 4), ("upscore8", 16)):
        layer = model.get_layer(name)
        assert not layer.trainable and not layer.use_bias
        np.testing.assert_allclose(layer.kernel.numpy(), bilinear_kernel(size, 3))
    for name in ("score_fr", "score_pool4", "score_pool3"):
        assert not model.get_layer(name).kernel.numpy().any() and not model.get_layer(name).bias.numpy().any()
    assert model.get_layer("input_padding").padding == ((100, 100), (100, 100))


def test_the_prior_addition_starts_every_pixel_at_the_prior_probability():
    model = build_fcn8s(dataclasses.replace(TINY, prior_probability=0.01), "coarse")
    np.testing.assert_allclose(model.get_layer("score_fr").bias.numpy(), np.log(0.01 / 0.99), rtol=1e-6)
    probabilities = tf.sigmoid(model(tf.random.uniform((1, 128, 96, 3)))).numpy()
    np.testing.assert_allclose(probabilities[:, 32:, 32:], 0.01, rtol=1e-4)
    assert probabilities.min() >= 0.0099 and probabilities.max() < 0.2, "the bilinear upsampling's first rows"
    with pytest.raises(ValueError, match="prior_probability"):
        dataclasses.replace(TINY, prior_probability=1.0)


def test_saliency_module_starts_as_the_original_constant_map():
    module = build_saliency_module(RSTNConfig())
    saliency = module(tf.random.uniform((1, 9, 7, 3))).numpy()
    np.testing.assert_allclose(saliency[0, 4, 3], [1.0, 1.5, 2.0])
    np.testing.assert_allclose(saliency.std(axis=(0, 1, 2)), 0.0, atol=1e-7)


def test_box_is_the_mask_extent_plus_margins_clipped_to_the_slice():
    mask = np.zeros((1, 40, 50, 3), bool)
    mask[0, 10:15, 20:30, 1] = True
    box, found = mask_box(tf.constant(mask), tf.constant([3, 4, 5, 6]))
    assert bool(found) and box.numpy().tolist() == [7, 19, 15, 36]
    box, _ = mask_box(tf.constant(mask), tf.constant([20, 40, 30, 40]))
    assert box.numpy().tolist() == [0, 40, 0, 50]
    box, found = mask_box(tf.zeros((1, 40, 50, 3), tf.bool), tf.constant([3, 3, 3, 3]))
    assert not bool(found) and box.numpy().tolist() == [0, 40, 0, 50]


def test_one_box_covers_the_batch_and_each_sample_keeps_only_its_own():
    mask = np.zeros((2, 20, 20, 1), bool)
    mask[0, 2:4, 2:4] = True
    mask[1, 15:17, 10:12] = True
    box, _ = mask_box(tf.constant(mask), tf.constant([1, 1, 1, 1]))
    assert box.numpy().tolist() == [1, 18, 1, 13]
    inside = sample_box_masks(tf.constant(mask), tf.constant([1, 1, 1, 1])).numpy()[..., 0]
    assert inside[0, 1:5, 1:5].all() and inside[0].sum() == 16
    assert inside[1, 14:18, 9:13].all() and inside[1].sum() == 16


def test_uncrop_puts_the_crop_back_and_zero_probability_outside():
    cropped = tf.fill((1, 3, 4, 3), 2.0)
    canvas = uncrop(cropped, tf.constant([5, 8, 1, 5]), tf.constant(10), tf.constant(6)).numpy()
    assert canvas.shape == (1, 10, 6, 3)
    assert (canvas[0, 5:8, 1:5] == 2.0).all() and (canvas == 2.0).sum() == 3 * 4 * 3
    assert canvas[0, 0, 0, 0] == OUTSIDE_LOGIT and float(tf.sigmoid(canvas[0, 0, 0, 0])) == 0.0


def test_training_margins_are_fixed_or_uniform_up_to_twice_the_margin():
    rng = np.random.default_rng(0)
    assert training_margins(rng, 20, 0.0).tolist() == [20] * 4
    drawn = np.stack([training_margins(rng, 20, 1.0) for _ in range(2000)])
    assert drawn.min() == 0 and drawn.max() == 40 and abs(drawn.mean() - 20) < 1
    mixed = np.stack([training_margins(rng, 20, 0.5) for _ in range(2000)])
    assert 0.4 < np.mean((mixed == 20).all(axis=1)) < 0.6


def _saliency_gradient(mode: str) -> float:
    tf.random.set_seed(1)
    model = RSTN(TINY)
    image = tf.random.uniform((1, 24, 20, 3))
    label = np.zeros((1, 24, 20, 3), np.float32)
    label[0, 8:14, 6:12] = 1
    inputs = {"image": image, "label": tf.constant(label), "mode": tf.constant([MODE_CODES[mode]]),
              "margins": tf.constant([[2, 2, 2, 2]])}
    model(inputs)
    for layer in ("score_fr", "score_pool4", "score_pool3"):
        kernel = model.fine.get_layer(layer).kernel
        kernel.assign(tf.random.normal(kernel.shape))
    with tf.GradientTape() as tape:
        outputs = model(inputs, training=False)
        loss = dsc_loss(outputs["fine"], label, 1e-6)
    gradients = tape.gradient(loss, model.saliency.trainable_variables)
    return sum(float(tf.reduce_sum(tf.abs(g))) for g in gradients if g is not None)


def test_mode_s_feeds_the_image_and_mode_i_the_saliency_weighted_image():
    assert _saliency_gradient("S") == 0.0
    assert _saliency_gradient("I") > 0.0


def test_fine_probabilities_are_zero_outside_the_label_box_in_mode_i():
    model = RSTN(TINY)
    label = np.zeros((1, 30, 30, 3), np.float32)
    label[0, 10:12, 10:12] = 1
    outputs = model({"image": tf.random.uniform((1, 30, 30, 3)), "label": tf.constant(label),
                     "mode": tf.constant([MODE_CODES["I"]]), "margins": tf.constant([[3, 3, 3, 3]])})
    fine = outputs["fine"].numpy()[0, ..., 0]
    assert (fine[7:15, 7:15] == 0.5).all(), "zero-initialised score layers give 0.5 inside the box"
    assert fine.sum() == pytest.approx(0.5 * 64)


def test_dsc_loss_is_one_minus_the_soft_dsc_per_sample_on_hand_values():
    probabilities = tf.constant([[[0.8, 0.2], [0.6, 0.4]], [[0.0, 0.0], [0.0, 0.0]]])
    labels = tf.constant([[[1.0, 0.0], [1.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]])
    first = (2 * 1.4 + 1e-6) / (2.0 + 2.0 + 1e-6)
    second = (0 + 1e-6) / (0 + 1e-6)
    assert float(dsc_loss(probabilities, labels, 1e-6)) == pytest.approx(1 - (first + second) / 2, rel=1e-6)


@pytest.mark.parametrize("threshold", [0.0, -0.5, 1.5])
def test_a_fine_threshold_outside_0_1_is_refused(threshold):
    """At 0 or below every voxel, the volume's outside included, would be in every round's mask."""
    with pytest.raises(ValueError, match="fine_threshold must be in"):
        dataclasses.replace(TINY, fine_threshold=threshold)
