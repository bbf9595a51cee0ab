"""nbgrader's cell metadata (nasbook.marking) and the checks under grading.

Every notebook in notebooks/, marked in memory, is a valid nbgrader source notebook (nbgrader's
own metadata validator, and ``problems``), marking it again changes nothing, and the lesson is
the same code (a solution-and-check cell is only split in two). The notebooks themselves are
marked once, by ``python -m nasbook.student --mark``; from then on each must stay marked (a
notebook with no nbgrader metadata yet is skipped, saying so). A check that says "not yet"
raises under nbgrader (``NBGRADER_EXECUTION``) and nowhere else, printing the same line."""
from pathlib import Path

import nbformat
import pytest

import nasbook as nb
from nasbook.exercises._base import NotYet, grading
from nasbook.grade import exercises_in
from nasbook.marking import MarkingError, check_id, mark, problems
from nasbook.student import lint, main as student_main, student_copy

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
IDS = [p.name for p in PATHS]

F1 = '''import numpy as np

def my_f1(y_true, y_pred):
    """Macro F1."""
    ### BEGIN SOLUTION
    from sklearn.metrics import f1_score
    return f1_score(y_true, y_pred, average="macro")
    ### END SOLUTION


def report(fn):
    print("F1 of a perfect guess:", fn(np.array([0, 1]), np.array([0, 1])))


if nb.exercises.check_f1(my_f1):
    report(my_f1)'''

DENSE = '''def my_dense(x, kernel, bias):
    ### BEGIN SOLUTION
    return 1 / (1 + np.exp(-(x @ kernel + bias)))
    ### END SOLUTION
nb.exercises.check_dense_forward(my_dense);'''

ANSWERS = "Open questions.\n\n### BEGIN SOLUTION\n1. Because.\n### END SOLUTION\n"


def _notebook():
    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_markdown_cell("# An assignment"),
                  nbformat.v4.new_code_cell("import nasbook as nb"),
                  nbformat.v4.new_code_cell(F1),
                  nbformat.v4.new_code_cell(DENSE),
                  nbformat.v4.new_code_cell("nb.exercises.check_f1(my_f1, average='micro')"),
                  nbformat.v4.new_markdown_cell(ANSWERS)]
    book.cells[3].metadata["tags"] = ["exercise:dense layer", "expect-warning"]
    book.cells[3].outputs = [nbformat.v4.new_output("stream", name="stdout", text="✅ right: x")]
    return book


def _nbgrader(cell):
    return cell.metadata.get("nbgrader", {})


def test_mark_splits_solution_from_check_and_marks_every_cell():
    marked = mark(_notebook())
    sources = [c.source for c in marked.cells]
    assert len(marked.cells) == 8
    # the answer ends with the solution's function; the check cell holds the rest, as written
    assert sources[2].startswith("import numpy") and sources[2].endswith("### END SOLUTION")
    assert sources[3].startswith("def report(fn):") and sources[3].endswith("report(my_f1)")
    assert sources[4].endswith("### END SOLUTION") and sources[5] == \
        "nb.exercises.check_dense_forward(my_dense);"
    assert [(_nbgrader(c).get("grade_id"), _nbgrader(c).get("solution"), _nbgrader(c).get(
        "grade"), _nbgrader(c).get("locked"), _nbgrader(c).get("points")) for c in marked.cells] \
        == [(None,) * 5, (None,) * 5,
            ("answer_f1", True, False, False, None), ("check_f1", False, True, True, 1),
            ("answer_dense_layer", True, False, False, None),
            ("check_dense_layer", False, True, True, 1),
            ("check_f1_2", False, True, True, 1),
            ("open_answers", True, True, False, 1)]
    assert all(_nbgrader(c)["schema_version"] == 3 for c in marked.cells if _nbgrader(c))
    # the exercise tag and the outputs go with the check; other tags stay on both parts
    assert marked.cells[5].metadata["tags"] == ["exercise:dense layer", "expect-warning"]
    assert marked.cells[4].metadata["tags"] == ["expect-warning"]
    assert marked.cells[5].outputs and not marked.cells[4].outputs
    assert len({c["id"] for c in marked.cells}) == 8
    assert problems(marked) == [] and lint(marked) == []
    assert [n for _, n in exercises_in(marked)] == ["f1", "dense layer", "f1 (2)"]
    assert check_id("f1 (2)") == "check_f1_2"


