"""Training of the nodule detector as DeepLung trains it (detector/main.py): crops from the cache (see
`nodules.detector_data`), SGD with momentum, weight decay and the step schedule, one epoch = the nodule crops
plus the random ones; validation every epoch by CPM (LUNA16 rules, `nodules.froc`) on whole validation scans
(an addition: the original validates by its loss on crops and picks the epoch by FROC afterwards)."""
from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np
import tensorflow as tf
from tqdm import tqdm

from nodules.cache import CachedScan, read_index, read_scan
from nodules.config import DetectorConfig
from nodules.detection import detect
from nodules.detector import build_detector
from nodules.detector_data import epoch_length, epoch_samples, training_sample
from nodules.detector_loss import detection_loss
from nodules.froc import ScanFindings, cpm, scan_outcome
from nodules.preprocess import DetectorVolume
from networks.train_loop import Trainer, TrainingSettings, precision
from preprocessing.cross_validation import load_fold
from preprocessing.pipeline import StreamShard


@dataclasses.dataclass(frozen=True)
class NoduleTraining:
    """Run settings of the nodule trainings.

    Attributes:
        output_folder: checkpoints, TensorBoard logs, train.csv, validation.csv.
        mixed_precision: float16 on GPU, bfloat16 on CPU (exports are float32).
        seed: seed of crops, augmentation and weight initialisation.
        ema_decay: decay of an exported weight average (0: the trained weights, as the original; an addition).
    """

    output_folder: str
    mixed_precision: bool = False
    seed: int = 0
    ema_decay: float = 0.0


def fold_cases(cache_folder: str, fold: int) -> tuple[list[str], list[str]]:
    """(training, validation) case ids of `fold`: the cached series of the fold's patients."""
    index, cv_folder = read_index(cache_folder)
    train_patients, test_patients = (set(ids) for ids in load_fold(cv_folder, fold))
    return ([c for c, e in sorted(index.items()) if e["patient"] in train_patients],
            [c for c, e in sorted(index.items()) if e["patient"] in test_patients])


def scan_findings(scan: CachedScan, detections: np.ndarray) -> ScanFindings:
    """A cached scan's reference nodules (world mm) against detections (probability, x, y, z, d)."""
    centres = scan.geometry.index_to_physical(scan.boxes[:, 2::-1]) if len(scan.boxes) else np.zeros((0, 3))
    return ScanFindings(nodules=centres, nodule_diameters_mm=scan.boxes[:, 3] * scan.geometry.spacing[0],
                        detections=detections[:, 1:4], probabilities=detections[:, 0])


def learning_rate_schedule(config: DetectorConfig, steps_per_epoch: int):
    """`config.learning_rate_at(epoch)` as a schedule of the optimizer's steps (step s is in epoch
    s // steps_per_epoch + 1)."""
    changes = [e for e in range(1, config.epochs) if config.learning_rate_at(e) != config.learning_rate_at(e + 1)]
    if not changes:
        return config.learning_rate_at(1)
    return keras.optimizers.schedules.PiecewiseConstantDecay(
        [e * steps_per_epoch - 1 for e in changes],
        [config.learning_rate_at(1)] + [config.learning_rate_at(e + 1) for e in changes])


def predictor(model: keras.Model):
    """A `nodules.detection.Predict` running `model` in inference mode."""
    call = tf.function(lambda image, coord: model({"image": image, "coord": coord}, training=False))
    return lambda image, coord: call(tf.constant(image), tf.constant(coord)).numpy()


def _crops(scans: list[CachedScan], config: DetectorConfig, seed: int, shard: StreamShard) -> tf.data.Dataset:
    """Per-replica batches of ({'image', 'coord'}, labels): stream element i is position i mod L of epoch i // L
    (L crops per epoch, shuffled per epoch)."""
    images = [s.image for s in scans]
    boxes = [s.boxes for s in scans]
    samples = epoch_samples(boxes, config)
    length = epoch_length(len(samples), config)
    grid = tuple(n // config.stride for n in config.crop_size)

    def crop(index: np.int64):
        epoch, position = divmod(int(index), length)
        order = np.random.default_rng([seed, epoch]).permutation(length)
        return training_sample(images, boxes, samples, int(order[position]), config,
                               np.random.default_rng([seed, int(index), 2]))

    def element(index: tf.Tensor):
        image, coord, labels = tf.numpy_function(crop, [index], (tf.float32, tf.float32, tf.float32))
        image.set_shape([*config.crop_size, 1])
        coord.set_shape([*grid, 3])
        labels.set_shape([*grid, len(config.anchors_mm), 5])
        return {"image": image, "coord": coord}, labels

    return shard.indices().map(element, num_parallel_calls=1).batch(shard.replica_batch, drop_remainder=True) \
        .prefetch(1)


def train_detector(config: DetectorConfig, cache_folder: str, fold: int, run: NoduleTraining,
                   strategy: tf.distribute.Strategy | None = None) -> tuple[Trainer, dict]:
    """Trains (or resumes) the detector for `config.epochs` epochs on the cached scans of `fold`; returns the
    trainer and the last validation metrics."""
    keras.utils.set_random_seed(run.seed)
    train_ids, validation_ids = fold_cases(cache_folder, fold)
    training = [read_scan(cache_folder, c) for c in tqdm(train_ids, desc="load training scans")]
    validation = [read_scan(cache_folder, c) for c in tqdm(validation_ids, desc="load validation scans")]
    samples = len(epoch_samples([s.boxes for s in training], config))
    if samples == 0:
        raise ValueError(f"{cache_folder}: the training scans of fold {fold} hold no nodule to train on")
    steps_per_epoch = max(1, math.ceil(epoch_length(samples, config) / config.batch_size))
    settings = TrainingSettings(run.output_folder, config.epochs * steps_per_epoch, steps_per_epoch,
                                config.learning_rate, run.ema_decay, log_iter=max(1, steps_per_epoch // 2),
                                global_batch=config.batch_size, clip_gradients=False)

    def loss(outputs: tf.Tensor, labels: tf.Tensor, training: bool) -> dict:
        return detection_loss(labels, outputs, config.num_hard if training else None)

    def optimizer(model: keras.Model) -> keras.optimizers.Optimizer:
        del model
        return keras.optimizers.SGD(learning_rate_schedule(config, steps_per_epoch), momentum=config.momentum)

    with precision(run.mixed_precision):
        trainer = Trainer(lambda: build_detector(config), loss, settings, run.mixed_precision, strategy, optimizer)
        predict = predictor(trainer.model)

        def validate() -> dict:
            detections = [detect(predict, DetectorVolume(s.image, s.geometry, True), config) for s in validation]
            outcomes = [scan_outcome(scan_findings(s, d)) for s, d in zip(validation, detections)]
            metrics = {"epoch": float(int(trainer.step.numpy()) // steps_per_epoch),
                       "detections_per_scan": float(np.mean([len(d) for d in detections]))}
            if any(o.nodule_scores.size for o in outcomes):
                value, sensitivities = cpm(outcomes)
                metrics.update({"cpm": value, "sensitivity_at_1_fp": float(sensitivities[3])})
            return metrics

        metrics = trainer.fit(lambda context, first: _crops(training, config, run.seed,
                                                             StreamShard.of(context, config.batch_size, first)),
                              validate if validation else None)
    return trainer, metrics
