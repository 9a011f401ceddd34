"""The MONAI Label-protocol server driven by MONAI Label's own client (`monailabel.client.MONAILabelClient`, the one
3D Slicer's module embeds) through the module's workflow: auth check, info, next sample, download, upload, session,
clicks in both of the module's formats with `.nrrd` / uint8 results on the image's exact grid, an automatic set,
label submission, the datastore listing, and the 4xx replies; then concurrency and the access token."""
import json
import os
import shutil
import threading
import urllib.error
import urllib.request

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk
from monailabel.client import MONAILabelClient
from monailabel.client.client import MONAILabelClientException
from werkzeug.serving import make_server

from benchmarks.server_load import run_load
from inference.model_sets import find_model_sets
from inference.pipeline import RunOptions
from inference.server.app import create_app
from inference.server.datastore import Datastore, DatastoreError
from inference.server.models import ServedModel
from inference.server.sessions import SessionStore
from preprocessing.cases import autopet_cases
from tests.conftest import REPO, run_module

TOKEN = "s3cret-token"


def start(models, studies, store, token="", max_upload_mb=64):
    http = make_server("127.0.0.1", 0, create_app(models, Datastore(studies, store), SessionStore(600), token,
                                                  max_upload_mb), threaded=True)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    return http, f"http://127.0.0.1:{http.server_port}"


@pytest.fixture(scope="module")
def served(autopet_folder, interactive_model_set, montgomery_folder, tmp_path_factory):
    studies = tmp_path_factory.mktemp("studies")
    pets = [case.image_path for case in autopet_cases(autopet_folder)[:2]]
    for path in pets:
        shutil.copy(path, studies)
    film = sorted(os.listdir(os.path.join(montgomery_folder, "CXR_png")))[0]
    shutil.copy(os.path.join(montgomery_folder, "CXR_png", film), studies)
    sets = {**find_model_sets(os.path.join(REPO, "saved_models")), **find_model_sets(interactive_model_set)}
    models = {name: ServedModel(sets[name], RunOptions()) for name in ("autopet_interactive", "cxr_lungs")}
    store = tmp_path_factory.mktemp("store")
    http, url = start(models, str(studies), str(store))
    yield url, str(studies), models, [os.path.basename(p)[:-7] for p in pets], film[:-4], str(store)
    http.shutdown()


def test_the_slicer_workflow_with_monai_labels_client(served, tmp_path):
    url, studies, _, pets, film, store = served
    before = sorted(os.listdir(studies))
    client = MONAILabelClient(url, tmpdir=str(tmp_path), client_id="slicer-test")
    assert client.auth_enabled() is False
    info = client.info()
    assert info["models"]["autopet_interactive"]["type"] == "deepedit"
    assert info["models"]["autopet_interactive"]["labels"] == {"background": 0, "lesion": 1}
    assert info["models"]["cxr_lungs"] == {**info["models"]["cxr_lungs"], "type": "segmentation", "dimension": 2,
                                           "labels": {"background": 0, "right_lung": 1, "left_lung": 2}}
    assert set(info["strategies"]) == {"first", "random"} and info["datastore"]["total"] == 3

    sample = client.next_sample("first", {})
    assert sample["id"] == sorted([*pets, film])[0] and os.path.isfile(sample["path"])

    # A volume opened locally: uploaded to the datastore, and sent as a session.
    source = os.path.join(studies, pets[0] + ".nii.gz")
    assert client.upload_image(source, "local_pet")["image"] == "local_pet"
    slicer_name = client.upload_image(source, "3: CT Chest")["image"]  # a DICOM-loaded volume's node name
    assert slicer_name.startswith("3__CT_Chest-")
    assert client.infer("autopet_interactive", "3: CT Chest", {"lesion": [[20, 20, 30]]})[1]["clicks"] == 1
    session = client.create_session(source)
    assert client.get_session(session["session_id"])["image"].endswith(".nii.gz")

    # Clicks in the DeepEdit multi-label format, answered as .nrrd / uint8 on the image's grid.
    image = sitk.ReadImage(source)
    params = {"lesion": [[20, 20, 30]], "background": [[2, 2, 2]], "label": "lesion",
              "result_extension": ".nrrd", "result_dtype": "uint8"}
    for kwargs in ({"image_id": "local_pet"}, {"image_id": "local_pet", "session_id": session["session_id"]},
                   {"image_id": "anything", "file": source}):
        result, reply = client.infer("autopet_interactive", params=dict(params), **kwargs)
        label = sitk.ReadImage(result)
        assert result.endswith(".nrrd") and label.GetPixelID() == sitk.sitkUInt8
        assert label.GetSize() == image.GetSize() and np.allclose(label.GetSpacing(), image.GetSpacing())
        assert np.allclose(label.GetOrigin(), image.GetOrigin()) and np.allclose(label.GetDirection(),
                                                                                  image.GetDirection())
        assert reply["label_names"] == {"background": 0, "lesion": 1} and reply["clicks"] == 2

    # The single-label format, uint16 NIfTI, checked with nibabel against the stored image.
    single = {"label": "lesion", "foreground": [[20, 20, 30]], "background": [], "result_extension": ".nii.gz",
              "result_dtype": "uint16", "reset_state": True}
    result, reply = client.infer("autopet_interactive", "local_pet", single)
    written, stored = nib.load(result), nib.load(source)
    assert written.get_data_dtype() == np.uint16 and written.shape == stored.shape
    assert np.allclose(written.affine, stored.affine, atol=1e-4) and reply["clicks"] == 1
    assert reply["session"] == "new" and reply["windows_run"] >= reply["windows"], "reset_state starts afresh"

    # An automatic set on a chest film.
    result, reply = client.infer("cxr_lungs", film, {"result_extension": ".nii.gz"})
    lungs = sitk.GetArrayFromImage(sitk.ReadImage(result))
    assert lungs.shape == sitk.GetArrayFromImage(sitk.ReadImage(os.path.join(studies, film + ".png"))).shape[:2]
    assert set(np.unique(lungs)) <= {0, 1, 2} and reply["label_names"]["left_lung"] == 2

    # Submit Label, then the datastore lists it, serves it back, and the next sample skips the image.
    submitted = tmp_path / "submitted.nrrd"
    shutil.copy(client.infer("autopet_interactive", "local_pet", dict(params))[0], submitted)
    saved = client.save_label("local_pet", str(submitted), tag="final",
                              params={"label_info": [{"name": "lesion", "idx": 1}]})
    assert saved == {"image": "local_pet", "label": "local_pet"}
    objects = client.datastore()["objects"]
    assert objects["local_pet"]["labels"]["final"]["ext"] == ".nrrd"
    assert objects["local_pet"]["labels"]["final"]["info"]["label_info"][0]["name"] == "lesion"
    np.testing.assert_array_equal(sitk.GetArrayFromImage(sitk.ReadImage(client.download_label("local_pet", "final"))),
                                  sitk.GetArrayFromImage(sitk.ReadImage(str(submitted))))
    waiting = {client.next_sample("random", {})["id"] for _ in range(40)}
    assert waiting == set(objects) - {"local_pet"}, "a random next sample is any image without a final label"
    assert client.remove_session(session["session_id"])["name"] == session["session_id"]
    with pytest.raises(MONAILabelClientException):
        client.get_session(session["session_id"])
    with urllib.request.urlopen(f"{url}/datastore/image?image={pets[1]}") as response:
        assert response.read() == open(os.path.join(studies, pets[1] + ".nii.gz"), "rb").read()
    assert sorted(os.listdir(studies)) == before, "the studies folder is only read"
    restarted = Datastore(studies, store).listing("all")["objects"]
    assert "final" in restarted["local_pet"]["labels"], "a restarted server lists what was uploaded and labelled"


