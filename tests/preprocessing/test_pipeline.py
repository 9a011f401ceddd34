"""tf.data pipelines over the real layouts: fixed patches, region crops, sharding and resuming."""
import functools

import numpy as np

from preprocessing import intensity
from preprocessing.cases import flare21_cases, montgomery_cases, read_label
from preprocessing.cross_validation import ensure_folds
from preprocessing.image_io import read_image
from preprocessing.pipeline import PipelineConfig, RegionCrop, ResampledCaseLoader, StreamShard, make_dataset

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


def test_region_crops_take_the_smallest_larger_valid_size_of_the_organ_box(flare21_folder):
    cases = flare21_cases(flare21_folder)[:2]
    loader = ResampledCaseLoader((8.0, 8.0, 8.0))
    valid_sizes = ((8, 16, 24, 32), (8, 16, 24, 32, 40), (8, 16, 24, 32, 40))
    crop = RegionCrop("foreground", valid_sizes, extension_mm=16.0)
    config = PipelineConfig(region=crop, batch_size=2, spacing_mm=8.0, spatial=None, intensity=None, seed=2)
    image, label = next(make_dataset(cases, loader, CT_WINDOW, config, training=True).as_numpy_iterator())
    expected = []
    for case in cases:
        _, full_label = loader(case)
        points = np.argwhere(full_label > 0)
        voxels = np.ceil(((points.max(0) - points.min(0)) * 8.0 + 32.0) / 8.0 - 1e-3).astype(int)
        expected.append([min([v for v in sizes if v > n] or [max(sizes)]) for n, sizes in zip(voxels, valid_sizes)])
    assert image.shape[1:4] == tuple(np.max(expected, axis=0)), "a replica batch is padded to its largest crop"
    assert label.dtype == np.uint8 and 1 in label
    for element, shape in enumerate(expected):
        outside = np.ones(image.shape[1:4], bool)
        outside[tuple(slice(0, n) for n in shape)] = False
        assert np.all(label[element][outside] == 0) and np.all(image[element][outside] == CT_WINDOW(-1024.0))


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
