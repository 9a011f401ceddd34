"""absl flags for every field of a frozen config dataclass, with the dataclass defaults and the field docs of its
`Attributes:` docstring section, and the config built back from the flags."""
from __future__ import annotations

import dataclasses
import re
import typing

from absl import flags


def field_docs(config_cls: type) -> dict[str, str]:
    """{field name: its text} from the `Attributes:` section of the class docstring (first sentence kept)."""
    text = (config_cls.__doc__ or "").split("Attributes:", 1)[-1]
    docs: dict[str, str] = {}
    for names, body in re.findall(r"^\s{8}([\w, ]+):\s(.*(?:\n\s{12,}.*)*)", text, flags=re.M):
        sentence = " ".join(body.split())
        for name in names.split(","):
            docs[name.strip()] = sentence
    return docs


def define_config_flags(config_cls: type, skip: tuple[str, ...] = (),
                        flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Defines one flag per field (bool, int, float, str, or tuples of them as comma-separated lists)."""
    defaults = config_cls()
    docs = field_docs(config_cls)
    hints = typing.get_type_hints(config_cls)
    for field in dataclasses.fields(config_cls):
        if field.name in skip:
            continue
        value, kind = getattr(defaults, field.name), hints[field.name]
        help_text = docs.get(field.name, field.name)
        if kind is bool:
            flags.DEFINE_bool(field.name, value, help_text, flag_values=flag_values)
        elif kind is int:
            flags.DEFINE_integer(field.name, value, help_text, flag_values=flag_values)
        elif kind is float:
            flags.DEFINE_float(field.name, value, help_text, flag_values=flag_values)
        elif kind is str:
            flags.DEFINE_string(field.name, value, help_text, flag_values=flag_values)
        elif typing.get_origin(kind) is tuple:
            flags.DEFINE_list(field.name, [str(v) for v in value], help_text, flag_values=flag_values)
        else:
            raise TypeError(f"{config_cls.__name__}.{field.name}: no flag for type {kind}")


def config_from_flags(config_cls: type, values: flags.FlagValues, skip: tuple[str, ...] = (), **fields):
    """The config with every field defined by `define_config_flags` taken from the flags, and the skipped ones
    given as keyword arguments (or left at their defaults)."""
    hints = typing.get_type_hints(config_cls)
    changes = {}
    for field in dataclasses.fields(config_cls):
        if field.name in skip:
            continue
        value, kind = values[field.name].value, hints[field.name]
        if typing.get_origin(kind) is tuple:
            element = typing.get_args(kind)[0]
            value = tuple(element(v) for v in value)
        changes[field.name] = value
    return config_cls(**changes, **fields)
