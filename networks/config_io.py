"""Config dataclasses to and from JSON (written beside checkpoints; read by export)."""
from __future__ import annotations

import dataclasses
import json
from typing import TypeVar

from preprocessing.atomic import atomic_path

T = TypeVar("T")


def write_config(config, path: str) -> None:
    """Writes the dataclass `config` as JSON, atomically."""
    with atomic_path(path) as temp, open(temp, "w") as handle:
        json.dump(dataclasses.asdict(config), handle, indent=2)


def config_from_dict(cls: type[T], values: dict) -> T:
    """A `cls` dataclass from its `dataclasses.asdict` form: lists become tuples, nested dataclass fields
    (e.g. augmentation settings) are rebuilt, missing fields keep their defaults."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    converted = {}
    for key, value in values.items():
        default = fields[key].default if key in fields else None
        if isinstance(value, dict) and dataclasses.is_dataclass(default):
            value = config_from_dict(type(default), value)
        elif isinstance(value, list):
            value = tuple(value)
        converted[key] = value
    return cls(**converted)


def read_config(cls: type[T], path: str) -> T:
    """Reads a `cls` dataclass from JSON written by `write_config`."""
    with open(path) as handle:
        return config_from_dict(cls, json.load(handle))
