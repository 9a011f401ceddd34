"""Simulated clicks on hand-built masks: the deepest voxel of the largest error region, uniform and depth-weighted
sampling by their frequencies, the lesion / background split of one round, a lesion-free case."""
import numpy as np
import pytest
import tensorflow as tf

from interactive.clicks import corrective_clicks, error_regions, sample_click


def test_edt_max_is_the_deepest_voxel_of_the_largest_region():
    error = np.zeros((20, 20, 20), bool)
    error[2:11, 2:11, 2:11] = True      # 9^3 = 729 voxels, centre (6, 6, 6) at 5 voxels from the border
    error[13:20, 13:20, 13:20] = True   # 7^3 = 343 voxels
    error[12, 0:20, 0] = True           # a thin line, 20 voxels
    index, found = sample_click(error, "edt_max", (1.0, 1.0, 1.0), [0, 0])
    assert bool(found) and index.numpy().tolist() == [6, 6, 6]
    # With 4 mm slices the big block is 9 voxels but 36 mm deep along z: depth is limited by y and x, 5 mm at
    # y = x = 6, and the first such voxel in C order is at z = 2 + 1 (the first slice of depth >= 5 mm along z).
    index, _ = sample_click(error, "edt_max", (4.0, 1.0, 1.0), [0, 0])
    assert index.numpy().tolist() == [3, 6, 6]


def test_uniform_rule_hits_every_error_voxel_equally_often():
    error = np.zeros((6, 6, 6), bool)
    error[1, 1, 1:4] = True
    error[4, 2:5, 2] = True
    counts = {}
    for seed in range(600):
        index, _ = sample_click(error, "uniform", (3.0, 2.0, 2.0), [seed, 1])
        counts[tuple(index.numpy().tolist())] = counts.get(tuple(index.numpy().tolist()), 0) + 1
    assert set(counts) == {tuple(v) for v in np.argwhere(error).tolist()}
    assert min(counts.values()) > 600 / 6 * 0.6 and max(counts.values()) < 600 / 6 * 1.4


def test_edt_weighted_prefers_deep_voxels():
    error = np.pad(np.ones((9, 9, 9), bool), 1)   # onion layers at depth 1..5 voxels: 386, 218, 98, 26, 1 voxels
    axis = np.minimum(np.arange(11), 10 - np.arange(11))
    depth = np.minimum.reduce(np.meshgrid(axis, axis, axis, indexing="ij"))
    picks = [tuple(sample_click(error, "edt_weighted", (1.0, 1.0, 1.0), [seed, 2])[0].numpy()) for seed in range(400)]
    frequency = np.bincount([depth[p] for p in picks], minlength=6)[1:] / 400
    layers = np.array([386, 218, 98, 26, 1]) * np.expm1([1, 2, 3, 4, 5])
    np.testing.assert_allclose(frequency, layers / layers.sum(), atol=0.06)


def test_one_round_clicks_missed_lesion_and_false_lesion_and_nothing_on_a_perfect_or_empty_case():
    label = np.zeros((8, 8, 8), bool)
    label[2:4, 2:4, 2:4] = True
    prediction = np.zeros_like(label)
    prediction[6, 6, 6] = True
    missed, extra = error_regions(label, prediction)
    assert missed.numpy().sum() == 8 and extra.numpy().tolist() == prediction.tolist()
    lesion, lesion_found, background, background_found = corrective_clicks(label, prediction, "uniform",
                                                                           (1.0, 1.0, 1.0), [3, 4])
    assert bool(lesion_found) and label[tuple(lesion.numpy())] and bool(background_found)
    assert background.numpy().tolist() == [6, 6, 6]
    empty = np.zeros_like(label)
    outputs = corrective_clicks(empty, empty, "edt_max", (1.0, 1.0, 1.0), [0, 0])
    assert not bool(outputs[1]) and not bool(outputs[3])


def test_rules_run_in_graph_mode_and_unknown_rules_are_refused():
    for rule in ("uniform", "edt_max", "edt_weighted"):
        click = tf.function(lambda e, s, rule=rule: sample_click(e, rule, (3.0, 2.0, 2.0), s),
                            input_signature=[tf.TensorSpec([None, None, None], tf.bool), tf.TensorSpec([2], tf.int32)])
        error = np.zeros((5, 6, 7), bool)
        error[1:4, 2:5, 3:6] = True
        index, found = click(error, tf.constant([1, 2]))
        assert bool(found) and error[tuple(index.numpy())]
    with pytest.raises(ValueError, match="click rule must be one of"):
        sample_click(np.ones((2, 2, 2), bool), "centre", (1.0, 1.0, 1.0), [0, 0])
