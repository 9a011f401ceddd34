"""Connected components in TensorFlow give SciPy's partition (6-connectivity) on random masks; the largest
component of hand-built masks."""
import numpy as np
import pytest
import tensorflow as tf
from scipy import ndimage

from interactive.connected_components import component_labels, largest_component


@pytest.mark.parametrize("shape, density", [((30, 40), 0.5), ((12, 20, 16), 0.3), ((12, 20, 16), 0.6)])
def test_partition_equals_scipy(shape, density):
    for seed in range(3):
        mask = np.random.default_rng(seed).random(shape) < density
        expected, count = ndimage.label(mask)
        got = component_labels(tf.constant(mask)).numpy()
        assert ((got > 0) == mask).all()
        pairs = {(int(a), int(b)) for a, b in zip(expected[mask], got[mask])}
        assert len(pairs) == count == len({b for _, b in pairs}), "one label per SciPy component and vice versa"


def test_largest_component_of_hand_built_masks():
    mask = np.zeros((10, 10, 10), bool)
    mask[1:3, 1:3, 1:3] = True          # 8 voxels
    mask[5:8, 5:8, 5:9] = True          # 36 voxels
    mask[0, 9, 9] = True
    mask[4, 4, 4] = True                # touches the big block only diagonally: its own component
    largest = largest_component(mask).numpy()
    expected = np.zeros_like(mask)
    expected[5:8, 5:8, 5:9] = True
    assert (largest == expected).all()
    assert not largest_component(np.zeros((3, 3, 3), bool)).numpy().any()
