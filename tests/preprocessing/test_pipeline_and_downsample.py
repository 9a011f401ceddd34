"""tf.data pipelines over the real layouts, and the downsample script."""
import functools
import os
import shutil

import numpy as np
import tensorflow as tf

from preprocessing import intensity
from preprocessing.cases import flare21_cases, montgomery_cases, read_label
from preprocessing.cross_validation import ensure_folds
from preprocessing.image_io import read_image
from preprocessing.pipeline import PipelineConfig, ResampledCaseLoader, StreamShard, make_dataset
from tests.conftest import run_module

CT_WINDOW = functools.partial(intensity.window, low=-1000.0, high=1000.0)


def test_training_pipeline_yields_augmented_patches_of_fold(flare21_folder, tmp_path):
    cases = flare21_cases(flare21_folder)
    train_ids, test_ids = ensure_folds([c.case_id for c in cases], str(tmp_path / "cv"), fold=1)
    train_cases = [c for c in cases if c.case_id in train_ids]
    assert len(train_cases) == len(cases) - len(test_ids)
    config = PipelineConfig(patch_shape=(16, 24, 24), batch_size=2, cache="", seed=3)
    dataset = make_dataset(train_cases, ResampledCaseLoader((12.0, 12.0, 12.0)), CT_WINDOW, config, training=True)
    batches = list(dataset.take(3).as_numpy_iterator())
    for image, label in batches:
        assert image.shape == (2, 16, 24, 24, 1) and image.dtype == np.float32
        assert label.shape == (2, 16, 24, 24) and label.dtype == np.uint8
        assert set(np.unique(label)) <= {0, 1, 2, 3, 4}
        assert image.min() >= -2.0 and image.max() <= 2.0
    assert any(len(np.unique(label)) > 1 for _, label in batches)
    again = list(make_dataset(train_cases, ResampledCaseLoader((12.0, 12.0, 12.0)), CT_WINDOW, config,
                              training=True).take(3).as_numpy_iterator())
    for (a, b), (c, d) in zip(batches, again):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


def test_evaluation_pipeline_yields_whole_resampled_volumes_in_order(flare21_folder):
    cases = flare21_cases(flare21_folder)[:2]
    loader = ResampledCaseLoader((10.0, 10.0, 10.0))
    dataset = make_dataset(cases, loader, CT_WINDOW, PipelineConfig(), training=False)
    for case, (image, label) in zip(cases, dataset.as_numpy_iterator()):
        _, geometry = read_image(case.image_path)
        expected_shape = geometry.with_spacing((10.0, 10.0, 10.0)).shape
        assert image.shape == (1,) + expected_shape + (1,) and label.shape == (1,) + expected_shape


def test_2d_pipeline_on_montgomery_layout(montgomery_folder):
    cases = montgomery_cases(montgomery_folder)
    loader = ResampledCaseLoader(None, ndim=2, separate_labels=False)
    config = PipelineConfig(patch_shape=(64, 64), batch_size=2, seed=1)
    image, label = next(make_dataset(cases, loader, intensity.percentile_normalize, config, training=True,
                                     ndim=2, image_default=0.0).as_numpy_iterator())
    assert image.shape == (2, 64, 64, 1) and label.shape == (2, 64, 64)
    assert set(np.unique(label)) <= {0, 1}
    reference, _ = read_label(cases[0], ndim=2, separate_labels=False)
    assert set(np.unique(reference)) == {0, 1}


def test_downsample_script_writes_small_folders_and_skips_done(flare21_folder, tmp_path):
    base = str(tmp_path / "FLARE21")
    shutil.copytree(flare21_folder, base)
    command = ["--base_dataset_folder", base, "--spacing", "9"]
    first = run_module("preprocessing.downsample", *command)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "downsampled 5 cases" in first.stdout
    small = flare21_cases(base, small=True)
    assert len(small) == 5
    image, geometry = read_image(small[0].image_path)
    label, label_geometry = read_label(small[0])
    _, original = read_image(flare21_cases(base)[0].image_path)
    assert geometry == label_geometry
    assert all(s == max(o, 9.0) for s, o in zip(geometry.spacing, original.spacing))
    assert set(np.unique(label)) <= {0, 1, 2, 3, 4} and 1 in label
    second = run_module("preprocessing.downsample", *command)
    assert "skipped 5 already done" in second.stdout
    assert not [n for n in os.listdir(os.path.join(base, "TrainingImg_small")) if n.startswith(".")]
    assert tf.is_tensor(CT_WINDOW(image))


def test_training_stream_shards_and_resumes_without_changing_the_global_batches(flare21_folder):
    cases = flare21_cases(flare21_folder)[:3]
    loader = ResampledCaseLoader((16.0, 16.0, 16.0))
    config = PipelineConfig(patch_shape=(8, 8, 8), batch_size=2, cache="", seed=5)

    def batches(shard, count):
        return list(make_dataset(cases, loader, CT_WINDOW, config, training=True, shard=shard)
                    .take(count).as_numpy_iterator())

    whole = batches(StreamShard(0, 2, 0, 1, 2), 4)
    first, second = (batches(StreamShard(0, 2, worker, 2, 1), 4) for worker in (0, 1))
    for step in range(4):
        np.testing.assert_array_equal(np.concatenate([first[step][0], second[step][0]]), whole[step][0])
        np.testing.assert_array_equal(np.concatenate([first[step][1], second[step][1]]), whole[step][1])
    resumed = batches(StreamShard(2, 2, 0, 1, 2), 2)
    for a, b in zip(resumed, whole[2:]):
        np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(whole[0][0], whole[1][0])
