"""nbgrader's cell metadata for the notebooks: each one a valid nbgrader source notebook.

nbgrader (https://nbgrader.readthedocs.io) reads ``metadata.nbgrader`` of every cell
(``schema_version`` 3, a unique ``grade_id``, ``solution``, ``grade``, ``locked`` and, on graded
cells only, ``points``). :func:`mark` adds it, idempotently (marking a marked notebook changes
nothing), from the conventions the notebooks already follow (``nasbook.student``,
``nasbook.grade``):

- **An exercise's check cell** (a code cell calling ``nb.exercises.check_*`` or tagged
  ``exercise:NAME``) becomes an autograder test cell: ``grade``, ``locked`` (nbgrader restores
  it from its database before grading), 1 point, grade id ``check_<exercise>``.
- **A code cell with a solution** becomes an autograded answer: ``solution``, grade id
  ``answer_<exercise it precedes>``. nbgrader grades a cell that is both a solution and a
  graded cell *by hand*, so a cell holding the solution *and* the check is split in two after
  the solution's last top-level statement (a function body): the answer cell, then the check
  cell with the rest (the check call and what follows it), its outputs and ``exercise:`` tag.
- **A markdown cell with a solution** (the model answers to the open questions) becomes a
  manually graded answer: ``solution`` and ``grade`` (nbgrader requires both in markdown),
  1 point, grade id ``open_answers`` (``open_answers_2``, ... after the first).

Points already set on a graded cell are kept, so a teacher's choice survives re-marking, and so
is a cell a teacher marked by hand (read-only, or a test cell of their own); marks of ours that
went stale (a solution or a check removed) are removed. Under
nbgrader's autograde and validate a check that says "not yet" raises (see
``nasbook.exercises._base.grading``), so its test cell scores zero, and the reader sees the same
verdict line. :func:`problems` says what keeps a notebook from being a marked source notebook.

Usage::

    python -m nasbook.student --mark notebooks/[0-9][0-9]_*.ipynb     # in place

    from nasbook.marking import mark, problems
    marked = mark(nbformat.read(path, as_version=4)); assert problems(marked) == []
"""
from __future__ import annotations

import copy
import re
from pathlib import Path

from nasbook.grade import _CHECK_CALL, TAG, exercises_in
from nasbook.student import MARKDOWN_STUB, STUB, StudentCopyError, _source_tree

__all__ = ["SCHEMA_VERSION", "POINTS", "NBGRADER_CONFIG", "MarkingError", "check_id", "mark",
           "problems", "mark_files", "write_course"]

SCHEMA_VERSION = 3
POINTS = 1
# What write_course adds to a course's nbgrader_config.py: nbgrader's stubs made ours, so its
# release equals `make student` cell for cell; a cell that runs a search may take minutes.
NBGRADER_CONFIG = f"""
# nasbook: the stubs of `make student`; a notebook's search may take minutes in one cell
c.ClearSolutions.code_stub = {{"python": {STUB!r}}}
c.ClearSolutions.text_stub = {MARKDOWN_STUB!r}
c.Execute.timeout = 600
"""
_GRADE_ID = re.compile(r"^[a-zA-Z0-9_\-]+$")  # nbgrader's schema (v3.json), non-empty


class MarkingError(StudentCopyError):
    """A cell whose solution and check cannot be told apart into nbgrader's cells."""


def _has(source, marker) -> bool:
    """nbgrader's own rule: the marker anywhere in a line (ClearSolutions, ClearHiddenTests)."""
    return any(marker in line for line in source.split("\n"))


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "exercise"


def check_id(exercise: str) -> str:
    """The grade id of an exercise's check cell (``f1`` -> ``check_f1``, ``f1 (2)`` ->
    ``check_f1_2``), as nbgrader's gradebook names its score."""
    return f"check_{_slug(exercise)}"


def _split(cell, index):
    """``(answer cell, check cell)`` of a code cell holding a solution and its check."""
    lines = cell.source.split("\n")
    last_end = max(i for i, line in enumerate(lines, 1) if "END SOLUTION" in line)
    tree = _source_tree(cell.source)
    if tree is None:
        raise MarkingError(f"cell {index}: not valid Python, so its solution and its check "
                           f"cannot be split into nbgrader's answer and test cells")
    cut = max([last_end] + [s.end_lineno for s in tree.body if s.lineno <= last_end])
    answer = "\n".join(lines[:cut]).rstrip()
    check = "\n".join(lines[cut:]).strip("\n")
    if not check.strip() or _has(check, "BEGIN SOLUTION") or _CHECK_CALL.search(answer):
        raise MarkingError(f"cell {index}: the check must come after the solution (after the "
                           f"function whose body holds it), so nbgrader can grade it apart")
    tags = cell.metadata.get("tags", [])
    first = copy.deepcopy(cell)
    first.source, first.outputs, first.execution_count = answer, [], None
    other = [t for t in tags if not t.startswith(TAG)]
    if other:
        first.metadata["tags"] = other
    else:
        first.metadata.pop("tags", None)
    second = copy.deepcopy(cell)
    second.source, second.execution_count = check, None
    if "id" in cell:
        second["id"] = f"{cell['id'][:58]}-check"
    return first, second


