"""Instance normalisation: the values of Keras' GroupNormalization(groups=-1) without affine parameters (to float
rounding, float64 reference), per sample and channel, no weights; and on a oneDNN CPU build, a tf.function runs it
and the leaky ReLU after it as one fused op (the reason the layer exists; exact 1 and 0 constants would not fuse)."""
import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.python.eager import context
from tensorflow.python.framework import test_util

from networks.instance_norm import InstanceNormalization


def reference(values: np.ndarray, epsilon: float) -> np.ndarray:
    values = values.astype(np.float64)
    axes = tuple(range(1, values.ndim - 1))
    mean = values.mean(axis=axes, keepdims=True)
    return (values - mean) / np.sqrt(((values - mean) ** 2).mean(axis=axes, keepdims=True) + epsilon)


@pytest.mark.parametrize("shape", [(2, 6, 7, 8, 5), (3, 9, 10, 4)])
def test_values_match_a_float64_reference_and_keras_group_normalisation(shape):
    rng = np.random.default_rng(0)
    values = (rng.standard_normal(shape) * rng.uniform(0.1, 9, shape[-1]) + rng.uniform(-50, 50, shape[-1]))
    values = values.astype(np.float32)
    layer = InstanceNormalization(epsilon=1e-5)
    ours = tf.function(layer)(tf.constant(values)).numpy()
    np.testing.assert_allclose(ours, reference(values, 1e-5), atol=2e-5)
    keras_norm = keras.layers.GroupNormalization(groups=-1, center=False, scale=False, epsilon=1e-5)
    np.testing.assert_allclose(ours, keras_norm(values).numpy(), atol=1e-4)
    assert not layer.weights
    assert InstanceNormalization.from_config(layer.get_config()).epsilon == 1e-5


@pytest.mark.skipif(not test_util.IsMklEnabled(), reason="a TensorFlow build without oneDNN")
def test_a_tf_function_runs_it_with_the_leaky_relu_as_one_onednn_op():
    layer = InstanceNormalization()
    function = tf.function(lambda x: tf.nn.leaky_relu(layer(x), 0.01) * 2.0,
                           input_signature=[tf.TensorSpec([None, None, None, None, 8], tf.float32)])
    eager = context.context()
    eager.enable_run_metadata()
    try:
        function(tf.zeros([1, 4, 4, 4, 8]))
        metadata = eager.export_run_metadata()
    finally:
        eager.disable_run_metadata()
    ops = {node.op for graph in metadata.function_graphs for node in graph.post_optimization_graph.node}
    assert "_MklFusedInstanceNorm" in ops, sorted(ops)
    assert not ops & {"Mean", "SquaredDifference", "Rsqrt", "LeakyRelu"}, sorted(ops)
