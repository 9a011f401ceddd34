"""RSTN over whole volumes: the coarse pass of each plane equals the original's slice loop written out in NumPy
on its (row, column, slice) array (independent of our plane bookkeeping), for any slice batch; the fine pass
skips stacks without mask and is 0 outside each stack's own box, batched or not, and gives the same
probabilities on its region as on the whole volume, to float32 rounding (slice thickness 1 and 3; masks inside and at
the faces), which a region without the saliency's reach or the stacks' 2 slices does not."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from rstn.config import RSTNConfig
from rstn.model import RSTN
from rstn.training import build_rstn
from rstn.volume_inference import (coarse_probabilities, fine_in_box, fine_probabilities, fine_region,
                                   oracle_probabilities, windowed)


def fake_network(stacks: tf.Tensor) -> tf.Tensor:
    """Logits that depend on each input channel and on the position: 4 (x - 0.5) + column / 10."""
    columns = tf.cast(tf.range(tf.shape(stacks)[2]), tf.float32)[tf.newaxis, tf.newaxis, :, tf.newaxis]
    return 4.0 * (stacks - 0.5) + columns / 10.0


def original_coarse_loop(image: np.ndarray, plane: str) -> np.ndarray:
    """The original's coarse_testing.py loop (slice thickness 3) on its array [rows, columns, slices]."""
    pred = np.zeros(image.shape, np.float32)
    max_r = image.shape["XYZ".index(plane)]
    for j in range(max_r):
        s = [max(0, j - 1), j, min(max_r - 1, j + 1)]
        if plane == "X":
            stack = image[s, :, :]
        elif plane == "Y":
            stack = image[:, s, :].transpose(1, 0, 2)
        else:
            stack = image[:, :, s].transpose(2, 0, 1)
        out = tf.sigmoid(fake_network(tf.constant(stack.transpose(1, 2, 0)[np.newaxis]))).numpy()[0].transpose(2, 0, 1)
        if plane == "X":
            view = pred
        elif plane == "Y":
            view = pred.transpose(1, 0, 2)
        else:
            view = pred.transpose(2, 0, 1)
        if j == 0:
            view[j:j + 2] += out[1:3]
        elif j == max_r - 1:
            view[j - 1:j + 1] += out[0:2]
        else:
            view[j - 1:j + 2] += out
    view = {"X": pred, "Y": pred.transpose(1, 0, 2), "Z": pred.transpose(2, 0, 1)}[plane]
    view[0] /= 2
    view[1:-1] /= 3
    view[-1] /= 2
    return pred


@pytest.mark.parametrize("plane", ["X", "Y", "Z"])
@pytest.mark.parametrize("slice_batch", [1, 4])
def test_coarse_pass_equals_the_original_loop(plane, slice_batch):
    config = RSTNConfig()
    volume = np.random.default_rng(0).uniform(-200, 300, (5, 6, 7)).astype(np.float32)
    ours = coarse_probabilities(tf.constant(volume), plane, fake_network, config, tf.constant(slice_batch)).numpy()
    original_array = windowed(volume, config).numpy().transpose(1, 2, 0)  # [y, x, z] = (row, column, slice)
    expected = original_coarse_loop(original_array, plane).transpose(2, 0, 1)
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)


def tiny_rstn(seed: int, slice_thickness: int = 3) -> tuple[RSTNConfig, RSTN]:
    """A small RSTN (margin 1) whose fine score layers have random weights, so its fine output is not constant; the
    random state is reset to `seed` first, so that the test's data do not depend on the tests run before it."""
    keras.utils.set_random_seed(seed)
    config = RSTNConfig(base_filters=4, fc_filters=8, crop_margin=1, slice_thickness=slice_thickness)
    model = build_rstn(config)
    for name in ("score_fr", "score_pool4", "score_pool3"):
        kernel = model.fine.get_layer(name).kernel
        kernel.assign(tf.random.normal(kernel.shape, seed=seed))
    return config, model


def test_fine_pass_skips_stacks_without_mask_and_is_zero_outside_the_box():
    config, model = tiny_rstn(seed=1)
    volume = tf.random.uniform((8, 12, 10), -100, 240, seed=2)
    mask = np.zeros((8, 12, 10), np.uint8)
    mask[3:5, 4:7, 3:6] = 1
    fine = fine_probabilities(volume, tf.constant(mask, tf.float32) * 0.8, tf.constant(mask), "Z", model, config,
                              tf.constant(1)).numpy()
    # Stacks 2..5 see the mask (slices 3, 4) and predict slices 1..6; stack 2's box comes from slice 3.
    assert not fine[:1].any() and not fine[7:].any() and fine[1].any() and fine[6].any()
    assert fine[3, 4:7, 3:6].min() > 0
    assert not fine[3, :3].any() and not fine[3, 8:].any(), "zero outside the box (mask rows 4-6 plus 1)"
    assert not fine[3, :, :2].any() and not fine[3, :, 7:].any()


