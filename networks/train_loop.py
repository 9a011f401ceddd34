"""Training loop shared by the segmentation systems.

Adam with global-norm gradient clipping at 5x the running norm average (as in the SCN / EfficientSCN
training code), an exponential moving average (EMA) of the weights that is what gets evaluated and
exported, optional mixed precision (`mixed_precision_policy`), checkpoints via
`tf.train.CheckpointManager` (files are written first and the 'checkpoint' index is replaced atomically
afterwards, so an interrupted save never becomes the latest) with resume from the latest, TensorBoard
summaries and CSV logs, and a tqdm bar.
"""
from __future__ import annotations

import contextlib
import csv
import dataclasses
import os
from collections.abc import Callable, Iterator

import keras
import numpy as np
import tensorflow as tf
from tqdm import tqdm

LossFn = Callable[[dict, tf.Tensor, bool], dict]


def model_weights(model: keras.Model) -> list[tf.Variable]:
    """Every tf.Variable of a Keras 3 model (trainable and not), in the model's deterministic order."""
    return [variable.value for variable in model.variables]


def mixed_precision_policy(enabled: bool) -> str:
    """The Keras dtype policy for training: 'mixed_float16' on a GPU, 'mixed_bfloat16' on a CPU (TensorFlow
    has no float16 CPU kernels for ops such as AvgPool3D), 'float32' when disabled. Exports are float32."""
    if not enabled:
        return "float32"
    return "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"

ValidateFn = Callable[[], dict]


@dataclasses.dataclass(frozen=True)
class TrainingSettings:
    """How long and how to train.

    Attributes:
        output_folder: receives checkpoints/, train/ and validation/ (TensorBoard), train.csv, validation.csv.
        max_iter: total training iterations (a resumed run continues up to it).
        test_iter: validate and checkpoint every this many iterations.
        learning_rate: Adam learning rate.
        ema_decay: EMA decay; the effective decay is min(ema_decay, (1 + t) / (10 + t)) at step t.
        log_iter: write training losses every this many iterations.
    """

    output_folder: str
    max_iter: int
    test_iter: int
    learning_rate: float
    ema_decay: float = 0.999
    log_iter: int = 10


