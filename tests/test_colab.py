"""Google Colab on one click: every notebook opens from its badge, and its set-up cell clones the project,
imports ``helpers`` from the clone, installs what Colab lacks and says whether a GPU is present, with nobody
typing an address (``tools/colab_links.py`` writes it from ``pyproject.toml``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
TOOL = ROOT / "tools" / "colab_links.py"

#: Runs a set-up cell as a Colab kernel would: ``google.colab`` already imported; pip recorded, not run;
#: KerasTuner made to look missing so that the install step is exercised.
COLAB_KERNEL = r"""
import importlib.util, subprocess, sys, types

sys.modules["google.colab"] = types.ModuleType("google.colab")
_find_spec, _run = importlib.util.find_spec, subprocess.run
importlib.util.find_spec = lambda name, *a, **k: None if name == "keras_tuner" else _find_spec(name, *a, **k)


def run(cmd, *args, **kwargs):
    if list(cmd[1:3]) == ["-m", "pip"]:
        print("PIP", *cmd[3:], flush=True)
        return subprocess.CompletedProcess(cmd, 0)
    return _run(cmd, *args, **kwargs)


subprocess.run = run
with open(sys.argv[1], encoding="utf-8") as f:
    exec(compile(f.read(), "set-up cell", "exec"))
import helpers
print("HELPERS", helpers.__file__, flush=True)
"""


def cells(nb_path):
    return json.loads(nb_path.read_text(encoding="utf-8"))["cells"]


def setup_source(nb_path) -> str:
    return "".join(next(c for c in cells(nb_path) if c["cell_type"] == "code")["source"])


def repository() -> str:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["urls"]["Repository"]


def requirement_pins() -> dict[str, str]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return dict(line.split("#")[0].strip().split("==") for line in lines if "==" in line.split("#")[0])


def git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def project_remote(tmp_path):
    """A git repository holding this working tree's helpers/ (uncommitted changes included), to clone from."""
    src = tmp_path / "remote"
    shutil.copytree(ROOT / "helpers", src / "helpers", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("requirements.txt", "pyproject.toml"):
        shutil.copy(ROOT / name, src / name)
    (src / "notebooks").mkdir()
    shutil.copy(NOTEBOOKS[0], src / "notebooks" / NOTEBOOKS[0].name)
    git("-c", "init.defaultBranch=main", "init", "-q", cwd=src)
    git("add", "-A", cwd=src)
    git("-c", "user.name=test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false",
        "commit", "-q", "-m", "snapshot", cwd=src)
    return src


def test_setup_cell_in_colab_clones_the_project_installs_what_is_missing_and_reports_the_gpu(
        tmp_path, project_remote):
    content = tmp_path / "content"  # Colab's working directory
    content.mkdir()
    cell = tmp_path / "setup_cell.py"
    cell.write_text(setup_source(NOTEBOOKS[0]), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["FASHION_REPO_URL"] = project_remote.as_uri()  # overrides the cell's REPO_URL

    done = subprocess.run([sys.executable, "-c", COLAB_KERNEL, str(cell)], cwd=content, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout.splitlines()

    clone = content / "fashion-classifier"
    assert (clone / "helpers" / "__init__.py").is_file()
    assert git("rev-parse", "--is-shallow-repository", cwd=clone) == "true"
    assert f"HELPERS {clone / 'helpers' / '__init__.py'}" in out
    assert f"PIP install -q keras-tuner=={requirement_pins()['keras-tuner']}" in out
    gpu_line = [line for line in out if line.startswith("Google Colab | Keras ")]
    assert len(gpu_line) == 1 and ("GPU available" in gpu_line[0] or "no GPU" in gpu_line[0]), out


def test_colab_installs_only_what_is_missing_pinned_as_in_requirements(monkeypatch, capsys):
    from helpers.core import notebook

    assert notebook.pinned("keras-tuner") == f"keras-tuner=={requirement_pins()['keras-tuner']}"
    assert notebook.pinned("not-a-requirement") == "not-a-requirement"
    calls = []
    monkeypatch.setattr(notebook.subprocess, "run", lambda cmd, **kw: calls.append(cmd))
    monkeypatch.setattr(notebook.importlib.util, "find_spec", lambda name: object())
    assert notebook.install_missing() == [] and not calls  # nothing missing: pip is not even started
    monkeypatch.setattr(notebook.importlib.util, "find_spec", lambda name: None)
    expected = [notebook.pinned("keras-tuner"), notebook.pinned("ray[data]")]
    assert expected[1] == f"ray[data]=={requirement_pins()['ray[data]']}"
    assert notebook.install_missing() == expected
    assert calls == [[sys.executable, "-m", "pip", "install", "-q", *expected]]
    assert "installing what Colab lacks: keras-tuner==" in capsys.readouterr().out


def test_colab_links_are_up_to_date():
    done = subprocess.run([sys.executable, str(TOOL), "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr + "\nrun `make colab-links`"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_first_cell_is_the_badge_for_this_notebook(nb):
    first = cells(nb)[0]
    url = repository().removesuffix(".git").replace("https://github.com/", "")
    assert first["cell_type"] == "markdown" and first["id"] == "colab-badge"
    assert "".join(first["source"]) == (
        "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        f"(https://colab.research.google.com/github/{url}/blob/main/notebooks/{nb.name})")
    assert f'REPO_URL = "{repository()}.git"' in setup_source(nb)


def test_every_notebook_has_the_same_setup_cell():
    assert len({setup_source(nb) for nb in NOTEBOOKS}) == 1


def test_colab_links_rewrites_a_new_address_everywhere_and_is_idempotent(tmp_path):
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks", ignore=shutil.ignore_patterns(".*"))
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    pyproject = (ROOT / "pyproject.toml").read_text()
    (tmp_path / "pyproject.toml").write_text(pyproject.replace(repository(), "https://github.com/acme/clothes"))

    def tool(*args):
        return subprocess.run([sys.executable, str(TOOL), "--root", str(tmp_path), *args],
                              capture_output=True, text=True)

    assert tool("--check").returncode == 1
    assert tool().returncode == 0
    assert tool("--check").returncode == 0
    assert tool().stdout.strip() == "colab links up to date"
    readme = (tmp_path / "README.md").read_text()
    assert readme.count("colab.research.google.com/github/acme/clothes/blob/main/notebooks/") == len(NOTEBOOKS)
    assert repository() not in readme.split("<!-- colab-links:start -->")[1].split("<!-- colab-links:end -->")[0]
    for nb in sorted((tmp_path / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        assert f"github/acme/clothes/blob/main/notebooks/{nb.name})" in "".join(cells(nb)[0]["source"])
        assert 'REPO_URL = "https://github.com/acme/clothes.git"  # written by make colab-links' in setup_source(nb)
        before = json.loads((ROOT / "notebooks" / nb.name).read_text())["cells"]
        assert [c.get("outputs") for c in cells(nb)] == [c.get("outputs") for c in before]
