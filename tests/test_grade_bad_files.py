"""Grading a class survives one bad file: a submission that cannot be read or run is reported by
name with its reason and scores zero; every other submission is graded (real kernels)."""
import json
import subprocess
import sys

import nbformat

from nasbook.grade import grade, format_table
from nasbook.marking import mark


RIGHT_F1 = "lambda y_true, y_pred, average='macro': f1_score(y_true, y_pred, average=average)"
WRONG_F1 = "lambda y_true, y_pred, average='macro': 0.5"


def _notebook(path, passed):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import nasbook as nb\nfrom sklearn.metrics import f1_score\n"
        f"nb.exercises.check_f1({RIGHT_F1 if passed else WRONG_F1})")]
    nbformat.write(mark(nb), path)  # as released: its check cell has its grade id
    return path


def test_a_truncated_and_a_missing_submission_are_named_and_the_rest_graded(tmp_path):
    good = _notebook(tmp_path / "alice.ipynb", passed=True)
    text = _notebook(tmp_path / "carol.ipynb", passed=True).read_text()
    truncated = tmp_path / "bob.ipynb"
    truncated.write_text(text[: len(text) // 2])
    missing = tmp_path / "dave.ipynb"
    not_a_notebook = tmp_path / "erin.ipynb"
    not_a_notebook.write_text(json.dumps({"hello": "world"}))
    results = grade([good, truncated, missing, not_a_notebook], timeout=300,
                    reference=tmp_path / "carol.ipynb")
    by_name = {r["notebook"].split("/")[-1]: r for r in results}
    assert by_name["alice.ipynb"]["passed"] == 1 and by_name["alice.ipynb"]["score"] == 1.0
    for name in ("bob.ipynb", "dave.ipynb", "erin.ipynb"):
        r = by_name[name]
        assert r["score"] == 0.0 and r["total"] == 1 and r["passed"] == 0
        assert r["stopped"].startswith("could not read or run the notebook")
        assert r["exercises"][0]["status"] == "error"
    assert "NotJSONError" in by_name["bob.ipynb"]["stopped"]
    table = format_table(results)
    assert "bob.ipynb" in table and "could not read" in table


def test_the_command_grades_the_class_around_a_bad_file(tmp_path):
    good = _notebook(tmp_path / "alice.ipynb", passed=False)
    bad = tmp_path / "bob.ipynb"
    bad.write_text("{ not json")
    out = subprocess.run([sys.executable, "-m", "nasbook.cli", "grade", str(good), str(bad),
                          "--json", str(tmp_path / "grades.json")],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    grades = json.loads((tmp_path / "grades.json").read_text())
    assert [g["total"] for g in grades] == [1, 0]
    assert grades[0]["exercises"][0]["status"] == "not yet"
    assert "bob.ipynb" in out.stdout and "could not read" in out.stdout
