"""The coarse-to-fine rounds in the graph equal `rstn.fusion.coarse_to_fine` (masks, rounds run, inter-round DSCs)
with fake fine stages: one that converges (stop at the DSC threshold), capped at 2 and at 0 rounds, one that never
converges (an unreachable stop DSC runs every round), an isolated speck that only the post-processing removes, and
an empty coarse mask that ends the run; eager and traced with unknown shapes."""
import numpy as np
import pytest
import tensorflow as tf

from rstn.fusion import coarse_to_fine, fused_mask, mean_of_planes
from rstn.rounds_graph import coarse_to_fine_rounds

SHAPE = (5, 9, 12)


def coarse_volume() -> np.ndarray:
    coarse = np.random.default_rng(1).uniform(0.0, 0.45, SHAPE).astype(np.float32)
    coarse[1:3, 2:6, 2:6] = 0.9
    return coarse


def fake_fine(limit: int | None):
    """Each round the mask grows one voxel along x up to column `limit` (then stays: inter-round DSC 1), or with
    `limit` None moves one voxel along x, wrapping around (round after round, inter-round DSC 0.75), plus a fixed
    one-voxel speck far from it (removed by the post-processing); the score adds below the threshold."""
    speck = np.zeros(SHAPE, np.float32)
    speck[4, 8, 11] = 0.9
    inside = tf.constant((np.arange(SHAPE[2]) < (limit or 0)).astype(np.float32))

    def whole(score: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
        previous = tf.cast(mask, tf.float32)
        shifted = tf.pad(previous[:, :, :-1], [[0, 0], [0, 0], [1, 0]]) * inside
        moved = tf.roll(previous, 1, axis=2) if limit is None else tf.maximum(previous, shifted)
        return tf.maximum(0.8 * moved + 0.1 * score, speck)

    return whole


def in_box(whole):
    """The graph's `FineFn` of a fine stage on the whole volume: its output cut to the round's box."""
    return lambda score, mask, box: tf.slice(whole(score, mask), box[0], box[1] - box[0])


REACH = SHAPE
"""Boxes grown by the volume's size: every round's box is the volume (the fake stages write anywhere)."""


CASES = {"stops at the DSC": (9, 10, 0.99), "capped at 2": (9, 2, 0.99), "no round": (9, 0, 0.99),
         "unreachable stop": (9, 10, 1.5), "never converges": (None, 10, 0.99)}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("traced", [False, True])
def test_graph_rounds_equal_the_python_rounds(case, traced):
    limit, max_rounds, stop_dsc = CASES[case]
    fine = fake_fine(limit)
    coarse = coarse_volume()
    expected = coarse_to_fine(coarse, lambda s, m: fine(tf.constant(s), tf.constant(m)).numpy(), 0.5, 0.5,
                              max_rounds, stop_dsc)

    def rounds(volume: tf.Tensor) -> tuple:
        result = coarse_to_fine_rounds(volume, in_box(fine), REACH, 0.5, 0.5, max_rounds, stop_dsc)
        return result.labels, result.coarse_labels, result.rounds, result.inter_round_dsc

    run = tf.function(rounds, input_signature=[tf.TensorSpec([None, None, None], tf.float32)]) if traced else rounds
    labels, coarse_labels, count, dscs = (t.numpy() for t in run(tf.constant(coarse)))
    assert int(count) == len(expected.masks) - 1 == len(dscs)
    np.testing.assert_array_equal(labels, expected.final)
    np.testing.assert_array_equal(coarse_labels, expected.masks[0])
    np.testing.assert_array_equal(dscs, np.float32(expected.inter_dsc))
    assert labels.dtype == coarse_labels.dtype == np.uint8 and dscs.dtype == np.float32
    assert int(count) == {"stops at the DSC": 4, "capped at 2": 2, "no round": 0}.get(case, 10)
    if int(count):
        assert labels[4, 8, 11] == 0 and not np.array_equal(labels, coarse_labels), "speck removed, mask changed"


def test_an_empty_coarse_mask_ends_the_graph_rounds():
    result = coarse_to_fine_rounds(tf.zeros(SHAPE), lambda s, m, b: pytest.fail("no fine round"), REACH, 0.5, 0.5,
                                   10, 0.99)
    assert int(result.rounds) == 0 and result.inter_round_dsc.shape == (0,) and not result.labels.numpy().any()


def test_round_zero_is_the_coarse_mean_at_the_fine_threshold():
    """As the original's coarse2fine_testing.py (`pred_ >= fine_threshold` for every round, round 0 included)."""
    coarse = np.full(SHAPE, 0.4, np.float32)
    for fine_threshold, expected in ((0.3, 1), (0.5, 0)):
        result = coarse_to_fine_rounds(coarse, in_box(lambda s, m: s), REACH, fine_threshold, 0.5, 1, 0.99)
        assert (result.coarse_labels.numpy() == expected).all()
        np.testing.assert_array_equal(result.coarse_labels.numpy(), coarse_to_fine(
            coarse, lambda s, m: s, fine_threshold, 0.5, 1, 0.99).masks[0])


def test_the_mean_of_planes_and_its_mask_give_the_same_bits_from_tensors_as_from_arrays():
    """The graph uses `rstn.fusion`'s own functions: float32 sums in the planes' order, a float32 comparison (0.35 is
    not a float32: the edge volume holds float32(0.35))."""
    planes = [np.random.default_rng(seed).random(SHAPE).astype(np.float32) for seed in range(3)]
    from_arrays = mean_of_planes(planes)
    from_tensors = mean_of_planes([tf.constant(p) for p in planes])
    assert isinstance(from_arrays, np.ndarray) and from_arrays.dtype == np.float32 and tf.is_tensor(from_tensors)
    np.testing.assert_array_equal(from_tensors.numpy(), from_arrays)
    edge = np.float32(0.35) * np.ones(SHAPE, np.float32)
    for threshold in (0.35, 0.5):
        mask = fused_mask(from_arrays, threshold)
        assert mask.dtype == np.uint8
        np.testing.assert_array_equal(fused_mask(tf.constant(from_arrays), threshold).numpy(), mask)
        np.testing.assert_array_equal(fused_mask(tf.constant(edge), threshold).numpy(), fused_mask(edge, threshold))
