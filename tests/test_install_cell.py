"""The first code cell of every notebook installs nasbook where it is missing (Colab, a bare
Jupyter) and does nothing where it is installed. Run for real: the cell's text in this
environment, and in a fresh virtual environment without nasbook, from a wheel built from this
tree (``PIP_NO_DEPS=1``, so that only nasbook itself installs: its dependencies are the wheel
test's business, tests/test_wheel.py). Colab itself cannot be reached from here."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from nasbook.install_cell import INSTALL_CELL, MARKER, with_install_cell

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
pytestmark = pytest.mark.timeout(900)


def _env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "NASBOOK_SOURCE")}
    env.update(extra)
    return env


def _run_cell(python, cwd, after="", **env):
    return subprocess.run([str(python), "-c", INSTALL_CELL + after], cwd=cwd, env=_env(**env),
                          capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("path", LESSONS, ids=[p.name for p in LESSONS])
def test_every_notebook_starts_with_the_install_cell(path):
    notebook = nbformat.read(path, as_version=4)
    first = next(c for c in notebook.cells if c.cell_type == "code")
    assert first.source == INSTALL_CELL, (
        f"{path.name}: run `python -m nasbook.install_cell {path.relative_to(ROOT)}`")


def test_adding_it_is_idempotent_and_replaces_an_old_version():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Goals"),
                                               nbformat.v4.new_code_cell("import nasbook")])
    once = with_install_cell(notebook)
    assert [c.source for c in once.cells] == ["# Goals", INSTALL_CELL, "import nasbook"]
    once.cells[1].source = MARKER + " (an older wording)\npass"
    again = with_install_cell(with_install_cell(once))
    assert [c.source for c in again.cells] == ["# Goals", INSTALL_CELL, "import nasbook"]
    with pytest.raises(ValueError, match="no code cell"):
        with_install_cell(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("x")]))


def test_where_nasbook_is_installed_it_does_nothing(tmp_path):
    # a source that pip could not install: the cell succeeds only because it never calls pip
    out = _run_cell(sys.executable, tmp_path, NASBOOK_SOURCE=str(tmp_path / "missing.whl"))
    assert out.returncode == 0, out.stderr


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory):
    """A fresh virtual environment without nasbook, and a wheel of this tree."""
    tmp = tmp_path_factory.mktemp("bare")
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "runs", "*.egg-info", "__pycache__", ".pytest_cache"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w",
                    str(tmp / "dist"), str(source)], check=True, env=_env(), timeout=600)
    (wheel,) = (tmp / "dist").glob("nasbook-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(tmp / "venv")], check=True, timeout=300)
    return tmp / "venv" / "bin" / "python", wheel


def _has_nasbook(python):
    # from the venv's own folder, so that the repository's nasbook/ is not on the path
    return subprocess.run([str(python), "-c", "import importlib.util, sys; "
                           "sys.exit(importlib.util.find_spec('nasbook') is None)"],
                          cwd=Path(python).parents[1], env=_env()).returncode == 0


def test_without_a_source_it_stops_and_says_what_to_do(bare_python, tmp_path):
    python, _ = bare_python
    out = _run_cell(python, tmp_path)
    assert out.returncode != 0
    assert "ModuleNotFoundError: nasbook is not installed" in out.stderr
    assert "NASBOOK_SOURCE" in out.stderr and "pip wheel" in out.stderr
    assert not _has_nasbook(python)


def test_it_installs_the_wheel_in_the_working_directory_or_named_by_nasbook_source(
        bare_python, tmp_path):
    python, wheel = bare_python
    content = tmp_path / "content"
    content.mkdir()
    shutil.copy(wheel, content / wheel.name)          # uploaded to Colab's file pane: /content
    # the same process (the notebook's kernel) finds the package it has just installed
    found = "\nprint('found', importlib.util.find_spec('nasbook').origin)"
    out = _run_cell(python, content, found, PIP_NO_DEPS="1")
    assert out.returncode == 0, out.stderr[-2000:]
    assert "found " in out.stdout and "site-packages" in out.stdout
    assert _has_nasbook(python)
    subprocess.run([str(python), "-m", "pip", "uninstall", "-q", "-y", "nasbook"], check=True,
                   env=_env(), cwd=tmp_path)
    assert not _has_nasbook(python)
    out = _run_cell(python, tmp_path, PIP_NO_DEPS="1", NASBOOK_SOURCE=str(wheel))
    assert out.returncode == 0, out.stderr[-2000:]
    assert _has_nasbook(python)
