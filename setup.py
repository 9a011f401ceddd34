"""Installs the segmentation toolkit: serving (the SavedModel contract), preprocessing, evaluation, networks, the
systems (localization + scn, cfcm, rstn) and inference."""
from setuptools import find_packages, setup

setup(
    name="medseg-tf",
    version="0.1.0",
    description="TensorFlow 2 / Keras 3 toolkit for medical image segmentation "
    "(localization + SpatialConfiguration-Net for CT, CFCM for chest X-ray, RSTN for the pancreas, click-guided "
    "PET lesions, lung nodules).",
    python_requires=">=3.11,<3.13",
    packages=find_packages(include=["serving*", "preprocessing*", "evaluation*", "networks*", "localization*", "scn*",
                                    "cfcm*", "rstn*", "interactive*", "nodules*", "inference*"]),
    package_data={"cfcm": ["montgomery_folds.json"]},
    entry_points={"console_scripts": [
        "medseg-predict=inference.__main__:console",
        "medseg-models=inference.__main__:models_console",
        "medseg-evaluate=inference.evaluate:console",
        "medseg-server=inference.server.__main__:console",
    ]},
    install_requires=[
        "tensorflow>=2.21,<2.22",
        "keras>=3.10,<4",
        "tensorboard>=2.20,<2.22",
        "SimpleITK>=2.3,<3",
        "numpy>=1.26,<3",
        "opencv-python-headless>=4.9,<6",
        "absl-py>=2.1,<3",
        "tqdm>=4.66,<5",
        "isal>=1.6,<2",
        "flask>=3,<4",
        "pydicom>=3,<4",
        "highdicom>=0.25,<1",
    ],
    extras_require={
        "dev": ["pytest>=8,<10", "pytest-xdist>=3.5,<4", "nibabel>=5.2,<6", "scipy>=1.11,<2", "apache-beam>=2.77,<3"],
        "beam": ["apache-beam>=2.77,<3"],
        "gpu": ["tensorflow[and-cuda]>=2.21,<2.22"],
        "bench": ["torch>=2.4", "monai>=1.4"],
    },
)
