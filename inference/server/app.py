"""The Flask app: MONAI Label's routes as 3D Slicer's MONAI Label module and `monailabel.client.MONAILabelClient`
call them, over a `Datastore`, a `SessionStore` and the served model sets.

Every reply to a bad request is JSON {"detail": message} with a 4xx status (MONAI Label's FastAPI shape). With an
access token set, every route but `/auth/` and `/auth/token` needs `Authorization: Bearer <token>`.
"""
from __future__ import annotations

import hmac
import json
import os
import shutil
import tempfile

from flask import Flask, Response, jsonify, request, send_file
from werkzeug.exceptions import HTTPException

from inference.server.datastore import FINAL_TAG, ID_PATTERN, STRATEGIES, Datastore, DatastoreError, image_suffix
from inference.server.models import ServedModel
from inference.server.replies import OUTPUTS, label_file_bytes, multipart, result_format
from inference.server.sessions import SessionStore

OPEN_ROUTES = ("/auth/", "/auth/token")


def _params() -> dict:
    """The request's params: the multipart / form field `params` (JSON text), else a JSON body, else {}."""
    text = request.form.get("params")
    if text is None:
        text = request.get_data(as_text=True) if not request.files else ""
    try:
        params = json.loads(text or "{}")
    except ValueError as error:
        raise DatastoreError(400, f"params is not JSON: {error}") from error
    if not isinstance(params, dict):
        raise DatastoreError(400, "params must be a JSON object")
    return params


def _file_reply(path: str) -> Response:
    """A stored file as an attachment whose quoted file name MONAI Label's client parses."""
    reply = send_file(path, mimetype="application/octet-stream")
    reply.headers["Content-Disposition"] = f"attachment; filename=\"{os.path.basename(path)}\""
    return reply


def _upload(field: str):
    upload = request.files.get(field)
    if upload is None:
        raise DatastoreError(422, f"multipart field '{field}' (the file) is missing")
    return upload


