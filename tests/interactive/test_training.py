"""The click loop before a gradient step (hand-set network that never finds the lesion), the training crops, and a
tiny training run end to end on phantoms with lesion-free cases and the DeepGrow mode's click probability
(checkpoint, TensorBoard, CSV with Dice at 0 and at N clicks, no NaN); the gradient step through the inference
sliding window."""
import csv
import dataclasses
import json
import os

import numpy as np
import tensorflow as tf

from interactive.config import InteractiveConfig
from interactive.interaction import simulate_clicks
from interactive.sampling import training_crop
from interactive.training import build_model, full_volume_logits, training_forward, window_predictor
from preprocessing.synthetic import autopet
from tests.conftest import AUTOPET_TEST_CONFIG_KWARGS, run_module

TINY = dict(train_crop_size=(16, 32, 32), roi_size=(16, 32, 32), kernel_sizes=(3, 3, 3),
            strides=((1, 1, 1), (2, 2, 2), (1, 2, 2)), filters=(4, 8, 8))


def test_clicks_accumulate_in_the_missed_lesion_when_the_network_finds_nothing():
    config = InteractiveConfig(**TINY)
    model = build_model(config)
    output = model.get_layer("output")
    kernel, bias = output.get_weights()
    output.set_weights([np.zeros_like(kernel), np.array([10.0, -10.0], np.float32)])  # always background
    label = np.zeros((1, 16, 32, 32), np.uint8)
    label[0, 4:12, 8:24, 8:24] = 1
    image = np.random.default_rng(0).random((1, 16, 32, 32, 1)).astype(np.float32)
    inputs = simulate_clicks(model, tf.constant(image), tf.constant(label), config, 3, tf.constant([1, 2]),
                             config.spacing_mm).numpy()
    assert inputs.shape == (1, 16, 32, 32, 3) and (inputs[..., 0] == image[..., 0]).all()
    lesion, background = inputs[0, ..., 1], inputs[0, ..., 2]
    assert not background.any(), "no false positives: no background click"
    grown = np.zeros_like(label[0], bool)
    grown[2:14, 6:26, 6:26] = True
    assert lesion.any() and not (lesion.astype(bool) & ~grown).any(), "disks around clicks inside the lesion"


def test_crops_are_centred_on_lesions_at_the_positive_rate_and_padded_to_size():
    config = InteractiveConfig(**TINY)
    image = np.zeros((10, 120, 120, 1), np.float32)
    label = np.zeros((10, 120, 120), np.uint8)
    label[5, 100, 100] = 1
    rng = np.random.default_rng(0)
    crops = [training_crop(image, label, config, rng) for _ in range(400)]
    assert all(c[0].shape == (16, 32, 32, 1) and c[1].shape == (16, 32, 32) for c in crops)
    rate = np.mean([c[1].any() for c in crops])
    assert 0.55 < rate < 0.75, f"lesion in {rate:.2f} of the crops (0.6 centred on it, about 0.03 by chance)"


def test_tiny_training_with_lesion_free_cases(tmp_path):
    data = tmp_path / "AutoPET"
    phantoms = autopet.AutoPETPhantomConfig(**AUTOPET_TEST_CONFIG_KWARGS)
    autopet.write_dataset(str(data), 3, 1, dataclasses.replace(phantoms, lesion_free_probability=0.0), progress=False)
    autopet.write_dataset(str(data), 2, 2, dataclasses.replace(phantoms, lesion_free_probability=1.0), progress=False)
    out = tmp_path / "run"
    result = run_module("interactive.train", "--base_dataset_folder", str(data), "--base_output_folder", str(out),
                        "--epochs", "2", "--train_crop_size", "16,32,32", "--roi_size", "16,32,32",
                        "--kernel_sizes", "3,3,3", "--strides", "1x1x1,2x2x2,1x2x2", "--filters", "4,8,8",
                        "--train_clicks", "2", "--validation_clicks", "2", "--train_fraction", "0.6",
                        "--click_probability", "0.5")
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.load(open(out / "config.json"))["click_probability"] == 0.5
    rows = list(csv.DictReader(open(out / "validation.csv")))
    assert len(rows) == 2 and all(np.isfinite(float(r[k])) for r in rows for k in ("dice_0_clicks", "dice_2_clicks"))
    assert all(np.isfinite(float(r["loss_dice_ce"])) for r in csv.DictReader(open(out / "train.csv")))
    assert os.listdir(out / "checkpoints") and os.listdir(out / "train") and (out / "config.json").exists()


def test_the_gradient_step_sees_the_inference_sliding_window_when_the_crop_is_larger():
    """Crop 16x48x48 > window 16x32x32: the training forward pass is the inference sliding window (same windows,
    logits blended with the same Gaussian weights), not one call on the whole crop (other instance-norm statistics
    and context); a batch of two crops gives each crop's own result."""
    config = InteractiveConfig(**{**TINY, "train_crop_size": (16, 48, 48)})
    keras_model = build_model(config)
    crops = np.random.default_rng(3).random((2, 16, 48, 48, 3)).astype(np.float32)
    trained_on = training_forward(config)(keras_model, tf.constant(crops), False).numpy()
    predict = window_predictor(keras_model)
    for crop, logits in zip(crops, trained_on):
        np.testing.assert_allclose(logits, full_volume_logits(predict, crop, config), rtol=1e-4, atol=1e-4)
    whole = keras_model(tf.constant(crops), training=False).numpy()
    assert np.abs(whole - trained_on).max() > 1e-2, "one call on the whole crop is not what inference computes"
    window = InteractiveConfig(**TINY)
    np.testing.assert_array_equal(training_forward(window)(keras_model, tf.constant(crops[:, :, :32, :32]), False),
                                  keras_model(tf.constant(crops[:, :, :32, :32]), training=False))
