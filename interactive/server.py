"""An HTTP server that speaks the part of MONAI Label's REST API that 3D Slicer's MONAI Label module uses for
interactive segmentation, backed by an interactive model set and a folder of studies.

Usage: python -m interactive.server --studies DIR [--model autopet_interactive] [--saved_models_folder saved_models]
       [--host 127.0.0.1] [--port 8000] [--overlap 0.25] [--batch_size 1]
       (installed command: medseg-server, the same flags)

Endpoints:
- GET /info/: the app, its model (type "deepedit", labels {"tumor": 1, "background": 0}, 3D) and the datastore size.
- GET /datastore/?output=stats|all: the number of images, or every image id with its file.
- POST /infer/{model}?image={id}[&output=image|json|all]: clicks in the request's `params` (a multipart form field
  holding JSON, as MONAI Label clients send it, or a JSON body): {"tumor": [[i, j, k], ...], "background": [...]},
  voxel indices (i, j, k) = (x, y, z) of the stored image, as Slicer sends them. Returns the lesion label image
  (NIfTI, the image's grid; `output=image`, the default), the result's figures (`json`), or both as
  multipart/form-data (`all`). Every click of a label is sent each time; only the windows the changed clicks touch
  run again (`interactive.Session`).
Image ids are the file names without their suffix (`PETCT_0af7_0000` for `PETCT_0af7_0000.nii.gz`). Unknown models
or images give 404, unreadable parameters 400, points that are malformed or outside the volume 422, each with a
JSON {"detail": message}. Binds to 127.0.0.1 unless told otherwise.
Docs: docs/interactive.md
"""
from __future__ import annotations

import preprocessing.quiet_startup  # noqa: F401 - first: hides TensorFlow's C++ start-up lines

import collections
import json
import os
import tempfile
import time

import numpy as np
from absl import flags
from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.serving import make_server

from inference.console import run_command
from interactive.guidance import point_array
from interactive.session import Session
from preprocessing.image_io import IMAGE_SUFFIXES, ImageReadError, case_name, read_image, write_image
from serving.loading import load_model_set

LABELS = {"tumor": 1, "background": 0}
CACHED_SESSIONS = 2


