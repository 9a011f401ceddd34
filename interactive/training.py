"""Training of the click-guided network as the original trains it: per step one crop per replica, `train_clicks` rounds
of simulated corrective clicks with the current network (inference mode, sliding window), then one gradient step of
the DiceCE loss on the image with the final guidance, through the same sliding window; Adam with a per-epoch cosine
schedule; validation on full volumes every epoch with Dice at 0 clicks and after `validation_clicks` clicks."""
from __future__ import annotations

import dataclasses
import json
import math
import os

import keras
import numpy as np
import tensorflow as tf
from tqdm import tqdm

from evaluation.metrics import dice
from inference.sliding_window import sliding_window_inference
from interactive.click_effects import ClickEffect, click_effect
from interactive.clicks import corrective_clicks
from interactive.config import InteractiveConfig
from interactive.interaction import click_rounds, simulate_clicks, with_guidance
from interactive.model_set import interactive_member
from interactive.preprocess import network_input, network_label
from interactive.sampling import training_crop
from interactive.window_forward import windowed_logits
from networks.dynunet import dynunet
from networks.initial_weights import assign_weights, check_weights, member_weights
from networks.losses import dice_ce_loss
from networks.optimizers import CosineAnnealingPerEpoch
from networks.train_loop import ForwardFn, Trainer, TrainingSettings, precision
from preprocessing.cases import Case, read_label
from preprocessing.image_io import read_image
from preprocessing.pipeline import StreamShard


@dataclasses.dataclass(frozen=True)
class InteractiveTraining:
    """Run settings.

    Attributes:
        output_folder: checkpoints, TensorBoard logs, train.csv, validation.csv, split.json.
        mixed_precision: float16 on GPU, bfloat16 on CPU (exports are float32).
        seed: seed of the split-independent randomness (crops, augmentation, clicks, weights).
        ema_decay: decay of an exported weight average (0: the trained weights, as the original; an addition).
        validation_batch: windows per network call in validation.
    """

    output_folder: str
    mixed_precision: bool = False
    seed: int = 0
    ema_decay: float = 0.0
    validation_batch: int = 1


@dataclasses.dataclass(frozen=True)
class NetworkCase:
    """A case on the network grid: image [z, y, x, channels] float32 in [0, 1], lesion mask [z, y, x] uint8."""

    case_id: str
    image: np.ndarray
    label: np.ndarray


def load_case(case: Case, config: InteractiveConfig) -> NetworkCase:
    """Reads a case's channels and lesion mask onto the network grid."""
    reads = [read_image(path) for path in (case.image_path, *case.more_channels)]
    channels, geometry = [array for array, _ in reads], reads[0][1]
    label, _ = read_label(case)
    image, _ = network_input(channels, geometry, config)
    return NetworkCase(case.case_id, image, network_label(label, geometry, config))


def split_cases(cases: list[Case], config: InteractiveConfig) -> tuple[list[Case], list[Case]]:
    """The original's random split: `train_fraction` of the cases (shuffled with `split_seed`) train, the rest
    validate."""
    order = np.random.default_rng(config.split_seed).permutation(len(cases))
    count = int(round(config.train_fraction * len(cases)))
    return [cases[i] for i in sorted(order[:count])], [cases[i] for i in sorted(order[count:])]


def build_model(config: InteractiveConfig) -> keras.Model:
    """The DynUNet of `config`: image channels + lesion and background guidance in, background / lesion logits
    out."""
    return dynunet(len(config.input_channels) + 2, 2, config.kernel_sizes, config.strides, config.filters)


def started_model(config: InteractiveConfig, weights: list[np.ndarray] | None) -> keras.Model:
    """The network of `config` with `weights` (`model_set_start`), or with random weights when None."""
    model = build_model(config)
    return assign_weights(model, weights, "the initial weights") if weights is not None else model


def model_set_start(model_set: str) -> tuple[InteractiveConfig, list[np.ndarray]]:
    """The config the click-guided `model_set` was trained with and its segmentation weights (ModelError or
    ValueError naming the set when it is damaged or another system's: `interactive_member`)."""
    member, set_config = interactive_member(model_set)
    return set_config, member_weights(member)


