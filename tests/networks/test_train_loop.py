"""The shared trainer: checkpoints hold every model variable (BatchNorm statistics included), a run under
MirroredStrategy over two logical CPUs follows the default strategy's loss trajectory, and a given forward function
replaces the plain model call of the gradient step."""
import functools
import subprocess
import sys
import textwrap

import keras
import numpy as np
import tensorflow as tf

from networks.export import load_ema_weights
from networks.train_loop import Trainer, TrainingSettings
from preprocessing.pipeline import StreamShard
from tests.conftest import REPO


def small_model(batch_norm: bool = True) -> keras.Model:
    image = keras.Input((8, 8, 1))
    node = keras.layers.Conv2D(4, 3, padding="same")(image)
    if batch_norm:
        node = keras.layers.BatchNormalization()(node)
    return keras.Model(image, keras.layers.Conv2D(2, 1)(node))


def loss(outputs, labels, training):
    del training
    return {"loss": tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(tf.cast(labels, tf.int32), outputs))}


def stream(context, first_step: int, global_batch: int = 4) -> tf.data.Dataset:
    """Element i of the stream is drawn from seed i; each input pipeline takes its share of every global batch."""
    shard = StreamShard.of(context, global_batch, first_step)

    def element(i):
        image = tf.random.stateless_normal([8, 8, 1], tf.stack([i, tf.constant(7, tf.int64)]), 3.0, 2.0)
        return image, tf.cast(image[..., 0] > 3.0, tf.uint8)

    return shard.indices().map(element).batch(shard.replica_batch, drop_remainder=True)


def test_resume_restores_all_variables_and_export_loads_them(tmp_path):
    keras.utils.set_random_seed(0)
    settings = TrainingSettings(str(tmp_path), max_iter=4, test_iter=4, learning_rate=1e-2, global_batch=4)
    first = Trainer(small_model, loss, settings)
    first.fit(stream)
    moving_mean = [v for v in first.model.variables if "moving_mean" in v.path][0]
    assert np.abs(moving_mean.numpy()).min() > 1e-3, "BatchNorm statistics moved away from their initial zeros"

    resumed = Trainer(small_model, loss, settings)
    assert resumed.restore() == 4
    for a, b in zip(first.model.variables, resumed.model.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())

    exported = small_model()
    load_ema_weights(exported, resumed.manager.latest_checkpoint)
    np.testing.assert_array_equal([v for v in exported.variables if "moving_mean" in v.path][0].numpy(),
                                  moving_mean.numpy())


MIRRORED_SCRIPT = textwrap.dedent("""
    import csv, functools, os, sys, tempfile
    import keras, tensorflow as tf
    from networks.distribution import make_strategy
    from networks.train_loop import Trainer, TrainingSettings
    from tests.networks.test_train_loop import loss, small_model, stream
    mirrored = make_strategy("mirrored", ["/cpu:0", "/cpu:1"])
    assert mirrored.num_replicas_in_sync == 2
    for name, strategy in (("default", None), ("mirrored", mirrored)):
        keras.utils.set_random_seed(0)
        folder = tempfile.mkdtemp()
        settings = TrainingSettings(folder, max_iter=12, test_iter=12, learning_rate=1e-2, log_iter=1, global_batch=4)
        Trainer(functools.partial(small_model, batch_norm=False), loss, settings, strategy=strategy).fit(stream)
        rows = list(csv.DictReader(open(os.path.join(folder, "train.csv"))))
        print(name, " ".join(row["loss"] for row in rows))
""")


def test_mirrored_strategy_follows_the_default_loss_trajectory():
    result = subprocess.run([sys.executable, "-c", MIRRORED_SCRIPT], capture_output=True, text=True, encoding="utf-8",
                            errors="replace", timeout=300, cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines() if line.startswith(("default", "mirrored")))
    default, mirrored = (np.array(lines[k].split(), float) for k in ("default", "mirrored"))
    assert len(default) == len(mirrored) == 12
    assert default[-1] < default[0], "the loss goes down"
    # Same global batches, same initial weights: the two replicas' gradient sum differs from the single
    # device's only by float32 summation order.
    np.testing.assert_allclose(mirrored, default, rtol=1e-4)


def test_the_gradient_step_runs_the_forward_function_it_is_given(tmp_path):
    """A system's forward pass (e.g. sliding windows over the crop) replaces the plain model call: here one whose
    output does not depend on the weights (zero gradients), so the steps leave every weight as it was."""
    keras.utils.set_random_seed(0)
    settings = TrainingSettings(str(tmp_path), max_iter=2, test_iter=2, learning_rate=1e-1, global_batch=4,
                                clip_gradients=False)
    calls = []

    def constant(model, image, training):
        calls.append(training)
        return model(image, training=training) * 0.0

    trainer = Trainer(functools.partial(small_model, batch_norm=False), loss, settings, forward_fn=constant)
    before = [v.numpy() for v in trainer.model.trainable_variables]
    trainer.fit(stream)
    assert calls and all(calls), "traced with training=True"
    for a, b in zip(before, trainer.model.trainable_variables):
        np.testing.assert_array_equal(a, b.numpy())
