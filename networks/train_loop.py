"""The training loop every system uses, on any tf.distribute strategy.

A system supplies the model (a builder, called inside the strategy's scope), a loss function, a dataset
function and optionally a validation hook; the trainer does the rest: Adam with (optional) global-norm
gradient clipping at 5x the running norm average (SCN / EfficientSCN training code), an exponential moving
average (EMA) of the weights that is what gets validated and exported, optional mixed precision, checkpoints via
`tf.train.CheckpointManager` with resume from the latest, TensorBoard summaries, CSV logs and a tqdm bar. A
system may bring its own optimizer (RSTN: SGD with parameter groups, `networks.optimizers.GroupedSGD`).

Distribution: the batch is the global batch, split across replicas; each replica's loss is divided by
the number of replicas, so the summed gradient is that of the mean over the global batch. Gradients are
all-reduced once, then clipped and applied in cross-replica context, so the clip statistics, the EMA and
the step stay identical everywhere. Only the chief writes checkpoints (the others write to a temporary
folder that is removed, as multi-worker saving requires), summaries, CSVs and progress, and validates.

Exact resume: the data stream is a function of the global step (`preprocessing.pipeline.StreamShard`),
and the step is in the checkpoint, so a resumed run continues with the batch an uninterrupted run would
have seen next.
"""
from __future__ import annotations

import contextlib
import csv
import dataclasses
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator

import keras
import numpy as np
import tensorflow as tf
from tqdm import tqdm

from networks.distribution import is_chief

LossFn = Callable[[dict, tf.Tensor, bool], dict]
OptimizerFn = Callable[[keras.Model], keras.optimizers.Optimizer]
ValidateFn = Callable[[], dict]
DatasetFn = Callable[[tf.distribute.InputContext | None, int], tf.data.Dataset]
PrepareFn = Callable[[keras.Model, tf.Tensor, object], tf.Tensor]
ForwardFn = Callable[[keras.Model, tf.Tensor, bool], tf.Tensor]


def model_weights(model: keras.Model) -> list[tf.Variable]:
    """Every tf.Variable of a Keras 3 model (trainable and not), in the model's deterministic order."""
    return [variable.value for variable in model.variables]


def mixed_precision_policy(enabled: bool) -> str:
    """The Keras dtype policy for training: 'mixed_float16' on a GPU, 'mixed_bfloat16' on a CPU (TensorFlow
    has no float16 CPU kernels for ops such as AvgPool3D), 'float32' when disabled. Exports are float32."""
    if not enabled:
        return "float32"
    return "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"


@contextlib.contextmanager
def precision(enabled: bool) -> Iterator[str]:
    """Sets the global Keras dtype policy for training inside the block; float32 again afterwards, also when
    the block raises."""
    keras.mixed_precision.set_global_policy(mixed_precision_policy(enabled))
    try:
        yield keras.mixed_precision.dtype_policy().name
    finally:
        keras.mixed_precision.set_global_policy("float32")


@dataclasses.dataclass(frozen=True)
class TrainingSettings:
    """How long and how to train.

    Attributes:
        output_folder: receives checkpoints/, train/ and validation/ (TensorBoard), train.csv, validation.csv.
        max_iter: total training iterations (a resumed run continues up to it).
        test_iter: validate and checkpoint every this many iterations.
        learning_rate: Adam learning rate.
        ema_decay: EMA decay; the effective decay is min(ema_decay, (1 + t) / (10 + t)) at step t (0: the
            exported weights are the trained ones).
        log_iter: write training losses every this many iterations.
        global_batch: samples per step over all replicas.
        loss_scale: (initial scale, steps between scale increases) of the dynamic loss scale, float16 only.
        clip_gradients: clip the gradient norm at 5x its running average (EfficientSCN); False: plain Adam.
    """

    output_folder: str
    max_iter: int
    test_iter: int
    learning_rate: float
    ema_decay: float = 0.999
    log_iter: int = 10
    global_batch: int = 1
    loss_scale: tuple[float, int] = (2.0 ** 15, 2000)
    clip_gradients: bool = True