class Trainer:
    """Trains `model` with `loss_fn(outputs, labels, training) -> {name: scalar}` (summed to the loss)."""

    def __init__(self, model: keras.Model, loss_fn: LossFn, settings: TrainingSettings, mixed_precision: bool = False):
        self.model = model
        self.loss_fn = loss_fn
        self.settings = settings
        # Loss scaling is needed for float16 only; bfloat16 has float32's exponent range.
        self.mixed_precision = mixed_precision and keras.mixed_precision.dtype_policy().name == "mixed_float16"
        optimizer = keras.optimizers.Adam(settings.learning_rate)
        self.optimizer = keras.optimizers.LossScaleOptimizer(optimizer) if self.mixed_precision else optimizer
        self.optimizer.build(model.trainable_variables)
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.norm_average = tf.Variable(10.0, trainable=False, name="norm_average")
        self.ema = [tf.Variable(v, trainable=False, name=f"ema_{i}") for i, v in enumerate(model.trainable_variables)]
        # Keras 3 models are not tracked by tf.train.Checkpoint; their tf.Variables (trainable weights and
        # statistics such as BatchNorm moving means) are listed explicitly.
        self.checkpoint = tf.train.Checkpoint(weights=model_weights(model), optimizer=self.optimizer, step=self.step,
                                              norm_average=self.norm_average, ema=self.ema)
        self.manager = tf.train.CheckpointManager(self.checkpoint, os.path.join(settings.output_folder, "checkpoints"),
                                                  max_to_keep=3, step_counter=self.step)

    def restore(self, path: str | None = None) -> int:
        """Restores `path` or the latest checkpoint in the output folder; returns the restored step (0 if none)."""
        path = path or self.manager.latest_checkpoint
        if path:
            self.checkpoint.restore(path).assert_existing_objects_matched()
        return int(self.step.numpy())

    @contextlib.contextmanager
    def ema_weights(self) -> Iterator[None]:
        """Temporarily swaps the EMA weights into the model (for validation and export)."""
        backup = [v.numpy() for v in self.model.trainable_variables]
        for variable, average in zip(self.model.trainable_variables, self.ema):
            variable.assign(average)
        try:
            yield
        finally:
            for variable, value in zip(self.model.trainable_variables, backup):
                variable.assign(value)

    @tf.function
    def train_step(self, image: tf.Tensor, labels: tf.Tensor) -> dict:
        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            outputs = self.model(image, training=True)
            losses = self.loss_fn(outputs, labels, True)
            losses["loss_reg"] = tf.add_n([tf.cast(l, tf.float32) for l in self.model.losses]) if self.model.losses \
                else tf.constant(0.0)
            loss = tf.add_n(list(losses.values()))
            scaled = self.optimizer.scale_loss(loss) if self.mixed_precision else loss
        gradients = tape.gradient(scaled, variables)
        scale = tf.cast(self.optimizer.dynamic_scale, tf.float32) if self.mixed_precision else tf.constant(1.0)
        clip = self.norm_average * 5.0
        gradients, norm = tf.clip_by_global_norm([g / scale for g in gradients], clip)
        if tf.math.is_finite(norm):
            self.norm_average.assign(0.01 * tf.minimum(norm, clip) + 0.99 * self.norm_average)
        # A LossScaleOptimizer expects scaled gradients: it unscales them, skips non-finite steps and
        # adapts the scale itself.
        self.optimizer.apply_gradients(zip([g * scale for g in gradients], variables))
        self.step.assign_add(1)
        step = tf.cast(self.step, tf.float32)
        decay = tf.minimum(self.settings.ema_decay, (1.0 + step) / (10.0 + step))
        for average, variable in zip(self.ema, variables):
            average.assign(decay * average + (1.0 - decay) * variable)
        losses["norm"] = norm
        return losses

    def fit(self, dataset: tf.data.Dataset, validate: ValidateFn | None = None) -> dict:
        """Trains from the current step to `max_iter`, validating/checkpointing every `test_iter`; returns
        the last validation metrics (empty if there was no validation)."""
        settings = self.settings
        start = self.restore()
        train_writer = tf.summary.create_file_writer(os.path.join(settings.output_folder, "train"))
        val_writer = tf.summary.create_file_writer(os.path.join(settings.output_folder, "validation"))
        metrics: dict = {}
        iterator = iter(dataset)
        bar = tqdm(range(start, settings.max_iter), initial=start, total=settings.max_iter, desc="train")
        for iteration in bar:
            image, labels = next(iterator)
            losses = {k: float(v) for k, v in self.train_step(image, labels).items()}
            done = iteration + 1
            if done % settings.log_iter == 0 or done == settings.max_iter:
                bar.set_postfix(loss=f"{sum(v for k, v in losses.items() if k.startswith('loss')):.4f}")
                with train_writer.as_default(step=done):
                    for name, value in losses.items():
                        tf.summary.scalar(name, value)
                _append_csv(os.path.join(settings.output_folder, "train.csv"), done, losses)
            if done % settings.test_iter == 0 or done == settings.max_iter:
                if validate is not None:
                    with self.ema_weights():
                        metrics = validate()
                    with val_writer.as_default(step=done):
                        for name, value in metrics.items():
                            tf.summary.scalar(name, value)
                    _append_csv(os.path.join(settings.output_folder, "validation.csv"), done, metrics)
                    tqdm.write(f"iteration {done}: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
                self.manager.save(checkpoint_number=done)
        train_writer.flush()
        val_writer.flush()
        return metrics


def _append_csv(path: str, iteration: int, values: dict) -> None:
    """Appends one row (iteration + values); writes the header when the file is new."""
    new = not os.path.exists(path)
    with open(path, "a", newline="") as handle:
        writer = csv.writer(handle)
        if new:
            writer.writerow(["iteration"] + list(values))
        writer.writerow([iteration] + [f"{float(np.asarray(v)):.6g}" for v in values.values()])