class RequestProblem(Exception):
    """A request that cannot be served: the HTTP status and the message."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status = status
        self.detail = detail


def study_images(folder: str) -> dict[str, str]:
    """{image id: file} of the image files in `folder` (sorted)."""
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{folder}: studies folder not found")
    return {case_name(name): os.path.join(folder, name) for name in sorted(os.listdir(folder))
            if not name.startswith(".") and any(name.lower().endswith(s) for s in IMAGE_SUFFIXES)
            and os.path.isfile(os.path.join(folder, name))}


def _points(params: dict, key: str, size: tuple[int, ...]) -> np.ndarray:
    points = point_array(params.get(key, []))
    if points is None:
        raise RequestProblem(422, f"'{key}' must be a list of [i, j, k] voxel indices")
    for point in points:
        if any(v < -0.5 or v > n - 0.5 for v, n in zip(point, size)):
            raise RequestProblem(422, f"'{key}' point {point.tolist()} lies outside the volume (size {list(size)})")
    return points


def _params() -> dict:
    text = request.form.get("params")
    if text is None:
        text = request.get_data(as_text=True) or "{}"
    try:
        params = json.loads(text)
    except ValueError as error:
        raise RequestProblem(400, f"params is not JSON: {error}") from error
    if not isinstance(params, dict):
        raise RequestProblem(400, "params must be a JSON object")
    return params


def create_app(model_set_folder: str, studies: str, overlap: float | None = None, batch_size: int = 1) -> Flask:
    """The Flask app serving `model_set_folder` (an interactive set) on the images of `studies`."""
    model_name = os.path.basename(os.path.normpath(model_set_folder))
    member = load_model_set(model_set_folder)["segmentation"]
    images = study_images(studies)
    sessions: collections.OrderedDict[str, Session] = collections.OrderedDict()
    server = Flask(__name__)

    def session_of(image_id: str) -> Session:
        if image_id not in images:
            raise RequestProblem(404, f"unknown image '{image_id}' (the datastore has {len(images)} image(s))")
        if image_id not in sessions:
            try:
                array, geometry = read_image(images[image_id], ndim=3)
            except ImageReadError as error:
                raise RequestProblem(422, str(error)) from error
            sessions[image_id] = Session(member, [array], geometry, overlap, batch_size)
            while len(sessions) > CACHED_SESSIONS:
                sessions.popitem(last=False)
        sessions.move_to_end(image_id)
        return sessions[image_id]

    @server.errorhandler(RequestProblem)
    def problem(error: RequestProblem):
        return jsonify(detail=error.detail), error.status

    @server.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        return jsonify(detail=error.description), error.code

    @server.get("/info/")
    def info():
        return jsonify(name="medseg-tf interactive", description="Click-guided PET lesion segmentation (SW-FastEdit)",
                       version="0.1.0", labels=["tumor"],
                       models={model_name: {"type": "deepedit", "labels": LABELS, "dimension": 3,
                                            "description": "sliding-window click-guided DynUNet", "config": {}}},
                       trainers={}, strategies={}, scoring={}, train_stats={},
                       datastore={"total": len(images), "completed": 0})

    @server.get("/datastore/")
    def datastore():
        if request.args.get("output", "stats") == "all":
            return jsonify(objects={image_id: {"image": {"ext": path[len(os.path.join(studies, image_id)):],
                                                         "info": {"name": os.path.basename(path)}}, "labels": {}}
                                    for image_id, path in images.items()})
        return jsonify(total=len(images), completed=0, label_tags={})

    @server.post("/infer/<model>")
    def infer(model: str):
        if model != model_name:
            raise RequestProblem(404, f"unknown model '{model}' (this server has '{model_name}')")
        output = request.args.get("output", "image")
        if output not in ("image", "json", "all"):
            raise RequestProblem(422, f"output must be image, json or all (got '{output}')")
        params = _params()
        start = time.perf_counter()
        session = session_of(request.args.get("image", ""))
        size = session.geometry.size
        clicks = [(tuple(session.geometry.index_to_physical(point)), key == "tumor")
                  for key in LABELS for point in _points(params, key, size)]
        windows = session.set_clicks(clicks)
        mask = session.mask()
        result = {"label_names": LABELS, "latencies": {"total": round(time.perf_counter() - start, 3)},
                  "windows_run": windows, "windows": len(session.boxes), "lesion_voxels": int(mask.sum())}
        if output == "json":
            return jsonify(result)
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "label.nii.gz")
            write_image(mask, session.geometry, path)
            data = open(path, "rb").read()
        name = f"{request.args['image']}_label.nii.gz"
        if output == "image":
            return Response(data, mimetype="application/octet-stream",
                            headers={"Content-Disposition": f"attachment; filename={name}"})
        boundary = "medseg-" + os.urandom(8).hex()
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"params\"\r\n"
                f"Content-Type: application/json\r\n\r\n{json.dumps(result)}\r\n"
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                "Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
        return Response(body, mimetype=f"multipart/form-data; boundary={boundary}")

    return server


flags.DEFINE_string("studies", None, "Folder of the images to serve (NIfTI and the other readable formats).")
flags.DEFINE_string("model", "autopet_interactive", "Interactive model set name.")
flags.DEFINE_string("saved_models_folder", "saved_models", "Folder of model sets.")
flags.DEFINE_string("host", "127.0.0.1", "Address to bind (127.0.0.1: this machine only).")
flags.DEFINE_integer("port", 8000, "Port.")
flags.DEFINE_float("overlap", None, "Sliding-window overlap (default: the set's).")
flags.DEFINE_integer("batch_size", 1, "Windows per network call.")
flags.mark_flag_as_required("studies")
FLAGS = flags.FLAGS


def main(argv: list[str]) -> None:
    del argv
    model_set = os.path.join(FLAGS.saved_models_folder, FLAGS.model)
    server = make_server(FLAGS.host, FLAGS.port, create_app(model_set, FLAGS.studies, FLAGS.overlap, FLAGS.batch_size))
    print(f"serving {FLAGS.model} on http://{FLAGS.host}:{server.server_port}/ (studies: {FLAGS.studies})")
    server.serve_forever()


def console() -> None:
    """`medseg-server`: this server as an installed command (the same flags)."""
    run_command(main, __name__)


if __name__ == "__main__":
    console()
