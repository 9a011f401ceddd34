"""Pipeline name (a manifest's `pipeline`, the members' `system`) -> the system's pipeline class, imported
only when a model set needs it. Adding a system is one line here."""
from __future__ import annotations

import importlib

from serving.manifest import ManifestError

PIPELINES = {
    "efficient_scn": "scn.pipeline:EfficientSCNPipeline",
    "cfcm": "cfcm.pipeline:CFCMPipeline",
    "rstn": "rstn.pipeline:RSTNPipeline",
    "interactive": "interactive.pipeline:InteractivePipeline",
    "nodules": "nodules.pipeline:NodulePipeline",
}


def pipeline_class(name: str) -> type:
    """The pipeline class registered under `name` (a manifest naming another is a ManifestError)."""
    if name not in PIPELINES:
        raise ManifestError(f"unknown pipeline '{name}' (registered: {', '.join(sorted(PIPELINES))})")
    module, attribute = PIPELINES[name].split(":")
    return getattr(importlib.import_module(module), attribute)
