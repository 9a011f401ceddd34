"""The exported set's one member: `segment` (the whole loop in the graph) equals the Python loop
(`rstn.fusion.coarse_to_fine`) on the member's plane signatures, and `fine_round` one round of it
(`rstn.fusion.next_round`, from a mask whose round box is smaller than the volume, and from an empty mask), on a set
whose networks have random score and saliency weights (the tiny trained set answers 0.5 everywhere: one trivial
round), with fine rounds run from a partial round-0 mask and a coarse threshold other than the fine one (round 0 is
thresholded at the fine one, as the original); the member loads and segments in a process that imports only
TensorFlow; its metadata carries each plane's config."""
import dataclasses
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy import ndimage

from rstn.config import PLANES, RSTNConfig
from rstn.export import export_rstn_models
from evaluation.metrics import dice
from rstn.fusion import coarse_to_fine, mean_of_planes, next_round
from rstn.training import build_rstn
from serving import load_member, read_manifest, read_metadata
from tests.conftest import PROJECT_PACKAGES

TF_ONLY = textwrap.dedent("""
    import json, os, sys
    import numpy as np
    import tensorflow as tf
    folder, packages = sys.argv[1], sys.argv[2].split(",")
    manifest = json.load(open(os.path.join(folder, "manifest.json")))
    model = tf.saved_model.load(os.path.join(folder, manifest["members"]["segmentation"]))
    meta = json.loads(model.signatures["metadata"]()["json"].numpy())
    volume = tf.constant(np.random.default_rng(0).uniform(-200, 300, (6, 40, 36)), tf.float32)
    result = model.signatures["segment"](volume=volume, slice_batch=tf.constant(4))
    assert result["labels"].shape == result["coarse_labels"].shape == volume.shape
    assert result["labels"].dtype == tf.uint8 and result["rounds"].dtype == tf.int32
    assert result["inter_round_dsc"].shape == (int(result["rounds"]),)
    for plane in "XYZ":
        coarse = model.signatures["coarse_" + plane](volume=volume, slice_batch=tf.constant(4))["probabilities"]
        mask = tf.cast(coarse >= 0.5, tf.uint8)
        fine = model.signatures["fine_" + plane](volume=volume, score=coarse, mask=mask, slice_batch=tf.constant(1))
        assert coarse.shape == fine["probabilities"].shape == volume.shape and coarse.dtype == tf.float32
    round_ = model.signatures["fine_round"](volume=volume, score=coarse, mask=mask, slice_batch=tf.constant(1))
    assert round_["score"].shape == round_["mask"].shape == volume.shape and round_["mask"].dtype == tf.uint8
    print("ran segment", int(result["rounds"]), sorted(meta["plane_configs"]), meta["normalization"]["window_hu"])
    print("modules:", sorted(m for m in sys.modules if m.split(".")[0] in packages))
""")


def test_the_set_is_one_member_with_every_planes_config(rstn_exported_set):
    manifest = read_manifest(rstn_exported_set)
    assert manifest["members"] == {"segmentation": "rstn"} and sorted(os.listdir(rstn_exported_set)) == [
        "manifest.json", "rstn"]
    metadata = read_metadata(load_member(os.path.join(rstn_exported_set, "rstn"), "rstn", "segmentation"))
    assert sorted(metadata["plane_configs"]) == list(PLANES) and metadata["config"] == metadata["plane_configs"]["X"]
    assert set(metadata["signatures"]) == {"segment", "fine_round",
                                           *(f"{s}_{p}" for s in ("coarse", "fine") for p in PLANES)}
    assert metadata["signatures"]["segment"]["outputs"] == {
        "labels": {"dtype": "uint8", "shape": [None, None, None]},
        "coarse_labels": {"dtype": "uint8", "shape": [None, None, None]},
        "rounds": {"dtype": "int32", "shape": []}, "inter_round_dsc": {"dtype": "float32", "shape": [None]}}


def random_rstn(config: RSTNConfig, seed: int):
    """An RSTN whose score layers (coarse and fine) and saliency weights are random: probabilities that vary."""
    keras.utils.set_random_seed(seed)
    model = build_rstn(config)
    generator = tf.random.Generator.from_seed(seed)
    kernels = [network.get_layer(name).kernel for network in (model.coarse, model.fine)
               for name in ("score_fr", "score_pool4", "score_pool3")]
    for kernel in kernels:
        kernel.assign(generator.normal(kernel.shape))
    kernel = model.saliency.layers[1].kernel
    kernel.assign(generator.normal(kernel.shape, stddev=0.3))
    return model


