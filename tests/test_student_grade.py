"""Student copies and the grader, on a small synthetic notebook with three real checks from
nasbook.exercises: the solved copy gets full marks, the student copy runs top to bottom and
gets zero, a copy with one wrong answer fails that one exercise with the check's message. With
the released copy as reference, a check cell rewritten to print "right" is restored and scores
what the restored check says, a deleted one scores 0, and a check call the student adds does not
take the graded exercise's place; without it, the report says the checks were trusted."""
import copy
import json

import nbformat
import pytest

from nasbook import grade as grader
from nasbook.book import execute
from nasbook.cli import main as cli
from nasbook.marking import mark
from nasbook.student import (STUB, StudentCopyError, lint, main as student_main,
                             solution_functions, student_copy)

CONFUSION = '''import numpy as np

def my_confusion_matrix(y_true, y_pred, num_classes):
    ### BEGIN SOLUTION
    matrix = np.zeros((num_classes, num_classes), dtype=int)
    for t, p in zip(y_true, y_pred):
        matrix[t, p] += 1
    return matrix
    ### END SOLUTION

verdict = nb.exercises.check_confusion_matrix(my_confusion_matrix)'''

F1 = '''def my_macro_f1(y_true, y_pred):
    ### BEGIN SOLUTION
    scores = []
    for c in np.union1d(y_true, y_pred):
        tp = np.sum((y_true == c) & (y_pred == c))
        wrong = np.sum((y_true == c) != (y_pred == c))
        scores.append(2 * tp / (2 * tp + wrong) if 2 * tp + wrong else 0.0)
    return float(np.mean(scores))
    ### END SOLUTION

verdict = nb.exercises.check_f1(my_macro_f1, average="macro")'''

DENSE = '''def my_dense(x, kernel, bias):
    ### BEGIN SOLUTION
    return 1 / (1 + np.exp(-(x @ kernel + bias)))
    ### END SOLUTION

nb.exercises.check_dense_forward(my_dense);'''

ANSWER = """Why does accuracy mislead on imbalanced data?

### BEGIN SOLUTION
Because always predicting the majority class already scores high.
### END SOLUTION"""


def _notebook(dense=DENSE):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# A tiny assignment"),
                nbformat.v4.new_code_cell("import nasbook as nb"),
                nbformat.v4.new_markdown_cell("## Exercises"),
                nbformat.v4.new_code_cell(CONFUSION),
                nbformat.v4.new_code_cell(F1),
                nbformat.v4.new_code_cell(dense),
                nbformat.v4.new_markdown_cell(ANSWER),
                nbformat.v4.new_code_cell("print('the last cell ran')")]
    nb.cells[5].metadata["tags"] = ["exercise:dense layer"]
    return nb


