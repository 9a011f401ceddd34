"""Installed console commands (`medseg-predict`, ...; setup.py's entry points) that behave as `python -m MODULE`."""
from __future__ import annotations

import sys
from collections.abc import Callable

from absl import app, flags


def run_command(main: Callable[[list[str]], int | None], module_name: str) -> None:
    """Runs the absl `main` of `module_name` with that module's usage text and flags as the command's own, so that
    --help and --helpshort show them as under `python -m` (absl keys a module's flags by its import name, and a
    console script is another main module)."""
    for flag in flags.FLAGS.get_key_flags_for_module(module_name):
        flags.FLAGS.register_key_flag_for_module(sys.argv[0], flag)
    sys.modules["__main__"].__doc__ = sys.modules[module_name].__doc__
    app.run(main)
