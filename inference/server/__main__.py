"""A MONAI Label-protocol server for every installed model set: 3D Slicer's MONAI Label module (and
monailabel.client.MONAILabelClient) lists the sets, fetches the next study, uploads a local volume, runs automatic
and click-guided segmentation, and saves the labels a user submits.

Usage: python -m inference.server --studies DIR [--datastore STORE] [--models a,b] [--saved_models_folder saved_models]
       [--host 127.0.0.1] [--port 8000] [--api_token TOKEN] [--max_upload_mb 2048] [--session_expiry_s 3600]
Installed command: medseg-server (the same flags). The studies folder is only read; uploads and submitted labels go
to STORE. With a token (--api_token or MEDSEG_SERVER_TOKEN) clients log in with it as the password and send it as a
bearer token. Binds to 127.0.0.1 unless told otherwise.
Docs: docs/slicer.md
"""
from __future__ import annotations

import preprocessing.quiet_startup  # noqa: F401 - first: hides TensorFlow's C++ start-up lines

import os
import sys

from absl import flags
from werkzeug.serving import make_server

from inference.console import run_command
from inference.model_sets import find_model_sets
from inference.pipeline import RunOptions
from inference.server.app import create_app
from inference.server.datastore import Datastore, default_store
from inference.server.models import ServedModel
from inference.server.sessions import SessionStore

TOKEN_VARIABLE = "MEDSEG_SERVER_TOKEN"

flags.DEFINE_string("studies", None, "Folder of the images to serve (only read).")
flags.DEFINE_string("datastore", None, "Folder for uploads and submitted labels, outside --studies "
                    "(default: ~/.cache/medseg-server/<studies folder hash>).")
flags.DEFINE_string("api_token", None, f"Access token clients must send (default: ${TOKEN_VARIABLE}; none: no auth).")
flags.DEFINE_integer("max_upload_mb", 2048, "Refuse request bodies (uploads) larger than this (MB).")
flags.DEFINE_list("models", [], "Model sets to serve (default: every installed set).")
flags.DEFINE_string("saved_models_folder", "saved_models", "Folder of model sets.")
flags.DEFINE_string("host", "127.0.0.1", "Address to bind (127.0.0.1: this machine only).")
flags.DEFINE_integer("port", 8000, "Port.")
flags.DEFINE_integer("session_expiry_s", 3600, "Upload sessions are removed after this many idle seconds.")
flags.DEFINE_integer("batch_size", 1, "Windows (or slices) per network call.")
flags.DEFINE_float("overlap", None, "Sliding-window overlap (default: each set's own).")
flags.mark_flag_as_required("studies")
FLAGS = flags.FLAGS


def served_models(saved_models_folder: str, names: list[str], options: RunOptions) -> dict[str, ServedModel]:
    """{name: ServedModel} of the sets `names` (all installed sets when empty); an unknown name raises
    ValueError naming the installed ones."""
    installed = find_model_sets(saved_models_folder)
    unknown = [name for name in names if name not in installed]
    if unknown:
        raise ValueError(f"unknown model set(s) {', '.join(unknown)} (installed: {', '.join(installed)})")
    return {name: ServedModel(installed[name], options) for name in (names or installed)}


def main(argv: list[str]) -> int:
    del argv
    try:
        datastore = Datastore(FLAGS.studies, FLAGS.datastore or default_store(FLAGS.studies))
        models = served_models(FLAGS.saved_models_folder, FLAGS.models,
                               RunOptions(batch_size=FLAGS.batch_size, overlap=FLAGS.overlap))
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    token = FLAGS.api_token or os.environ.get(TOKEN_VARIABLE, "")
    sessions = SessionStore(FLAGS.session_expiry_s)
    server = make_server(FLAGS.host, FLAGS.port, create_app(models, datastore, sessions, token,
                                                                FLAGS.max_upload_mb), threaded=True)
    if not token and FLAGS.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: serving on {FLAGS.host} without an access token (set {TOKEN_VARIABLE})", file=sys.stderr)
    print(f"serving {', '.join(models)} on http://{FLAGS.host}:{server.server_port}/ (studies: {FLAGS.studies})")
    try:
        server.serve_forever()
    finally:
        sessions.close()
    return 0


def console() -> None:
    """`medseg-server`: this server as an installed command (the same flags)."""
    run_command(main, __name__)


if __name__ == "__main__":
    console()
