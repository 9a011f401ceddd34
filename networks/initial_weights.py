"""Starting a network from the weights of an exported model set member: fine-tuning a shipped set on one's own data."""
from __future__ import annotations

from typing import Any

import keras
import numpy as np


def member_weights(member: Any) -> list[np.ndarray]:
    """The weights a loaded member SavedModel tracks (`serving.exporter.ExportModule.model_variables`: its Keras
    model's `model.variables`, in order), as float32 arrays."""
    return [np.asarray(variable.numpy(), np.float32) for variable in member.model_variables]


def check_weights(model: keras.Model, weights: list[np.ndarray], source: str) -> None:
    """ValueError naming `source` when `weights` do not fit `model.variables` (another count of variables, or the
    first variable whose shape differs)."""
    variables = model.variables
    if len(variables) != len(weights):
        raise ValueError(f"{source}: {len(weights)} weights, the network of these flags has {len(variables)} "
                         "(another architecture: leave the network flags out to take the set's)")
    for variable, value in zip(variables, weights):
        if tuple(variable.shape) != value.shape:
            raise ValueError(f"{source}: weight {variable.path} has shape {value.shape} there, "
                             f"{tuple(variable.shape)} in the network of these flags "
                             "(leave the network flags out to take the set's)")


def assign_weights(model: keras.Model, weights: list[np.ndarray], source: str) -> keras.Model:
    """Assigns `weights` to `model.variables` in order (after `check_weights`) and returns `model`."""
    check_weights(model, weights, source)
    for variable, value in zip(model.variables, weights):
        variable.assign(value)
    return model
