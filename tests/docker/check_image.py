"""`make docker-test`: builds the batch-inference image and runs it, as a non-root user, on a phantom of every
shipped model set; checks from the host that each output is there, on its input's grid (nibabel / OpenCV, or
the DICOM tags with pydicom),
owned by that user and readable by others (mode 0644 under the container's umask 022). Then runs the image as the
3D Slicer server (`--entrypoint medseg-server`, an access token, the studies mounted read-only) and drives it from the
host with MONAI Label's client: login, info, one automatic segmentation read back on its input's grid.

The container runs with `--user UID:GID` (the caller's; a user without a passwd entry or HOME when the caller
is root), `--read-only --tmpfs /tmp` (nothing is written outside the mounted folders but
TensorFlow's in-memory /tmp), `--network none` (nothing is
downloaded at run time) and the inputs mounted read-only.

Usage: python -m tests.docker.check_image [--image medseg] [--nobuild] [--keep]
"""
from __future__ import annotations

import preprocessing.quiet_startup  # noqa: F401  (first: hides TensorFlow's start-up lines)

import glob
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time

from absl import app, flags

from inference.model_sets import find_model_sets

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

flags.DEFINE_string("image", "medseg", "Image tag to build and run.")
flags.DEFINE_bool("build", True, "Build the image first (docker build --network host).")
flags.DEFINE_bool("keep", False, "Keep the temporary folder with the phantoms and outputs.")
FLAGS = flags.FLAGS

BASE_IMAGE = "python:3.11-slim"
NON_ROOT = (4242, 4242)
# pipeline -> (preprocessing.synthetic arguments, input folder, reference folder with the input grid: label files,
# or for a DICOM input its series folders, read by their tags)
PHANTOMS = {
    "cfcm": (["montgomery", "--num_cases", "1", "--max_side", "1024"], "CXR_png", "ManualMask/leftMask"),
    "efficient_scn": (["flare21", "--num_cases", "0", "--num_validation_cases", "1", "--in_plane_size", "256"],
                      "ValidationImg", "ValidationMask"),
    "rstn": (["nih_pancreas", "--num_cases", "1", "--in_plane_size", "192"], "Pancreas-CT",
             "TCIA_pancreas_labels-02-05-2017"),
    "interactive": (["autopet", "--num_cases", "1", "--in_plane_size", "96", "--body_scale", "0.5"], "imagesTr",
                    "labelsTr"),
    "nodules": (["lidc", "--num_cases", "1", "--in_plane_size", "128", "--field_of_view_mm", "180,200",
                 "--axial_extent_mm", "70,80"], "LIDC-IDRI", "LIDC-IDRI/*/*/*"),
}


def _build(image: str) -> None:
    if subprocess.run(["docker", "image", "inspect", BASE_IMAGE], capture_output=True).returncode != 0:
        print(f"note: {BASE_IMAGE} is not here; docker build pulls it (offline: bash ../shared/tools/"
              "docker-base-image.sh, a stand-in that builds it from Debian packages)", flush=True)
    subprocess.run(["docker", "build", "--network", "host", "-t", image, REPO], check=True)


def _grid_problems(output: str, reference: str) -> list[str]:
    """Differences between the output's grid and the reference's (the input's grid: an image, or a DICOM series
    folder), read independently."""
    if os.path.isdir(reference):
        import nibabel as nib
        import numpy as np

        from tests.dicom_grid import dicom_affine

        out = nib.load(output)
        affine, shape = dicom_affine(reference)
        problems = [] if out.shape == shape else [f"shape {out.shape} != input {shape}"]
        if not np.allclose(out.affine, affine, atol=1e-3):
            problems.append(f"affine {out.affine.round(4).tolist()} != input {affine.round(4).tolist()}")
        return problems
    if output.endswith(".png"):
        import cv2

        shapes = [cv2.imread(path, cv2.IMREAD_UNCHANGED).shape[:2] for path in (output, reference)]
        return [] if shapes[0] == shapes[1] else [f"size {shapes[0]} != input {shapes[1]}"]
    import nibabel as nib
    import numpy as np

    out, ref = nib.load(output), nib.load(reference)
    problems = [] if out.shape == ref.shape else [f"shape {out.shape} != input {ref.shape}"]
    if not np.allclose(out.affine, ref.affine, atol=1e-4):
        problems.append(f"affine {out.affine.round(4).tolist()} != input {ref.affine.round(4).tolist()}")
    return problems


