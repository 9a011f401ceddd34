"""The model sets a server offers: each installed set behind its own pipeline, described as MONAI Label describes a
model, and run on one image per request: automatic sets through the entrypoint's `load -> compute` stages,
click-guided sets (manifest side input `clicks`) through a cached click session per image.

Clicks come as the 3D Slicer module sends them, integer voxel indices (i, j, k) of the image as stored:
- single label: {"label": name, "foreground": [[i, j, k], ...], "background": [[i, j, k], ...]};
- DeepEdit multi-label: {<every label name>: [[i, j, k], ...], "label": <current name>}; the clicks of the label
  with value 0 (background) are background clicks, all others foreground.
Other keys (`client_id`, `roi`, `result_extension`, ...) are accepted; `reset_state: true` starts the image's
click session afresh.
"""
from __future__ import annotations

import collections
import dataclasses
import os
import threading
import time

import numpy as np

from inference.inputs import CaseInput
from inference.model_sets import ModelSet
from inference.pipeline import RunOptions
from inference.registry import pipeline_class
from inference.server.datastore import DatastoreError
from preprocessing.image_geometry import ImageGeometry
from preprocessing.image_io import ImageReadError, case_name
from preprocessing.points import point_array

CACHED_SESSIONS = 2


@dataclasses.dataclass(frozen=True)
class Inference:
    """A request's result: labels (array order) on the image's grid, {label name: value}, and figures for the
    reply's params."""

    labels: np.ndarray
    geometry: ImageGeometry
    label_names: dict[str, int]
    figures: dict


def click_indices(params: dict, label_names: dict[str, int], size: tuple[int, ...]
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(foreground, background) voxel indices [n, 3] (i, j, k) of a request's clicks, in either of the Slicer
    module's formats; DatastoreError 422 for a malformed point or one outside an image of `size` (i, j, k)."""
    if "foreground" in params:
        groups = {"foreground": True, "background": False}
    else:
        groups = {name: value != 0 for name, value in label_names.items()}
    found: dict[bool, list] = {True: [], False: []}
    for key, foreground in groups.items():
        points = point_array(params.get(key) or [])
        if points is None:
            raise DatastoreError(422, f"'{key}' must be a list of [i, j, k] voxel indices")
        outside = [p for p in points if any(v < -0.5 or v > n - 0.5 for v, n in zip(p, size))]
        if outside:
            raise DatastoreError(422, f"'{key}' point {outside[0].tolist()} lies outside the volume "
                                      f"(size {list(size)})")
        found[foreground].extend(points)
    return tuple(np.asarray(found[kind], np.float64).reshape(-1, 3) for kind in (True, False))


class ServedModel:
    """One installed model set: its pipeline (members loaded once), its MONAI Label description, and for a
    click-guided set the sessions of the last `CACHED_SESSIONS` images. Requests run side by side (TensorFlow's
    calls are thread-safe), except that the requests on one image's click session run one at a time."""

    def __init__(self, model_set: ModelSet, options: RunOptions):
        self.model_set = model_set
        self.manifest = model_set.manifest
        self.pipeline = pipeline_class(self.manifest["pipeline"])(model_set, options)
        self.interactive = "clicks" in self.manifest.get("side_inputs", [])
        self.label_names = {name: int(value) for value, name in self.manifest["labels"].items()}
        self._sessions: collections.OrderedDict = collections.OrderedDict()
        self._image_locks: dict[tuple, threading.Lock] = {}
        self._lock = threading.Lock()

    def info(self) -> dict:
        """The model as `/info/` lists it (MONAI Label's fields)."""
        return {"type": "deepedit" if self.interactive else "segmentation", "labels": self.label_names,
                "dimension": self.manifest["dimensionality"], "description": self.manifest["description"],
                "config": {"trained_on": self.manifest["trained_on"], "modality": self.manifest["modality"],
                           "input_channels": self.manifest["input_channels"]}}

    def infer(self, image_path: str, params: dict, keep_session: bool = True) -> Inference:
        """Runs the set on the image file (or DICOM series folder) `image_path` with the request's `params`; a
        click session is cached for the image unless `keep_session` is False (a one-off uploaded file)."""
        case = CaseInput(case_name(image_path), (image_path,))
        start = time.perf_counter()
        try:
            if self.interactive and keep_session:
                labels, geometry, figures = self._clicked(case, params)
            elif self.interactive:
                labels, geometry, figures = self._clicks_on(self.pipeline.session(self.pipeline.read(case)), params,
                                                            True)
            else:
                labels, geometry, figures = self._automatic(case)
        except ImageReadError as error:
            raise DatastoreError(422, f"{os.path.basename(image_path)}: {error.problem}") from error
        except FileNotFoundError as error:
            raise DatastoreError(404, f"{os.path.basename(image_path)}: no longer there") from error
        except ValueError as error:
            raise DatastoreError(422, f"{os.path.basename(image_path)}: {str(error).splitlines()[0]}") from error
        figures = {**figures, "latencies": {"total": round(time.perf_counter() - start, 3)}}
        return Inference(labels, geometry, self.label_names, figures)

    def _automatic(self, case: CaseInput) -> tuple[np.ndarray, ImageGeometry, dict]:
        computed = self.pipeline.compute(case, self.pipeline.load(case))
        result = computed.result
        figures = {k: float(v) for k, v in result.figures.items()}
        if getattr(result, "findings", None):
            figures["findings"] = list(result.findings)
        return result.labels, result.geometry, {**figures, **({"note": computed.note} if computed.note else {})}

    def _image_lock(self, key: tuple) -> threading.Lock:
        """The lock of `key`, acquired; a lock that eviction unregistered while this request waited is let go and
        the registered one taken instead, so that one image's session is never changed by two requests at once."""
        while True:
            with self._lock:
                lock = self._image_locks.setdefault(key, threading.Lock())
            lock.acquire()
            with self._lock:
                if self._image_locks.get(key) is lock:
                    return lock
            lock.release()

    def _clicked(self, case: CaseInput, params: dict) -> tuple[np.ndarray, ImageGeometry, dict]:
        path = case.channels[0]
        key = (os.path.realpath(path), os.stat(path).st_mtime_ns)
        lock = self._image_lock(key)
        try:
            with self._lock:
                session = None if params.get("reset_state") else self._sessions.get(key)
            new = session is None
            if new:
                session = self.pipeline.session(self.pipeline.read(case))
            with self._lock:
                self._sessions[key] = session
                self._sessions.move_to_end(key)
                while len(self._sessions) > CACHED_SESSIONS:
                    evicted, _ = self._sessions.popitem(last=False)
                    self._image_locks.pop(evicted, None)
            return self._clicks_on(session, params, new)
        finally:
            lock.release()
            with self._lock:
                if key not in self._sessions and self._image_locks.get(key) is lock:
                    del self._image_locks[key]

    def _clicks_on(self, session, params: dict, new: bool) -> tuple[np.ndarray, ImageGeometry, dict]:
        """Sets the request's clicks on `session` (`new`: its first pass counts in the windows run)."""
        foreground, background = click_indices(params, self.label_names, session.geometry.size)
        index_to_world = session.geometry.index_to_physical
        clicks = [(tuple(index_to_world(p)), True) for p in foreground] + \
                 [(tuple(index_to_world(p)), False) for p in background]
        windows = session.set_clicks(clicks) + (session.windows_run if new else 0)
        labels = session.mask()
        return labels, session.geometry, {"session": "new" if new else "cached", "windows_run": windows,
                                          "windows": len(session.boxes), "clicks": len(clicks),
                                          "foreground_voxels": int(labels.sum())}