@pytest.fixture(scope="module")
def copies(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    paths = {"solved": folder / "solved.ipynb", "wrong": folder / "wrong.ipynb"}
    # submissions are the marked (released) notebook with answers written in
    nbformat.write(mark(_notebook()), paths["solved"])
    wrong = DENSE.replace("return 1 / (1 + np.exp(-(x @ kernel + bias)))",
                          "return x @ kernel + bias")
    nbformat.write(mark(_notebook(wrong)), paths["wrong"])
    nbformat.write(_notebook(), folder / "teacher.ipynb")
    assert student_main([str(folder / "teacher.ipynb"), "--out", str(folder / "student")]) == 0
    paths["student"] = folder / "student" / "teacher.ipynb"
    return paths


def test_student_copy_stubs_solutions_keeps_checks_and_clears_outputs():
    nb = _notebook()
    nb.cells[3].outputs = [nbformat.v4.new_output("stream", name="stdout", text="old")]
    nb.cells[3].execution_count = 4
    student = student_copy(nb)
    code = student.cells[3].source
    assert "BEGIN SOLUTION" not in code and "matrix[t, p] += 1" not in code
    assert f"    {STUB}" in code.splitlines()          # the stub keeps the body's indentation
    assert code.endswith("nb.exercises.check_confusion_matrix(my_confusion_matrix)")
    assert student.cells[3].outputs == [] and student.cells[3].execution_count is None
    assert "majority class" not in student.cells[6].source
    assert "*Your answer here.*" in student.cells[6].source
    assert student.metadata["nasbook"]["solutions_replaced"] == 4
    assert nb.cells[3].outputs  # the teacher's copy is untouched
    assert solution_functions(nb) == {"my_confusion_matrix", "my_macro_f1", "my_dense"}


def test_lint_finds_what_would_crash_a_student_copy():
    assert lint(_notebook()) == []
    nb = _notebook()
    nb.cells.append(nbformat.v4.new_code_cell("f = lambda x: my_dense(x, k, b)\n"
                                              "print(f, my_dense(x, k, b))"))
    nb.cells.append(nbformat.v4.new_code_cell("### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION"))
    problems = lint(nb)
    assert len(problems) == 2
    assert problems[0].startswith("cell 8: my_dense(...) is called directly")
    assert problems[1].startswith("cell 9: a solution region at the top level")
    nb.cells[9].source = "### BEGIN SOLUTION\nanswer = 42"
    with pytest.raises(StudentCopyError, match="no END"):
        student_copy(nb)


def test_make_student_refuses_a_notebook_whose_copy_would_crash(tmp_path, capsys):
    nb = _notebook()
    nb.cells.append(nbformat.v4.new_code_cell("my_macro_f1([0], [0])"))
    nbformat.write(nb, tmp_path / "bad.ipynb")
    assert student_main([str(tmp_path / "bad.ipynb"), "--out", str(tmp_path / "out")]) == 1
    assert "my_macro_f1(...) is called directly" in capsys.readouterr().err
    assert not (tmp_path / "out" / "bad.ipynb").exists()


def test_exercises_are_named_by_tag_or_by_the_checks_they_call():
    nb = _notebook()
    again = "nb.exercises.check_f1(my_macro_f1, average='micro')"
    nb.cells.append(nbformat.v4.new_code_cell(again))
    nb.cells.append(nbformat.v4.new_code_cell("def check_lesson(): pass\ncheck_lesson()"))
    assert grader.exercises_in(nb) == [(3, "confusion_matrix"), (4, "f1"), (5, "dense layer"),
                                       (8, "f1 (2)")]


def test_verdicts_are_read_from_the_output_and_a_deleted_exercise_is_missing():
    nb = _notebook()
    for index, text in ((3, "✅ right: all 5 cases\n"),
                        (4, "❌ not yet: case 'two classes': off\n"),
                        (5, "✅ right: one\n❌ not yet: case 'a batch': differs\n")):
        nb.cells[index].outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        nb.cells[index].execution_count = index
    rows = grader.grade_executed(nb)
    assert [(r["exercise"], r["status"], r["message"]) for r in rows] == [
        ("confusion_matrix", "passed", "all 5 cases"),
        ("f1", "not yet", "case 'two classes': off"),
        ("dense layer", "not yet", "case 'a batch': differs")]
    expected = [name for _, name in grader.exercises_in(nb)]
    del nb.cells[4]
    rows = grader.grade_executed(nb, expected=expected)
    assert [r["status"] for r in rows] == ["passed", "error", "not yet"]
    assert rows[1]["message"].startswith("missing")
    assert [r["exercise"] for r in grader.grade_executed(nb)] == ["confusion_matrix",
                                                                  "dense layer"]


def test_student_copy_runs_top_to_bottom_and_every_check_says_not_yet(copies):
    run = execute(copies["student"], quick=True, timeout=300)
    assert run.error is None and run.problems == []
    assert "the last cell ran" in run.notebook.cells[-1].outputs[0]["text"]
    rows = grader.grade_executed(run.notebook)
    assert [r["status"] for r in rows] == ["not yet"] * 3
    assert all("NotImplementedError" in r["message"] for r in rows)


def test_grade_solved_full_marks_one_wrong_answer_fails_with_its_message(copies, tmp_path,
                                                                        capsys):
    out = tmp_path / "grades.json"
    assert cli(["grade", str(copies["solved"]), str(copies["wrong"]), "--json", str(out),
                "--timeout", "300", "--reference", str(copies["student"])]) == 0
    table = capsys.readouterr().out
    solved, wrong = json.loads(out.read_text())
    assert (solved["passed"], solved["total"], solved["score"]) == (3, 3, 1.0)
    assert [r["status"] for r in solved["exercises"]] == ["passed"] * 3
    assert (wrong["passed"], wrong["total"]) == (2, 3)
    failed = wrong["exercises"][2]
    assert failed["exercise"] == "dense layer" and failed["status"] == "not yet"
    assert "That is the pre-activation Wx + b: apply the sigmoid." in failed["message"]
    assert "solved.ipynb" in table and "  3/3" in table and "  2/3" in table
    assert "dense layer            not yet      0/1" in table
    assert grader.TRUSTED not in table  # the checks were restored from the reference


def _by_id(notebook, grade_id):
    return next(i for i, c in enumerate(notebook.cells)
                if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _cheat(student_path, target):
    """The released copy, unsolved, with its confusion-matrix check rewritten to print "right",
    its dense-layer check deleted, and a check call of its own (a correct F1 from scikit-learn)
    added before the graded F1 check, as notebook 03's open question 3 invites."""
    nb = nbformat.read(student_path, as_version=4)
    nb.cells[_by_id(nb, "check_confusion_matrix")].source = (
        'print("✅ right: trust me")  # nb.exercises.check_confusion_matrix(my_confusion_matrix)')
    del nb.cells[_by_id(nb, "check_dense_layer")]
    nb.cells.insert(_by_id(nb, "answer_f1"), nbformat.v4.new_code_cell(
        "from sklearn.metrics import f1_score\n"
        "nb.exercises.check_f1(lambda y, p, average='macro': f1_score(y, p, average=average))"))
    nbformat.write(nb, target)
    return target


def test_with_a_reference_a_rewritten_check_is_restored_and_an_added_one_not_graded(
        copies, tmp_path, capsys):
    cheat = _cheat(copies["student"], tmp_path / "mallory.ipynb")
    out = tmp_path / "grades.json"
    assert cli(["grade", str(cheat), "--json", str(out), "--timeout", "300",
                "--reference", str(copies["student"])]) == 0
    table = capsys.readouterr().out
    (result,) = json.loads(out.read_text())
    assert result["trusted"] is False and (result["passed"], result["total"]) == (0, 3)
    rows = {r["grade_id"]: r for r in result["exercises"]}
    assert list(rows) == ["check_confusion_matrix", "check_f1", "check_dense_layer"]
    restored = rows["check_confusion_matrix"]
    assert restored["status"] == "not yet" and restored["modified"] is True
    assert restored["message"].startswith("modified check, restored; ")
    assert "NotImplementedError" in restored["message"]
    # the student's own (right) F1 call ran, but the graded F1 check is the stub's "not yet"
    assert rows["check_f1"]["status"] == "not yet" and "modified" not in rows["check_f1"]
    assert rows["check_dense_layer"]["status"] == "error"
    assert rows["check_dense_layer"]["message"].startswith("missing")
    assert "modified check, restored" in table and grader.TRUSTED not in table


def test_without_a_reference_the_checks_are_trusted_and_the_report_says_so(copies, tmp_path,
                                                                           capsys):
    cheat = _cheat(copies["student"], tmp_path / "mallory.ipynb")
    assert cli(["grade", str(cheat), "--timeout", "300"]) == 0
    table = capsys.readouterr().out
    assert table.startswith(grader.TRUSTED)
    # graded by grade id all the same: the added F1 call does not replace the graded one
    assert "confusion_matrix       passed" in table and "f1                     not yet" in table
    assert "  1/2" in table


def test_a_copied_check_cell_counts_once_the_unchanged_copy_graded():
    student = student_copy(mark(_notebook()))
    f1 = _by_id(student, "check_f1")
    copied = copy.deepcopy(student.cells[f1])
    copied.source = 'print("✅ right: me too")'
    student.cells.insert(f1 - 1, copied)                     # before the answer, edited
    restored, what = grader.restore_checks(student, mark(_notebook()))
    assert what == {"check_confusion_matrix": "kept", "check_f1": "kept",
                    "check_dense_layer": "kept"}
    assert "nbgrader" not in restored.cells[f1 - 1].metadata  # the copy is the student's now
    assert [g for _, g, _ in grader.graded_checks(restored)] == [
        "check_confusion_matrix", "check_f1", "check_dense_layer"]
    assert grader.graded_checks(restored)[1][0] == f1 + 1


def test_a_reference_that_marks_no_check_is_refused_before_grading(tmp_path, capsys):
    nbformat.write(_notebook(), tmp_path / "unmarked.ipynb")
    assert cli(["grade", str(tmp_path / "unmarked.ipynb"),
                "--reference", str(tmp_path / "unmarked.ipynb")]) == 1
    assert "has no locked check cell with an nbgrader grade id" in capsys.readouterr().err


def test_a_notebook_over_its_time_limit_is_stopped_and_the_rest_is_marked_not_run(tmp_path):
    # the cell would sleep far longer than this test may run (pytest-timeout), so the grader
    # returning at all means it stopped the cell; how soon after its 8 s depends on the machine
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import time\ntime.sleep(3600)"),
                nbformat.v4.new_code_cell("nb.exercises.check_f1(f)")]
    nbformat.write(nb, tmp_path / "slow.ipynb")
    result = grader.grade_notebook(tmp_path / "slow.ipynb", timeout=8)
    assert 8 <= result["seconds"] < 3600  # it waited its limit, and did not wait the cell out
    assert "time limit of 8 s" in result["stopped"]
    assert result["exercises"] == [{"exercise": "f1", "grade_id": None, "cell": 1,
                                    "status": "error",
                                    "message": "not run (time limit of 8 s reached)"}]
    assert result["score"] == 0.0


def test_a_notebook_that_kills_its_kernel_is_graded_not_fatal(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import os\nos._exit(1)"),
                nbformat.v4.new_code_cell("nb.exercises.check_f1(f)")]
    nbformat.write(nb, tmp_path / "dies.ipynb")
    result = grader.grade_notebook(tmp_path / "dies.ipynb", timeout=120)
    assert result["stopped"] == "the kernel died"
    assert result["exercises"][0]["status"] == "error"
    assert result["exercises"][0]["message"] == "not run (the kernel died)"


def test_an_exercise_cell_that_raises_is_an_error_and_later_cells_still_run(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import nasbook as nb\nundefined_name"),
                nbformat.v4.new_code_cell("nb.exercises.check_f1(undefined_function)"),
                nbformat.v4.new_code_cell("def f(y, p):\n    return 1.0\n"
                                          "nb.exercises.check_f1(f)")]
    nbformat.write(nb, tmp_path / "broken.ipynb")
    rows = grader.grade_notebook(tmp_path / "broken.ipynb", timeout=120)["exercises"]
    assert rows[0]["status"] == "error" and "NameError" in rows[0]["message"]
    assert rows[1]["status"] == "not yet" and "your macro F1 is 1" in rows[1]["message"]
