"""Grade students' notebooks: run each headless and read every check's verdict from its output.

An exercise is a code cell that calls a check from ``nasbook.exercises``
(``nb.exercises.check_f1(my_f1)``) or carries the cell tag ``exercise:NAME``. Its name is
NAME when tagged, else the checks it calls without their ``check_`` prefix (``f1``); a name
used twice in a notebook gets a suffix (``f1 (2)``). Each check prints one verdict line,
``✅ right: ...`` or ``❌ not yet: ...``; an exercise is *passed* when its cell printed at
least one verdict and every verdict is right, *not yet* when one says not yet (its message
is kept), and *error* when the cell raised, printed no verdict, or never ran (time limit).

**Which cells are graded.** A marked notebook (``nasbook.marking``: nbgrader's release, ``make
student``'s copies) carries nbgrader's ``grade_id`` on each exercise's check cell
(``check_f1``); those cells are the graded exercises, found by grade id, never by their place,
so a check call a student adds elsewhere (notebook 03's open questions ask for some) is not
graded. With a **reference** (the released or marked notebook), every locked cell of the
reference (the checks) is restored into the submission by its grade id before the run, as
nbgrader's autograde restores them from its database: a check cell the student rewrote is
run as the reference has it and reported ("modified check, restored"), one the student deleted
(or whose grade id is gone) scores 0 ("missing"). **Without a reference the students' check
cells are trusted**: a cell rewritten to print "✅ right" gets the point; the report says so on
every run. A notebook without nbgrader metadata is read by the convention above, in order.

Each notebook runs in its own kernel and working directory (``nasbook.book.execute``), in
quick mode by default (budgets shrink; checks are the same), every cell running even after an
error, within a time limit per notebook. One point per exercise.

Usage::

    nasbook grade submitted/*/03_evaluation_metrics/*.ipynb \
        --reference release/03_evaluation_metrics/03_evaluation_metrics.ipynb
    nasbook grade submissions/*.ipynb --json grades.json --timeout 600   # trusts the checks

    from nasbook.grade import grade_notebook, exercises_in
    rows = grade_notebook("alice_03.ipynb", timeout=600, reference="release/03/03.ipynb")
"""
from __future__ import annotations

import json
import re
from pathlib import Path

__all__ = ["RIGHT", "NOT_YET", "TRUSTED", "GradeError", "exercises_in", "graded_checks",
           "restore_checks", "verdicts", "grade_executed", "grade_notebook", "grade",
           "format_table", "write_json"]

RIGHT = "✅ right: "
NOT_YET = "❌ not yet: "
_CHECK_CALL = re.compile(r"\bexercises\.(check_\w+)\s*\(")
_VERDICT = re.compile(r"^(✅ right: |❌ not yet: )(.*)$", re.MULTILINE)
TAG = "exercise:"
MODIFIED = "modified check, restored"
TRUSTED = ("WARNING: graded without --reference, so the students' check cells were trusted (a "
           "check cell rewritten to print '✅ right' gets its point); give the released "
           "notebook as --reference to restore the checks before grading")


class GradeError(ValueError):
    """A reference notebook that cannot say which checks to grade."""


def exercises_in(notebook) -> list:
    """``[(cell index, exercise name), ...]`` of a notebook, in order (see the module doc)."""
    found, seen = [], {}
    for index, cell in enumerate(notebook.cells):
        if cell.get("cell_type") != "code":
            continue
        tags = [t for t in cell.get("metadata", {}).get("tags", []) if t.startswith(TAG)]
        if tags:
            name = tags[0][len(TAG):].strip() or f"cell {index}"
        else:
            checks = list(dict.fromkeys(_CHECK_CALL.findall(cell.source)))
            if not checks:
                continue
            name = "+".join(c[len("check_"):] for c in checks)
        seen[name] = seen.get(name, 0) + 1
        found.append((index, name if seen[name] == 1 else f"{name} ({seen[name]})"))
    return found


