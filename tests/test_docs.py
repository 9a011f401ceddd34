"""README.md and docs/: every relative link and anchor resolves, every command in a fenced block names a module,
script, installed command or make target that exists, and the README stays a landing page."""
import ast
import glob
import importlib.util
import os
import re

import pytest

from tests.conftest import REPO

PAGES = [os.path.join(REPO, "README.md"), *sorted(glob.glob(os.path.join(REPO, "docs", "*.md")))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```[a-z]*\n(.*?)^```", re.M | re.S)


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation but '-' and '_' dropped, spaces as '-'."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: str) -> set[str]:
    """The anchors of a page's headings (outside fenced blocks), repeated ones numbered as GitHub does."""
    text = FENCE.sub("", open(path, encoding="utf-8").read())
    seen: dict[str, int] = {}
    found = set()
    for heading in re.findall(r"^#{1,6} (.+)$", text, re.M):
        base = slug(heading)
        found.add(base if base not in seen else f"{base}-{seen[base]}")
        seen[base] = seen.get(base, 0) + 1
    return found


def links(path: str) -> list[str]:
    text = FENCE.sub("", open(path, encoding="utf-8").read())
    return [target for target in LINK.findall(text) if not re.match(r"^[a-z]+:", target)]


def commands(path: str) -> list[str]:
    """The command lines of a page's fenced blocks, continuation lines joined, comments dropped."""
    lines = []
    for block in FENCE.findall(open(path, encoding="utf-8").read()):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                lines.extend(part.strip() for part in line.split(";") if part.strip())
    return lines


def console_scripts() -> set[str]:
    setup = open(os.path.join(REPO, "setup.py"), encoding="utf-8").read()
    return set(re.findall(r'"([\w-]+)=[\w.]+:\w+"', setup))


def make_targets() -> set[str]:
    return set(re.findall(r"^([\w-]+):", open(os.path.join(REPO, "Makefile"), encoding="utf-8").read(), re.M))


def module_exists(module: str) -> bool:
    """A project module as a file or package of the repository, any other as an importable module."""
    path = os.path.join(REPO, *module.split("."))
    if os.path.isfile(path + ".py") or os.path.isfile(os.path.join(path, "__main__.py")):
        return True
    if os.path.isdir(os.path.join(REPO, module.split(".")[0])):
        return False
    return importlib.util.find_spec(module.split(".")[0]) is not None


def command_problem(line: str) -> str | None:
    """Why a command line names something that does not exist, or None."""
    words = line.split()
    if re.search(r"\bpython[\d.]*$", words[0]) and len(words) > 1:
        if words[1] == "-m":
            return None if module_exists(words[2]) else f"no module {words[2]}"
        script = words[1]
        return None if script.startswith("-") or os.path.isfile(os.path.join(REPO, script)) else f"no {script}"
    if words[0] == "bash" and len(words) > 1:
        return None if os.path.isfile(os.path.join(REPO, words[1])) else f"no {words[1]}"
    if words[0].startswith("medseg-"):
        return None if words[0] in console_scripts() else f"no console script {words[0]}"
    if words[0] == "make" and len(words) > 1 and not words[1].startswith("-"):
        return None if words[1] in make_targets() else f"no make target {words[1]}"
    return None


@pytest.mark.parametrize("path", PAGES, ids=[os.path.relpath(p, REPO) for p in PAGES])
def test_links_and_anchors_resolve(path):
    broken = []
    for target in links(path):
        file_part, _, anchor = target.partition("#")
        linked = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
        if not os.path.exists(linked):
            broken.append(f"{target}: no {os.path.relpath(linked, REPO)}")
        elif anchor and (not linked.endswith(".md") or anchor not in anchors(linked)):
            broken.append(f"{target}: no heading with anchor #{anchor}")
    assert not broken, broken


@pytest.mark.parametrize("path", PAGES, ids=[os.path.relpath(p, REPO) for p in PAGES])
def test_commands_in_fenced_blocks_exist(path):
    problems = [f"{line}: {problem}" for line in commands(path) if (problem := command_problem(line))]
    assert not problems, problems


def test_readme_is_a_landing_page_that_links_every_docs_page():
    readme = open(PAGES[0], encoding="utf-8").read()
    assert len(readme.splitlines()) <= 200
    linked = {os.path.normpath(os.path.join(REPO, target.partition("#")[0])) for target in links(PAGES[0])}
    assert set(PAGES[1:]) <= linked, "every docs page is reachable from the README"
    for page in PAGES[1:]:
        opening = open(page, encoding="utf-8").read().split("\n\n")[1]
        assert opening.startswith("**What**") and "**When**" in opening, f"{page}: no what / when opening"


def test_the_checks_catch_broken_links_and_commands(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# A title\n\n[ok](#a-title) [bad](#nothing) [gone](missing.md)\n\n```bash\n"
                    "python -m no_such_module_here --flag\nmedseg-nothing\nmake no-target\n```\n")
    assert anchors(str(page)) == {"a-title"}
    assert links(str(page)) == ["#a-title", "#nothing", "missing.md"]
    assert [command_problem(line) is not None for line in commands(str(page))] == [True, True, True]
    assert command_problem("python -m inference --list_models") is None
    assert slug("Shipped demo set (`pancreas_rstn`)") == "shipped-demo-set-pancreas_rstn"


def entrypoint_modules() -> list[str]:
    """Repository modules with a `__main__` guard (the `python -m` entrypoints, absl mains)."""
    found = []
    for folder, _, files in os.walk(REPO):
        if any(part in folder for part in (".venv", "tests", "benchmarks", ".git", "build")):
            continue
        for name in files:
            path = os.path.join(folder, name)
            if name.endswith(".py") and 'if __name__ == "__main__":' in open(path, encoding="utf-8").read():
                found.append(path)
    return sorted(found)


def test_every_entrypoint_help_names_its_docs_page():
    """absl prints the main module's docstring with --help: each names the docs page that says more."""
    modules = entrypoint_modules()
    assert len(modules) >= 25
    missing = []
    for path in modules:
        doc = ast.get_docstring(ast.parse(open(path, encoding="utf-8").read())) or ""
        pages = re.findall(r"^Docs: (docs/\w+\.md)$", doc, re.M)
        if not pages or not os.path.isfile(os.path.join(REPO, pages[0])):
            missing.append(os.path.relpath(path, REPO))
    assert not missing, missing
