"""The installed model sets: folders `<saved_models_folder>/<set>/` with a manifest, and the choice of a set
for an input."""
from __future__ import annotations

import dataclasses
import os

from serving.manifest import MANIFEST_NAME, read_manifest

# DICOM modality codes of projection radiographs; the manifests say "XR" for all of them.
RADIOGRAPH_MODALITIES = ("CR", "DX", "DR", "RG", "XR")


@dataclasses.dataclass(frozen=True)
class ModelSet:
    """A model set: its name (folder name), folder and validated manifest."""

    name: str
    folder: str
    manifest: dict

    def accepts(self, dimensionality: int, modality: str | None) -> bool:
        """True when the set takes inputs of this dimensionality and modality (None: unknown, any)."""
        if dimensionality != self.manifest["dimensionality"]:
            return False
        if modality is None:
            return True
        modality = "XR" if modality in RADIOGRAPH_MODALITIES else modality
        return modality == self.manifest["modality"]

    def description(self) -> list[str]:
        """Lines for `--list_models`."""
        m = self.manifest
        labels = ", ".join(f"{k} {v}" for k, v in sorted(m["labels"].items(), key=lambda kv: int(kv[0])))
        lines = [f"{self.name}  ({self.folder})",
                 f"  pipeline:   {m['pipeline']} ({m['modality']}, {m['dimensionality']}D)",
                 f"  inputs:     {len(m['input_channels'])} channel(s): "
                 + ", ".join(f"_{i:04d} {c}" for i, c in enumerate(m["input_channels"]))
                 + (f"; side inputs: {', '.join(m['side_inputs'])}" if m.get("side_inputs") else ""),
                 f"  labels:     {labels}",
                 f"  outputs:    {', '.join(m['outputs'])}"]
        if m.get("default", False):
            lines.append(f"  default:    for {m['dimensionality']}D {m['modality']} inputs when --model is not given")
        if "spacing_mm" in m:
            lines.append(f"  spacing:    {' x '.join(f'{s:g}' for s in m['spacing_mm'])} mm (z, y, x)")
        lines.append(f"  trained on: {m['trained_on']}")
        return lines


def find_model_sets(saved_models_folder: str) -> dict[str, ModelSet]:
    """{name: ModelSet} of every subfolder of `saved_models_folder` that has a manifest (a folder that is
    itself a model set counts as the only one). Raises FileNotFoundError when there is none."""
    if not os.path.isdir(saved_models_folder):
        raise FileNotFoundError(f"{saved_models_folder}: saved models folder not found")
    if os.path.isfile(os.path.join(saved_models_folder, MANIFEST_NAME)):
        folders = [saved_models_folder]
    else:
        folders = [os.path.join(saved_models_folder, name) for name in sorted(os.listdir(saved_models_folder))
                   if os.path.isfile(os.path.join(saved_models_folder, name, MANIFEST_NAME))]
    if not folders:
        raise FileNotFoundError(f"{saved_models_folder}: no model set found (a folder with {MANIFEST_NAME}); "
                                "export one or run 'make demo-models'")
    sets = {}
    for folder in folders:
        manifest = read_manifest(folder)
        sets[manifest["name"]] = ModelSet(manifest["name"], folder, manifest)
    return sets


class ModelChoiceError(ValueError):
    """No installed model set, or more than one, accepts an input; the message names the candidates."""


class NoModelSetError(ModelChoiceError):
    """No installed model set accepts an input (a problem of that input, not of the installation)."""


def choose_model_set(sets: dict[str, ModelSet], dimensionality: int, modality: str | None) -> ModelSet:
    """The only set that accepts an input of this dimensionality and modality; when several do, the only one
    of them whose manifest says `"default": true`."""
    candidates = [s for s in sets.values() if s.accepts(dimensionality, modality)]
    defaults = [s for s in candidates if s.manifest.get("default", False)]
    if len(candidates) > 1 and len(defaults) == 1:
        return defaults[0]
    kind = f"{dimensionality}D" + (f" {modality}" if modality else "")
    if not candidates:
        raise NoModelSetError(f"no installed model set accepts a {kind} input (installed: "
                               f"{', '.join(sorted(sets)) or 'none'}); choose one with --model")
    if len(candidates) > 1:
        marked = f" ({len(defaults)} marked default)" if defaults else ""
        raise ModelChoiceError(f"several model sets accept a {kind} input: "
                               f"{', '.join(sorted(s.name for s in candidates))}{marked}; choose one with --model")
    return candidates[0]