def check_start(model_set: str, set_config: InteractiveConfig, weights: list[np.ndarray],
                config: InteractiveConfig) -> None:
    """ValueError naming `model_set` when its weights (`model_set_start`) do not fit the network of `config`."""
    if set_config.input_channels != config.input_channels:
        raise ValueError(f"{model_set}: trained on input channels {','.join(set_config.input_channels)}, these "
                         f"flags give {','.join(config.input_channels)}")
    check_weights(build_model(config), weights, model_set)


def window_predictor(model: keras.Model):
    """A NumPy batch [n, *roi, channels] -> logits [n, *roi, 2] function of `model` (one traced graph)."""
    predict = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    return lambda batch: predict(tf.constant(batch)).numpy()


def training_forward(config: InteractiveConfig) -> ForwardFn:
    """The gradient step's forward pass: the model over the training crop by the same sliding windows (roi,
    overlap, Gaussian logit blending) as inference, as the original trains through its sliding-window inferer;
    one plain call when the crop is the window."""
    return lambda model, image, training: windowed_logits(model, image, config.roi_size, config.overlap, training)


def full_volume_logits(predict, volume: np.ndarray, config: InteractiveConfig, batch: int = 1) -> np.ndarray:
    """Sliding-window logits [z, y, x, 2] of a whole network-grid volume [z, y, x, channels + 2]."""
    return sliding_window_inference(volume, config.roi_size, predict, 2, overlap=config.overlap, batch_size=batch)


def clicked_prediction(predict, image: np.ndarray, lesion: np.ndarray, background: np.ndarray,
                       config: InteractiveConfig, batch: int = 1) -> np.ndarray:
    """The lesion prediction, bool [z, y, x], of a network-grid image [1, z, y, x, channels] with the guidance of
    the lesion and background clicks (array indices [n, 3], int32)."""
    volume = with_guidance(tf.constant(image), lesion, background, config)[0].numpy()
    return np.argmax(full_volume_logits(predict, volume, config, batch), axis=-1) == 1


@dataclasses.dataclass(frozen=True)
class ClickCurve:
    """One case clicked by the simulation, the full-volume prediction after 0, 1, ..., N rounds of clicks.

    Attributes:
        dice: lesion Dice per round; nan for a case without lesion (MONAI's DiceMetric ignores empty references).
        predicted_voxels: lesion voxels predicted per round, on the network grid (on a lesion-free case all false).
        first: the prediction without clicks [z, y, x] bool.
        last: the prediction after the last round [z, y, x] bool.
        effects: what each round changed (`ClickEffect`), when traced; else [].
    """

    dice: list[float]
    predicted_voxels: list[int]
    first: np.ndarray
    last: np.ndarray
    effects: list[ClickEffect]


def click_curve(predict, case: NetworkCase, config: InteractiveConfig, clicks: int, seed: int, batch: int = 1,
                trace_effects: bool = False) -> ClickCurve:
    """`clicks` rounds of simulated corrective clicks on `case` (`ClickCurve`); `predict` maps window batches to
    per-class scores (logits or probabilities)."""
    image, target = case.image[None], case.label > 0
    lesion, background = np.zeros((0, 3), np.int32), np.zeros((0, 3), np.int32)
    scores, voxels, predictions, effects, new_clicks = [], [], [], [], (None, None)
    for round_ in range(clicks + 1):
        prediction = clicked_prediction(predict, image, lesion, background, config, batch)
        if trace_effects and predictions:
            effects.append(click_effect(predictions[-1], prediction, target, *new_clicks))
        predictions = predictions[:1] + [prediction]
        scores.append(dice(prediction, target) if target.any() else float("nan"))
        voxels.append(int(prediction.sum()))
        if round_ == clicks:
            break
        new_lesion, lesion_found, new_background, background_found = (
            t.numpy() for t in corrective_clicks(target, prediction, config.click_rule, config.spacing_mm,
                                                 [seed, round_]))
        lesion = np.concatenate([lesion, new_lesion[None]]) if lesion_found else lesion
        background = np.concatenate([background, new_background[None]]) if background_found else background
        new_clicks = (new_lesion if lesion_found else None, new_background if background_found else None)
    return ClickCurve(scores, voxels, predictions[0], predictions[-1], effects)


