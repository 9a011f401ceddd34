"""The installable package set covers every package of the repository, and the packages depend on each other
in one direction: systems -> inference / networks -> serving / evaluation / preprocessing, no cycle."""
import ast
import os
import re

from tests.conftest import PROJECT_PACKAGES, REPO

SYSTEMS = ("localization", "scn", "cfcm", "rstn", "interactive", "nodules")


def imported_packages(package: str) -> set[str]:
    """Top-level project packages that `package`'s modules import (absolute imports)."""
    found = set()
    for folder, _, files in os.walk(os.path.join(REPO, package)):
        for name in files:
            if not name.endswith(".py"):
                continue
            tree = ast.parse(open(os.path.join(folder, name), encoding="utf-8").read())
            for node in ast.walk(tree):
                modules = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else []
                found |= {m.split(".")[0] for m in modules if m.split(".")[0] in PROJECT_PACKAGES}
    return found - {package}


def test_setup_py_installs_every_top_level_package():
    setup = open(os.path.join(REPO, "setup.py")).read()
    patterns = re.search(r"include=\[(.*?)\]", setup, re.S).group(1)
    included = {name.strip().strip('"').rstrip("*") for name in patterns.split(",")}
    packages = {name for name in os.listdir(REPO)
                if os.path.isfile(os.path.join(REPO, name, "__init__.py")) and name not in ("tests", "benchmarks")}
    assert packages == included == set(PROJECT_PACKAGES)


def test_docker_image_copies_every_package_and_the_shipped_models():
    dockerfile = open(os.path.join(REPO, "Dockerfile")).read()
    copied = set(re.findall(r"^COPY (\S+) \1$", dockerfile, re.M))
    assert set(PROJECT_PACKAGES) | {"saved_models", "predict.sh"} == copied


def test_dependencies_point_one_way():
    edges = {package: imported_packages(package) for package in PROJECT_PACKAGES}
    assert edges["serving"] == set(), "the contract package imports nothing of ours"
    assert edges["evaluation"] <= {"preprocessing"}
    assert edges["preprocessing"] == set()
    assert not edges["networks"] & {"inference", *SYSTEMS}
    assert not edges["inference"] & {"networks", *SYSTEMS}, "inference reaches systems only through its registry"
    state: dict[str, int] = {}

    def visit(package: str, path: list[str]) -> None:
        state[package] = 1
        for other in sorted(edges[package]):
            assert state.get(other) != 1, f"import cycle: {' -> '.join(path + [other])}"
            if other not in state:
                visit(other, path + [other])
        state[package] = 2

    for package in PROJECT_PACKAGES:
        if package not in state:
            visit(package, [package])


CONSOLE_SCRIPTS = {"medseg-predict": "inference.__main__:console",
                   "medseg-models": "inference.__main__:models_console",
                   "medseg-evaluate": "inference.evaluate:console",
                   "medseg-server": "inference.server.__main__:console"}


def test_console_scripts_are_declared_and_installed():
    """setup.py declares the commands; `pip install -e .` (the Makefile's install step) put them beside the
    interpreter, and each runs: medseg-models lists the shipped sets, the others answer --help with their flags."""
    import subprocess
    import sys

    from importlib.metadata import entry_points

    installed = {ep.name: ep.value for ep in entry_points(group="console_scripts") if ep.name.startswith("medseg-")}
    assert installed == CONSOLE_SCRIPTS
    scripts = os.path.dirname(sys.executable)
    listed = subprocess.run([os.path.join(scripts, "medseg-models"), "--saved_models_folder",
                             os.path.join(REPO, "saved_models")], capture_output=True, text=True, timeout=300)
    assert listed.returncode == 0 and "cxr_lungs" in listed.stdout and "pancreas_rstn" in listed.stdout
    for name, flag in (("medseg-predict", "input_path"), ("medseg-evaluate", "reference_path"),
                       ("medseg-server", "studies")):
        helped = subprocess.run([os.path.join(scripts, name), "--helpshort"], capture_output=True, text=True,
                                timeout=300)
        assert f"--{flag}" in helped.stdout + helped.stderr, name
