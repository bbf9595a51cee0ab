"""The first code cell of every notebook: install nasbook where it is missing (Colab, a bare
Jupyter), do nothing where it is installed.

nasbook is not on PyPI, and the cell never installs a package of that name from an index (a
stranger's upload could take the name). It installs from what the reader gives it: the
environment variable ``NASBOOK_SOURCE`` (a wheel, a folder or a ``git+https://...`` URL of a
clone), else a ``nasbook-*.whl`` in the working directory (``/content`` on Colab, where the
file pane uploads to; ``pip wheel --no-deps .`` in a clone makes one; of several, the last by
name); with neither it stops with an error saying so. After the install it calls
``importlib.invalidate_caches()``, so that the running kernel finds the new package. The text
must not import nasbook, so it lives here only to be written into the notebooks and tested.

Usage::

    python -m nasbook.install_cell notebooks/[0-9][0-9]_*.ipynb     # in place, idempotent

    from nasbook.install_cell import INSTALL_CELL, with_install_cell
"""
from __future__ import annotations

import argparse
import sys

import nbformat

__all__ = ["INSTALL_CELL", "MARKER", "with_install_cell", "main"]

MARKER = "# Colab or a bare Jupyter: install nasbook first"
INSTALL_CELL = f"""\
{MARKER} (a no-op where it is installed; README, "Colab and Binder")
import glob, importlib, importlib.util, os, subprocess, sys
if importlib.util.find_spec("nasbook") is None:
    source = os.environ.get("NASBOOK_SOURCE") or max(glob.glob("nasbook-*.whl"), default=None)
    if source is None:
        raise ModuleNotFoundError("nasbook is not installed: put a nasbook-*.whl (pip wheel "
                                  "--no-deps . in a clone) in the working directory (/content "
                                  "on Colab), or set NASBOOK_SOURCE to a wheel, a folder or a "
                                  "git+https:// URL of a clone")
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", source])
    importlib.invalidate_caches()"""


def with_install_cell(notebook):
    """The notebook with :data:`INSTALL_CELL` as its first code cell (replacing an older
    version of it, adding it before the first code cell otherwise); idempotent.

    Usage: ``nb = with_install_cell(nbformat.read(path, as_version=4))``
    """
    index = next((i for i, c in enumerate(notebook.cells) if c.cell_type == "code"), None)
    if index is None:
        raise ValueError("the notebook has no code cell to put the install cell before")
    cell = notebook.cells[index]
    if cell.source.startswith(MARKER):
        cell.source = INSTALL_CELL
    else:
        new = nbformat.v4.new_code_cell(INSTALL_CELL)
        new.id = "install-nasbook"          # stable, so re-writing a notebook changes nothing
        notebook.cells.insert(index, new)
    return notebook


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nasbook.install_cell",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        notebook = nbformat.read(path, as_version=4)
        before = nbformat.writes(notebook)
        notebook = with_install_cell(notebook)
        after = nbformat.writes(notebook)
        if after != before:
            nbformat.write(notebook, path)
        print(f"{path}: {'written' if after != before else 'unchanged'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