def request(url, method="GET", data=None, headers=None):
    call = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(call, timeout=300) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def form(fields: dict, files: dict) -> tuple[bytes, dict]:
    boundary = "testboundary"
    parts = [f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n".encode()
             for k, v in fields.items()]
    parts += [f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"; filename=\"{name}\"\r\n\r\n".encode()
              + data + b"\r\n" for k, (name, data) in files.items()]
    end = f"--{boundary}--\r\n".encode()
    return b"".join(parts) + end, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


@pytest.mark.parametrize("method, path, fields, files, status, detail", [
    ("POST", "/infer/other?image={pet}", {}, {}, 404, "unknown model 'other'"),
    ("POST", "/infer/autopet_interactive?image=nope", {}, {}, 404, "unknown image 'nope'"),
    ("POST", "/infer/autopet_interactive?image=../../etc/passwd", {}, {}, 404, "unknown image"),
    ("POST", "/infer/autopet_interactive?image={pet}", {"params": "{not json"}, {}, 400, "params is not JSON"),
    ("POST", "/infer/autopet_interactive?image={pet}", {"params": '{"lesion": [[1, 2]]}'}, {}, 422,
     "'lesion' must be a list of [i, j, k]"),
    ("POST", "/infer/autopet_interactive?image={pet}", {"params": '{"background": [[1, 2, 9999]]}'}, {}, 422,
     "lies outside the volume"),
    ("POST", "/infer/autopet_interactive?image={pet}", {"params": '{"result_extension": ".exe"}'}, {}, 422,
     "result_extension must be one of"),
    ("POST", "/infer/autopet_interactive?image={pet}&output=xml", {}, {}, 422, "output must be one of"),
    ("PUT", "/datastore/?image=../evil", {}, {"file": ("x.nii.gz", b"x")}, 422, "evil-"),
    ("PUT", "/datastore/?image=bad", {}, {"file": ("x.nii.gz", b"not an image")}, 422, "bad.nii.gz"),
    ("PUT", "/datastore/?image=bad", {}, {"file": ("x.sh", b"#!")}, 415, "not an image this server reads"),
    ("PUT", "/datastore/label?image={pet}&tag=final", {}, {"label": ("l.nii.gz", b"junk")}, 422, "nii.gz"),
    ("POST", "/activelearning/smartest", {}, {}, 404, "unknown strategy"),
    ("GET", "/session/0123", {}, {}, 404, "not found"),
    ("PUT", "/datastore/?image=huge", {}, {"file": ("huge.nii.gz", b"0" * (65 << 20))}, 413, "too large"),
])
def test_bad_requests_are_4xx_with_one_message_and_write_nothing(served, method, path, fields, files, status,
                                                                 detail):
    url, studies, _, pets, _, store = served
    before = sorted(os.listdir(studies)), sorted(os.listdir(os.path.join(store, "images")))
    body, headers = form(fields, files) if fields or files else (None, {})
    code, reply = request(url + path.format(pet=pets[0]), method, body, headers)
    assert code == status and detail in json.loads(reply)["detail"]
    assert (sorted(os.listdir(studies)), sorted(os.listdir(os.path.join(store, "images")))) == before
    assert not os.path.exists(os.path.join(store, "evil.nii.gz"))


