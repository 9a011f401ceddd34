"""Training of the crop model (nodule mask and malignancy) on the cached nodule crops: every training nodule once
per epoch (shuffled), Dice + cross-entropy on the mask plus the malignancy cross-entropy on nodules with a label
(indeterminate ones, mean rating 3, do not count), SGD with Nesterov momentum and nnU-Net's polynomial decay;
validation every epoch by mask Dice at the centred crop and malignancy AUC."""
from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np
import tensorflow as tf
from tqdm import tqdm

from evaluation.metrics import dice
from networks.losses import dice_ce_loss
from networks.optimizers import PolyPerEpoch
from networks.train_loop import Trainer, TrainingSettings, precision
from nodules.cache import read_scan
from nodules.config import CropModelConfig
from nodules.crop_data import centred_crop, training_crop
from nodules.crop_model import build_crop_model
from nodules.detector_training import NoduleTraining, fold_cases
from nodules.roc import roc_auc
from preprocessing.pipeline import StreamShard


@dataclasses.dataclass(frozen=True)
class NoduleCrops:
    """The cached crops of a set of scans: hu [n, z, y, x] int16, masks uint8, malignancy int8 (-1: none)."""
    hu: np.ndarray
    masks: np.ndarray
    malignancy: np.ndarray


class NoCropsError(ValueError):
    """A cache whose training scans hold no nodule crops."""


def load_crops(cache_folder: str, case_ids: list[str], description: str) -> NoduleCrops:
    scans = [read_scan(cache_folder, c) for c in tqdm(case_ids, desc=description)]
    if not scans or not sum(len(s.crops) for s in scans):
        return NoduleCrops(np.zeros((0, 1, 1, 1), np.int16), np.zeros((0, 1, 1, 1), np.uint8), np.zeros(0, np.int8))
    return NoduleCrops(np.concatenate([s.crops for s in scans]), np.concatenate([s.masks for s in scans]),
                       np.concatenate([s.malignancy for s in scans]))


def crop_loss(outputs: dict, labels: dict, config: CropModelConfig) -> dict:
    """{"loss_mask": Dice (lesion only, unsquared) + cross-entropy, "loss_malignancy": weighted binary
    cross-entropy over the labelled nodules (0 when none is)}."""
    malignancy = tf.cast(tf.reshape(labels["malignancy"], [-1]), tf.float32)
    labelled = malignancy >= 0
    logits = tf.boolean_mask(tf.reshape(outputs["malignancy"], [-1]), labelled)
    targets = tf.boolean_mask(malignancy, labelled)
    cross_entropy = tf.nn.sigmoid_cross_entropy_with_logits(targets, logits)
    mean = tf.reduce_sum(cross_entropy) / tf.maximum(tf.cast(tf.size(cross_entropy), tf.float32), 1.0)
    return {"loss_mask": dice_ce_loss(labels["mask"], outputs["mask"], squared=False, include_background=False),
            "loss_malignancy": config.malignancy_weight * mean}


def _batches(crops: NoduleCrops, config: CropModelConfig, seed: int, shard: StreamShard) -> tf.data.Dataset:
    count = len(crops.hu)

    def element_arrays(index: np.int64):
        epoch, position = divmod(int(index), count)
        nodule = int(np.random.default_rng([seed, epoch]).permutation(count)[position])
        image, mask = training_crop(crops.hu[nodule], crops.masks[nodule], config,
                                    np.random.default_rng([seed, int(index), 3]))
        return image, mask, np.int32(crops.malignancy[nodule])

    def element(index: tf.Tensor):
        image, mask, malignancy = tf.numpy_function(element_arrays, [index], (tf.float32, tf.int32, tf.int32))
        image.set_shape([*config.crop_size, 1])
        mask.set_shape(config.crop_size)
        malignancy.set_shape([])
        return image, {"mask": mask, "malignancy": malignancy}

    return shard.indices().map(element, num_parallel_calls=1).batch(shard.replica_batch, drop_remainder=True) \
        .prefetch(1)


def validation_metrics(predict, crops: NoduleCrops, config: CropModelConfig) -> dict:
    """Mean mask Dice at the centred crops and, with both classes among the labelled nodules, malignancy AUC."""
    dices, scores = [], []
    for hu, mask in zip(crops.hu, crops.masks):
        image, reference = centred_crop(hu, mask, config)
        outputs = predict(image[None])
        probability = tf.nn.softmax(outputs["mask"][0])[..., 1].numpy()
        dices.append(dice(probability > config.mask_threshold, reference > 0))
        scores.append(float(outputs["malignancy"][0, 0]))
    metrics = {"dice": float(np.mean(dices))}
    labelled = crops.malignancy >= 0
    if 0 < crops.malignancy[labelled].sum() < labelled.sum():
        metrics["malignancy_auc"] = roc_auc(crops.malignancy[labelled], np.asarray(scores)[labelled])
    return metrics


def train_crop_model(config: CropModelConfig, cache_folder: str, fold: int, run: NoduleTraining,
                     strategy: tf.distribute.Strategy | None = None) -> tuple[Trainer, dict]:
    """Trains (or resumes) the crop model for `config.epochs` epochs on the nodules of `fold`'s training scans."""
    keras.utils.set_random_seed(run.seed)
    train_ids, validation_ids = fold_cases(cache_folder, fold)
    training = load_crops(cache_folder, train_ids, "load training nodules")
    validation = load_crops(cache_folder, validation_ids, "load validation nodules")
    if len(training.hu) == 0:
        raise NoCropsError(f"{cache_folder}: the training scans of fold {fold} hold no nodule crops to train on (a "
                           "LUNA16 cache has none: the crop model needs LIDC's outlines)")
    steps_per_epoch = max(1, math.ceil(len(training.hu) / config.batch_size))
    settings = TrainingSettings(run.output_folder, config.epochs * steps_per_epoch, steps_per_epoch,
                                config.learning_rate, run.ema_decay, log_iter=max(1, steps_per_epoch // 2),
                                global_batch=config.batch_size, clip_gradients=False)

    def optimizer(model: keras.Model) -> keras.optimizers.Optimizer:
        del model
        return keras.optimizers.SGD(PolyPerEpoch(config.learning_rate, config.epochs, steps_per_epoch,
                                                 config.poly_exponent),
                                    momentum=config.momentum, nesterov=True, weight_decay=config.weight_decay)

    with precision(run.mixed_precision):
        trainer = Trainer(lambda: build_crop_model(config), lambda o, l, t: crop_loss(o, l, config), settings,
                          run.mixed_precision, strategy, optimizer)
        call = tf.function(lambda image: trainer.model(image, training=False))

        def validate() -> dict:
            metrics = validation_metrics(lambda image: call(tf.constant(image)), validation, config)
            return {"epoch": float(int(trainer.step.numpy()) // steps_per_epoch), **metrics}

        metrics = trainer.fit(lambda context, first: _batches(training, config, run.seed,
                                                              StreamShard.of(context, config.batch_size, first)),
                              validate if len(validation.hu) else None)
    return trainer, metrics
