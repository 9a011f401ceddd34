"""LUNA16 FROC / CPM on a hand-computed two-scan example."""
import numpy as np
import pytest

from nodules import froc


def _example() -> list[froc.ScanOutcome]:
    # Scan A: nodule 1 (0, 0, 0) d 10 mm is hit at 0.9 and again at 0.4 (ignored); nodule 2 (50, 0, 0) d 6 mm is
    # missed (the mark at 3 mm lies on its sphere, not inside: a false positive at 0.3); the mark at 0.8 lies in an
    # irrelevant finding of unknown size (10 mm), ignored; 0.7 is a false positive.
    a = froc.ScanFindings(
        nodules=np.array([[0.0, 0, 0], [50, 0, 0]]), nodule_diameters_mm=np.array([10.0, 6.0]),
        detections=np.array([[1.0, 1, 1], [2, 0, 0], [100, 3, 0], [200, 0, 0], [53, 0, 0]]),
        probabilities=np.array([0.9, 0.4, 0.8, 0.7, 0.3]),
        irrelevant=np.array([[100.0, 0, 0]]), irrelevant_diameters_mm=np.array([-1.0]))
    # Scan B: its nodule is hit at 0.6; a false positive at 0.95.
    b = froc.ScanFindings(nodules=np.array([[0.0, 0, 0]]), nodule_diameters_mm=np.array([4.0]),
                          detections=np.array([[0.0, 0, 1], [30, 30, 30]]), probabilities=np.array([0.6, 0.95]))
    return [froc.scan_outcome(a), froc.scan_outcome(b)]


def test_scan_outcome_keeps_best_hit_and_drops_irrelevant_and_double_hits():
    a, b = _example()
    np.testing.assert_array_equal(a.nodule_scores, [0.9, np.nan])
    np.testing.assert_array_equal(np.sort(a.false_positive_scores), [0.3, 0.7])
    np.testing.assert_array_equal(b.nodule_scores, [0.6])
    np.testing.assert_array_equal(b.false_positive_scores, [0.95])


def test_froc_curve_by_hand():
    fp_rate, sensitivity = froc.froc_curve(_example())
    # thresholds 0.95, 0.9, 0.7, 0.6, 0.3 over 2 scans and 3 nodules
    np.testing.assert_allclose(fp_rate, [0, 0.5, 0.5, 1.0, 1.0, 1.5])
    np.testing.assert_allclose(sensitivity, [0, 0, 1 / 3, 1 / 3, 2 / 3, 2 / 3])


def test_cpm_reads_the_curve_where_the_official_script_does():
    value, sensitivities = froc.cpm(_example())
    # The script reads 0.5 and 1 FP/scan just below the steps there (0.49985, 0.9999125): 0 and 1/3.
    np.testing.assert_allclose(sensitivities, [0, 0, 0, 1 / 3, 2 / 3, 2 / 3, 2 / 3], atol=1e-3)
    assert value == pytest.approx((1 / 3 + 2) / 7, abs=1e-3)


def test_max_marks_keeps_the_most_probable():
    scan = froc.ScanFindings(nodules=np.array([[0.0, 0, 0]]), nodule_diameters_mm=np.array([10.0]),
                             detections=np.array([[0.0, 0, 0], [99, 0, 0], [98, 0, 0]]),
                             probabilities=np.array([0.1, 0.9, 0.8]))
    outcome = froc.scan_outcome(scan, max_marks=2)
    np.testing.assert_array_equal(outcome.nodule_scores, [np.nan])
    np.testing.assert_array_equal(outcome.false_positive_scores, [0.9, 0.8])


def test_no_false_positives_gives_final_sensitivity_at_every_rate():
    scan = froc.ScanFindings(nodules=np.array([[0.0, 0, 0], [40, 0, 0]]), nodule_diameters_mm=np.array([8.0, 8.0]),
                             detections=np.array([[1.0, 0, 0]]), probabilities=np.array([0.5]))
    value, sensitivities = froc.cpm([froc.scan_outcome(scan)])
    np.testing.assert_allclose(sensitivities, 0.5)
    assert value == pytest.approx(0.5)


def test_bootstrap_interval_contains_the_estimate_and_is_seeded():
    outcomes = _example() * 5
    first = froc.bootstrap_cpm(outcomes, samples=200, seed=3)
    assert first == froc.bootstrap_cpm(outcomes, samples=200, seed=3)
    mean, lower, upper = first["cpm"]
    assert lower <= froc.cpm(outcomes)[0] <= upper
    assert lower < upper
    assert len(first["sensitivity"]) == len(froc.CPM_RATES)


def test_no_reference_nodules_is_an_error():
    scan = froc.ScanFindings(nodules=np.zeros((0, 3)), nodule_diameters_mm=np.zeros(0),
                             detections=np.array([[1.0, 0, 0]]), probabilities=np.array([0.5]))
    with pytest.raises(ValueError, match="no reference nodules"):
        froc.froc_curve([froc.scan_outcome(scan)])