def test_a_label_off_the_image_grid_is_refused(served, tmp_path):
    url, _, _, pets, _, store = served
    client = MONAILabelClient(url, tmpdir=str(tmp_path))
    wrong = tmp_path / "wrong.nii.gz"
    sitk.WriteImage(sitk.Image([5, 6, 7], sitk.sitkUInt8), str(wrong))
    with pytest.raises(MONAILabelClientException, match="is not on the image"):
        client.save_label(pets[1], str(wrong), tag="final")
    assert not os.path.exists(os.path.join(store, "labels", "final", pets[1] + ".nii.gz"))


def test_concurrent_requests_to_two_models_all_succeed(served, tmp_path):
    url, _, _, pets, film, _ = served
    results, errors = [], []

    def call(model, image, params):
        try:
            results.append(MONAILabelClient(url, tmpdir=str(tmp_path)).infer(model, image, params)[1])
        except Exception as error:  # noqa: BLE001 - collected and reported by the assertion below
            errors.append(repr(error))

    calls = [("autopet_interactive", pets[i % 2], {"lesion": [[20, 20, 30 + i]], "background": []}) for i in range(3)]
    calls += [("cxr_lungs", film, {})] * 2
    threads = [threading.Thread(target=call, args=c) for c in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
    assert not errors and len(results) == len(calls)


def test_an_access_token_guards_every_route_but_login(served, tmp_path):
    _, studies, models, _, _, store = served
    http, url = start(models, studies, store, TOKEN)
    try:
        client = MONAILabelClient(url, tmpdir=str(tmp_path))
        assert client.auth_enabled() is True
        with pytest.raises(MONAILabelClientException, match="401"):
            client.info()
        with pytest.raises(MONAILabelClientException, match="401"):
            client.auth_token("user", "wrong")
        client.update_auth(client.auth_token("user", TOKEN))
        assert "autopet_interactive" in client.info()["models"] and client.auth_valid_token()
        assert request(f"{url}/datastore/?output=stats")[0] == 401
    finally:
        http.shutdown()


def test_the_datastore_folder_is_never_inside_the_studies_folder(tmp_path):
    with pytest.raises(ValueError, match="must not be inside the studies folder"):
        Datastore(str(tmp_path), str(tmp_path / "store"))
    (tmp_path / "studies").mkdir()
    with pytest.raises(ValueError, match="nor hold it"):
        Datastore(str(tmp_path / "studies"), str(tmp_path))
    with pytest.raises(DatastoreError, match="unknown image"):
        Datastore(str(tmp_path), str(tmp_path.parent / "store_of_test")).image_path("../x")


def test_a_vector_volume_is_refused_by_the_server_and_the_entrypoint(served, tmp_path):
    """A 30-component 30 x 20 x 3 NIfTI used to be segmented as if it were a CT."""
    url, _, _, _, _, _ = served
    vector = tmp_path / "vector.nii.gz"
    sitk.WriteImage(sitk.GetImageFromArray(np.zeros((3, 20, 30, 30), np.float32), isVector=True), str(vector))
    body, headers = form({"params": "{}"}, {"file": ("vector.nii.gz", vector.read_bytes())})
    code, reply = request(f"{url}/infer/autopet_interactive?image=x", "POST", body, headers)
    assert code == 422 and "30 components per voxel" in json.loads(reply)["detail"]
    out = tmp_path / "out"
    result = run_module("inference", "--input_path", str(vector), "--output_path", str(out), "--model", "flare21",
                        "--saved_models_folder", os.path.join(REPO, "saved_models"))
    assert result.returncode == 1 and "30 components per voxel" in result.stderr
    assert not os.path.exists(out / "vector.nii.gz")


def test_a_bounded_load_of_four_clients_is_answered_in_full(served, tmp_path):
    """4 clients x 5 requests at once (info, datastore, clicks on two images, uploads): every reply checked."""
    url, studies, _, pets, _, _ = served
    latencies, errors = run_load(url, pets, os.path.join(studies, pets[0] + ".nii.gz"), "autopet_interactive",
                                 4, 5, str(tmp_path))
    assert not errors and sum(len(v) for v in latencies.values()) == 20
    assert set(latencies) == {"info", "datastore", "infer", "upload"}
