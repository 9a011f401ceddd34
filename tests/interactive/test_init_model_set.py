"""`interactive.train --init_model_set` (an addition): the network starts from an exported click-guided set's
weights, with the set's network, windows, crops and input settings unless flags give others, which must fit;
checked before any case loads."""
import dataclasses
import os

import numpy as np
import pytest
import tensorflow as tf

from interactive.config import MODEL_SET_FIELDS, InteractiveConfig, model_set_fields
from interactive.model_set import interactive_member
from interactive.training import build_model, check_start, model_set_start, started_model
from networks.config_io import read_config
from serving.loading import load_model_set
from tests.conftest import INTERACTIVE_TINY_FLAGS, REPO, run_module


def _set_config(model_set: str) -> InteractiveConfig:
    return interactive_member(model_set)[1]


def _initial_weights(model_set: str, config: InteractiveConfig) -> list[np.ndarray]:
    set_config, weights = model_set_start(model_set)
    check_start(model_set, set_config, weights, config)
    return weights


def _logits(model_set: str, image: np.ndarray) -> np.ndarray:
    member = load_model_set(model_set)["segmentation"]
    return member.signatures["serving_default"](image=tf.constant(image))["logits"].numpy()


def test_started_model_computes_the_sets_logits(interactive_model_set):
    model_set = f"{interactive_model_set}/autopet_interactive"
    config = _set_config(model_set)
    image = np.random.default_rng(0).random((1, *config.roi_size, 3), dtype=np.float32)
    model = started_model(config, _initial_weights(model_set, config))
    expected = _logits(model_set, image)
    np.testing.assert_allclose(model(image, training=False).numpy(), expected, atol=1e-4)
    assert np.abs(build_model(config)(image, training=False).numpy() - expected).max() > 0.1


def test_weights_that_do_not_fit_are_refused(interactive_model_set):
    model_set = f"{interactive_model_set}/autopet_interactive"
    config = _set_config(model_set)
    with pytest.raises(ValueError, match="autopet_interactive: weight .* has shape"):
        _initial_weights(model_set, dataclasses.replace(config, filters=tuple(2 * f for f in config.filters)))
    with pytest.raises(ValueError, match="trained on input channels PT, these flags give PT,CT"):
        _initial_weights(model_set, dataclasses.replace(config, input_channels=("PT", "CT")))
    with pytest.raises(ValueError, match="cxr_lungs: a 'cfcm' model set, not a click-guided one"):
        _initial_weights(os.path.join(REPO, "saved_models", "cxr_lungs"), config)


def test_flags_given_win_over_the_sets_fields():
    trained = InteractiveConfig(filters=(8, 16, 16), kernel_sizes=(3, 3, 3), strides=((1, 1, 1), (2, 2, 2), (1, 2, 2)),
                                roi_size=(16, 32, 32), input_channels=("PT", "CT"), learning_rate=0.5)
    fields = model_set_fields(trained, {"roi_size", "filters"})
    assert set(fields) == set(MODEL_SET_FIELDS) - {"roi_size", "filters"}
    assert fields["input_channels"] == ("PT", "CT") and fields["strides"] == trained.strides
    assert "learning_rate" not in fields and "train_clicks" not in fields


def test_fine_tuning_at_rate_zero_exports_the_same_network(autopet_folder, interactive_model_set, tmp_path):
    """No network flags: the run takes the set's network, windows and crops (the tiny test network, not the
    original's defaults; --overlap, given, wins) and, at learning rate 0, exports the set's logits."""
    model_set = f"{interactive_model_set}/autopet_interactive"
    for module, *args in (("interactive.train", "--base_dataset_folder", autopet_folder, "--base_output_folder",
                           str(tmp_path / "train"), "--epochs", "1", "--learning_rate", "0", "--min_learning_rate",
                           "0", "--init_model_set", model_set, "--overlap", "0.5", "--train_clicks", "2",
                           "--validation_clicks", "2"),
                          ("interactive.export", "--load_model_base", str(tmp_path / "train"), "--model_set_folder",
                           str(tmp_path / "autopet_interactive"), "--trained_on", "test phantoms")):
        result = run_module(module, *args)
        assert result.returncode == 0, result.stderr[-3000:]
    trained, run = _set_config(model_set), read_config(InteractiveConfig, str(tmp_path / "train" / "config.json"))
    assert all(getattr(run, name) == getattr(trained, name) for name in MODEL_SET_FIELDS if name != "overlap")
    assert run.overlap == 0.5 != trained.overlap
    assert run.learning_rate == 0 and run.filters != InteractiveConfig().filters
    image = np.random.default_rng(1).random((2, *trained.roi_size, 3), dtype=np.float32)
    np.testing.assert_allclose(_logits(str(tmp_path / "autopet_interactive"), image), _logits(model_set, image),
                               atol=1e-4)


def test_a_set_of_another_network_fails_before_training(autopet_folder, interactive_model_set, tmp_path):
    flags = list(INTERACTIVE_TINY_FLAGS)
    flags[flags.index("--filters") + 1] = "4,8,16"
    result = run_module("interactive.train", "--base_dataset_folder", autopet_folder, "--base_output_folder",
                        str(tmp_path / "train"), "--epochs", "1", "--init_model_set",
                        f"{interactive_model_set}/autopet_interactive", *flags)
    assert result.returncode != 0
    assert "has shape" in result.stderr.strip().splitlines()[-1] and "Traceback" not in result.stderr
    assert not (tmp_path / "train" / "checkpoints").exists() and not (tmp_path / "train" / "split.json").exists()
    assert not (tmp_path / "train" / "config.json").exists()


def test_a_missing_data_folder_fails_before_any_write(tmp_path):
    result = run_module("interactive.train", "--base_dataset_folder", str(tmp_path / "missing"),
                        "--base_output_folder", str(tmp_path / "train"), *INTERACTIVE_TINY_FLAGS)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "No such file or directory" in result.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "train").exists()
