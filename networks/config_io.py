"""Config dataclasses to and from JSON (written beside checkpoints; read by export)."""
from __future__ import annotations

import dataclasses
import json
import typing
from typing import TypeVar

from preprocessing.atomic import atomic_path

T = TypeVar("T")


def write_config(config, path: str) -> None:
    """Writes the dataclass `config` as JSON, atomically."""
    with atomic_path(path) as temp, open(temp, "w") as handle:
        json.dump(dataclasses.asdict(config), handle, indent=2)


def _tuples(value):
    """Lists (nested ones too) as tuples."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _dataclass_of(hint) -> type | None:
    """The dataclass a field's type hint names (`X` or `X | None`), else None."""
    for candidate in (hint, *typing.get_args(hint)):
        if dataclasses.is_dataclass(candidate):
            return candidate
    return None


def config_from_dict(cls: type[T], values: dict) -> T:
    """A `cls` dataclass from its `dataclasses.asdict` form: lists become tuples, nested dataclass fields
    (e.g. augmentation settings, also optional ones) are rebuilt, missing fields keep their defaults."""
    hints = typing.get_type_hints(cls)
    converted = {}
    for key, value in values.items():
        nested = _dataclass_of(hints.get(key))
        if isinstance(value, dict) and nested is not None:
            value = config_from_dict(nested, value)
        converted[key] = _tuples(value)
    return cls(**converted)


def read_config(cls: type[T], path: str) -> T:
    """Reads a `cls` dataclass from JSON written by `write_config`."""
    with open(path) as handle:
        return config_from_dict(cls, json.load(handle))