def _nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def graded_checks(notebook) -> list:
    """``[(cell index, grade id, exercise name), ...]`` of the exercises nbgrader grades: check
    cells (see :func:`exercises_in`) marked ``grade`` with a ``grade_id`` (``check_f1``). The
    name is the exercise's among these cells only, so a check call added elsewhere changes
    nothing; a grade id used twice counts once, at its first cell. Empty for a notebook
    without nbgrader metadata."""
    marked = [(i, c) for i, c in enumerate(notebook.cells)
              if c.get("cell_type") == "code" and _nbgrader(c).get("grade")
              and _nbgrader(c).get("grade_id")]

    class _Cells:  # exercises_in reads .cells
        cells = [c for _, c in marked]

    names, seen, found = dict(exercises_in(_Cells)), set(), []
    for k, (index, cell) in enumerate(marked):
        grade_id = _nbgrader(cell)["grade_id"]
        if k in names and grade_id not in seen:  # a copied cell's grade id: the first counts
            seen.add(grade_id)
            found.append((index, grade_id, names[k]))
    return found


def restore_checks(submission, reference):
    """``(restored copy, {grade id: what happened})``: every locked cell of ``reference`` (the
    checks) put back into a copy of ``submission``, matched by grade id, as nbgrader's
    autograde restores them. What happened is ``"modified"`` (the student changed it; the
    reference's cell runs instead), ``"missing"`` (no cell has that grade id: nothing is put
    back, the exercise scores 0) or ``"kept"``. Where a student copied a check cell (its grade
    id twice), the unchanged copy is the one restored and graded, else the first; the other
    copies lose their grade id, so they run as the student's own cells and are not graded."""
    import copy

    restored = copy.deepcopy(submission)
    where = {}
    for index, cell in enumerate(restored.cells):
        grade_id = _nbgrader(cell).get("grade_id")
        if grade_id:
            where.setdefault(grade_id, []).append(index)
    what = {}
    for cell in reference.cells:
        meta = _nbgrader(cell)
        grade_id = meta.get("grade_id")
        if not (meta.get("locked") and grade_id):
            continue
        found = where.get(grade_id, [])
        if not found:
            what[grade_id] = "missing"
            continue
        same = [i for i in found if restored.cells[i].source == cell.source
                and restored.cells[i].get("cell_type") == cell.cell_type]
        chosen = (same or found)[0]
        for other in found:
            if other != chosen:
                restored.cells[other].metadata.pop("nbgrader", None)
        what[grade_id] = "kept" if same else "modified"
        restored.cells[chosen].metadata["nbgrader"] = copy.deepcopy(meta)
        if not same:
            new = copy.deepcopy(cell)
            if new.cell_type == "code":
                new.outputs, new.execution_count = [], None
            if "id" in restored.cells[chosen]:
                new["id"] = restored.cells[chosen]["id"]
            restored.cells[chosen] = new
    return restored, what


def verdicts(cell) -> list:
    """``[(passed, message), ...]``: the verdict lines a cell printed, in order."""
    text = "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream")
    return [(kind == RIGHT, message.strip()) for kind, message in _VERDICT.findall(text)]


def _error_of(cell):
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename')}: {output.get('evalue')}"[:300]
    return None