def _check_set(name: str, pipeline: str, work: str, user: tuple[int, int]) -> list[str]:
    """Runs the image on one phantom for the model set `name`; returns the problems found (empty: passed)."""
    arguments, input_folder, reference_folder = PHANTOMS[pipeline]
    data, outputs = os.path.join(work, name, "data"), os.path.join(work, name, "out")
    subprocess.run([sys.executable, "-m", "preprocessing.synthetic", *arguments, "--output_folder", data,
                    "--seed", "2026"], check=True, cwd=REPO, capture_output=True)
    os.makedirs(outputs)
    os.chown(outputs, *user)
    command = ["docker", "run", "--rm", "--read-only", "--tmpfs", "/tmp", "--network", "none",
               "--user", f"{user[0]}:{user[1]}",
               "-v", f"{os.path.join(data, input_folder)}:/workspace/inputs:ro", "-v", f"{outputs}:/workspace/outputs",
               FLAGS.image, "--model", name]
    start = time.monotonic()
    run = subprocess.run(command, capture_output=True, text=True, encoding="utf-8", errors="replace")
    print(f"{name}: docker run exit {run.returncode} in {time.monotonic() - start:.0f} s", flush=True)
    if run.returncode != 0:
        return [f"exit {run.returncode}: {run.stderr.strip()[-1500:]}"]
    noise = [line for line in re.split(r"[\r\n]+", run.stderr) if line.strip() and not line.startswith("cases:")]
    problems = [f"stderr has more than the progress bar: {noise[:5]}"] if noise else []
    findings = sorted(n for n in os.listdir(outputs) if n.endswith(".json"))
    written = sorted(n for n in os.listdir(outputs) if n != "summary.csv" and n not in findings)
    references = sorted(glob.glob(os.path.join(data, reference_folder, "*")) if "*" not in reference_folder else
                        glob.glob(os.path.join(data, reference_folder)))
    if len(written) != 1 or len(references) != 1 or any(n.startswith(".") for n in written) or len(findings) > 1:
        return problems + [f"outputs {written + findings} for references {references}"]
    problems += _grid_problems(os.path.join(outputs, written[0]), references[0])
    for file in (written[0], *findings, "summary.csv"):
        status = os.stat(os.path.join(outputs, file))
        if (status.st_uid, status.st_gid) != user or stat.S_IMODE(status.st_mode) != 0o644:
            problems.append(f"{file}: owner {status.st_uid}:{status.st_gid} mode {stat.S_IMODE(status.st_mode):o}, "
                            f"expected {user[0]}:{user[1]} mode 644")
    print(f"{name}: {written[0]} {'ok' if not problems else 'FAILED'}", flush=True)
    return problems


def _check_server(work: str, user: tuple[int, int]) -> list[str]:
    """Runs the image as the Slicer server on a chest film and drives it with MONAI Label's client from the host;
    returns the problems found."""
    import socket
    import urllib.request

    import cv2
    from monailabel.client import MONAILabelClient

    data = os.path.join(work, "server")
    subprocess.run([sys.executable, "-m", "preprocessing.synthetic", *PHANTOMS["cfcm"][0], "--output_folder", data,
                    "--seed", "2026"], check=True, cwd=REPO, capture_output=True)
    studies = os.path.join(data, PHANTOMS["cfcm"][1])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = "docker-test-token"
    container = subprocess.run(
        ["docker", "run", "-d", "--rm", "--read-only", "--tmpfs", "/tmp", "--user", f"{user[0]}:{user[1]}",
         "-p", f"127.0.0.1:{port}:8000", "-v", f"{studies}:/data:ro", "--entrypoint", "medseg-server", FLAGS.image,
         "--studies", "/data", "--host", "0.0.0.0", "--api_token", token, "--datastore", "/tmp/store",
         "--models", "cxr_lungs", "--saved_models_folder", "/opt/medseg/saved_models"],
        capture_output=True, text=True, check=True).stdout.strip()
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(180):
            try:
                urllib.request.urlopen(f"{url}/auth/", timeout=2).read()
                break
            except OSError:
                time.sleep(1)
        client = MONAILabelClient(url, tmpdir=work)
        if not client.auth_enabled():
            return ["the server in the image does not ask for its token"]
        client.update_auth(client.auth_token("docker", token))
        models = client.info()["models"]
        film = sorted(os.listdir(studies))[0]
        result, params = client.infer("cxr_lungs", film[: -len(".png")], {"result_extension": ".nii.gz"})
        import SimpleITK as sitk

        shape = sitk.GetArrayFromImage(sitk.ReadImage(result)).shape
        reference = cv2.imread(os.path.join(studies, film), cv2.IMREAD_UNCHANGED).shape[:2]
        problems = [] if shape == reference else [f"server result {shape} != film {reference}"]
        problems += [] if models.get("cxr_lungs", {}).get("type") == "segmentation" else [f"info: {models}"]
        problems += [] if params.get("label_names", {}).get("left_lung") == 2 else [f"params: {params}"]
        print(f"server: /info/, login and /infer/cxr_lungs {'ok' if not problems else 'FAILED'}", flush=True)
        return problems
    except Exception as error:  # noqa: BLE001 - reported with the container's log
        logs = subprocess.run(["docker", "logs", container], capture_output=True, text=True).stderr[-1500:]
        return [f"{error!r}; container log: {logs}"]
    finally:
        subprocess.run(["docker", "stop", container], capture_output=True)


def main(argv: list[str]) -> int:
    del argv
    if shutil.which("docker") is None or subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        print("error: no running Docker engine (offline: bash ../shared/tools/docker-base-image.sh starts one)",
              file=sys.stderr)
        return 2
    if FLAGS.build:
        _build(FLAGS.image)
    sets = find_model_sets(os.path.join(REPO, "saved_models"))
    unknown = sorted(s.name for s in sets.values() if s.manifest["pipeline"] not in PHANTOMS)
    if unknown:
        print(f"error: no phantom for the model set(s) {', '.join(unknown)}; add their pipeline to PHANTOMS",
              file=sys.stderr)
        return 2
    user = NON_ROOT if os.getuid() == 0 else (os.getuid(), os.getgid())
    work = tempfile.mkdtemp(prefix="medseg-docker-test-")
    try:
        failures = {name: _check_set(name, s.manifest["pipeline"], work, user) for name, s in sorted(sets.items())}
        failures["medseg-server"] = _check_server(work, user)
    finally:
        if FLAGS.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work)
    failures = {name: problems for name, problems in failures.items() if problems}
    for name, problems in failures.items():
        print(f"FAILED {name}: " + "; ".join(problems), file=sys.stderr)
    failed_sets = len([name for name in failures if name in sets])
    server = "the server" if "medseg-server" not in failures else "not the server"
    print(f"{len(sets) - failed_sets} of {len(sets)} model sets and {server} ran in the image as user "
          f"{user[0]}:{user[1]}")
    return 1 if failures else 0


if __name__ == "__main__":
    app.run(main)
