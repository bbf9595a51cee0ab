"""nbgrader in the loop, for real: an nbgrader course in a temporary folder, built from marked
copies of the notebooks with the commands README's "For teachers" gives.

- ``nbgrader generate_assignment`` for every notebook (one assignment each, one command)
  succeeds and releases no solution; each release equals ``make student``'s copy of the marked
  notebook, cell for cell after the quickstart's header.
- ``nbgrader autograde`` of notebook 03 (light) and notebook 00 (a real Keras Tuner search), on
  three submissions each: the solved notebook gets every autograded point, the released stub
  zero, a planted wrong answer exactly its exercise's points fewer; ``nasbook grade`` on the
  same six files gives the same score to every exercise.
- ``nbgrader generate_feedback`` writes an HTML page per submission, with the verdict lines.
- JupyterLab started in the course serves nbgrader's formgrader, which lists the assignments.

Twelve quick-mode notebook runs in all (six under nbgrader, six under ``nasbook grade``); the
time limits are hang protection only. Needs the ``classroom`` extra (``make test`` installs
it).
"""
import copy
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from nasbook.marking import check_id

pytest.importorskip("nbgrader", reason="nbgrader is the 'classroom' extra: "
                                       "pip install -e '.[classroom]' (make test installs it)")

pytestmark = pytest.mark.timeout(3600)  # hang protection for the course fixture's runs

ROOT = Path(__file__).resolve().parents[1]
PATHS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
BIN = Path(sys.executable).parent
HANG = 3000  # seconds, per command

# the two autograded notebooks: which answer is planted wrong, and its wrong body
WRONG = {
    "03_evaluation_metrics": ("f1", '''p = nb.metrics.precision(y_true, y_pred, average="macro")
r = nb.metrics.recall(y_true, y_pred, average="macro")
return 2 * p * r / (p + r) if p + r else 0.0   # the F1 of the means: the named mistake'''),
    "00_welcome_and_tour": ("dense_param_count", '''sizes = [n_inputs, *units]
return sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))   # the biases forgotten'''),
}
STUDENTS = ("solved", "stub", "wrong")


def _run(args, cwd, timeout=HANG):
    """A command as a teacher runs it, with the venv's bin first on PATH (nbgrader calls
    ``alembic``) and quick mode on."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "NASBOOK_QUICK": "1"}
    env.pop("NBGRADER_EXECUTION", None)
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, (f"{' '.join(map(str, args))} failed ({done.returncode}):\n"
                                  f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return done


def _grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _with_body(source, body):
    """``source`` with its solution region replaced by ``body`` at the region's indentation."""
    lines = source.split("\n")
    begin = next(i for i, line in enumerate(lines) if "BEGIN SOLUTION" in line)
    end = next(i for i, line in enumerate(lines) if "END SOLUTION" in line)
    indent = lines[begin][:len(lines[begin]) - len(lines[begin].lstrip())]
    return "\n".join(lines[:begin] + [indent + b for b in body.split("\n")] + lines[end + 1:])