def grade_executed(notebook, *, stopped=None, expected=None, restored=None) -> list:
    """Rows ``{exercise, grade_id, cell, status, message}`` from an executed notebook;
    ``stopped`` is why the run ended early (a time limit), reported for exercises that never
    ran. The graded exercises are the notebook's :func:`graded_checks` (by grade id), or, in a
    notebook without nbgrader metadata, every :func:`exercises_in` (grade id None).
    ``expected`` (``[(grade id, name), ...]`` from the reference, or exercise names for a
    reference without metadata) fixes the rows: an expected exercise the notebook lacks is an
    error ("missing"), one it adds is left out. ``restored`` (from :func:`restore_checks`)
    marks the rows whose check was modified and restored."""
    restored = restored or {}
    marked = graded_checks(notebook)
    if marked:
        found_here = [(index, grade_id, name) for index, grade_id, name in marked]
    else:
        found_here = [(index, None, name) for index, name in exercises_in(notebook)]
    if expected is not None:
        by_id = {grade_id: index for index, grade_id, _ in found_here if grade_id}
        by_name = {name: index for index, _, name in found_here}
        rows_for = []
        for item in expected:
            grade_id, name = item if isinstance(item, tuple) else (None, item)
            index = by_id.get(grade_id) if grade_id else by_name.get(name)
            if grade_id and restored.get(grade_id) == "missing":
                index = None
            rows_for.append((index, grade_id, name))
        found_here = rows_for
    rows = []
    for index, grade_id, name in found_here:
        row = {"exercise": name, "grade_id": grade_id, "cell": index}
        if index is None:
            rows.append({**row, "status": "error",
                         "message": "missing: no cell runs this exercise's check (deleted, or "
                                    "its check call, tag or grade id changed)"})
            continue
        cell = notebook.cells[index]
        found = verdicts(cell)
        error = _error_of(cell)
        if error:
            status, message = "error", f"the cell raised {error}"
        elif found and all(ok for ok, _ in found):
            status, message = "passed", found[0][1]
        elif found:
            status, message = "not yet", next(m for ok, m in found if not ok)
        elif cell.get("execution_count") is None and not cell.get("outputs"):
            status, message = "error", f"not run ({stopped or 'the notebook stopped before it'})"
        else:
            status, message = "error", "the cell printed no verdict (was the check called?)"
        if restored.get(grade_id) == "modified":
            row["modified"] = True
            message = f"{MODIFIED}; {message}"
        rows.append({**row, "status": status, "message": message})
    return rows


def _expected(reference):
    """``(reference notebook, [(grade id, name), ...])``; GradeError if it marks no check."""
    import nbformat

    try:
        notebook = nbformat.read(reference, as_version=4)
    except Exception as exc:  # noqa: BLE001 - say which file and why
        raise GradeError(f"cannot read the reference {reference}: {type(exc).__name__}: "
                         f"{exc}") from exc
    checks = [(grade_id, name) for index, grade_id, name in graded_checks(notebook)
              if _nbgrader(notebook.cells[index]).get("locked")]
    if not checks:
        raise GradeError(f"the reference {reference} has no locked check cell with an nbgrader "
                         f"grade id (check_*), so its checks cannot be restored: give the "
                         f"released notebook (nbgrader's release/ or `make student`'s "
                         f"build/student/), or mark this one (python -m nasbook.student --mark)")
    return notebook, checks


