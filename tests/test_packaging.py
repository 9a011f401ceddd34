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
