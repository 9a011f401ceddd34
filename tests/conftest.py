"""Shared fixtures: small synthetic data sets in the real layouts and the real DICOM series."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from preprocessing.image_geometry import ImageGeometry  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROJECT_PACKAGES = ("serving", "preprocessing", "evaluation", "networks", "localization", "scn", "cfcm", "rstn",
                    "interactive", "nodules", "inference")
SHARED_DICOM = os.path.join(REPO, "..", "shared", "data", "ct_dicom_series")


@pytest.fixture(scope="session")
def shared_dicom_series() -> str:
    if not os.path.isdir(SHARED_DICOM):
        pytest.skip(f"real DICOM series not found at {os.path.normpath(SHARED_DICOM)} (../shared/data is absent)")
    return SHARED_DICOM


@pytest.fixture(scope="session")
def flare21_folder(tmp_path_factory) -> str:
    from preprocessing.synthetic import flare21

    folder = str(tmp_path_factory.mktemp("FLARE21"))
    config = flare21.Flare21PhantomConfig(in_plane_size=48, slice_thickness_mm=(8.0, 10.0))
    flare21.write_dataset(folder, num_cases=5, num_validation_cases=1, seed=3, config=config, progress=False)
    return folder


@pytest.fixture(scope="session")
def montgomery_folder(tmp_path_factory) -> str:
    from preprocessing.synthetic import montgomery

    folder = str(tmp_path_factory.mktemp("Montgomery"))
    montgomery.write_dataset(folder, num_cases=4, seed=5,
                             config=montgomery.MontgomeryPhantomConfig(long_side=(120, 200)), progress=False)
    return folder


def oblique_geometry(shape_zyx=(7, 9, 11), spacing=(0.7, 0.8, 2.5)) -> ImageGeometry:
    """A geometry with anisotropic spacing, a non-trivial origin and a rotated direction."""
    angle = np.deg2rad(20.0)
    direction = np.array([[np.cos(angle), -np.sin(angle), 0.0], [np.sin(angle), np.cos(angle), 0.0], [0.0, 0.0, 1.0]])
    return ImageGeometry(tuple(shape_zyx[::-1]), spacing, (-120.5, 33.25, -410.0), tuple(direction.ravel()))


def signed_permutations():
    """The 48 direction matrices made of axis permutations and flips."""
    import itertools

    for perm in itertools.permutations(range(3)):
        for signs in itertools.product((1.0, -1.0), repeat=3):
            matrix = np.zeros((3, 3))
            for column, (row, sign) in enumerate(zip(perm, signs)):
                matrix[row, column] = sign
            yield matrix


def assert_same_geometry_per_nibabel(output_path: str, source_path: str) -> np.ndarray:
    """Checks with nibabel (independent of SimpleITK) that a NIfTI output has the size, spacing, origin and
    direction of its source image; returns the output's voxels in nibabel's order (x, y, z)."""
    import nibabel as nib
    import SimpleITK as sitk

    output = nib.load(output_path)
    reference = sitk.ReadImage(source_path)
    assert output.shape == reference.GetSize()
    affine = np.diag([-1.0, -1.0, 1.0, 1.0]) @ output.affine  # nibabel's RAS+ world -> ITK's LPS
    expected = np.eye(4)
    expected[:3, :3] = np.asarray(reference.GetDirection()).reshape(3, 3) * np.asarray(reference.GetSpacing())
    expected[:3, 3] = reference.GetOrigin()
    np.testing.assert_allclose(affine, expected, atol=1e-3)
    return np.asarray(output.dataobj)


def run_module(module: str, *args: str, timeout: int = 600):
    """Runs `python -m module args...` in a fresh process (UTF-8 output) with the user's default logging (this
    session's TF_CPP_MIN_LOG_LEVEL is not passed on); returns CompletedProcess."""
    import subprocess
    import sys

    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, encoding="utf-8",
                          errors="replace", timeout=timeout, cwd=REPO, env=env)


NIH_TEST_CONFIG_KWARGS = {"in_plane_size": 40, "slice_thickness_mm": (5.0, 6.0), "axial_extent_mm": (240.0, 280.0)}


