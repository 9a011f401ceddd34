"""ROC and AUC on hand values."""
import numpy as np
import pytest

from nodules.roc import roc_auc, roc_curve


def test_roc_curve_by_hand():
    fpr, tpr = roc_curve(np.array([1, 0, 1, 0]), np.array([0.9, 0.8, 0.4, 0.1]))
    np.testing.assert_allclose(fpr, [0, 0, 0.5, 0.5, 1.0])
    np.testing.assert_allclose(tpr, [0, 0.5, 0.5, 1.0, 1.0])


def test_auc_equals_the_share_of_correctly_ordered_pairs_with_ties_half():
    labels = np.array([1, 1, 0, 0, 1, 0])
    scores = np.array([0.9, 0.5, 0.5, 0.2, 0.3, 0.6])
    pairs = [(p, n) for p in scores[labels == 1] for n in scores[labels == 0]]
    expected = np.mean([1.0 if p > n else 0.5 if p == n else 0.0 for p, n in pairs])
    assert roc_auc(labels, scores) == pytest.approx(expected)


def test_one_class_only_is_an_error():
    with pytest.raises(ValueError, match="both positive and negative"):
        roc_auc(np.array([1, 1]), np.array([0.2, 0.3]))
