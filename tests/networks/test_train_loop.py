"""Training loop checkpoints: every model variable (BatchNorm statistics included) survives a resume."""
import keras
import numpy as np
import tensorflow as tf

from networks.export import load_ema_weights
from networks.train_loop import Trainer, TrainingSettings


def small_model() -> keras.Model:
    image = keras.Input((8, 8, 1))
    node = keras.layers.BatchNormalization()(keras.layers.Conv2D(4, 3, padding="same")(image))
    return keras.Model(image, keras.layers.Conv2D(2, 1)(node))


def loss(outputs, labels, training):
    del training
    return {"loss": tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(tf.cast(labels, tf.int32), outputs))}


def dataset() -> tf.data.Dataset:
    rng = np.random.default_rng(0)
    images = rng.normal(3.0, 2.0, (8, 8, 8, 1)).astype(np.float32)
    labels = (images[..., 0] > 3).astype(np.uint8)
    return tf.data.Dataset.from_tensor_slices((images, labels)).repeat().batch(4)


def test_resume_restores_all_variables_and_export_loads_them(tmp_path):
    keras.utils.set_random_seed(0)
    settings = TrainingSettings(str(tmp_path), max_iter=4, test_iter=4, learning_rate=1e-2)
    first = small_model()
    Trainer(first, loss, settings).fit(dataset())
    moving_mean = [v for v in first.variables if "moving_mean" in v.path][0]
    assert np.abs(moving_mean.numpy()).min() > 1e-3, "BatchNorm statistics moved away from their initial zeros"

    second = small_model()
    resumed = Trainer(second, loss, settings)
    assert resumed.restore() == 4
    for a, b in zip(first.variables, second.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())

    exported = small_model()
    load_ema_weights(exported, resumed.manager.latest_checkpoint)
    np.testing.assert_array_equal([v for v in exported.variables if "moving_mean" in v.path][0].numpy(),
                                  moving_mean.numpy())
