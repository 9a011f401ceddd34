"""Training of RSTN on one plane, as OrganSegRSTN_PyTorch's `training.py`: the modes S, I and J in sequence on
one model and one optimizer (SGD, momentum 0.99, weight decay on weights only, learning rate x1 coarse weights,
x2 coarse biases, x10 saliency and fine weights, x20 their biases), the loss 1/3 coarse DSC + 2/3 fine DSC, the
learning rates halved every two epochs of mode J."""
from __future__ import annotations

import dataclasses
import os

import keras
import tensorflow as tf

from networks.config_io import read_config
from networks.export import checkpoint_path, load_ema_weights
from networks.optimizers import GroupedSGD
from networks.train_loop import Trainer, TrainingSettings, precision
from preprocessing.pipeline import StreamShard
from rstn.config import MODES, RSTNConfig
from rstn.data import SliceStream
from rstn.model import MODE_CODES, RSTN, dsc_loss
from rstn.pretrained import load_vgg16_weights


@dataclasses.dataclass(frozen=True)
class RSTNTraining:
    """Run settings of one plane.

    Attributes:
        output_folder: checkpoints, TensorBoard logs and CSVs of this plane.
        mixed_precision: float16 (GPU) / bfloat16 (CPU) compute; exports are float32.
        seed: seed of the weights, the epoch orders and the margins.
        init_weights: a Keras VGG-16 weights file loaded into both trunks (None: from scratch).
        log_iter: write the losses every this many steps.
        optimizer: 'sgd' (the original's SGD with parameter groups) or 'adam' (an addition: Adam at the base
            learning rate for every variable, which trains from scratch where the DSC loss's small gradients
            leave SGD still or, at larger rates, collapsing to empty predictions).
    """

    output_folder: str
    mixed_precision: bool = False
    seed: int = 0
    init_weights: str | None = None
    log_iter: int = 10
    optimizer: str = "sgd"


def build_rstn(config: RSTNConfig, init_weights: str | None = None) -> RSTN:
    """An RSTN with its variables created (one call on a small stack), optionally with VGG-16 trunk weights."""
    model = RSTN(config)
    model({"image": tf.zeros((1, 32, 32, 3)), "label": tf.ones((1, 32, 32, 3)),
           "mode": tf.constant([MODE_CODES["S"]]), "margins": tf.zeros((1, 4), tf.int32)})
    if init_weights:
        for network in (model.coarse, model.fine):
            load_vgg16_weights(network, init_weights)
    return model


def parameter_groups(model: RSTN, config: RSTNConfig) -> tuple[list[float], list[float]]:
    """(learning-rate multiplier, weight decay) of each trainable variable, in `model.trainable_variables` order:
    coarse weights x1, coarse biases x bias_lr_multiplier, saliency and fine weights x fine_lr_multiplier, their
    biases x both; biases without weight decay (the original's four SGD parameter groups)."""
    coarse = {id(v) for v in model.coarse.trainable_variables}
    multipliers, decays = [], []
    for variable in model.trainable_variables:
        bias = variable.name == "bias"
        multiplier = 1.0 if id(variable) in coarse else config.fine_lr_multiplier
        multipliers.append(multiplier * (config.bias_lr_multiplier if bias else 1.0))
        decays.append(0.0 if bias else config.weight_decay)
    return multipliers, decays


def learning_rate_schedule(config: RSTNConfig, steps_per_epoch: int):
    """The base learning rate per step: `learning_rate`, times `lr_decay_factor` after every `lr_decay_epochs`
    epochs of mode J (a float when it never changes)."""
    epochs_before_j = config.epochs[0] + config.epochs[1]
    decays = config.epochs[2] // config.lr_decay_epochs if config.lr_decay_epochs > 0 else 0
    if decays == 0:
        return config.learning_rate
    boundaries = [(epochs_before_j + k * config.lr_decay_epochs) * steps_per_epoch - 1 for k in range(1, decays + 1)]
    values = [config.learning_rate * config.lr_decay_factor ** k for k in range(decays + 1)]
    return keras.optimizers.schedules.PiecewiseConstantDecay(boundaries, values)


def make_optimizer(model: RSTN, config: RSTNConfig, kind: str, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    """The original's SGD with its parameter groups ('sgd'), or Adam at the same schedule for every variable
    ('adam', an addition); both follow `learning_rate_schedule`."""
    schedule = learning_rate_schedule(config, steps_per_epoch)
    if kind == "adam":
        return keras.optimizers.Adam(schedule)
    if kind != "sgd":
        raise ValueError(f"optimizer must be 'sgd' or 'adam', not {kind!r}")
    multipliers, decays = parameter_groups(model, config)
    return GroupedSGD(schedule, config.momentum, multipliers, decays)


def rstn_loss(config: RSTNConfig):
    """{'loss_coarse': w x DSC loss of the coarse probabilities, 'loss_fine': (1 - w) x that of the fine ones}."""
    def loss(outputs: dict, labels: tf.Tensor, training: bool) -> dict:
        del training
        return {"loss_coarse": config.coarse_loss_weight * dsc_loss(outputs["coarse"], labels, config.dsc_epsilon),
                "loss_fine": (1.0 - config.coarse_loss_weight) * dsc_loss(outputs["fine"], labels,
                                                                          config.dsc_epsilon)}
    return loss


def train_plane(config: RSTNConfig, stream: SliceStream, run: RSTNTraining,
                strategy: tf.distribute.Strategy | None = None) -> Trainer:
    """Trains (or resumes) one plane's RSTN through the modes S, I, J; checkpoints after every epoch."""
    keras.utils.set_random_seed(run.seed)
    spe = stream.steps_per_epoch
    settings = TrainingSettings(run.output_folder, stream.total_steps, spe, config.learning_rate, ema_decay=0.0,
                                log_iter=run.log_iter, global_batch=config.batch_size, clip_gradients=False)

    def dataset(context: tf.distribute.InputContext | None, first_step: int) -> tf.data.Dataset:
        return stream.dataset(StreamShard.of(context, config.batch_size, first_step))

    with precision(run.mixed_precision):
        trainer = Trainer(lambda: build_rstn(config, run.init_weights), rstn_loss(config), settings,
                          run.mixed_precision, strategy,
                          lambda model: make_optimizer(model, config, run.optimizer, spe))
        start = trainer.restore()
        if start < stream.total_steps:
            print(f"plane {stream.plane}: {len(stream.slices)} training slices, {spe} steps per epoch, modes "
                  + ", ".join(f"{m} {e} epoch(s)" for m, e in zip(MODES, config.epochs))
                  + f"; from step {start} ({stream.mode_of_step(start)})")
        trainer.fit(dataset)
    return trainer


def restore_plane(load_model_base: str, plane: str, load_model_iter: int | None = None) -> tuple[RSTNConfig, RSTN]:
    """(the plane's config from `<load_model_base>/<plane>/config.json`, its RSTN with the checkpoint's EMA
    weights)."""
    config = read_config(RSTNConfig, os.path.join(load_model_base, plane, "config.json"))
    model = build_rstn(config)
    load_ema_weights(model, checkpoint_path(os.path.join(load_model_base, plane), load_model_iter))
    return config, model