def _split_cells(notebook):
    """The cells with every solution-and-check code cell split in two."""
    exercises = {index for index, _ in exercises_in(notebook)}
    ids = {cell.get("id") for cell in notebook.cells}
    cells = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and index in exercises and _has(cell.source,
                                                                     "BEGIN SOLUTION"):
            answer, check = _split(cell, index)
            while "id" in check and check["id"] in ids:  # the new id is unique too
                check["id"] = f"{check['id'][:60]}-{len(ids)}"
            ids.add(check.get("id"))
            cells += [answer, check]
        else:
            cells.append(cell)
    return cells


def _first_function(source) -> str | None:
    tree = _source_tree(source)
    return next((s.name for s in (tree.body if tree else ()) if hasattr(s, "name")), None)


def _metadata(cell, grade_id, *, solution, grade, locked):
    old = cell.metadata.get("nbgrader", {})
    meta = {"schema_version": SCHEMA_VERSION, "grade": grade, "grade_id": grade_id,
            "locked": locked, "solution": solution}
    if grade:
        points = old.get("points") if old.get("grade") else None
        meta["points"] = POINTS if points is None else points
    cell.metadata["nbgrader"] = meta


def mark(notebook):
    """A copy of ``notebook`` (an nbformat node) marked as an nbgrader source notebook (see the
    module doc). Raises MarkingError for a cell whose check does not follow its solution."""
    nb = copy.deepcopy(notebook)
    nb.cells = _split_cells(nb)
    names = dict(exercises_in(nb))
    kept = {index for index, cell in enumerate(nb.cells) if _teachers(cell, index in names)}
    used = {nb.cells[index].metadata["nbgrader"].get("grade_id") for index in kept}

    def unique(grade_id):
        base, k = grade_id, 1
        while grade_id in used:
            k += 1
            grade_id = f"{base}_{k}"
        used.add(grade_id)
        return grade_id

    for index, cell in enumerate(nb.cells):
        solution = _has(cell.source, "BEGIN SOLUTION")
        if index in names:
            _metadata(cell, unique(check_id(names[index])), solution=False, grade=True,
                      locked=True)
        elif solution and cell.cell_type == "code":
            following = next((names[j] for j in sorted(names) if j > index), None)
            name = following or _first_function(cell.source) or "exercise"
            _metadata(cell, unique(f"answer_{_slug(name)}"), solution=True, grade=False,
                      locked=False)
        elif solution and cell.cell_type == "markdown":
            _metadata(cell, unique("open_answers"), solution=True, grade=True, locked=False)
        elif index not in kept:
            cell.metadata.pop("nbgrader", None)  # stale: no longer a solution or a check
    return nb


def _teachers(cell, exercise) -> bool:
    """A cell a teacher marked by hand (a read-only cell, a test cell of their own), which
    marking keeps as it is: no solution region, not an exercise, not one of ours gone stale."""
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta and not exercise and not _has(cell.source, "BEGIN SOLUTION")
                and not meta.get("solution") and (meta.get("grade") or meta.get("locked"))
                and not str(meta.get("grade_id", "")).startswith(("check_", "answer_")))


