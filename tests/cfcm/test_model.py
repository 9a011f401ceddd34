"""CFCM model: shapes for every ResNet depth with and without memory, and the memory's coarse-to-fine order."""
import numpy as np
import pytest
import tensorflow as tf

from cfcm import model as cfcm_model
from cfcm.config import RESNET_BLOCKS, CFCMConfig
from cfcm.model import ConvLSTMCell2D, build_cfcm_model, level_filters
from preprocessing.tf_geometry import letterbox, unletterbox


@pytest.mark.parametrize("depth", [18, 34, 50, 101])
@pytest.mark.parametrize("memory", [True, False])
def test_output_has_input_size_and_labels_for_every_depth(depth, memory):
    config = CFCMConfig(resnet_depth=depth, memory=memory, base_filters=8, num_labels=3,
                        label_names=("left_lung", "right_lung"), image_size=64)
    model = build_cfcm_model(config)
    assert model(tf.zeros((2, 64, 48, 1))).shape == (2, 64, 48, 3)
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
    assert cfcm_model.resnet_decoder is not None


@pytest.mark.parametrize("shape", [(300, 200), (128, 512), (256, 256)])
def test_letterbox_and_unletterbox_round_trip(shape):
    image = np.zeros(shape + (1,), np.float32)
    image[shape[0] // 4: shape[0] // 2, shape[1] // 3: shape[1] // 2] = 1.0
    boxed, resized = letterbox(tf.constant(image), 128)
    assert boxed.shape == (128, 128, 1) and max(resized.numpy()) == 128
    back = unletterbox(boxed, resized, shape).numpy()
    assert back.shape == shape + (1,)
    assert np.mean((back > 0.5) == (image > 0.5)) > 0.98