@pytest.fixture(scope="module")
def random_set(tmp_path_factory) -> str:
    """A set exported by `export_rstn_models` from three random tiny RSTNs (margin 2; plane Y with other epochs;
    fine threshold 0.35, where the mean of their probabilities gives a round-0 mask of several components; coarse
    threshold 0.5, which the rounds do not use)."""
    config = RSTNConfig(base_filters=4, fc_filters=8, crop_margin=2, coarse_threshold=0.5, fine_threshold=0.35)
    configs = {plane: dataclasses.replace(config, epochs=(1, 1, 1)) if plane == "Y" else config for plane in PLANES}
    folder = str(tmp_path_factory.mktemp("rstn_random") / "random_rstn")
    export_rstn_models(configs, {plane: random_rstn(configs[plane], seed) for seed, plane in enumerate(PLANES)},
                       folder, "random weights (test)")
    return folder


def test_segment_equals_the_python_rounds_on_the_plane_signatures(random_set):
    member = load_member(os.path.join(random_set, "rstn"), "rstn", "segmentation")
    meta = read_metadata(member)
    assert meta["plane_configs"]["Y"]["epochs"] == [1, 1, 1] != meta["plane_configs"]["X"]["epochs"]
    noise = np.random.default_rng(0).uniform(-100, 240, (12, 40, 36)).astype(np.float32)
    volume = tf.constant(ndimage.gaussian_filter(noise, 2) * 4 - 200)
    batch = tf.constant(4)

    def planes(name: str, **inputs) -> np.ndarray:
        return mean_of_planes([member.signatures[f"{name}_{plane}"](volume=volume, slice_batch=batch, **inputs)[
            "probabilities"].numpy() for plane in PLANES])

    coarse = planes("coarse")
    expected = coarse_to_fine(coarse, lambda s, m: planes("fine", score=tf.constant(s), mask=tf.constant(m)),
                              meta["fine_threshold"], meta["postprocess_threshold"], meta["max_rounds"],
                              meta["stop_dsc"])
    got = {key: value.numpy() for key, value in member.signatures["segment"](volume=volume, slice_batch=batch).items()}
    assert len(expected.masks) >= 2 and 0 < expected.masks[0].sum() < volume.shape.num_elements() // 2, \
        "fine rounds ran from a partial round-0 mask (post-processing applies)"
    assert ndimage.label(expected.masks[0])[1] > 1
    coarse_threshold = meta["plane_configs"]["X"]["coarse_threshold"]
    assert coarse_threshold != meta["fine_threshold"] and not np.array_equal(
        (coarse >= coarse_threshold).astype(np.uint8), expected.masks[0]), "the thresholds give other round-0 masks"
    assert int(got["rounds"]) == len(expected.masks) - 1
    np.testing.assert_array_equal(got["coarse_labels"], expected.masks[0])
    np.testing.assert_array_equal(got["labels"], expected.final)
    np.testing.assert_array_equal(got["inter_round_dsc"], np.float32(expected.inter_dsc))


def test_fine_round_equals_one_python_round_on_the_plane_signatures(random_set):
    member = load_member(os.path.join(random_set, "rstn"), "rstn", "segmentation")
    meta = read_metadata(member)
    noise = np.random.default_rng(1).uniform(-100, 240, (12, 40, 36)).astype(np.float32)
    volume = tf.constant(ndimage.gaussian_filter(noise, 2) * 4 - 200)
    batch = tf.constant(2)

    def planes(score: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return mean_of_planes([member.signatures[f"fine_{plane}"](
            volume=volume, score=tf.constant(score), mask=tf.constant(mask), slice_batch=batch)[
            "probabilities"].numpy() for plane in PLANES])

    score = np.random.default_rng(2).random((12, 40, 36)).astype(np.float32)
    mask = np.zeros((12, 40, 36), np.uint8)
    mask[4:7, 10:16, 12:15] = 1
    mask[5, 20, 14] = 1
    reach = meta["crop_margin"] + 3
    assert 20 + 1 + reach < 40 and 15 + reach < 36, "the round's box is smaller than the volume"
    for previous in (mask, np.zeros_like(mask)):
        expected_score, expected_mask = next_round(planes, score, previous, meta["fine_threshold"],
                                                   meta["postprocess_threshold"])
        got = member.signatures["fine_round"](volume=volume, score=tf.constant(score), mask=tf.constant(previous),
                                              slice_batch=batch)
        np.testing.assert_allclose(got["score"].numpy(), expected_score, rtol=0, atol=1e-6)  # oneDNN's bits
        np.testing.assert_array_equal(got["mask"].numpy(), expected_mask)
        assert float(got["inter_round_dsc"]) == dice(previous, expected_mask)
        assert expected_mask.any() == previous.any() and got["score"].numpy().any() == previous.any()


def test_the_member_segments_with_tensorflow_only(rstn_exported_set):
    result = subprocess.run([sys.executable, "-c", TF_ONLY, rstn_exported_set, ",".join(PROJECT_PACKAGES)],
                            capture_output=True, text=True, encoding="utf-8", errors="replace", timeout=300, cwd="/")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ran segment" in result.stdout and "['X', 'Y', 'Z']" in result.stdout and "modules: []" in result.stdout
