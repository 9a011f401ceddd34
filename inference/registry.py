"""Pipeline name (a manifest's `pipeline`, the members' `system`) -> the system's pipeline class, imported
only when a model set needs it. Adding a system is one line here."""
from __future__ import annotations

import importlib

PIPELINES = {
    "efficient_scn": "scn.pipeline:EfficientSCNPipeline",
    "cfcm": "cfcm.pipeline:CFCMPipeline",
}


def pipeline_class(name: str) -> type:
    """The pipeline class registered under `name`."""
    if name not in PIPELINES:
        raise KeyError(f"unknown pipeline '{name}' (registered: {', '.join(sorted(PIPELINES))})")
    module, attribute = PIPELINES[name].split(":")
    return getattr(importlib.import_module(module), attribute)