def _submissions(course, name):
    """Three submissions of one released notebook: solved (the teacher's answers written into
    the release), the stub as released, and solved but with one answer planted wrong."""
    release = nbformat.read(course / "release" / name / f"{name}.ipynb", as_version=4)
    source = nbformat.read(course / "source" / name / f"{name}.ipynb", as_version=4)
    answers = {_grade_id(c): c.source for c in source.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    solved = copy.deepcopy(release)
    for cell in solved.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = answers[_grade_id(cell)]
    wrong = copy.deepcopy(solved)
    exercise, body = WRONG[name]
    planted = [c for c in wrong.cells if _grade_id(c) == f"answer_{exercise}"]
    assert len(planted) == 1, f"{name} has no answer cell answer_{exercise}"
    planted[0].source = _with_body(planted[0].source, body)
    for student, notebook in zip(STUDENTS, (solved, release, wrong)):
        folder = course / "submitted" / student / name
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / f"{name}.ipynb")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """quickstart, marked notebooks in, generate_assignment, submissions, autograde, feedback."""
    where = tmp_path_factory.mktemp("classroom")
    _run(["nbgrader", "quickstart", "nasbook-course"], cwd=where)
    _run(["rm", "-r", "nasbook-course/source/ps1"], cwd=where)  # the quickstart's example
    course = where / "nasbook-course"
    _run([sys.executable, "-m", "nasbook.student", "--course", str(course), *map(str, PATHS)],
         cwd=ROOT)
    _run(["nbgrader", "generate_assignment", "[0-9]*"], cwd=course)
    for name in WRONG:
        _submissions(course, name)
    start = time.perf_counter()
    _run(["nbgrader", "autograde", "[0-9]*"], cwd=course)
    print(f"nbgrader autograde: {len(WRONG) * len(STUDENTS)} submissions in "
          f"{time.perf_counter() - start:.0f} s")
    _run(["nbgrader", "generate_feedback", "[0-9]*"], cwd=course)
    return course


def _nbgrader_scores(course) -> dict:
    """``{(notebook, student): {grade id: (auto score, max score, needs manual grade)}}``."""
    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for name in WRONG:
            for student in STUDENTS:
                graded = gradebook.find_submission_notebook(name, name, student)
                scores[name, student] = {g.name: (g.auto_score, g.max_score,
                                                  g.needs_manual_grade) for g in graded.grades}
    return scores


def test_nbgrader_sets_the_variable_the_checks_read():
    import inspect

    from nbgrader import validator
    from nbgrader.converters import autograde

    assert "setenv(NBGRADER_EXECUTION='autograde')" in inspect.getsource(autograde)
    assert "NBGRADER_EXECUTION='validate'" in inspect.getsource(validator)


def test_every_notebook_is_released_without_its_solutions(course):
    released = sorted((course / "release").glob("*/*.ipynb"))
    assert [p.name for p in released] == [p.name for p in PATHS]
    for path in released:
        release = nbformat.read(path, as_version=4)
        source = nbformat.read(course / "source" / path.parent.name / path.name, as_version=4)
        text = "\n".join(c.source for c in release.cells)
        assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text, path.name
        cells = {_grade_id(c): c for c in release.cells if _grade_id(c)}
        for cell in source.cells:
            if cell.metadata.get("nbgrader", {}).get("solution"):
                inside, kept = False, cells[_grade_id(cell)].source
                for line in cell.source.split("\n"):
                    inside = (inside or "BEGIN SOLUTION" in line) and "END SOLUTION" not in line
                    if inside and len(line.strip()) > 12 and "BEGIN SOLUTION" not in line:
                        assert line not in kept, f"{path.name}: {line.strip()!r} was released"
        assert all(not c.get("outputs") for c in release.cells if c.cell_type == "code")


def test_make_student_equals_nbgraders_release(course, tmp_path):
    """`make student` (python -m nasbook.student NOTEBOOKS --out DIR) writes what nbgrader
    releases with the stubs --course sets: the same cells, the same sources (after the
    quickstart's header cells, which nbgrader adds to every release), whether the notebooks
    are marked yet or not."""
    header = len(nbformat.read(course / "source" / "header.ipynb", as_version=4).cells)
    _run([sys.executable, "-m", "nasbook.student", *map(str, PATHS), "--out", str(tmp_path)],
         cwd=ROOT)
    for path in PATHS:
        ours = nbformat.read(tmp_path / path.name, as_version=4).cells
        theirs = nbformat.read(course / "release" / path.stem / path.name,
                               as_version=4).cells[header:]
        assert [(c.cell_type, c.source) for c in ours] == \
            [(c.cell_type, c.source) for c in theirs], path.name
        assert all(not c.get("outputs") for c in ours if c.cell_type == "code")


