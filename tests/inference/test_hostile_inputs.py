"""Hostile inputs in one batch with a valid X-ray (shipped montgomery_cfcm set): each bad input is one line naming
it, the valid case is still segmented, the exit code is 1, nothing is left behind and no input is touched."""
import os
import shutil
import stat

import pytest

from tests.conftest import REPO, run_module

# name -> (how to make it in the input folder, the one line expected)
ROWS = {
    "fifo.png": (lambda path: os.mkfifo(path), "not a regular file (a FIFO, socket or device)"),
    b"bad\xffname.png": (lambda path: open(path, "wb").write(b"x" * 10), "file name is not valid UTF-8"),
    "empty.png": (lambda path: open(path, "wb").close(), "empty file (0 bytes)"),
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
    assert f"1 ok, 0 skipped (already done), {len(ROWS)} failed" in result.stdout
    assert os.path.exists(outputs / valid)
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
