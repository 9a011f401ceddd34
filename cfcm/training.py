"""Training of CFCM on a chest X-ray folder in one of `preprocessing.xray_cases.XRAY_LAYOUTS` (3-fold
cross-validation; on the Montgomery set the original's own three folds, `cfcm.folds`)."""
from __future__ import annotations

import dataclasses
import functools
import math

import keras
import numpy as np
import tensorflow as tf

from cfcm.config import CFCMConfig
from cfcm.folds import write_original_folds
from cfcm.model import build_cfcm_model
from cfcm.segment import network_input, network_label, probabilities_of, segment_image
from evaluation.metrics import dice
from networks.losses import dice_per_image
from networks.train_loop import Trainer, TrainingSettings, precision
from preprocessing.pipeline import PipelineConfig, StreamShard, fold_cases, make_dataset
from preprocessing.xray_cases import read_xray_case, xray_cases

NUM_FOLDS = 3


@dataclasses.dataclass(frozen=True)
class CFCMTraining:
    """Run settings.

    Attributes:
        output_folder: checkpoints, logs.
        fold: 0 = all data, 1..3 hold out that fold.
        layout: the dataset's layout (`preprocessing.xray_cases.XRAY_LAYOUTS`).
        case_pattern: regular expression the case ids must match (e.g. 'MCUCXR_.*' for the Montgomery films of a
            folder holding both NLM sets); None: all cases.
        batch_size: global batch (16: the original `LSTMResNet.batch_size`).
        mixed_precision, cache, seed: see `networks.training_flags`.
        ema_decay: decay of an exported weight average (0: the trained weights, as the original; an addition).
        clip_gradients: clip gradient norms at 5x their running average (an addition; the original is plain Adam).
    """

    output_folder: str
    fold: int = 1
    layout: str = "montgomery"
    case_pattern: str | None = None
    batch_size: int = 16
    mixed_precision: bool = False
    cache: str | None = None
    seed: int = 0
    ema_decay: float = 0.0
    clip_gradients: bool = False


def cfcm_loss(config: CFCMConfig):
    """Dice loss (1 - per-image squared soft Dice, mean over images and foreground channels, as the original),
    cross-entropy, or their sum."""
    def loss(outputs: tf.Tensor, labels: tf.Tensor, training: bool) -> dict:
        del training
        logits = tf.cast(outputs, tf.float32)
        target = tf.one_hot(tf.cast(labels, tf.int32), config.num_labels)
        probabilities = probabilities_of(logits, config)
        sigmoid = config.head == "sigmoid"
        foreground = probabilities if sigmoid else probabilities[..., 1:]
        losses = {}
        if config.loss in ("dice", "dice_ce"):
            losses["loss_dice"] = tf.reduce_mean(1.0 - dice_per_image(target[..., 1:], foreground))
        if config.loss in ("cross_entropy", "dice_ce"):
            losses["loss_ce"] = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(target[..., 1:], logits)
                                               if sigmoid else tf.nn.softmax_cross_entropy_with_logits(target, logits))
        return losses
    return loss


def train_cfcm(config: CFCMConfig, base_dataset_folder: str, run: CFCMTraining, cv_folder: str,
               strategy: tf.distribute.Strategy | None = None) -> tuple[Trainer, dict]:
    """Trains (or resumes) CFCM for `config.epochs` epochs, validating Dice per epoch on the held-out fold."""
    keras.utils.set_random_seed(run.seed)
    separate = config.num_labels == 3
    cases = xray_cases(base_dataset_folder, run.layout, run.case_pattern)
    write_original_folds([c.case_id for c in cases], cv_folder)
    train_cases, test_cases = fold_cases(cases, cv_folder, run.fold, NUM_FOLDS)

    def prepare(image: tf.Tensor, label: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        inputs, frame = network_input(image[..., 0], config)
        return inputs, network_label(label, config, frame)

    pipeline = PipelineConfig(patch_shape=(config.image_size,) * 2, batch_size=run.batch_size,
                              spatial=config.spatial_augmentation, intensity=config.intensity_augmentation,
                              cache=run.cache, seed=run.seed)
    loader = functools.partial(read_xray_case, separate_labels=separate)

    def dataset(context: tf.distribute.InputContext | None, first_step: int) -> tf.data.Dataset:
        return make_dataset(train_cases, loader, tf.identity, pipeline, training=True, ndim=2, image_default=0.0,
                            prepare=prepare, shard=StreamShard.of(context, run.batch_size, first_step))

    steps_per_epoch = max(1, math.ceil(len(train_cases) / run.batch_size))
    settings = TrainingSettings(run.output_folder, config.epochs * steps_per_epoch, steps_per_epoch,
                                config.learning_rate, run.ema_decay, log_iter=max(1, steps_per_epoch // 2),
                                global_batch=run.batch_size, clip_gradients=run.clip_gradients)
    with precision(run.mixed_precision):
        trainer = Trainer(lambda: build_cfcm_model(config), cfcm_loss(config), settings, run.mixed_precision,
                          strategy)
        segment = tf.function(lambda image: segment_image(lambda x: trainer.model(x, training=False), image, config))

        def validate() -> dict:
            scores = {name: [] for name in config.label_names}
            for case in test_cases:
                image, reference = read_xray_case(case, separate)
                labels = segment(tf.constant(image, tf.float32))["labels"].numpy()
                for value, name in enumerate(config.label_names, start=1):
                    scores[name].append(dice(labels == value, reference == value))
            metrics = {"epoch": float(int(trainer.step.numpy()) // steps_per_epoch)}
            metrics.update({f"dice_{name}": float(np.mean(values)) for name, values in scores.items()})
            return metrics

        metrics = trainer.fit(dataset, validate if test_cases else None)
    return trainer, metrics