def test_autograde_full_marks_zero_and_one_wrong_answer(course):
    scores = _nbgrader_scores(course)
    for name, (exercise, _) in WRONG.items():
        solved, stub, wrong = (scores[name, s] for s in STUDENTS)
        checks = [g for g in solved if g.startswith("check_")]
        assert len(checks) >= 2 and check_id(exercise) in checks
        auto = {s: sum(scores[name, s][g][0] for g in checks) for s in STUDENTS}
        full = sum(solved[g][1] for g in checks)
        assert auto["solved"] == full, (name, solved)
        assert auto["stub"] == 0 and all(score == 0 for score, _, _ in stub.values()), stub
        assert auto["wrong"] == full - solved[check_id(exercise)][1], (name, wrong)
        assert wrong[check_id(exercise)][0] == 0
        # the open questions' answers wait for a teacher; an unchanged stub scores 0 at once
        assert solved["open_answers"] == (None, 1.0, True)
        assert stub["open_answers"][:2] == (0, 1.0) and not stub["open_answers"][2]


def test_feedback_is_html_with_the_verdict_lines(course):
    pages = sorted((course / "feedback").glob("*/*/*.html"))
    assert len(pages) == len(WRONG) * len(STUDENTS)
    wrong = (course / "feedback" / "wrong" / "03_evaluation_metrics" /
             "03_evaluation_metrics.html").read_text(encoding="utf-8")
    assert wrong.lstrip().lower().startswith("<!doctype html")
    assert "✅ right: your confusion matrix matches" in wrong
    assert "❌ not yet: case" in wrong and "not the F1 of the mean precision" in wrong
    solved = (course / "feedback" / "solved" / "03_evaluation_metrics" /
              "03_evaluation_metrics.html").read_text(encoding="utf-8")
    assert "✅ right: your macro F1 matches" in solved and "❌ not yet" not in solved


def test_nasbook_grade_agrees_with_nbgrader_on_every_exercise(course, tmp_path):
    submitted = sorted((course / "submitted").glob("*/*/*.ipynb"))
    assert len(submitted) == len(WRONG) * len(STUDENTS)
    out = tmp_path / "grades.json"
    _run([str(BIN / "nasbook"), "grade", *map(str, submitted), "--json", str(out),
          "--timeout", "1200"], cwd=tmp_path)
    ours = {(Path(r["notebook"]).parent.name, Path(r["notebook"]).parents[1].name): r
            for r in json.loads(out.read_text())}
    theirs = _nbgrader_scores(course)
    for key, scores in theirs.items():
        result = ours[key]
        assert result["stopped"] is None, result
        mine = {check_id(r["exercise"]): scores[check_id(r["exercise"])][1] * (
            r["status"] == "passed") for r in result["exercises"]}
        nbgraders = {g: auto for g, (auto, _, _) in scores.items() if g.startswith("check_")}
        assert mine == nbgraders, key


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_jupyterlab_in_the_course_serves_the_formgrader(course):
    port, token = _free_port(), "nasbook-test"
    args = [str(BIN / "jupyter"), "lab", "--no-browser", f"--port={port}",
            "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}"]
    if os.getuid() == 0:
        args.append("--allow-root")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    server = subprocess.Popen(args, cwd=course, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/formgrader/api/assignments?token={token}"
    try:
        deadline, listed = time.monotonic() + 600, None
        while listed is None and time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(url, timeout=30) as reply:
                    listed = json.loads(reply.read())
            except OSError:
                time.sleep(2)
        assert listed is not None, "JupyterLab did not serve the formgrader"
    finally:
        server.terminate()
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()
    assignments = {a["name"]: a for a in listed}
    assert set(assignments) == {p.stem for p in PATHS}
    assert assignments["03_evaluation_metrics"]["num_submissions"] == len(STUDENTS)
    source = nbformat.read(course / "source" / "03_evaluation_metrics" /
                           "03_evaluation_metrics.ipynb", as_version=4)
    checks = [c for c in source.cells if str(_grade_id(c)).startswith("check_")]
    assert assignments["03_evaluation_metrics"]["max_code_score"] == float(len(checks))
