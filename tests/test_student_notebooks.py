"""The notebooks' student copies: every notebook's solution markers make a copy that cannot
crash (checked statically, always), and each copy of a notebook with solutions runs top to
bottom with every stubbed exercise answering "not yet" (``make test-student``, which sets
NASBOOK_TEST_STUDENT=1; a second quick run of those notebooks)."""
import os
import re
from pathlib import Path

import nbformat
import pytest

from nasbook.book import execute
from nasbook.grade import grade_executed
from nasbook.student import STUB, lint, solution_functions, student_copy

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
WITH_SOLUTIONS = [p for p in PATHS if "BEGIN SOLUTION" in p.read_text(encoding="utf-8")]


@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_the_student_copy_of_every_notebook_is_safe(path):
    notebook = nbformat.read(path, as_version=4)
    assert lint(notebook) == []
    student = student_copy(notebook)
    assert "BEGIN SOLUTION" not in "".join(c.source for c in student.cells)


@pytest.mark.skipif(os.environ.get("NASBOOK_TEST_STUDENT") != "1",
                    reason="student copies run with `make test-student` (NASBOOK_TEST_STUDENT=1)")
@pytest.mark.parametrize("path", WITH_SOLUTIONS, ids=[p.name for p in WITH_SOLUTIONS])
def test_the_student_copy_runs_and_every_stubbed_exercise_says_not_yet(path, tmp_path):
    copy = tmp_path / path.name
    original = nbformat.read(path, as_version=4)
    nbformat.write(student_copy(original), copy)
    solved = solution_functions(original)
    run = execute(copy, quick=True, timeout=600)
    assert run.error is None, run.error
    assert run.problems == []
    rows = grade_executed(run.notebook)
    uses = re.compile(r"\b(" + "|".join(map(re.escape, solved)) + r")\b") if solved else None
    stubbed = [r for r in rows if STUB in run.notebook.cells[r["cell"]].source
               or (uses and uses.search(run.notebook.cells[r["cell"]].source))]
    assert stubbed, "solutions are marked, but no exercise cell calls a check on them"
    assert [r for r in rows if r["status"] == "error"] == []
    assert {r["status"] for r in stubbed} == {"not yet"}