def grade_notebook(path, *, timeout=600, quick=True, reference=None) -> dict:
    """Run one notebook headless (its own kernel, ``timeout`` seconds in all) and grade it.

    ``reference`` (a path to the released or marked notebook, or the ``_expected`` pair of it)
    says which exercises to expect, by grade id, so a deleted check counts as missing; every
    locked cell of it is restored into the submission before the run
    (:func:`restore_checks`). Without it the submission's check cells are trusted
    (``"trusted": True`` in the result).

    Returns ``{"notebook", "seconds", "stopped", "trusted", "exercises": [rows], "passed",
    "total", "score"}``; ``score`` is passed / total (0 when the notebook has no exercise). A
    submission that cannot be read (missing, not JSON, not a notebook) scores zero, with the
    reason in ``stopped`` and, given ``reference``, every expected exercise as an error row."""
    import shutil
    import tempfile

    import nbformat

    from nasbook.book import execute

    ref, expected = (reference if isinstance(reference, tuple)
                     else _expected(reference) if reference is not None else (None, None))
    trusted = ref is None
    scratch = None
    try:
        submission = nbformat.read(path, as_version=4)
        submission.cells  # noqa: B018 - a notebook has cells
        restored = {}
        if ref is not None:
            submission, restored = restore_checks(submission, ref)
            scratch = Path(tempfile.mkdtemp(prefix="nasbook-grade-"))
            run_path = scratch / Path(path).name
            nbformat.write(submission, run_path)
        else:
            run_path = path
        run = execute(run_path, quick=quick, notebook_timeout=timeout, allow_errors=True)
    except Exception as exc:  # noqa: BLE001 - whatever is wrong with one file, grade the rest
        reason = f"could not read or run the notebook: {type(exc).__name__}: {exc}"[:300]
        rows = [{"exercise": name, "grade_id": grade_id, "cell": None, "status": "error",
                 "message": reason} for grade_id, name in expected or []]
        return {"notebook": str(path), "seconds": 0.0, "stopped": reason, "trusted": trusted,
                "exercises": rows, "passed": 0, "total": len(rows), "score": 0.0}
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    stopped = None
    if run.error:
        stopped = (f"time limit of {timeout:g} s reached" if "Timeout" in run.error
                   else "the kernel died" if "DeadKernel" in run.error else run.error)
    rows = grade_executed(run.notebook, stopped=stopped, expected=expected, restored=restored)
    passed = sum(r["status"] == "passed" for r in rows)
    return {"notebook": str(path), "seconds": round(run.seconds, 1), "stopped": stopped,
            "trusted": trusted, "exercises": rows, "passed": passed, "total": len(rows),
            "score": passed / len(rows) if rows else 0.0}


def grade(paths, *, timeout=600, quick=True, reference=None, progress=None) -> list:
    """:func:`grade_notebook` for each path, in order; ``progress`` is called with each one.
    A reference that marks no check raises GradeError before any notebook runs."""
    if reference is not None and not isinstance(reference, tuple):
        reference = _expected(reference)
    results = []
    for path in paths:
        result = grade_notebook(path, timeout=timeout, quick=quick, reference=reference)
        if progress:
            progress(result)
        results.append(result)
    return results


def _short_names(paths) -> list:
    """The shortest path suffixes that tell the files apart (``alice/03.ipynb``, ``bob/...``)."""
    parts = [Path(p).parts for p in paths]
    for k in range(1, max(map(len, parts), default=1) + 1):
        names = [str(Path(*pp[-k:])) for pp in parts]
        if len(set(names)) == len(set(map(str, paths))):
            return names
    return [str(p) for p in paths]


def format_table(results, width=80) -> str:
    """The grades as a plain-text table: file, exercise, status, score, message; a warning
    first when any notebook was graded without a reference (its check cells trusted)."""
    names = _short_names([r["notebook"] for r in results])
    w = max([len("student file"), *map(len, names)])
    lines = [TRUSTED, ""] if any(r.get("trusted") for r in results) else []
    lines.append(f"{'student file':{w}} {'exercise':22} {'status':8} {'score':>7}  message")
    for name, result in zip(names, results):
        if not result["exercises"]:
            lines.append(f"{name:{w}} {'(no exercise found)':22}")
        for row in result["exercises"]:
            message = (MODIFIED if row.get("modified") else "") if row["status"] == "passed" \
                else row["message"]
            if len(message) > width:
                message = message[:width - 1] + "…"
            lines.append(f"{name:{w}} {row['exercise'][:22]:22} {row['status']:8} "
                         f"{'1/1' if row['status'] == 'passed' else '0/1':>7}  {message}")
        lines.append(f"{name:{w}} {'TOTAL':22} {'':8} "
                     f"{result['passed']:>3}/{result['total']:<3}"
                     + (f"  stopped: {result['stopped']}" if result["stopped"] else ""))
    return "\n".join(lines)


def write_json(results, path) -> Path:
    """Write the grades (a list of :func:`grade_notebook` results) as JSON; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