def create_app(models: dict[str, ServedModel], datastore: Datastore, sessions: SessionStore,
               token: str = "", max_upload_mb: int = 2048) -> Flask:
    """The app serving `models` ({name: ServedModel}) on `datastore`; `token`: the access token ('' = no auth);
    request bodies over `max_upload_mb` are refused (413) before anything is stored."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = max_upload_mb * 1024 * 1024

    @app.errorhandler(DatastoreError)
    def problem(error: DatastoreError):
        return jsonify(detail=error.detail), error.status

    @app.errorhandler(413)
    def too_large(error: HTTPException):
        del error
        return jsonify(detail=f"request too large: uploads up to {max_upload_mb} MB (--max_upload_mb)"), 413

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        return jsonify(detail=error.description), error.code

    @app.before_request
    def authorize():
        if request.path == "/auth/token" and (request.content_length or 0) > 64 * 1024:
            return jsonify(detail="request too large for a login"), 413
        if not token or request.path in OPEN_ROUTES:
            return None
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.encode()):
            return jsonify(detail="not authenticated: send Authorization: Bearer <token> (POST /auth/token)"), 401
        return None

    @app.get("/auth/")
    def auth():
        return jsonify(enabled=bool(token), client_id="medseg", realm="medseg")

    @app.post("/auth/token")
    def auth_token():
        if not token:
            raise DatastoreError(404, "authentication is not enabled on this server")
        if not hmac.compare_digest(request.form.get("password", "").encode(), token.encode()):
            return jsonify(detail="wrong password (the server's access token)"), 401
        return jsonify(access_token=token, token_type="Bearer")

    @app.get("/auth/token/valid")
    def auth_token_valid():
        return jsonify({})

    @app.get("/info/")
    def info():
        labels = sorted({name for model in models.values() for name in model.label_names})
        return jsonify(name="medseg-tf", description="medseg-tf model sets over MONAI Label's protocol",
                       version="0.1.0", labels=labels,
                       models={name: model.info() for name, model in models.items()}, trainers={},
                       strategies={name: {"description": text} for name, text in STRATEGIES.items()},
                       scoring={}, train_stats={}, datastore=datastore.listing("stats"))

    @app.get("/datastore/")
    def datastore_listing():
        output = request.args.get("output", "stats")
        if output not in ("stats", "all"):
            raise DatastoreError(422, f"output must be stats or all (got '{output}')")
        return jsonify(datastore.listing(output))

    @app.get("/datastore/image")
    def download_image():
        return _file_reply(datastore.image_path(request.args.get("image", "")))

    @app.put("/datastore/")
    @app.put("/datastore/image")
    def upload_image():
        upload = _upload("file")
        image_id = request.args.get("image") or ""
        if not image_id:
            name = os.path.basename(upload.filename or "")
            image_id = name[: -len(image_suffix(name))]
        return jsonify(image=datastore.add_image(image_id, upload.stream, upload.filename))

    @app.put("/datastore/label")
    def save_label():
        image_id = request.args.get("image", "")
        tag = request.args.get("tag") or FINAL_TAG
        upload = _upload("label")
        label_id = datastore.save_label(image_id, tag, upload.stream, upload.filename, _params())
        return jsonify(image=image_id, label=label_id)

    @app.get("/datastore/label")
    def download_label():
        return _file_reply(datastore.label_path(request.args.get("label") or request.args.get("image", ""),
                                                request.args.get("tag") or FINAL_TAG))

    @app.post("/activelearning/<strategy>")
    def next_sample(strategy: str):
        return jsonify(datastore.next_sample(strategy))

    @app.put("/session/")
    def create_session():
        try:
            expiry = int(request.args.get("expiry", "0"))
        except ValueError as error:
            raise DatastoreError(422, "expiry must be a number of seconds") from error
        session = sessions.create(request.files.getlist("files"), expiry)
        return jsonify(session_id=session.session_id, session_info=session.info())

    @app.get("/session/<session_id>")
    def get_session(session_id: str):
        return jsonify(sessions.get(session_id).info())

    @app.delete("/session/<session_id>")
    def remove_session(session_id: str):
        return jsonify(sessions.remove(session_id))

    @app.post("/infer/<model>")
    def infer(model: str):
        if model not in models:
            raise DatastoreError(404, f"unknown model '{model}' (this server has {', '.join(models) or 'none'})")
        output = request.args.get("output", "")
        if output and output not in OUTPUTS:
            raise DatastoreError(422, f"output must be one of {', '.join(OUTPUTS)} (got '{output}')")
        params = _params()
        extension, dtype = result_format(params)
        session_id = request.args.get("session_id")
        with tempfile.TemporaryDirectory(prefix="medseg-upload-") as folder:
            uploaded = not session_id and "file" in request.files
            if session_id:
                image_path, image_id = sessions.get(session_id).image, request.args.get("image") or session_id
            elif uploaded:
                upload = request.files["file"]
                image_path = os.path.join(folder, "image" + image_suffix(upload.filename))
                with open(image_path, "wb") as handle:
                    shutil.copyfileobj(upload.stream, handle)
                image_id = request.args.get("image") or "upload"
            else:
                image_id = request.args.get("image", "")
                image_path = datastore.image_path(image_id)
            result = models[model].infer(image_path, params, keep_session=not uploaded)
        reply = {"label_names": result.label_names, **result.figures}
        if output == "json":
            return jsonify(reply)
        data = label_file_bytes(result, extension, dtype)
        file_name = f"{image_id if ID_PATTERN.match(image_id) else 'result'}_{model}{extension}"
        if output == "image":
            return Response(data, mimetype="application/octet-stream",
                            headers={"Content-Disposition": f"attachment; filename=\"{file_name}\""})
        body, content_type = multipart(reply, file_name, data)
        return Response(body, content_type=content_type)

    return app
