"""CFCM model: shapes for every ResNet depth with and without memory, the memory's coarse-to-fine order, the
original's layer settings, and the input frames (square resize, letterbox) and their way back."""
import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from cfcm.config import RESNET_BLOCKS, CFCMConfig
from cfcm.model import ConvLSTMCell2D, PreActivationBlock, build_cfcm_model, level_filters
from cfcm.segment import labels_of, network_input, network_label, non_zero_box, to_image


@pytest.mark.parametrize("depth", [18, 34, 50, 101])
@pytest.mark.parametrize("memory", [True, False])
def test_output_has_input_size_and_labels_for_every_depth(depth, memory):
    config = CFCMConfig(resnet_depth=depth, memory=memory, base_filters=8, num_labels=3,
                        label_names=("left_lung", "right_lung"), image_size=64)
    model = build_cfcm_model(config)
    assert model(tf.zeros((2, 64, 48, 1))).shape == (2, 64, 48, 2), "sigmoid head: one channel per lung"
    assert build_cfcm_model(dataclasses.replace(config, head="softmax"))(tf.zeros((1, 32, 32, 1))).shape[-1] == 3
    blocks = sum(RESNET_BLOCKS[depth][1])
    encoder_blocks = [layer for layer in model.layers if layer.name.startswith("encoder") and "relu" not in layer.name]
    assert len(encoder_blocks) == blocks
    assert any(isinstance(layer, ConvLSTMCell2D) for layer in model.layers) == memory


def test_memory_receives_block_outputs_from_coarsest_to_finest(monkeypatch):
    seen = []
    original = ConvLSTMCell2D.call

    def recording_call(self, inputs, state):
        seen.append((self.name, tuple(inputs.shape[1:3]), tuple(state.shape[1:3])))
        return original(self, inputs, state)

    monkeypatch.setattr(ConvLSTMCell2D, "call", recording_call)
    model = build_cfcm_model(CFCMConfig(resnet_depth=18, base_filters=4, image_size=64))
    seen.clear()
    model(tf.zeros((1, 64, 64, 1)))
    names = [name for name, _, _ in seen]
    assert names == ["memory3", "memory3", "memory2", "memory2", "memory1", "memory1", "memory0", "memory0"]
    sizes = [size for _, size, _ in seen]
    assert sizes == sorted(sizes), "each level is finer than the one before"
    assert sizes[0] == (4, 4) and sizes[-1] == (32, 32)
    assert all(inputs == state for _, inputs, state in seen), "the state is upsampled to each level's size"


def test_convlstm_cell_state_carries_cell_and_hidden():
    cell = ConvLSTMCell2D(3)
    hidden, state = cell(tf.random.normal((1, 5, 5, 2)), tf.zeros((1, 5, 5, 6)))
    assert hidden.shape == (1, 5, 5, 3) and state.shape == (1, 5, 5, 6)
    np.testing.assert_allclose(state[..., 3:], hidden)
    assert ConvLSTMCell2D.from_config(cell.get_config()).get_config() == cell.get_config()


def test_level_filters_follow_resnet_widths():
    assert level_filters(CFCMConfig(resnet_depth=34)) == [64, 128, 256, 512]
    assert level_filters(CFCMConfig(resnet_depth=50)) == [64, 128, 256, 512]
    with pytest.raises(ValueError, match="resnet_depth"):
        CFCMConfig(resnet_depth=20)


def test_layers_have_the_original_slim_settings_and_first_block_outputs_feed_the_memory_raw():
    model = build_cfcm_model(CFCMConfig(resnet_depth=18, base_filters=8, image_size=64))
    first = model.get_layer("encoder0_0")
    assert first.projection is not None, "a projection in the first block of a level even without a width change"
    assert model.get_layer("encoder0_1").projection is None
    norm = first.norms[0]
    assert not norm.scale and norm.momentum == 0.999 and norm.epsilon == 0.001
    conv = first.convs[0]
    assert conv.use_bias and isinstance(conv.kernel_initializer, keras.initializers.GlorotUniform)
    for name in ("memory_up3", "memory_up0"):
        assert model.get_layer(name).activation is keras.activations.relu
    assert model.get_layer("final_conv").activation is keras.activations.relu
    relus = {layer.name for layer in model.layers if layer.name.endswith("_relu")}
    assert "encoder0_0_relu" not in relus and "encoder0_1_relu" in relus


def test_square_frame_crops_the_non_zero_extent_and_maps_back():
    image = np.zeros((300, 200), np.float32)
    image[20:280, 10:190] = 50.0
    image[100:150, 60:120] = 200.0
    config = CFCMConfig(image_size=64)
    np.testing.assert_array_equal(non_zero_box(tf.constant(image)).numpy(), [20, 10, 280, 190])
    inputs, frame = network_input(tf.constant(image), config)
    assert inputs.shape == (64, 64, 1) and float(tf.reduce_max(inputs)) == 200.0, "raw grey values"
    label = (image == 200).astype(np.uint8)
    framed_label = network_label(tf.constant(label), config, frame).numpy()
    assert framed_label.dtype == np.uint8 and framed_label.shape == (64, 64)
    probabilities = tf.cast(framed_label[..., None], tf.float32)
    back = labels_of(to_image(probabilities, frame, tf.constant(image.shape)), config).numpy()
    assert back.shape == image.shape and np.mean(back == label) > 0.99


@pytest.mark.parametrize("shape", [(300, 200), (128, 512), (256, 256)])
def test_letterbox_frame_round_trip(shape):
    image = np.zeros(shape, np.float32)
    image[shape[0] // 4: shape[0] // 2, shape[1] // 3: shape[1] // 2] = 1.0
    config = CFCMConfig(image_size=128, resize="letterbox", normalization="percentile", head="softmax")
    inputs, frame = network_input(tf.constant(image), config)
    assert inputs.shape == (128, 128, 1) and max(frame["resized"].numpy()) == 128
    one_hot = tf.one_hot(tf.cast(network_label(tf.constant(image.astype(np.uint8)), config, frame), tf.int32), 2)
    back = labels_of(to_image(one_hot, frame, tf.constant(shape)), config).numpy()
    assert back.shape == shape
    assert np.mean(back == image) > 0.98


@pytest.mark.parametrize("memory", [True, False])
def test_batch_norm_decay_reaches_every_normalisation_and_survives_serialisation(memory):
    model = build_cfcm_model(CFCMConfig(resnet_depth=18, memory=memory, base_filters=4, batch_norm_decay=0.99))
    blocks = [layer for layer in model.layers if isinstance(layer, PreActivationBlock)]
    assert blocks and all(norm.momentum == 0.99 for block in blocks for norm in block.norms)
    rebuilt = PreActivationBlock.from_config(blocks[0].get_config())
    assert all(norm.momentum == 0.99 for norm in rebuilt.norms)