def test_mark_is_idempotent_and_keeps_a_teachers_points_and_cells():
    marked = mark(_notebook())
    assert mark(marked) == marked
    marked.cells[3].metadata["nbgrader"]["points"] = 4
    own = {"schema_version": 3, "grade": True, "grade_id": "my_test", "locked": True,
           "solution": False, "points": 2}
    marked.cells[1].metadata["nbgrader"] = dict(own)          # a test cell of the teacher's
    marked.cells[6].source = "print('the check was removed')"  # check_f1_2 is stale now
    again = mark(marked)
    assert _nbgrader(again.cells[3])["points"] == 4
    assert _nbgrader(again.cells[1]) == own
    assert "nbgrader" not in again.cells[6].metadata
    assert problems(again) == [] and mark(again) == again


def test_problems_name_what_nbgrader_would_refuse_or_grade_by_hand():
    found = problems(_notebook())
    assert "cell 2: a solution region in a cell that is not a solution cell" in found
    assert any(p.startswith("cell 2: exercise 'f1' holds its solution and its check") for p in
               found)
    assert "cell 4: exercise 'f1 (2)' is not a locked, graded (autograder test) cell" in found
    marked = mark(_notebook())
    marked.cells[7].metadata["nbgrader"]["grade_id"] = "check_f1"
    marked.cells[1].metadata["nbgrader"] = {"schema_version": 3, "grade": False,
                                            "solution": False, "locked": False,
                                            "grade_id": "setup", "points": 2}
    marked.cells[6].metadata["nbgrader"]["schema_version"] = 2
    assert problems(marked) == [
        "cell 1: points on a cell that is not graded",
        "cell 6: nbgrader schema_version 2, expected 3",
        "cell 7: grade_id 'check_f1' is used by cell 3 too"]


def test_a_check_before_its_solution_cannot_be_split():
    book = _notebook()
    book.cells[3].source = "nb.exercises.check_dense_forward(my_dense)\n" + DENSE
    with pytest.raises(MarkingError, match="cell 3: the check must come after the solution"):
        mark(book)


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_every_notebook_marks_into_a_valid_nbgrader_source_notebook(path):
    from nbgrader.nbgraderformat import MetadataValidator

    original = nbformat.read(path, as_version=4)
    marked = mark(original)
    nbformat.validate(marked)
    MetadataValidator().validate_nb(marked)  # nbgrader's own check (schema, unique grade ids)
    assert problems(marked) == []
    assert mark(marked) == marked
    assert lint(marked) == []
    assert [n for _, n in exercises_in(marked)] == [n for _, n in exercises_in(original)]
    # the same lesson: only exercise cells were split, nothing else changed but metadata
    words = [c.source.split() for c in original.cells]
    assert sum(words, []) == sum((c.source.split() for c in marked.cells), [])
    graded = [c for c in marked.cells if _nbgrader(c).get("grade")]
    assert all(c.cell_type == "markdown" or not _nbgrader(c)["solution"] for c in graded)
    # the student copy of the marked notebook keeps every check and no solution
    text = "".join(c.source for c in student_copy(marked).cells)
    assert "BEGIN SOLUTION" not in text and "nb.exercises.check_" in text


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_a_marked_notebook_stays_marked(path):
    """Once `python -m nasbook.student --mark` has run on the notebooks, a new exercise or a
    changed one must be marked again (the same command); until then this is skipped."""
    notebook = nbformat.read(path, as_version=4)
    if not any(_nbgrader(c) for c in notebook.cells):
        pytest.skip(f"{path.name} is not marked yet: python -m nasbook.student --mark "
                    f"notebooks/[0-9][0-9]_*.ipynb")
    assert problems(notebook) == [], "run: python -m nasbook.student --mark " + str(path)
    assert mark(notebook) == notebook, "run: python -m nasbook.student --mark " + str(path)


