"""Grade students' notebooks: run each headless and read every check's verdict from its output.

An exercise is a code cell that calls a check from ``nasbook.exercises``
(``nb.exercises.check_f1(my_f1)``) or carries the cell tag ``exercise:NAME``. Its name is
NAME when tagged, else the checks it calls without their ``check_`` prefix (``f1``); a name
used twice in a notebook gets a suffix (``f1 (2)``). Each check prints one verdict line,
``✅ right: ...`` or ``❌ not yet: ...``; an exercise is *passed* when its cell printed at
least one verdict and every verdict is right, *not yet* when one says not yet (its message
is kept), and *error* when the cell raised, printed no verdict, or never ran (time limit).

Each notebook runs in its own kernel and working directory (``nasbook.book.execute``), in
quick mode by default (budgets shrink; checks are the same), every cell running even after an
error, within a time limit per notebook. One point per exercise.

Usage::

    nasbook grade submissions/*.ipynb --json grades.json --timeout 600
    nasbook grade submissions/*.ipynb --reference build/student/03_evaluation_metrics.ipynb

    from nasbook.grade import grade_notebook, exercises_in
    rows = grade_notebook("alice_03.ipynb", timeout=600)     # list of dicts, one per exercise
"""
from __future__ import annotations

import json
import re
from pathlib import Path

__all__ = ["RIGHT", "NOT_YET", "exercises_in", "verdicts", "grade_executed", "grade_notebook",
           "grade", "format_table", "write_json"]

RIGHT = "✅ right: "
NOT_YET = "❌ not yet: "
_CHECK_CALL = re.compile(r"\bexercises\.(check_\w+)\s*\(")
_VERDICT = re.compile(r"^(✅ right: |❌ not yet: )(.*)$", re.MULTILINE)
TAG = "exercise:"


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


def grade_executed(notebook, *, stopped=None, expected=None) -> list:
    """Rows ``{exercise, cell, status, message}`` from an executed notebook; ``stopped`` is why
    the run ended early (a time limit), reported for exercises that never ran. ``expected``
    (exercise names, e.g. from the teacher's copy) fixes the rows: an expected exercise the
    notebook lacks is an error ("missing"), one it adds is left out."""
    rows = []
    found_here = exercises_in(notebook)
    if expected is not None:
        have = dict((name, index) for index, name in found_here)
        found_here = [(have.get(name), name) for name in expected]
    for index, name in found_here:
        if index is None:
            rows.append({"exercise": name, "cell": None, "status": "error",
                         "message": "missing: no cell runs this exercise's check (deleted, or "
                                    "its check call or tag changed)"})
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
        rows.append({"exercise": name, "cell": index, "status": status, "message": message})
    return rows


def grade_notebook(path, *, timeout=600, quick=True, reference=None) -> dict:
    """Run one notebook headless (its own kernel, ``timeout`` seconds in all) and grade it.

    ``reference`` (a path to the teacher's or the original student copy) says which exercises
    to expect, so a deleted exercise cell counts as missing instead of shrinking the total.

    Returns ``{"notebook", "seconds", "stopped", "exercises": [rows], "passed", "total",
    "score"}``; ``score`` is passed / total (0 when the notebook has no exercise). A submission
    that cannot be read (missing, not JSON, not a notebook) scores zero, with the reason in
    ``stopped`` and, given ``reference``, every expected exercise as an error row."""
    import nbformat

    from nasbook.book import execute

    expected = None
    if reference is not None:
        expected = [name for _, name in exercises_in(nbformat.read(reference, as_version=4))]
    try:
        nbformat.read(path, as_version=4).cells  # noqa: B018 - a notebook has cells
        run = execute(path, quick=quick, notebook_timeout=timeout, allow_errors=True)
    except Exception as exc:  # noqa: BLE001 - whatever is wrong with one file, grade the rest
        reason = f"could not read or run the notebook: {type(exc).__name__}: {exc}"[:300]
        rows = [{"exercise": name, "cell": None, "status": "error", "message": reason}
                for name in expected or []]
        return {"notebook": str(path), "seconds": 0.0, "stopped": reason, "exercises": rows,
                "passed": 0, "total": len(rows), "score": 0.0}
    stopped = None
    if run.error:
        stopped = (f"time limit of {timeout:g} s reached" if "Timeout" in run.error
                   else "the kernel died" if "DeadKernel" in run.error else run.error)
    rows = grade_executed(run.notebook, stopped=stopped, expected=expected)
    passed = sum(r["status"] == "passed" for r in rows)
    return {"notebook": str(path), "seconds": round(run.seconds, 1), "stopped": stopped,
            "exercises": rows, "passed": passed, "total": len(rows),
            "score": passed / len(rows) if rows else 0.0}


def grade(paths, *, timeout=600, quick=True, reference=None, progress=None) -> list:
    """:func:`grade_notebook` for each path, in order; ``progress`` is called with each one."""
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
    """The grades as a plain-text table: file, exercise, status, score, message."""
    names = _short_names([r["notebook"] for r in results])
    w = max([len("student file"), *map(len, names)])
    lines = [f"{'student file':{w}} {'exercise':22} {'status':8} {'score':>7}  message"]
    for name, result in zip(names, results):
        if not result["exercises"]:
            lines.append(f"{name:{w}} {'(no exercise found)':22}")
        for row in result["exercises"]:
            message = "" if row["status"] == "passed" else row["message"]
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
