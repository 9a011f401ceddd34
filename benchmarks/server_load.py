"""Server load benchmark: several MONAI Label clients at once against `python -m inference.server` on 127.0.0.1,
mixing info, datastore listings, clicks on two images and uploads; every answer checked; p50 / p95 latency per
endpoint and the server process's peak RSS.

Usage: python benchmarks/server_load.py [--saved_models_folder saved_models] [--threads 4] [--requests 25]

The studies are two whole-body PET phantoms of the shipped click-guided set's demo size (96 x 96 voxels in-plane,
half adult size) and one chest film; the server runs in this process (its peak RSS is this process's).
"""
from __future__ import annotations

import collections
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import preprocessing.quiet_startup  # noqa: E402, F401 - first: hides TensorFlow's C++ start-up lines

import numpy as np  # noqa: E402
from absl import app, flags  # noqa: E402
from monailabel.client import MONAILabelClient  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from inference.batch import peak_rss_mb  # noqa: E402
from inference.model_sets import find_model_sets  # noqa: E402
from inference.pipeline import RunOptions  # noqa: E402
from inference.server.app import create_app  # noqa: E402
from inference.server.datastore import Datastore  # noqa: E402
from inference.server.models import ServedModel  # noqa: E402
from inference.server.sessions import SessionStore  # noqa: E402

flags.DEFINE_string("saved_models_folder", "saved_models", "Folder of model sets.")
flags.DEFINE_integer("threads", 4, "Clients at once.")
flags.DEFINE_integer("requests", 25, "Requests per client.")
FLAGS = flags.FLAGS


def run_load(url: str, pets: list[str], upload: str, model: str, threads: int, requests: int, folder: str
             ) -> tuple[dict[str, list[float]], list[str]]:
    """({endpoint: seconds of each request}, errors) of `threads` clients each sending `requests` requests in a
    fixed rotation: info, datastore, a click on each of the two images `pets`, an upload of `upload`. Every reply
    is checked."""
    latencies: dict[str, list[float]] = collections.defaultdict(list)
    errors: list[str] = []
    lock = threading.Lock()

    def client_loop(number: int) -> None:
        client = MONAILabelClient(url, tmpdir=tempfile.mkdtemp(dir=folder), client_id=f"load-{number}")
        for index in range(requests):
            kind = ("info", "datastore", "infer", "infer", "upload")[(number + index) % 5]
            start = time.perf_counter()
            try:
                if kind == "info":
                    assert model in client.info()["models"]
                elif kind == "datastore":
                    assert set(pets) <= set(client.datastore()["objects"])
                elif kind == "infer":
                    image = pets[(number + index) % 2]
                    result, params = client.infer(model, image, {"lesion": [[20 + index % 5, 20, 30]],
                                                                 "background": [], "label": "lesion"})
                    assert os.path.getsize(result) > 0 and params["clicks"] == 1
                else:
                    image_id = f"upload_{number}_{index}"
                    assert client.upload_image(upload, image_id)["image"] == image_id
            except Exception as error:  # noqa: BLE001 - every failure is reported
                with lock:
                    errors.append(f"{kind}: {error!r}"[:300])
            with lock:
                latencies[kind].append(time.perf_counter() - start)

    workers = [threading.Thread(target=client_loop, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return dict(latencies), errors


def main(argv: list[str]) -> None:
    del argv
    from preprocessing.synthetic import autopet

    with tempfile.TemporaryDirectory() as folder:
        studies = os.path.join(folder, "studies")
        autopet.write_dataset(os.path.join(folder, "AutoPET"), 2, 2026,
                              autopet.AutoPETPhantomConfig(in_plane_size=96, body_scale=0.5), progress=False)
        os.makedirs(studies)
        images = os.path.join(folder, "AutoPET", "imagesTr")
        pets = sorted(n for n in os.listdir(images) if n.endswith("_0000.nii.gz"))
        for name in pets:
            shutil.copy(os.path.join(images, name), studies)
        sets = find_model_sets(FLAGS.saved_models_folder)
        models = {"autopet_interactive": ServedModel(sets["autopet_interactive"], RunOptions())}
        http = make_server("127.0.0.1", 0, create_app(models, Datastore(studies, os.path.join(folder, "store")),
                                                      SessionStore(600)), threaded=True)
        threading.Thread(target=http.serve_forever, daemon=True).start()
        ids = [n[: -len(".nii.gz")] for n in pets]
        start = time.perf_counter()
        latencies, errors = run_load(f"http://127.0.0.1:{http.server_port}", ids, os.path.join(studies, pets[0]),
                                     "autopet_interactive", FLAGS.threads, FLAGS.requests, folder)
        wall = time.perf_counter() - start
        http.shutdown()
    total = sum(len(v) for v in latencies.values())
    print(f"\n{FLAGS.threads} clients x {FLAGS.requests} requests = {total} in {wall:.1f} s, {len(errors)} failed; "
          f"server process peak RSS {peak_rss_mb():.0f} MB")
    print(f"{'endpoint':<12}{'requests':>10}{'p50 s':>9}{'p95 s':>9}{'max s':>9}")
    for kind, values in sorted(latencies.items()):
        print(f"{kind:<12}{len(values):>10}{statistics.median(values):>9.3f}{np.percentile(values, 95):>9.3f}"
              f"{max(values):>9.3f}")
    for error in errors[:5]:
        print("  " + error)


if __name__ == "__main__":
    app.run(main)
