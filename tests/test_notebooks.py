"""Every notebook runs top to bottom in quick mode, is committed clean, and reads as a lesson."""
import os
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")) + sorted(NOTEBOOKS.glob("exercises/*.ipynb"))
IDS = [str(p.relative_to(NOTEBOOKS)) for p in PATHS]

# Quick-mode wall-clock limit per notebook, in seconds, on 2 CPU cores.
LIMIT = {"00_welcome_and_tour.ipynb": 90}
DEFAULT_LIMIT = 300


def test_there_are_notebooks():
    assert PATHS, "no notebooks found"


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"cells {dirty} have outputs; clear them before committing"


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_reads_as_a_lesson(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.cells[0].cell_type == "markdown", "open with the learning goals"
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters' holds the budget knobs"
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "## Summary" in text and "## Exercises" in text
    assert text.rfind("## Exercises") > text.rfind("## Summary")


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_runs_in_quick_mode(path, tmp_path):
    limit = LIMIT.get(path.name, DEFAULT_LIMIT)
    nb = nbformat.read(path, as_version=4)
    env_ok = os.environ.get("NASBOOK_QUICK") == "1"
    assert env_ok, "the notebook test must run in quick mode (make test sets NASBOOK_QUICK=1)"
    client = NotebookClient(nb, timeout=limit, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    print(f"{path.name}: {elapsed:.1f} s")
    assert elapsed < limit, f"{path.name} took {elapsed:.0f} s in quick mode (limit {limit} s)"