@pytest.mark.parametrize("stage", ["fine", "oracle"])
def test_batched_stacks_each_keep_their_own_box(stage):
    """Stacks whose masks lie far apart (boxes at opposite corners, then none) give the same probabilities in
    batches of 8 as one by one, and 0 outside each stack's own box, as the original's one-stack testing."""
    config, model = tiny_rstn(seed=3)
    volume = tf.random.uniform((12, 40, 36), -100, 240, seed=4)
    mask = np.zeros((12, 40, 36), np.uint8)
    mask[1:4, 2:6, 3:7] = 1
    mask[6:9, 30:37, 25:33] = 1
    mask_tensor = tf.constant(mask)

    def run(batch: int) -> np.ndarray:
        if stage == "fine":
            return fine_probabilities(volume, tf.cast(mask_tensor, tf.float32) * 0.7, mask_tensor, "Z", model,
                                      config, tf.constant(batch)).numpy()
        return oracle_probabilities(volume, mask_tensor, "Z", model, config, tf.constant(batch)).numpy()

    one_by_one, batched = run(1), run(8)
    np.testing.assert_allclose(batched, one_by_one, atol=1e-6)
    assert batched[2, 1:7, 2:8].min() > 0 and batched[7, 29:38, 24:34].min() > 0
    assert not batched[2, 8:].any() and not batched[7, :28].any(), "0 outside each stack's own box"


def masks_inside_and_at_the_faces(shape: tuple[int, int, int]) -> dict[str, np.ndarray]:
    """uint8 masks [z, y, x]: an irregular blob far from every edge, and irregular blobs touching the first face of
    every axis or the last one (their regions clipped at that face and cut inside the volume at the other end)."""
    inside = np.zeros(shape, np.uint8)
    inside[5:8, 12:17, 10:14] = 1
    inside[6, 17:19, 13] = 1
    first = np.zeros(shape, np.uint8)
    first[0:2, 0:4, 0:5] = 1
    first[2, 3, 4:7] = 1
    last = np.zeros(shape, np.uint8)
    last[-2:, -4:, -5:] = 1
    last[-3, -4, -7:-5] = 1
    return {"inside": inside, "first faces": first, "last faces": last}


@pytest.mark.parametrize("plane", ["X", "Y", "Z"])
@pytest.mark.parametrize("slice_thickness", [1, 3])
def test_fine_round_on_its_region_equals_the_fine_round_on_the_whole_volume(plane, slice_thickness, monkeypatch):
    """Random saliency weights (both convolutions) make the saliency depend on its 3-pixel neighbourhood. On a mask
    inside the volume and on masks touching the first or the last face of every axis, the region's answer is the
    whole volume's (to float32 rounding); a region without the saliency's reach, or (slice thickness 3) grown by 1
    slice instead of `STACK_REACH` along the plane's slice axis, is not (the test sees it)."""
    config, model = tiny_rstn(seed=5, slice_thickness=slice_thickness)
    for layer in model.saliency.layers:
        layer.kernel.assign(tf.random.normal(layer.kernel.shape, stddev=0.5, seed=6))
    shape = (14, 24, 22)
    volume = tf.random.uniform(shape, -100, 240, seed=7)
    score = tf.random.uniform(shape, 0, 1, seed=8)
    batch = tf.constant(4)

    def on_region(mask: tf.Tensor) -> np.ndarray:
        return fine_probabilities(volume, score, mask, plane, model, config, batch).numpy()

    for where, array in masks_inside_and_at_the_faces(shape).items():
        mask = tf.constant(array)
        whole = fine_in_box(volume, score, mask, plane, model, config, batch, tf.zeros([3], tf.int32),
                            tf.constant(shape)).numpy()
        start, end = (bound.numpy() for bound in fine_region(tf.cast(mask, tf.bool), plane, config))
        clipped = {"inside": (start > 0) & (end < shape), "first faces": (start == 0) & (end < shape),
                   "last faces": (start > 0) & (end == shape)}[where]
        assert clipped.all(), (where, start, end)
        assert whole.any()
        # Bit-exact with TensorFlow's own CPU kernels; oneDNN's convolutions (TensorFlow's default on x86) sum in an
        # order chosen per shape, and the saliency module sees a smaller image: one voxel came out 6e-8 apart.
        np.testing.assert_allclose(on_region(mask), whole, rtol=0, atol=1e-6, err_msg=where)
        if where == "inside":
            controls = {"SALIENCY_REACH": 0, **({"STACK_REACH": 1} if slice_thickness == 3 else {})}
            for name, value in controls.items():
                with monkeypatch.context() as patched:
                    patched.setattr(f"rstn.volume_inference.{name}", value)
                    difference = np.abs(on_region(mask) - whole).max()
                assert difference > 0.01, f"with {name} {value} the region's answer differs"
