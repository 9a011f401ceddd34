"""Hostile inputs in one batch with a valid X-ray (shipped cxr_lungs set): each bad input is one line naming
it, the valid cases are still segmented (an all-air volume as all background, with a note), the exit code is 1,
nothing is left behind and no input is touched. Runs stopped by SIGTERM or kill -9, and a second run into a folder
being written."""
import csv
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time

import nibabel as nib
import numpy as np
import pydicom
import pytest
import SimpleITK as sitk

from preprocessing.image_geometry import ImageGeometry
from preprocessing.image_io import read_image, write_image
from preprocessing.synthetic.dicom import write_ct_series
from tests.conftest import REPO, run_module



def _volume(path: str, dtype=np.int16, spacing=(0.8, 0.8, 2.5), slices: int = 8, nan: bool = False,
            truncate: bool = False, zero_spacing: bool = False) -> None:
    array = np.random.default_rng(0).integers(-1000, 1000, (slices, 32, 32)).astype(dtype)
    if nan:
        array[2, 3, 4] = np.nan
    write_image(array, ImageGeometry((32, 32, slices), spacing, (0, 0, 0), (1, 0, 0, 0, 1, 0, 0, 0, 1)), path)
    if zero_spacing:
        image = nib.load(path)
        image = nib.Nifti1Image(np.asarray(image.dataobj), image.affine, image.header)
        image.header["pixdim"][3] = 0.0
        nib.save(image, path)
    if truncate:
        os.truncate(path, os.path.getsize(path) // 2)


# name -> (how to make it in the input folder, the one line expected)
ROWS = {
    "truncated.nii.gz": (lambda path: _volume(path, truncate=True), "compressed data is truncated"),
    "zero_spacing.nii.gz": (lambda path: _volume(path, zero_spacing=True), "voxel spacing 0.8, 0.8, 0 mm"),
    "nan.nii.gz": (lambda path: _volume(path, np.float32, nan=True), "1 voxel(s) are NaN or infinite"),
    "ct_slice.nii.gz": (lambda path: _volume(path, slices=1), "not known to be a radiograph; choose a model set"),
    "long.nii.gz": (lambda path: _volume(path, spacing=(0.8, 0.8, 50.0), slices=64),
                    "extent 26 x 26 x 3200 mm (x, y, z) exceeds 2000 mm along an axis"),
    "fifo.png": (lambda path: os.mkfifo(path), "not a regular file (a FIFO, socket or device)"),
    b"bad\xffname.png": (lambda path: open(path, "wb").write(b"x" * 10), "file name is not valid UTF-8"),
    "empty.png": (lambda path: open(path, "wb").close(), "empty file (0 bytes)"),
    "vector.nii.gz": (lambda path: sitk.WriteImage(sitk.GetImageFromArray(np.zeros((3, 20, 30, 30), np.float32),
                                                                          isVector=True), path),
                      "has 30 components per voxel (an RGB or vector image); one value per voxel expected"),
    "clash.png": (lambda path: open(path, "wb").write(b"x" * 10), "gives the output name 'clash' as clash.jpg does"),
    "clash.jpg": (lambda path: open(path, "wb").write(b"x" * 10), "gives the output name 'clash' as clash.png does"),
}
if os.geteuid() != 0:
    ROWS["locked.png"] = (lambda path: (open(path, "wb").write(b"x"), os.chmod(path, 0)), "permission denied")


def test_bad_inputs_are_one_line_each_and_the_valid_case_is_segmented(montgomery_folder, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    valid = sorted(os.listdir(os.path.join(montgomery_folder, "CXR_png")))[0]
    shutil.copy(os.path.join(montgomery_folder, "CXR_png", valid), inputs / valid)
    for name, (make, _) in ROWS.items():
        make(os.path.join(os.fsencode(inputs), name) if isinstance(name, bytes) else str(inputs / name))
    air = ImageGeometry((64, 64, 40), (4.0, 4.0, 5.0), (0, 0, 0), (1, 0, 0, 0, 1, 0, 0, 0, 1))
    write_image(np.full((40, 64, 64), -1000, np.int16), air, str(inputs / "air.nii.gz"))
    before = {entry.name: entry.stat(follow_symlinks=False) for entry in os.scandir(os.fsencode(inputs))}
    outputs = tmp_path / "out"
    result = run_module("inference", "--input_path", str(inputs), "--output_path", str(outputs),
                        "--saved_models_folder", os.path.join(REPO, "saved_models"), timeout=300)
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    failed = [line for line in result.stderr.splitlines() if line.startswith("FAILED ")]
    for name, (_, message) in ROWS.items():
        shown = name.decode("utf-8", "backslashreplace") if isinstance(name, bytes) else name
        lines = [line for line in failed if shown in line.split(":")[0]]
        assert len(lines) == 1 and message in lines[0], (name, failed)
    assert f"2 ok, 0 skipped (already done), {len(ROWS)} failed" in result.stdout
    assert os.path.exists(outputs / valid)
    air = next(row for row in csv.DictReader(open(outputs / "summary.csv")) if row["case"] == "air")
    assert air["status"] == "ok" and air["note"].startswith("empty: the localization found no region")
    assert not read_image(str(outputs / "air.nii.gz"))[0].any()
    assert not [n for n in os.listdir(outputs) if n.startswith(".")], "no temporary files left"
    after = {entry.name: entry.stat(follow_symlinks=False) for entry in os.scandir(os.fsencode(inputs))}
    assert {n: (s.st_mtime_ns, s.st_size, stat.S_IFMT(s.st_mode)) for n, s in after.items()} == {
        n: (s.st_mtime_ns, s.st_size, stat.S_IFMT(s.st_mode)) for n, s in before.items()}


def test_a_fifo_never_blocks_the_reader(tmp_path):
    from preprocessing.image_io import ImageReadError, image_dimension, read_image

    os.mkfifo(tmp_path / "fifo.nii.gz")
    for read in (image_dimension, read_image):
        with pytest.raises(ImageReadError, match="not a regular file"):
            read(str(tmp_path / "fifo.nii.gz"))


def _xray_batch(montgomery_folder: str, folder, copies: int) -> None:
    folder.mkdir()
    images = os.path.join(montgomery_folder, "CXR_png")
    source = os.path.join(images, sorted(os.listdir(images))[0])
    for index in range(copies):
        shutil.copy(source, folder / f"xr_{index:03d}.png")


def _start(inputs, outputs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "inference", "--input_path", str(inputs), "--output_path",
                             str(outputs), "--saved_models_folder", os.path.join(REPO, "saved_models")],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
                            errors="replace")


def _wait_for_first_output(process: subprocess.Popen, outputs) -> None:
    deadline = time.monotonic() + 120
    while not (outputs.is_dir() and any(n.endswith(".png") and not n.startswith(".") for n in os.listdir(outputs))):
        assert process.poll() is None and time.monotonic() < deadline, "the run ended before its first output"
        time.sleep(0.02)


def test_sigterm_stops_between_cases_and_writes_the_summary_so_far(montgomery_folder, tmp_path):
    inputs, outputs = tmp_path / "in", tmp_path / "out"
    _xray_batch(montgomery_folder, inputs, 60)
    process = _start(inputs, outputs)
    _wait_for_first_output(process, outputs)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr[-2000:]
    rows = list(csv.DictReader(open(outputs / "summary.csv")))
    statuses = [row["status"] for row in rows]
    assert len(rows) == 60 and statuses[0] == "ok" and statuses[-1] == "interrupted"
    assert set(statuses) == {"ok", "interrupted"} and "interrupted" in stdout.splitlines()[-1]
    written = sorted(n for n in os.listdir(outputs) if n.endswith(".png"))
    assert written == [row["case"] + ".png" for row in rows if row["status"] == "ok"], "no partial output"
    assert not [n for n in os.listdir(outputs) if n.startswith(".")]


def test_kill_9_then_a_rerun_completes_and_leaves_no_temporary_file(montgomery_folder, tmp_path):
    inputs, outputs = tmp_path / "in", tmp_path / "out"
    _xray_batch(montgomery_folder, inputs, 30)
    process = _start(inputs, outputs)
    _wait_for_first_output(process, outputs)
    process.kill()
    process.communicate(timeout=60)
    (outputs / ".tmp-xr_029.png.abc123.tmp.png").write_bytes(b"half a file")
    result = run_module("inference", "--input_path", str(inputs), "--output_path", str(outputs),
                        "--saved_models_folder", os.path.join(REPO, "saved_models"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "temporary file(s) an interrupted run left" in result.stderr
    expected = [f"xr_{i:03d}{suffix}" for i in range(30) for suffix in (".png", ".json")] + ["summary.csv"]
    assert sorted(os.listdir(outputs)) == sorted(expected), "every film's mask and findings, nothing else"
    modes = {stat.S_IMODE(os.stat(outputs / name).st_mode) for name in os.listdir(outputs)}
    assert modes == {0o666 & ~_umask()}, "outputs get the process umask's permissions"


def test_a_second_run_into_a_folder_being_written_is_refused(montgomery_folder, tmp_path):
    from inference.preflight import lock_output_folder

    inputs, outputs = tmp_path / "in", tmp_path / "out"
    _xray_batch(montgomery_folder, inputs, 1)
    outputs.mkdir()
    lock = lock_output_folder(str(outputs))
    try:
        assert lock is not None and lock_output_folder(str(outputs)) is None
        second = run_module("inference", "--input_path", str(inputs), "--output_path", str(outputs),
                            "--saved_models_folder", os.path.join(REPO, "saved_models"))
    finally:
        os.close(lock)
    assert second.returncode == 2 and "another inference run is writing into this folder" in second.stderr
    assert os.listdir(outputs) == []


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _series_without_frame_of_reference(path: str) -> None:
    geometry = ImageGeometry((64, 64, 8), (0.8, 0.8, 2.5), (0.0, 0.0, 0.0), (1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0))
    for file in write_ct_series(path, np.full((8, 64, 64), -100, np.int16), geometry, "P^3", "88"):
        dataset = pydicom.dcmread(file)
        del dataset.FrameOfReferenceUID
        dataset.save_as(file)


def _two_patients(path: str) -> None:
    """A dataset's root given as one case: two patients' nested series (TCIA's Pancreas-CT/PANCREAS_000N/...)."""
    geometry = ImageGeometry((64, 64, 8), (0.8, 0.8, 2.5), (0.0, 0.0, 0.0), (1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0))
    for index in (1, 2):
        write_ct_series(os.path.join(path, f"PANCREAS_000{index}", "study", "series"),
                        np.full((8, 64, 64), -100, np.int16), geometry, f"PANCREAS_000{index}", str(90 + index))


# the CT pipelines with --dicom_seg: the bad volumes, a folder of two patients, and a DICOM series a SEG cannot be
# placed in
CT_ROWS = {**{name: ROWS[name] for name in ("truncated.nii.gz", "zero_spacing.nii.gz", "nan.nii.gz", "long.nii.gz")},
           "two_patients": (_two_patients, "holds the DICOM series of 2 patients (PANCREAS_0001, PANCREAS_0002)"),
           "no_frame_of_reference": (_series_without_frame_of_reference,
                                     "no DICOM SEG: the series has no Frame of Reference UID")}


@pytest.mark.parametrize("model", ["flare21", "pancreas_rstn"])
def test_every_ct_pipeline_refuses_the_bad_volumes_in_one_line_each(model, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name, (make, _) in CT_ROWS.items():
        make(str(inputs / name))
    result = run_module("inference", "--input_path", str(inputs), "--output_path", str(tmp_path / "out"),
                        "--saved_models_folder", os.path.join(REPO, "saved_models"), "--model", model, "--dicom_seg")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    failed = [line for line in result.stderr.splitlines() if line.startswith("FAILED ")]
    for name, (_, message) in CT_ROWS.items():
        lines = [line for line in failed if name in line.split(":")[0]]
        assert len(lines) == 1 and message in lines[0], (name, failed)
    assert f"0 ok, 0 skipped (already done), {len(CT_ROWS)} failed" in result.stdout
    assert sorted(os.listdir(tmp_path / "out")) == ["summary.csv"]


def _break_saved_model(member: str, how: str) -> None:
    variables = os.path.join(member, "variables")
    if how == "truncated saved_model.pb":
        graph = os.path.join(member, "saved_model.pb")
        os.truncate(graph, os.path.getsize(graph) // 2)
    elif how == "truncated variables":
        data = next(os.path.join(variables, n) for n in os.listdir(variables) if ".data-" in n)
        os.truncate(data, os.path.getsize(data) // 2)
    else:
        shutil.rmtree(variables)


# protobuf 7 says "Wire format was corrupt", protobuf 6 (the one Apache Beam pins) "Error parsing message".
@pytest.mark.parametrize("how, message", [("truncated saved_model.pb", "Wire format was corrupt|Error parsing message"),
                                          ("truncated variables", "Read less bytes than requested"),
                                          ("missing variables", "Failed to find any matching files")])
def test_a_broken_saved_model_stops_the_run_before_any_case_in_one_line(montgomery_folder, tmp_path, how, message):
    models = tmp_path / "models"
    shutil.copytree(os.path.join(REPO, "saved_models", "cxr_lungs"), models / "cxr_lungs")
    member = str(models / "cxr_lungs" / "cfcm")
    _break_saved_model(member, how)
    inputs, outputs = tmp_path / "in", tmp_path / "out"
    _xray_batch(montgomery_folder, inputs, 1)
    result = run_module("inference", "--input_path", str(inputs), "--output_path", str(outputs),
                        "--saved_models_folder", str(models))
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.splitlines() == [result.stderr.strip()], "one line"
    assert result.stderr.startswith(f"error: {member}: SavedModel cannot be loaded: ")
    assert re.search(message, result.stderr), result.stderr
    assert not outputs.exists() or os.listdir(outputs) == []
