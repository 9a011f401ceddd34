"""Bootstrap intervals over cases: the LUNA16 script's bound rule on sorted samples, and per-column intervals of a
mean that draw the same cases for every column, are seeded and narrow as cases are added."""
import numpy as np
import pytest

from evaluation.bootstrap import mean_intervals, percentile_interval


def test_percentile_interval_reads_the_sorted_samples_at_the_scripts_indices():
    samples = np.arange(100.0)[::-1]
    assert percentile_interval(samples) == (49.5, 2.0, 97.0)
    assert percentile_interval(samples, confidence=0.5) == (49.5, 25.0, 75.0)
    assert percentile_interval(np.array([3.0])) == (3.0, 3.0, 3.0)
    with pytest.raises(ValueError, match="no bootstrap samples"):
        percentile_interval(np.array([]))


def test_mean_intervals_hold_the_mean_and_narrow_with_more_cases():
    rng = np.random.default_rng(1)
    few = rng.uniform(0.0, 1.0, (6, 3))
    many = rng.uniform(0.0, 1.0, (96, 3))
    for values in (few, many):
        intervals = mean_intervals(values, samples=2000, seed=4)
        assert len(intervals) == 3
        for column, (mean, low, high) in enumerate(intervals):
            assert values[:, column].min() <= low < values[:, column].mean() < high <= values[:, column].max()
            assert mean == pytest.approx(values[:, column].mean(), abs=0.02)
    widths = [np.mean([high - low for _, low, high in mean_intervals(v, samples=2000)]) for v in (few, many)]
    assert widths[1] < widths[0] / 2.5
    assert mean_intervals(few, samples=200, seed=7) == mean_intervals(few, samples=200, seed=7)
    assert mean_intervals(few, samples=200, seed=7) != mean_intervals(few, samples=200, seed=8)


def test_every_column_is_drawn_from_the_same_cases():
    values = np.repeat(np.linspace(0.0, 1.0, 10)[:, None], 2, axis=1) * [1.0, 2.0]
    (_, low_a, high_a), (_, low_b, high_b) = mean_intervals(values, samples=500, seed=2)
    assert (low_b, high_b) == pytest.approx((2 * low_a, 2 * high_a))


def test_values_need_cases_and_two_axes():
    with pytest.raises(ValueError, match="at least one case"):
        mean_intervals(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="at least one case"):
        mean_intervals(np.zeros(5))
