"""Intensity normalisation ops against NumPy references."""
import numpy as np
import pytest

from preprocessing import intensity


def test_window_maps_hu_range_to_unit_interval_and_clips():
    hu = np.array([-2000.0, -1000.0, 0.0, 500.0, 1000.0, 3000.0], np.float32)
    np.testing.assert_allclose(intensity.window(hu, -1000.0, 1000.0).numpy(), [-1, -1, 0, 0.5, 1, 1], atol=1e-6)


def test_clip_shift_scale_order():
    out = intensity.clip_shift_scale(np.array([-5.0, 5.0, 50.0]), -1.0, 10.0, 2.0, 0.5).numpy()
    np.testing.assert_allclose(out, [0.5, 3.5, 6.0])


def test_zscore_with_and_without_mask():
    rng = np.random.default_rng(0)
    image = rng.normal(40, 7, (10, 12)).astype(np.float32)
    out = intensity.zscore(image).numpy()
    assert abs(out.mean()) < 1e-4 and abs(out.std() - 1) < 1e-3
    mask = np.zeros_like(image, bool)
    mask[:5] = True
    masked = intensity.zscore(image, mask).numpy()
    assert abs(masked[mask].mean()) < 1e-4


@pytest.mark.parametrize("q", [0.0, 1.0, 37.5, 99.0, 100.0])
def test_percentile_matches_numpy_linear(q):
    values = np.random.default_rng(1).gamma(2.0, 30.0, (31, 17)).astype(np.float32)
    assert intensity.percentile(values, q).numpy() == pytest.approx(np.percentile(values, q), rel=1e-5)


def test_percentile_normalize_range():
    image = np.random.default_rng(2).integers(0, 256, (50, 60)).astype(np.uint8)
    out = intensity.percentile_normalize(image).numpy()
    assert out.min() == 0.0 and out.max() == 1.0
