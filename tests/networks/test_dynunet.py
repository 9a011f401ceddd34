"""DynUNet: output shape for the original's levels and anisotropic last stride, strided convolutions that sample
PyTorch's positions (hand values), instance normalisation per channel, residual shortcut only where needed."""
import numpy as np
import tensorflow as tf

from interactive.config import InteractiveConfig
from networks.dynunet import _conv, dynunet


def test_original_levels_give_logits_on_the_input_grid():
    config = InteractiveConfig()
    model = dynunet(3, 2, config.kernel_sizes, config.strides, [4, 4, 8, 8, 8, 8])
    logits = model(tf.zeros([1, 16, 32, 64, 3]))
    assert logits.shape == (1, 16, 32, 64, 2) and logits.dtype == tf.float32
    names = {layer.name for layer in model.layers}
    assert "encoder0_conv3" in names, "a shortcut where the channels change (3 -> 4)"
    assert "encoder5_conv3" in names and "decoder0_up" in names


def test_strided_convolution_samples_pytorch_positions():
    conv = _conv(1, 3, (1, 1, 2), "probe")
    conv.build((1, 1, 1, 8, 1))
    conv.layers[1].set_weights([np.ones((3, 3, 3, 1, 1), np.float32), np.zeros(1, np.float32)])
    values = tf.reshape(tf.range(8, dtype=tf.float32), [1, 1, 1, 8, 1])
    # padding 1 on both sides: windows centred on 0, 2, 4, 6 (TensorFlow's 'same' would centre them on 1, 3, 5, 7)
    np.testing.assert_allclose(conv(values).numpy().ravel(), [1, 6, 12, 18])


def test_instance_normalisation_is_per_sample_and_channel():
    model = dynunet(1, 2, (3, 3, 3), ((1, 1, 1), (2, 2, 2), (2, 2, 2)), (4, 8, 8))
    norm = model.get_layer("encoder0_norm1")
    features = tf.random.normal([2, 4, 4, 4, 4]) * tf.constant([1.0, 5.0, 9.0, 0.5]) + 3.0
    normalised = norm(features).numpy()
    np.testing.assert_allclose(normalised.mean(axis=(1, 2, 3)), 0, atol=1e-4)
    np.testing.assert_allclose(normalised.std(axis=(1, 2, 3)), 1, atol=1e-2)
    assert not norm.trainable_weights