def problems(notebook) -> list:
    """What keeps ``notebook`` from being a marked nbgrader source notebook, ``["cell 3: ...",
    ...]``; empty when it is one. Checks what nbgrader's generate_assignment and autograde
    need (schema 3, unique valid grade ids, points on graded cells only, every solution region
    in a solution cell, markdown answers graded) and what this project adds: each exercise's
    check cell is a locked autograder test cell that holds no solution."""
    found = []
    names = dict(exercises_in(notebook))
    ids = {}
    for index, cell in enumerate(notebook.cells):
        where = f"cell {index}"
        meta = cell.metadata.get("nbgrader")
        solution = _has(cell.source, "BEGIN SOLUTION")
        if solution and not (meta or {}).get("solution"):
            found.append(f"{where}: a solution region in a cell that is not a solution cell")
        if _has(cell.source, "BEGIN HIDDEN TESTS") and not (meta or {}).get("grade"):
            found.append(f"{where}: hidden tests in a cell that is not graded")
        if index in names:
            if solution:
                found.append(f"{where}: exercise '{names[index]}' holds its solution and its "
                             f"check in one cell; nbgrader would grade it by hand")
            elif not (meta and meta.get("grade") and meta.get("locked")):
                found.append(f"{where}: exercise '{names[index]}' is not a locked, graded "
                             f"(autograder test) cell")
        if not meta:
            continue
        if meta.get("schema_version") != SCHEMA_VERSION:
            found.append(f"{where}: nbgrader schema_version {meta.get('schema_version')!r}, "
                         f"expected {SCHEMA_VERSION}")
        missing = [k for k in ("grade", "solution", "locked") if not isinstance(meta.get(k),
                                                                                  bool)]
        if missing:
            found.append(f"{where}: nbgrader metadata lacks {', '.join(missing)}")
        grade_id = meta.get("grade_id", "")
        if not _GRADE_ID.match(str(grade_id)):
            found.append(f"{where}: grade_id {grade_id!r} is empty or not [a-zA-Z0-9_-]")
        elif grade_id in ids:
            found.append(f"{where}: grade_id {grade_id!r} is used by cell {ids[grade_id]} too")
        ids.setdefault(grade_id, index)
        if meta.get("grade"):
            points = meta.get("points")
            if isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0:
                found.append(f"{where}: a graded cell without a number of points")
        elif "points" in meta:
            found.append(f"{where}: points on a cell that is not graded")
        if cell.cell_type == "markdown" and meta.get("solution") != meta.get("grade"):
            found.append(f"{where}: a markdown answer must be both solution and graded")
        if meta.get("solution") and not solution:  # nbgrader would blank the whole cell
            found.append(f"{where}: a solution cell without a BEGIN SOLUTION region")
    return found


def _read_and_mark(path):
    """``(notebook, marked copy)`` of one file; MarkingError names the file when it fails."""
    import nbformat

    try:
        notebook = nbformat.read(path, as_version=4)
        return notebook, mark(notebook)
    except (ValueError, OSError) as exc:  # not a notebook, unreadable, or a MarkingError
        raise MarkingError(f"{path}: {exc}") from exc


def mark_files(paths) -> list:
    """Mark each notebook file in place; returns the paths that changed (unchanged files are
    not rewritten). Every file is read and marked before any is written."""
    import nbformat

    changed = []
    for path, (notebook, marked) in [(p, _read_and_mark(p)) for p in map(Path, paths)]:
        if marked != notebook:
            nbformat.write(marked, path)
            changed.append(path)
    return changed


def write_course(paths, course, *, force=False) -> list:
    """Copy each notebook, marked, into the nbgrader course folder ``course`` as its own
    assignment (``source/03_evaluation_metrics/03_evaluation_metrics.ipynb``), and add
    :data:`NBGRADER_CONFIG` to ``course/nbgrader_config.py`` once; returns the written paths.
    The notebooks themselves are left as they are. A course source notebook that differs from
    what would be written (a teacher changed its points or added cells) is not overwritten:
    MarkingError names every such file, and nothing is written, unless ``force``."""
    import nbformat

    course = Path(course)
    marked = [(Path(p), _read_and_mark(p)[1]) for p in paths]  # all or none
    targets = [(course / "source" / path.stem / path.name, notebook) for path, notebook in marked]
    changed = [target for target, notebook in targets
               if not force and target.exists() and not _same_file(target, notebook)]
    if changed:
        raise MarkingError(
            "the course's source notebook differs from the marked notebook (points or cells "
            "changed there?), so it is not overwritten: " + ", ".join(map(str, changed))
            + "; give --force to replace it (the changes there are lost), or leave it out")
    written = []
    for target, notebook in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, target)
        written.append(target)
    config = course / "nbgrader_config.py"
    text = config.read_text(encoding="utf-8") if config.exists() else "c = get_config()\n"
    if NBGRADER_CONFIG.strip() not in text:
        config.write_text(text.rstrip("\n") + "\n" + NBGRADER_CONFIG, encoding="utf-8")
    return written


def _same_file(target, notebook) -> bool:
    """Whether the notebook file ``target`` holds ``notebook`` (as nbformat would write it)."""
    import nbformat

    try:
        return nbformat.read(target, as_version=4) == nbformat.reads(nbformat.writes(notebook),
                                                                     as_version=4)
    except Exception:  # noqa: BLE001 - unreadable: it differs
        return False
