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


def read_config(cls: type[T], path: str) -> T:
    """Reads a `cls` dataclass from JSON (lists become tuples, as in the dataclass defaults)."""
    with open(path) as handle:
        values = json.load(handle)
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})
