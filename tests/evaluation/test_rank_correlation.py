"""Spearman's rho against SciPy's, ties included."""
import numpy as np
from scipy import stats

from evaluation.rank_correlation import spearman


def test_spearman_matches_scipy_with_ties():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 6, 40).astype(float)
    y = x + rng.normal(0, 2, 40)
    assert np.isclose(spearman(x, y), stats.spearmanr(x, y).statistic)
    assert np.isclose(spearman(np.arange(5), -np.arange(5)), -1.0)
    assert np.isnan(spearman(np.ones(4), np.arange(4)))
