"""Training of the localization network on a FLARE21-layout folder: whole volumes at 6 mm, each centred in
the smallest valid size that holds it, as the original."""
from __future__ import annotations

import functools

import keras
import numpy as np
import tensorflow as tf

from localization.config import LocalizationConfig
from localization.model import build_localization_model
from networks.losses import generalized_dice_loss
from networks.train_loop import Trainer, TrainingSettings, precision
from networks.validation import mean_dice, pad_to_multiple
from preprocessing import intensity
from preprocessing.cases import flare21_cases
from preprocessing.pipeline import (PipelineConfig, RegionCrop, ResampledCaseLoader, StreamShard, fold_cases,
                                    make_dataset)


def localization_loss(outputs: tf.Tensor, labels: tf.Tensor, training: bool) -> dict:
    """Generalized Dice loss of the 2-class softmax against the union of all organ labels."""
    del training
    target = tf.one_hot(tf.cast(labels > 0, tf.int32), 2)
    return {"loss": generalized_dice_loss(target, tf.nn.softmax(tf.cast(outputs, tf.float32)))}


def train_localization(config: LocalizationConfig, base_dataset_folder: str, settings: TrainingSettings, fold: int,
                       cv_folder: str, mixed_precision: bool = False, cache: str | None = None, seed: int = 0,
                       strategy: tf.distribute.Strategy | None = None) -> tuple[Trainer, dict]:
    """Trains (or resumes) the localization network; returns the trainer and its last validation metrics."""
    keras.utils.set_random_seed(seed)
    train_cases, test_cases = fold_cases(flare21_cases(base_dataset_folder, "training"), cv_folder, fold)
    loader = ResampledCaseLoader((config.spacing_mm,) * 3, sigma_mm=config.input_sigma_mm)
    normalize = functools.partial(intensity.window, low=config.window_hu[0], high=config.window_hu[1])
    air = intensity.windowed_value(intensity.AIR_HU, config.window_hu)
    pipeline = PipelineConfig(region=RegionCrop("volume", config.valid_sizes), batch_size=settings.global_batch,
                              spacing_mm=config.spacing_mm, spatial=config.spatial_augmentation,
                              intensity=config.intensity_augmentation, cache=cache, seed=seed)

    def dataset(context: tf.distribute.InputContext | None, first_step: int) -> tf.data.Dataset:
        return make_dataset(train_cases, loader, normalize, pipeline, training=True, image_default=air,
                            shard=StreamShard.of(context, settings.global_batch, first_step))

    with precision(mixed_precision):
        trainer = Trainer(lambda: build_localization_model(config), localization_loss, settings, mixed_precision,
                          strategy)

        def predict_labels(image: np.ndarray) -> np.ndarray:
            padded = pad_to_multiple(image[..., None], config.size_multiple, air)
            logits = trainer.model(padded[None], training=False)
            return np.argmax(np.asarray(logits)[0], axis=-1)[tuple(slice(0, n) for n in image.shape)]

        def union_loader(case) -> tuple[np.ndarray, np.ndarray]:
            image, label = loader(case)
            return image, (label > 0).astype(np.uint8)

        def validate() -> dict:
            return mean_dice(test_cases, union_loader, normalize, predict_labels, {1: "roi"})

        metrics = trainer.fit(dataset, validate if test_cases else None)
    return trainer, metrics
