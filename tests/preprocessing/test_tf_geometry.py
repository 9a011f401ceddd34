"""TF geometry ops: agreement with SimpleITK, crop/paste, and SavedModel tracing with dynamic shapes."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from preprocessing import network_grid, tf_geometry
from preprocessing.geometry import crop_or_pad as np_crop_or_pad
from preprocessing.geometry import resample, resample_to_spacing
from preprocessing.image_geometry import ImageGeometry
from preprocessing.tf_sampling import sample


def random_smooth_volume(shape, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    z, y, x = np.meshgrid(*[np.linspace(0, 1, n) for n in shape], indexing="ij")
    volume = sum(rng.uniform(50, 200) * np.sin(rng.uniform(2, 9) * axis + rng.uniform(0, 6))
                 for axis in (x, y, z, x + y, y - z))
    return (volume + rng.normal(0, 20, shape)).astype(np.float32)


@pytest.mark.parametrize("spacing, target", [
    ((0.8, 0.75, 2.5), (2.0, 2.0, 2.0)),
    ((0.8, 0.75, 2.5), (6.0, 6.0, 6.0)),
    ((2.0, 3.0, 5.0), (1.1, 1.3, 1.7)),
])
def test_unsmoothed_lattice_resampling_matches_simpleitk(spacing, target):
    volume = random_smooth_volume((23, 37, 41))
    geometry = ImageGeometry((41, 37, 23), spacing, (10.0, -3.0, 5.0), (1, 0, 0, 0, 1, 0, 0, 0, 1))
    expected, target_geometry = resample_to_spacing(volume, geometry, target, "linear")
    shape = network_grid.lattice_size(volume.shape, spacing[::-1], target[::-1])
    offset = network_grid.lattice_offset(volume.shape, spacing[::-1], target[::-1])
    result = network_grid.smooth_and_resample(volume, spacing[::-1], shape, target[::-1], offset, 0.0, 0.0).numpy()
    assert result.shape == target_geometry.shape
    np.testing.assert_allclose(result, expected, atol=1e-2 * np.abs(volume).max())


def test_resample_to_grid_maps_crop_back_to_original_grid():
    volume = random_smooth_volume((12, 20, 24))
    geometry = ImageGeometry((24, 20, 12), (1.0, 1.0, 3.0), (0.0, 0.0, 0.0), (1, 0, 0, 0, 1, 0, 0, 0, 1))
    coarse, coarse_geometry = resample_to_spacing(volume, geometry, (2.0, 2.0, 2.0))
    back_sitk = resample(coarse, coarse_geometry, geometry, "linear")
    original_in_coarse = -network_grid.lattice_offset(geometry.shape, geometry.array_spacing, 2.0)
    back_tf = tf_geometry.resample_to_grid(coarse, (2.0, 2.0, 2.0), geometry.shape, geometry.array_spacing,
                                           original_in_coarse).numpy()
    np.testing.assert_allclose(back_tf, back_sitk, atol=1e-2 * np.abs(volume).max())


def test_tf_crop_or_pad_and_paste_match_numpy():
    volume = np.random.default_rng(0).random((7, 8, 9)).astype(np.float32)
    geometry = ImageGeometry((9, 8, 7), (1, 1, 1), (0, 0, 0), (1, 0, 0, 0, 1, 0, 0, 0, 1))
    for start, shape in [((-2, 3, 1), (5, 8, 12)), ((0, 0, 0), (7, 8, 9)), ((4, -1, 6), (6, 3, 5))]:
        expected, _ = np_crop_or_pad(volume, geometry, start, shape, pad_value=-5)
        cropped = tf_geometry.crop_or_pad(volume, start, shape, -5.0).numpy()
        np.testing.assert_array_equal(cropped, expected)
        pasted = tf_geometry.paste(cropped, start, volume.shape, 0.0).numpy()
        inside = pasted != 0
        np.testing.assert_array_equal(pasted[inside], volume[inside])


def test_general_sampler_equals_separable_resampler_on_axis_aligned_grid():
    volume = random_smooth_volume((9, 10, 11))
    coords = np.stack(np.meshgrid(np.arange(6) * 1.5, np.arange(7) * 1.4 - 0.3, np.arange(8) * 1.3 + 0.2,
                                  indexing="ij"), axis=-1).astype(np.float32)
    general = sample(volume[..., None], coords)[..., 0].numpy()
    separable = tf_geometry.resample_axis_aligned(volume, [6, 7, 8], [1.5, 1.4, 1.3], [0.0, -0.3, 0.2]).numpy()
    np.testing.assert_allclose(general, separable, rtol=1e-5, atol=1e-3)


def test_traced_resampler_saves_and_reloads_with_dynamic_shapes(tmp_path):
    class Module(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, None, None], tf.float32), tf.TensorSpec([3], tf.float32),
                                      tf.TensorSpec([3], tf.float32)])
        def resample(self, volume, spacing, target_spacing):
            shape = network_grid.lattice_size(tf.shape(volume), spacing, target_spacing)
            offset = network_grid.lattice_offset(tf.shape(volume), spacing, target_spacing)
            return network_grid.smooth_and_resample(volume, spacing, shape, target_spacing, offset, 1.0, 0.0)

        @tf.function(input_signature=[tf.TensorSpec([None, None, None], tf.float32), tf.TensorSpec([3], tf.int32),
                                      tf.TensorSpec([3], tf.int32)])
        def crop(self, volume, start, shape):
            return tf_geometry.crop_or_pad(volume, start, shape)

    path = str(tmp_path / "ops")
    tf.saved_model.save(Module(), path)
    script = textwrap.dedent(f"""
        import numpy as np, tensorflow as tf
        module = tf.saved_model.load({path!r})
        for shape in [(5, 6, 7), (9, 4, 12)]:
            out = module.resample(tf.ones(shape), tf.constant([2.0, 1.0, 1.0]), tf.constant([1.0, 2.0, 2.0]))
            expected = [int(np.ceil(n * s / t)) for n, s, t in zip(shape, (2, 1, 1), (1, 2, 2))]
            assert list(out.shape) == expected, (out.shape, expected)
        crop = module.crop(tf.ones((5, 6, 7)), tf.constant([-1, 0, 2]), tf.constant([4, 4, 8]))
        assert crop.shape == (4, 4, 8) and float(tf.reduce_sum(crop)) == 3 * 4 * 5
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, encoding="utf-8",
                            errors="replace", timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("ok")