def test_mark_command_writes_once_then_leaves_files_alone(tmp_path, capsys):
    path = tmp_path / "a.ipynb"
    nbformat.write(_notebook(), path)
    assert student_main(["--mark", str(path)]) == 0
    first = path.read_bytes()
    assert problems(nbformat.read(path, as_version=4)) == []
    assert student_main(["--mark", str(path)]) == 0
    assert path.read_bytes() == first
    out = capsys.readouterr().out
    assert f"{path}: marked" in out and f"{path}: already marked, unchanged" in out
    (tmp_path / "bad.ipynb").write_text("{not json")
    assert student_main(["--mark", str(tmp_path / "bad.ipynb")]) == 1
    assert "bad.ipynb" in capsys.readouterr().err


def test_course_refuses_to_overwrite_a_source_notebook_a_teacher_changed(tmp_path, capsys):
    lesson, course = tmp_path / "03_metrics.ipynb", tmp_path / "course"
    nbformat.write(_notebook(), lesson)
    assert student_main(["--course", str(course), str(lesson)]) == 0
    target = course / "source" / "03_metrics" / "03_metrics.ipynb"
    assert student_main(["--course", str(course), str(lesson)]) == 0  # the same: rewritten
    # the teacher gives the F1 check 3 points (the Create Assignment toolbar) and adds a cell
    source = nbformat.read(target, as_version=4)
    check = next(c for c in source.cells if _nbgrader(c).get("grade_id") == "check_f1")
    check.metadata["nbgrader"]["points"] = 3
    source.cells.append(nbformat.v4.new_markdown_cell("Due Friday."))
    nbformat.write(source, target)
    changed = target.read_bytes()
    capsys.readouterr()
    assert student_main(["--course", str(course), str(lesson)]) == 1
    err = capsys.readouterr().err
    assert "differs from the marked notebook" in err and str(target) in err and "--force" in err
    assert target.read_bytes() == changed
    assert student_main(["--course", str(course), str(lesson), "--force"]) == 0
    again = nbformat.read(target, as_version=4)
    assert [c.source for c in again.cells] == [c.source for c in mark(_notebook()).cells]
    assert _nbgrader(next(c for c in again.cells if "check_f1" in c.source))["points"] == 1
    assert (course / "nbgrader_config.py").read_text().count("c.ClearSolutions.code_stub") == 1


def _wrong_f1(y_true, y_pred):
    return 0.5


def test_a_check_raises_under_nbgrader_only_and_prints_the_same_line(monkeypatch, capsys):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert not grading()
    plain = nb.exercises.check_f1(_wrong_f1)
    line = capsys.readouterr().out
    assert not plain and line == plain.message + "\n" and line.startswith("❌ not yet: ")
    for value in ("autograde", "validate"):  # what nbgrader sets (test_nbgrader.py reads it)
        monkeypatch.setenv("NBGRADER_EXECUTION", value)
        with pytest.raises(NotYet) as raised:
            nb.exercises.check_f1(_wrong_f1)
        assert isinstance(raised.value, AssertionError)
        assert str(raised.value) == plain.message
        assert capsys.readouterr().out == line  # the reader sees the same verdict line
        assert not nb.exercises.check_f1(_wrong_f1, quiet=True)  # quiet never raises
        right = nb.exercises.check_f1(lambda t, p: nb.metrics.f1(t, p, average="macro"))
        assert right and capsys.readouterr().out == right.message + "\n"
