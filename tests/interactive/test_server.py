"""The MONAI Label-compatible server over real HTTP: info, datastore, inference with clicks sent as a multipart
`params` field (the label image on the image's grid, figures, both), and 4xx with a message for unknown models and
images, malformed parameters and points outside the volume."""
import email
import gzip
import json
import os
import shutil
import threading
import urllib.error
import urllib.request

import nibabel as nib
import numpy as np
import pytest
from werkzeug.serving import make_server

from interactive.server import create_app
from preprocessing.cases import autopet_cases


@pytest.fixture(scope="module")
def server(autopet_folder, interactive_model_set, tmp_path_factory):
    studies = tmp_path_factory.mktemp("studies")
    cases = autopet_cases(autopet_folder)[:2]
    for case in cases:
        shutil.copy(case.image_path, studies)
    http = make_server("127.0.0.1", 0, create_app(os.path.join(interactive_model_set, "autopet_interactive"),
                                                  str(studies)))
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}", [f"{c.case_id}_0000" for c in cases], str(studies)
    http.shutdown()


def _multipart(params: dict) -> tuple[bytes, str]:
    boundary = "testboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"params\"\r\n\r\n{json.dumps(params)}\r\n"
            f"--{boundary}--\r\n").encode()
    return body, f"multipart/form-data; boundary={boundary}"


def _request(url: str, params: dict | None = None, raw: bytes | None = None):
    data, kind = _multipart(params) if params is not None else (raw, "application/json")
    call = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET",
                                  headers={"Content-Type": kind} if data is not None else {})
    try:
        with urllib.request.urlopen(call, timeout=300) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_info_and_datastore(server):
    base, ids, _ = server
    status, _, body = _request(f"{base}/info/")
    info = json.loads(body)
    assert status == 200 and info["models"]["autopet_interactive"]["labels"] == {"tumor": 1, "background": 0}
    assert info["models"]["autopet_interactive"]["type"] == "deepedit" and info["datastore"]["total"] == 2
    status, _, body = _request(f"{base}/datastore/?output=all")
    assert status == 200 and sorted(json.loads(body)["objects"]) == sorted(ids)


def test_infer_returns_the_label_image_on_the_image_grid(server, tmp_path):
    base, ids, studies = server
    params = {"tumor": [[20, 20, 30]], "background": [[2, 2, 2]]}
    status, headers, body = _request(f"{base}/infer/autopet_interactive?image={ids[0]}", params)
    assert status == 200 and headers["Content-Type"] == "application/octet-stream"
    (tmp_path / "label.nii.gz").write_bytes(body)
    label, image = nib.load(str(tmp_path / "label.nii.gz")), nib.load(os.path.join(studies, ids[0] + ".nii.gz"))
    assert label.shape == image.shape and np.allclose(label.affine, image.affine, atol=1e-4)
    status, _, body = _request(f"{base}/infer/autopet_interactive?image={ids[0]}&output=json",
                               {"tumor": [[20, 20, 30]], "background": []})
    figures = json.loads(body)
    assert status == 200 and 0 < figures["windows_run"] < figures["windows"], "one click fewer: few windows rerun"
    status, headers, body = _request(f"{base}/infer/autopet_interactive?image={ids[1]}&output=all", params)
    message = email.message_from_bytes(b"Content-Type: " + headers["Content-Type"].encode() + b"\r\n\r\n" + body)
    parts = {part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
             for part in message.get_payload()}
    figures = json.loads(parts["params"])
    assert status == 200 and 0 < figures["windows_run"] <= figures["windows"] and figures["lesion_voxels"] >= 0
    assert nib.Nifti1Image.from_bytes(gzip.decompress(parts["file"])).shape == \
        nib.load(os.path.join(studies, ids[1] + ".nii.gz")).shape


@pytest.mark.parametrize("path, params, raw, status, detail", [
    ("/infer/other?image={id}", {}, None, 404, "unknown model 'other'"),
    ("/infer/autopet_interactive?image=nope", {}, None, 404, "unknown image 'nope'"),
    ("/infer/autopet_interactive?image={id}", None, b"{not json", 400, "params is not JSON"),
    ("/infer/autopet_interactive?image={id}", {"tumor": [[1, 2]]}, None, 422, "'tumor' must be a list of [i, j, k]"),
    ("/infer/autopet_interactive?image={id}", {"background": [[1, 2, 9999]]}, None, 422, "lies outside the volume"),
])
def test_bad_requests_are_4xx_with_a_message(server, path, params, raw, status, detail):
    base, ids, _ = server
    code, _, body = _request(base + path.format(id=ids[0]), params, raw)
    assert code == status and detail in json.loads(body)["detail"]
