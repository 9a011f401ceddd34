"""RSTN training: the slice stream (epochs as permutations of the selected slices, modes by epoch, stacks and
windowing from the cache), the original's four parameter groups, the learning-rate halving in mode J on hand
values, and a tiny run of `rstn.train` that trains the three modes and resumes."""
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from networks.config_io import read_config
from networks.optimizers import GroupedSGD
from preprocessing.pipeline import StreamShard
from rstn.cache import read_slices
from rstn.config import RSTNConfig
from rstn.data import SliceStream
from rstn.training import build_rstn, learning_rate_schedule, make_optimizer, parameter_groups
from rstn.volume_inference import windowed
from tests.conftest import run_module

TINY = RSTNConfig(base_filters=4, fc_filters=8, epochs=(1, 1, 2))


@pytest.fixture(scope="module")
def nih_cache(nih_folder, tmp_path_factory):
    cache = str(tmp_path_factory.mktemp("rstn_cache"))
    cv = str(tmp_path_factory.mktemp("rstn_cv"))
    result = run_module("rstn.prepare", "--dataset_folder", nih_folder, "--cache_folder", cache, "--num_folds", "3",
                        "--cv_folder", cv)
    assert result.returncode == 0, result.stderr[-2000:]
    return cache


def test_each_epoch_visits_every_selected_slice_once_and_modes_follow_the_epochs(nih_cache):
    stream = SliceStream.of(nih_cache, "Z", TINY, ["PANCREAS_0001", "PANCREAS_0003"], seed=4)
    table = read_slices(nih_cache, "Z")
    assert set(stream.case_ids) == {"PANCREAS_0001", "PANCREAS_0003"}
    assert all(table["pixels"][(table["case_id"] == c) & (table["slice"] == s)][0] > 0
               for c, s in zip(stream.case_ids, stream.slices))
    n = stream.steps_per_epoch
    assert n == len(stream.slices) and stream.total_steps == 4 * n
    first = [stream.element(i)[:2] for i in range(n)]
    second = [stream.element(n + i)[:2] for i in range(n)]
    assert sorted(first) == sorted(second) == sorted(zip(stream.case_ids, stream.slices)) and first != second
    assert [stream.mode_of_step(s) for s in (0, n - 1, n, 2 * n, 4 * n - 1)] == ["S", "S", "I", "J", "J"]
    again = SliceStream.of(nih_cache, "Z", TINY, ["PANCREAS_0001", "PANCREAS_0003"], seed=4).element(5)
    assert again[:3] == stream.element(5)[:3] and np.array_equal(again[3], stream.element(5)[3]), "deterministic"


def test_a_stream_element_is_the_stack_around_its_slice_windowed(nih_cache):
    stream = SliceStream.of(nih_cache, "X", TINY, ["PANCREAS_0002"])
    case_id, index, mode, margins = stream.element(0)
    image, target, mode_code, loaded_margins = stream.load(0)
    volume = np.load(os.path.join(nih_cache, "images", f"{case_id}.npy"))
    labels = np.load(os.path.join(nih_cache, "labels", f"{case_id}.npy"))
    rows = [max(0, index - 1), index, min(volume.shape[1] - 1, index + 1)]
    expected = np.stack([volume[:, r, :].T for r in rows], axis=-1)
    np.testing.assert_array_equal(image, expected)
    features, _ = next(iter(stream.dataset(StreamShard())))
    np.testing.assert_allclose(features["image"][0], windowed(expected, RSTNConfig()), rtol=1e-6)
    assert float(tf.reduce_min(features["image"])) >= 0 and float(tf.reduce_max(features["image"])) <= 1
    np.testing.assert_array_equal(target[..., 1], labels[:, index, :].T == 1)
    assert mode == "S" and mode_code == 0 and np.array_equal(margins, loaded_margins)


def test_parameter_groups_are_the_original_four():
    config = RSTNConfig(base_filters=4, fc_filters=8)
    model = build_rstn(config)
    multipliers, decays = parameter_groups(model, config)
    groups = {}
    for variable, multiplier, decay in zip(model.trainable_variables, multipliers, decays):
        part = "coarse" if any(variable is v for v in model.coarse.trainable_variables) else "fine+saliency"
        groups.setdefault((part, variable.name), set()).add((multiplier, decay))
    assert groups == {("coarse", "kernel"): {(1.0, 5e-4)}, ("coarse", "bias"): {(2.0, 0.0)},
                      ("fine+saliency", "kernel"): {(10.0, 5e-4)}, ("fine+saliency", "bias"): {(20.0, 0.0)}}
    assert len(multipliers) == 2 * 2 * (13 + 2 + 3) + 2 * 2, "(VGG, fc6/7, scores) x 2 networks + saliency"


def test_the_optimizer_is_the_original_sgd_unless_adam_is_asked_for():
    config = RSTNConfig(base_filters=4, fc_filters=8)
    model = build_rstn(config)
    sgd = make_optimizer(model, config, "sgd", 10)
    assert isinstance(sgd, GroupedSGD) and sgd.momentum == 0.99 and sorted(set(sgd.multipliers)) == [1, 2, 10, 20]
    adam = make_optimizer(model, config, "adam", 10)
    assert isinstance(adam, keras.optimizers.Adam) and float(adam.learning_rate) == pytest.approx(1e-5)
    with pytest.raises(ValueError, match="optimizer"):
        make_optimizer(model, config, "rmsprop", 10)


def test_learning_rate_halves_every_two_epochs_of_mode_j():
    schedule = learning_rate_schedule(RSTNConfig(), steps_per_epoch=10)
    # S 2 + I 6 epochs = steps 0..79; J from step 80; halved after J epochs 2, 4, 6, 8.
    rates = {step: float(schedule(step)) for step in (0, 79, 99, 100, 119, 120, 159, 160)}
    assert rates == pytest.approx({0: 1e-5, 79: 1e-5, 99: 1e-5, 100: 5e-6, 119: 5e-6, 120: 2.5e-6,
                                   159: 1.25e-6, 160: 6.25e-7})
    assert learning_rate_schedule(RSTNConfig(epochs=(1, 1, 1)), 10) == 1e-5


def test_train_runs_the_three_modes_and_resumes(nih_cache, tmp_path):
    args = ["--cache_folder", nih_cache, "--base_output_folder", str(tmp_path), "--plane", "Y", "--fold", "1",
            "--base_filters", "4", "--fc_filters", "8", "--epochs", "1,1,1", "--learning_rate", "1e-4"]
    result = run_module("rstn.train", *args)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = open(tmp_path / "Y" / "train.csv").read().splitlines()
    assert rows[0].startswith("iteration,loss_coarse,loss_fine")
    steps = int(rows[-1].split(",")[0])
    assert os.path.exists(tmp_path / "Y" / "checkpoints" / f"ckpt-{steps}.index")
    again = run_module("rstn.train", *args)
    assert again.returncode == 0 and "from step" not in again.stdout, "a finished run does not train again"
    config = read_config(RSTNConfig, str(tmp_path / "Y" / "config.json"))
    assert config.epochs == (1, 1, 1) and config.base_filters == 4, "each plane keeps the config it was trained with"