def _crops(cases: list[NetworkCase], config: InteractiveConfig, seed: int, shard: StreamShard) -> tf.data.Dataset:
    """Per-replica batches of (image crop, {'label', 'seed'}) for the stream elements of `shard`: element i is a
    crop of case order_e[i mod n] (order_e: the cases shuffled for epoch e = i // n)."""
    count = len(cases)

    def crop(index: np.int64) -> tuple[np.ndarray, np.ndarray]:
        epoch, position = divmod(int(index), count)
        case = cases[np.random.default_rng([seed, epoch]).permutation(count)[position]]
        return training_crop(case.image, case.label, config, np.random.default_rng([seed, int(index), 1]))

    def element(index: tf.Tensor):
        image, label = tf.numpy_function(crop, [index], (tf.float32, tf.uint8))
        image.set_shape([*config.train_crop_size, len(config.input_channels)])
        label.set_shape(config.train_crop_size)
        return image, {"label": label, "seed": tf.stack([tf.constant(seed, tf.int64), index])}

    return shard.indices().map(element, num_parallel_calls=1).batch(shard.replica_batch, drop_remainder=True) \
        .prefetch(1)


def train_interactive(config: InteractiveConfig, cases: list[Case], run: InteractiveTraining,
                      strategy: tf.distribute.Strategy | None = None,
                      initial: list[np.ndarray] | None = None) -> tuple[Trainer, dict]:
    """Trains (or resumes) for `config.epochs` epochs on the cases of an AutoPET folder
    (`preprocessing.cases.autopet_cases`); returns the trainer and the last validation metrics. `initial` (an addition,
    `model_set_start`): the weights the network starts from instead of random ones (fine-tuning a set; a fresh
    optimizer and schedule); a checkpoint in the output folder (a resumed run) takes precedence."""
    keras.utils.set_random_seed(run.seed)
    train_cases, validation_cases = split_cases(cases, config)
    os.makedirs(run.output_folder, exist_ok=True)
    with open(os.path.join(run.output_folder, "split.json"), "w") as handle:
        json.dump({"train": [c.case_id for c in train_cases], "validation": [c.case_id for c in validation_cases]},
                  handle, indent=1)
    training = [load_case(c, config) for c in tqdm(train_cases, desc="load training cases")]
    validation = [load_case(c, config) for c in tqdm(validation_cases, desc="load validation cases")]
    steps_per_epoch = max(1, math.ceil(len(training) / config.batch_size))
    settings = TrainingSettings(run.output_folder, config.epochs * steps_per_epoch, steps_per_epoch,
                                config.learning_rate, run.ema_decay, log_iter=max(1, steps_per_epoch // 2),
                                global_batch=config.batch_size, clip_gradients=False)

    def loss(outputs: tf.Tensor, labels: dict, training: bool) -> dict:
        del training
        return {"loss_dice_ce": dice_ce_loss(labels["label"], outputs, config.squared_dice,
                                             config.dice_includes_background)}

    def prepare(model: keras.Model, image: tf.Tensor, labels: dict) -> tf.Tensor:
        inputs = [simulate_clicks(model, image[i:i + 1], labels["label"][i:i + 1], config,
                                  click_rounds(config.train_clicks, config.click_probability, labels["seed"][i]),
                                  labels["seed"][i], config.spacing_mm) for i in range(image.shape[0])]
        return tf.concat(inputs, axis=0)

    def optimizer(model: keras.Model) -> keras.optimizers.Optimizer:
        del model
        return keras.optimizers.Adam(CosineAnnealingPerEpoch(config.learning_rate, config.min_learning_rate,
                                                             config.epochs, steps_per_epoch))

    with precision(run.mixed_precision):
        trainer = Trainer(lambda: started_model(config, initial), loss, settings, run.mixed_precision, strategy,
                          optimizer, prepare, training_forward(config))

        predict = window_predictor(trainer.model)

        def validate() -> dict:
            curves = np.array([click_curve(predict, case, config, config.validation_clicks, run.seed,
                                           run.validation_batch).dice for case in validation])
            metrics = {"epoch": float(int(trainer.step.numpy()) // steps_per_epoch)}
            if np.isfinite(curves).any():
                metrics["dice_0_clicks"] = float(np.nanmean(curves[:, 0]))
                metrics[f"dice_{config.validation_clicks}_clicks"] = float(np.nanmean(curves[:, -1]))
            return metrics

        metrics = trainer.fit(lambda context, first: _crops(training, config, run.seed,
                                                             StreamShard.of(context, config.batch_size, first)),
                              validate if validation else None)
    return trainer, metrics