@pytest.fixture(scope="session")
def nih_folder(tmp_path_factory) -> str:
    """Three small cases in the NIH Pancreas-CT layout (DICOM series + TCIA label files), seed 11."""
    import dataclasses

    from preprocessing.synthetic import nih_pancreas

    folder = str(tmp_path_factory.mktemp("NIH"))
    config = dataclasses.replace(nih_pancreas.nih_config(), **NIH_TEST_CONFIG_KWARGS)
    nih_pancreas.write_dataset(folder, num_cases=3, seed=11, config=config, progress=False)
    return folder


AUTOPET_TEST_CONFIG_KWARGS = {"in_plane_size": 40, "body_scale": 0.3, "axial_extent_mm": (900.0, 1000.0),
                              "lesion_volume_median_ml": 0.3}


@pytest.fixture(scope="session")
def autopet_folder(tmp_path_factory) -> str:
    """Four small whole-body PET/CT phantoms in the AutoPET nnU-Net layout (imagesTr / labelsTr), seed 8: three
    with lesions, one without."""
    from preprocessing.synthetic import autopet

    folder = str(tmp_path_factory.mktemp("AutoPET"))
    autopet.write_dataset(folder, 4, 8, autopet.AutoPETPhantomConfig(**AUTOPET_TEST_CONFIG_KWARGS), progress=False)
    return folder


INTERACTIVE_TINY_FLAGS = ("--train_crop_size", "16,32,32", "--roi_size", "16,32,32", "--kernel_sizes", "3,3,3",
                          "--strides", "1x1x1,2x2x2,1x2x2", "--filters", "4,8,8", "--train_clicks", "2",
                          "--validation_clicks", "2")


@pytest.fixture(scope="session")
def interactive_model_set(autopet_folder, tmp_path_factory) -> str:
    """A tiny click-guided network trained for 2 epochs on the AutoPET phantoms and exported: the saved models
    folder holding `autopet_interactive`."""
    work = tmp_path_factory.mktemp("interactive")
    models = work / "models"
    for module, *args in (("interactive.train", "--base_dataset_folder", autopet_folder, "--base_output_folder",
                           str(work / "train"), "--epochs", "2", *INTERACTIVE_TINY_FLAGS),
                          ("interactive.export", "--load_model_base", str(work / "train"), "--model_set_folder",
                           str(models / "autopet_interactive"), "--trained_on", "test phantoms")):
        result = run_module(module, *args)
        assert result.returncode == 0, result.stderr[-3000:]
    return str(models)


@pytest.fixture(scope="session")
def rstn_trained(nih_folder, tmp_path_factory) -> dict[str, str]:
    """The NIH phantoms prepared (3 folds) and a tiny RSTN trained on fold 1 for the three planes:
    {'cache', 'cv', 'train'}."""
    work = tmp_path_factory.mktemp("rstn")
    paths = {name: str(work / name) for name in ("cache", "cv", "train")}
    steps = [("rstn.prepare", "--dataset_folder", nih_folder, "--cache_folder", paths["cache"], "--cv_folder",
              paths["cv"], "--num_folds", "3"),
             ("rstn.train", "--cache_folder", paths["cache"], "--base_output_folder", paths["train"], "--plane", "A",
              "--fold", "1", "--base_filters", "4", "--fc_filters", "8", "--epochs", "1,0,1", "--learning_rate",
              "1e-4")]
    for module, *args in steps:
        result = run_module(module, *args)
        assert result.returncode == 0, f"{module}: {result.stderr[-3000:]}"
    return paths


@pytest.fixture(scope="session")
def rstn_exported_set(rstn_trained, tmp_path_factory) -> str:
    """The tiny RSTN of `rstn_trained` exported by `rstn.export` as the model set `tiny_rstn`: its folder."""
    model_set = str(tmp_path_factory.mktemp("rstn_sets") / "tiny_rstn")
    result = run_module("rstn.export", "--load_model_base", rstn_trained["train"], "--model_set_folder", model_set,
                        "--trained_on", "synthetic phantoms (test)")
    assert result.returncode == 0, result.stderr[-3000:]
    return model_set
