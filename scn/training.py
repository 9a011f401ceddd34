"""Training of the SpatialConfiguration-Net on a FLARE21-layout folder (full-resolution images at 2 mm)."""
from __future__ import annotations

import functools

import keras
import numpy as np
import tensorflow as tf

from inference.sliding_window import sliding_window_inference
from networks.losses import generalized_dice_loss, sigmoid_cross_entropy
from networks.train_loop import Trainer, TrainingSettings, precision
from networks.validation import mean_dice, pad_to_multiple
from preprocessing import intensity
from preprocessing.cases import flare21_cases
from preprocessing.network_grid import largest_valid_size
from preprocessing.pipeline import (PipelineConfig, RegionCrop, ResampledCaseLoader, StreamShard, fold_cases,
                                    make_dataset)
from scn.config import SCNConfig
from scn.model import build_scn_model


def scn_loss(config: SCNConfig):
    """Loss of the SCN outputs: generalized Dice on the merged prediction, sigmoid cross-entropy on the
    local and spatial logits, weighted by `config.loss_weights`."""
    final_weight, local_weight, spatial_weight = config.loss_weights

    def loss(outputs: dict, labels: tf.Tensor, training: bool) -> dict:
        del training
        target = tf.one_hot(tf.cast(labels, tf.int32), config.num_labels)
        return {"loss": final_weight * generalized_dice_loss(target, outputs["prediction"]),
                "loss_local": local_weight * sigmoid_cross_entropy(target, outputs["local_logits"]),
                "loss_spatial": spatial_weight * sigmoid_cross_entropy(target, outputs["spatial_logits"])}

    return loss


def predict_probabilities(model: keras.Model, config: SCNConfig, image: np.ndarray, batch_size: int = 1,
                          overlap: float = 0.5) -> np.ndarray:
    """Probabilities [z, y, x, L] of a normalised image [z, y, x] of any size (sliding window of the largest valid
    sizes)."""
    air = intensity.windowed_value(intensity.AIR_HU, config.window_hu)
    padded = pad_to_multiple(image[..., None], config.size_multiple, air)

    def predict(batch: np.ndarray) -> np.ndarray:
        return np.asarray(model(batch, training=False)["prediction"])

    window = largest_valid_size(config.valid_sizes)
    probabilities = sliding_window_inference(padded, window, predict, config.num_labels, overlap,
                                             batch_size, pad_value=air)
    return probabilities[tuple(slice(0, n) for n in image.shape)]


def train_scn(config: SCNConfig, base_dataset_folder: str, settings: TrainingSettings, fold: int, cv_folder: str,
              mixed_precision: bool = False, cache: str | None = None, seed: int = 0,
              strategy: tf.distribute.Strategy | None = None) -> tuple[Trainer, dict]:
    """Trains (or resumes) the SCN; returns the trainer and its last validation metrics.

    Training crops hold the organs' bounding box plus `box_extension_mm` on each side in the smallest valid
    size (spacing enlarged when it does not fit), as the original.
    """
    keras.utils.set_random_seed(seed)
    train_cases, test_cases = fold_cases(flare21_cases(base_dataset_folder, "training"), cv_folder, fold)
    loader = ResampledCaseLoader((config.spacing_mm,) * 3, sigma_mm=config.input_sigma_mm)
    normalize = functools.partial(intensity.window, low=config.window_hu[0], high=config.window_hu[1])
    region = RegionCrop("foreground", config.valid_sizes, config.box_extension_mm, zoom_to_fit=True)
    pipeline = PipelineConfig(region=region, batch_size=settings.global_batch, spacing_mm=config.spacing_mm,
                              spatial=config.spatial_augmentation, intensity=config.intensity_augmentation,
                              label_sigma_voxels=config.label_sigma_voxels, cache=cache, seed=seed)

    def dataset(context: tf.distribute.InputContext | None, first_step: int) -> tf.data.Dataset:
        return make_dataset(train_cases, loader, normalize, pipeline, training=True,
                            image_default=intensity.windowed_value(intensity.AIR_HU, config.window_hu),
                            shard=StreamShard.of(context, settings.global_batch, first_step))

    with precision(mixed_precision):
        trainer = Trainer(lambda: build_scn_model(config), scn_loss(config), settings, mixed_precision, strategy)

        def predict_labels(image: np.ndarray) -> np.ndarray:
            return np.argmax(predict_probabilities(trainer.model, config, image), axis=-1)

        def validate() -> dict:
            names = dict(enumerate(config.label_names, start=1))
            return mean_dice(test_cases, loader, normalize, predict_labels, names)

        metrics = trainer.fit(dataset, validate if test_cases else None)
    return trainer, metrics
