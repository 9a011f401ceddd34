"""Optimizers the Keras ones do not cover."""
from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="networks")
class CosineAnnealingPerEpoch(keras.optimizers.schedules.LearningRateSchedule):
    """PyTorch's CosineAnnealingLR(T_max=epochs, eta_min) stepped once per epoch: at step s, epoch e =
    s // steps_per_epoch and the rate is eta_min + (initial - eta_min) (1 + cos(pi e / epochs)) / 2."""

    def __init__(self, initial: float, minimum: float, epochs: int, steps_per_epoch: int):
        self.initial, self.minimum = float(initial), float(minimum)
        self.epochs, self.steps_per_epoch = int(epochs), max(int(steps_per_epoch), 1)

    def __call__(self, step):
        epoch = ops.floor(ops.cast(step, "float32") / self.steps_per_epoch)
        cosine = (1.0 + ops.cos(np.pi * ops.minimum(epoch, self.epochs) / self.epochs)) / 2.0
        return self.minimum + (self.initial - self.minimum) * cosine

    def get_config(self) -> dict:
        return {"initial": self.initial, "minimum": self.minimum, "epochs": self.epochs,
                "steps_per_epoch": self.steps_per_epoch}


@keras.saving.register_keras_serializable(package="networks")
class PolyPerEpoch(keras.optimizers.schedules.LearningRateSchedule):
    """nnU-Net's polynomial decay stepped once per epoch: at step s, epoch e = s // steps_per_epoch and the rate is
    initial (1 - e / epochs) ^ exponent."""

    def __init__(self, initial: float, epochs: int, steps_per_epoch: int, exponent: float = 0.9):
        self.initial, self.epochs, self.exponent = float(initial), int(epochs), float(exponent)
        self.steps_per_epoch = max(int(steps_per_epoch), 1)

    def __call__(self, step):
        epoch = ops.minimum(ops.floor(ops.cast(step, "float32") / self.steps_per_epoch), self.epochs)
        return self.initial * ops.power(1.0 - epoch / self.epochs, self.exponent)

    def get_config(self) -> dict:
        return {"initial": self.initial, "epochs": self.epochs, "steps_per_epoch": self.steps_per_epoch,
                "exponent": self.exponent}


class GroupedSGD(keras.optimizers.SGD):
    """SGD with momentum as PyTorch's `torch.optim.SGD` with parameter groups: each variable has its own
    learning-rate multiplier and coupled L2 weight decay, and the momentum buffer holds gradients, not steps:

        g = multiplier * (gradient + weight_decay * w);  v = momentum * v + g;  w = w - learning_rate * v

    (the same as groups with learning rates `multiplier * learning_rate` and a shared momentum; a change of the
    learning rate acts on the whole buffer at once, as in PyTorch).

    Args:
        learning_rate: base rate (a float or a schedule of the optimizer's iterations).
        momentum: momentum factor.
        multipliers, weight_decays: one value per variable, in the order of the `build` / `apply` variable list.
    """

    def __init__(self, learning_rate, momentum: float, multipliers: Sequence[float], weight_decays: Sequence[float],
                 **kwargs):
        super().__init__(learning_rate=learning_rate, momentum=momentum, **kwargs)
        if len(multipliers) != len(weight_decays):
            raise ValueError("one multiplier and one weight decay per variable")
        self.multipliers = [float(m) for m in multipliers]
        self.weight_decays = [float(d) for d in weight_decays]

    def build(self, variables) -> None:
        if len(variables) != len(self.multipliers):
            raise ValueError(f"{len(variables)} variables, {len(self.multipliers)} multipliers")
        super().build(variables)

    def update_step(self, gradient, variable, learning_rate):
        index = self._get_variable_index(variable)
        learning_rate = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        if self.weight_decays[index]:
            gradient = ops.add(gradient, ops.multiply(variable, self.weight_decays[index]))
        gradient = ops.multiply(gradient, self.multipliers[index])
        if not self.momentum:
            self.assign_sub(variable, ops.multiply(gradient, learning_rate))
            return
        velocity = self.momentums[index]
        self.assign(velocity, ops.add(ops.multiply(velocity, ops.cast(self.momentum, variable.dtype)), gradient))
        self.assign_sub(variable, ops.multiply(velocity, learning_rate))

    def get_config(self) -> dict:
        return {**super().get_config(), "multipliers": self.multipliers, "weight_decays": self.weight_decays}