class Trainer:
    """Trains the model of `build_model()` (built: its variables exist) with `loss_fn(outputs, labels, training)
    -> {name: scalar}` (summed to the loss) under `strategy` (default: the default strategy), with Adam at
    `settings.learning_rate` or the optimizer `optimizer_fn(model)` makes. `prepare_fn(model, image, labels)`,
    when given, replaces each replica's input before the gradient step (outside the gradient tape: e.g. guidance
    from clicks simulated with the current model). `forward_fn(model, image, training)`, when given, replaces the
    plain model call of the gradient step (e.g. the model over the crop by sliding windows, as at inference)."""

    def __init__(self, build_model: Callable[[], keras.Model], loss_fn: LossFn, settings: TrainingSettings,
                 mixed_precision: bool = False, strategy: tf.distribute.Strategy | None = None,
                 optimizer_fn: OptimizerFn | None = None, prepare_fn: PrepareFn | None = None,
                 forward_fn: ForwardFn | None = None):
        self.strategy = strategy or tf.distribute.get_strategy()
        self.loss_fn = loss_fn
        self.prepare_fn = prepare_fn
        self.forward_fn = forward_fn or (lambda model, image, training: model(image, training=training))
        self.settings = settings
        self.chief = is_chief(self.strategy)
        with self.strategy.scope():
            self.model = build_model()
            # Loss scaling is needed for float16 only; bfloat16 has float32's exponent range.
            self.mixed_precision = mixed_precision and keras.mixed_precision.dtype_policy().name == "mixed_float16"
            optimizer = optimizer_fn(self.model) if optimizer_fn else keras.optimizers.Adam(settings.learning_rate)
            self.optimizer = keras.optimizers.LossScaleOptimizer(
                optimizer, initial_scale=settings.loss_scale[0], dynamic_growth_steps=settings.loss_scale[1]) \
                if self.mixed_precision else optimizer
            self.optimizer.build(self.model.trainable_variables)
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
            self.norm_average = tf.Variable(10.0, trainable=False, name="norm_average")
            self.ema = [tf.Variable(v, trainable=False, name=f"ema_{i}")
                        for i, v in enumerate(self.model.trainable_variables)]
        # Keras 3 models are not tracked by tf.train.Checkpoint; their tf.Variables (trainable weights and
        # statistics such as BatchNorm moving means) are listed explicitly.
        self.checkpoint = tf.train.Checkpoint(weights=model_weights(self.model), optimizer=self.optimizer,
                                              step=self.step, norm_average=self.norm_average, ema=self.ema)
        folder = os.path.join(settings.output_folder, "checkpoints")
        self._scratch = None if self.chief else tempfile.mkdtemp(prefix="worker_checkpoints_")
        self.manager = tf.train.CheckpointManager(self.checkpoint, folder if self.chief else self._scratch,
                                                  max_to_keep=3, step_counter=self.step)
        self._latest = tf.train.latest_checkpoint(folder)

    def restore(self, path: str | None = None) -> int:
        """Restores `path` or the latest checkpoint of the output folder; returns the restored step (0 if none)."""
        path = path or self._latest
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

    def _replica_step(self, image: tf.Tensor, labels: tf.Tensor) -> tuple[list[tf.Tensor], dict]:
        """Per replica: losses (means over the replica batch) and the all-reduced gradient of the mean loss
        over the global batch."""
        replicas = self.strategy.num_replicas_in_sync
        variables = self.model.trainable_variables
        if self.prepare_fn is not None:
            image = tf.stop_gradient(self.prepare_fn(self.model, image, labels))
        with tf.GradientTape() as tape:
            outputs = self.forward_fn(self.model, image, True)
            losses = self.loss_fn(outputs, labels, True)
            losses["loss_reg"] = tf.add_n([tf.cast(l, tf.float32) for l in self.model.losses]) if self.model.losses \
                else tf.constant(0.0)
            loss = tf.add_n(list(losses.values())) / replicas
            scaled = self.optimizer.scale_loss(loss) if self.mixed_precision else loss
        gradients = tape.gradient(scaled, variables)
        gradients = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, gradients)
        return gradients, {k: v / replicas for k, v in losses.items()}

    @tf.function
    def train_step(self, batch: tuple) -> dict:
        gradients, losses = self.strategy.run(self._replica_step, args=batch)
        gradients = [self.strategy.experimental_local_results(g)[0] for g in gradients]
        losses = {k: self.strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None) for k, v in losses.items()}
        variables = self.model.trainable_variables
        scale = tf.cast(self.optimizer.dynamic_scale, tf.float32) if self.mixed_precision else tf.constant(1.0)
        gradients = [g / scale for g in gradients]
        if self.settings.clip_gradients:
            clip = self.norm_average * 5.0
            gradients, norm = tf.clip_by_global_norm(gradients, clip)
            if tf.math.is_finite(norm):
                self.norm_average.assign(0.01 * tf.minimum(norm, clip) + 0.99 * self.norm_average)
        else:
            norm = tf.linalg.global_norm(gradients)
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

    def fit(self, dataset_fn: DatasetFn, validate: ValidateFn | None = None) -> dict:
        """Trains from the restored step to `max_iter`, validating/checkpointing every `test_iter`; returns the
        last validation metrics (empty if there was none). `dataset_fn(input_context, first_step)` gives the
        per-replica batches of the stream from `first_step` on."""
        settings = self.settings
        start = self.restore()
        dataset = self.strategy.distribute_datasets_from_function(lambda context: dataset_fn(context, start))
        writers = {name: tf.summary.create_file_writer(os.path.join(settings.output_folder, name))
                   if self.chief else tf.summary.create_noop_writer() for name in ("train", "validation")}
        metrics: dict = {}
        iterator = iter(dataset)
        bar = tqdm(range(start, settings.max_iter), initial=start, total=settings.max_iter, desc="train",
                   disable=not self.chief)
        try:
            for iteration in bar:
                losses = {k: float(v) for k, v in self.train_step(next(iterator)).items()}
                done = iteration + 1
                if done % settings.log_iter == 0 or done == settings.max_iter:
                    bar.set_postfix(loss=f"{sum(v for k, v in losses.items() if k.startswith('loss')):.4f}")
                    self._log(writers["train"], "train.csv", done, losses)
                if done % settings.test_iter == 0 or done == settings.max_iter:
                    if validate is not None and self.chief:
                        with self.ema_weights():
                            metrics = validate()
                        self._log(writers["validation"], "validation.csv", done, metrics)
                        tqdm.write(f"iteration {done}: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
                    self.manager.save(checkpoint_number=done)
        finally:
            for writer in writers.values():
                writer.flush()
            if self._scratch:
                shutil.rmtree(self._scratch, ignore_errors=True)
        return metrics

    def _log(self, writer, csv_name: str, iteration: int, values: dict) -> None:
        if not self.chief:
            return
        with writer.as_default(step=iteration):
            for name, value in values.items():
                tf.summary.scalar(name, value)
        _append_csv(os.path.join(self.settings.output_folder, csv_name), iteration, values)


def _append_csv(path: str, iteration: int, values: dict) -> None:
    """Appends one row (iteration + values); writes the header when the file is new."""
    new = not os.path.exists(path)
    with open(path, "a", newline="") as handle:
        writer = csv.writer(handle)
        if new:
            writer.writerow(["iteration"] + list(values))
        writer.writerow([iteration] + [f"{float(np.asarray(v)):.6g}" for v in values.values()])
