"""Student copies of the notebooks: solutions replaced by stubs, outputs cleared, checks kept.

The markers are nbgrader's (and otter's); ``python -m nasbook.student --mark`` adds the cell
metadata that makes each notebook an nbgrader source notebook (``nasbook.marking``). The copies
that :func:`write_student_copies` writes (``make student``) are made from the marked notebook,
so they equal nbgrader's release cell for cell, with nbgrader's stubs set to ours
(``--course``; ``tests/test_nbgrader.py``); they need no course folder, gradebook database or
nbgrader, which is why this copy stays. In a code cell, the solution sits between two marker
lines::

    def my_f1(y_true, y_pred):
        ### BEGIN SOLUTION
        ...
        ### END SOLUTION

    verdict = nb.exercises.check_f1(my_f1)

A student copy replaces each region by ``raise NotImplementedError("write your solution
here")`` at the indentation of the ``BEGIN`` line. In a markdown cell (a model answer to an
open question) the region becomes "*Your answer here.*". ``### BEGIN HIDDEN TESTS`` …
``### END HIDDEN TESTS`` regions are removed. Outputs and execution counts are cleared.

Authoring rule (checked by :func:`lint`, and by running the copy in the tests): put solution
code in a function body and call that function only through a check
(``nb.exercises.check_*``, which turns NotImplementedError into "not yet"). A solution at
the top level of a cell, or a plain call of a solved function (``my_f1(y, p)``), would crash
the student copy at that cell.

Usage::

    python -m nasbook.student notebooks/0*.ipynb --out build/student     # `make student`
    python -m nasbook.student --mark notebooks/[0-9][0-9]_*.ipynb         # nbgrader metadata
    python -m nasbook.student --course COURSE notebooks/[0-9][0-9]_*.ipynb   # a course's source

    from nasbook.student import student_copy, lint
    nb_student = student_copy(nbformat.read(path, as_version=4))
"""
from __future__ import annotations

import argparse
import ast
import copy
import re
import sys
from pathlib import Path

__all__ = ["STUB", "MARKDOWN_STUB", "StudentCopyError", "strip_solutions", "student_copy",
           "solution_functions", "lint", "write_student_copies", "main"]

STUB = 'raise NotImplementedError("write your solution here")'
MARKDOWN_STUB = "*Your answer here.*"
_BEGIN = re.compile(r"^(\s*)#+\s*BEGIN SOLUTION\s*$")
_END = re.compile(r"^\s*#+\s*END SOLUTION\s*$")
_BEGIN_HIDDEN = re.compile(r"^\s*#+\s*BEGIN HIDDEN TESTS\s*$")
_END_HIDDEN = re.compile(r"^\s*#+\s*END HIDDEN TESTS\s*$")


class StudentCopyError(ValueError):
    """A notebook whose solution markers cannot make a working student copy."""


def _replace(source: str, begin, end, stub, where: str) -> tuple[str, int]:
    """Replace every begin/end region of ``source`` with ``stub`` (None: remove it)."""
    out, inside, indent, count = [], False, "", 0
    for number, line in enumerate(source.split("\n"), start=1):  # as nbgrader: keeps a final \n
        if not inside and begin.match(line):
            inside, count = True, count + 1
            indent = begin.match(line).group(1) if begin.groups else ""
            if stub is not None:
                out.append(indent + stub)
            continue
        if inside and end.match(line):
            inside = False
            continue
        if begin.match(line) or end.match(line):
            raise StudentCopyError(f"{where}, line {number}: {line.strip()!r} without its "
                                   f"{'END' if inside else 'BEGIN'} line")
        if not inside:
            out.append(line)
    if inside:
        raise StudentCopyError(f"{where}: a BEGIN marker has no END line")
    return "\n".join(out), count


def strip_solutions(source: str, cell_type: str = "code", where: str = "cell") -> tuple[str, int]:
    """One cell's source with solutions stubbed (code) or blanked (markdown) and hidden tests
    removed; returns ``(new source, number of solution regions)``."""
    stub = STUB if cell_type == "code" else MARKDOWN_STUB
    source, n = _replace(source, _BEGIN, _END, stub, where)
    source, _ = _replace(source, _BEGIN_HIDDEN, _END_HIDDEN, None, where)
    return source, n


def student_copy(notebook):
    """A copy of ``notebook`` (an nbformat node) for students: solutions replaced by stubs,
    hidden tests removed, outputs and execution counts cleared. Raises StudentCopyError for
    unmatched markers."""
    nb = copy.deepcopy(notebook)
    total = 0
    for index, cell in enumerate(nb.cells):
        if cell.cell_type in ("code", "markdown"):
            cell.source, n = strip_solutions(cell.source, cell.cell_type, f"cell {index}")
            total += n
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata["nasbook"] = {"student_copy": True, "solutions_replaced": total}
    return nb


def _source_tree(source: str):
    """The cell's Python syntax tree, IPython magics and shell lines blanked out."""
    lines = ["" if line.lstrip().startswith(("%", "!")) else line
             for line in source.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def solution_functions(notebook) -> set:
    """Names of the functions whose bodies hold a solution region (``def my_f1`` ...)."""
    names = set()
    for cell in notebook.cells:
        if cell.cell_type != "code" or "BEGIN SOLUTION" not in cell.source:
            continue
        stubbed, _ = strip_solutions(cell.source, "code")
        tree = _source_tree(stubbed)
        for node in ast.walk(tree) if tree else ():
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                    isinstance(s, ast.Raise) and "write your solution here" in ast.unparse(s)
                    for s in ast.walk(node)):
                names.add(node.name)
    return names


def _direct_calls(node, names) -> list:
    """Calls ``name(...)`` of the given names in ``node``, outside lambdas and function bodies."""
    found = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if (isinstance(child, ast.Call) and isinstance(child.func, ast.Name)
                and child.func.id in names):
            found.append(child.func.id)
        found += _direct_calls(child, names)
    return found


def lint(notebook) -> list:
    """Where a student copy of ``notebook`` would crash: a solution region outside a function
    body, or a solved function called directly at the top level of a cell (not through a
    check). Returns ``["cell 12: ...", ...]``; empty when the copy is safe."""
    problems = []
    solved = solution_functions(notebook)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        try:
            stubbed, n = strip_solutions(cell.source, "code", f"cell {index}")
        except StudentCopyError as exc:
            problems.append(str(exc))
            continue
        tree = _source_tree(stubbed)
        if tree is None:
            if n:
                problems.append(f"cell {index}: the student copy of this cell is not valid "
                                f"Python (is the stub inside a function body?)")
            continue
        for stmt in tree.body:  # top-level statements only: function bodies are fine
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            if isinstance(stmt, ast.Raise) and "write your solution here" in ast.unparse(stmt):
                problems.append(f"cell {index}: a solution region at the top level of the "
                                f"cell; put it inside a function body")
                continue
            for name in _direct_calls(stmt, solved):
                problems.append(f"cell {index}: {name}(...) is called directly; in a student "
                                f"copy it raises NotImplementedError. Call it only through a "
                                f"check (nb.exercises.check_*)")
    return problems


def write_student_copies(paths, out, *, check=True) -> list:
    """Write a student copy of each notebook into ``out``; returns the written paths.

    Each copy is made from the notebook marked for nbgrader (``nasbook.marking.mark``: an
    exercise's solution and its check in two cells), so it equals nbgrader's release cell for
    cell. With ``check`` (default), a notebook that :func:`lint` finds unsafe raises
    StudentCopyError naming every problem."""
    import nbformat

    from nasbook.marking import mark  # marking builds on this module, so imported here

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in map(Path, paths):
        notebook = nbformat.read(path, as_version=4)
        problems = lint(notebook) if check else []
        if problems:
            raise StudentCopyError(f"{path}: the student copy would crash:\n  "
                                   + "\n  ".join(problems))
        target = out / path.name
        try:
            marked = mark(notebook)
        except StudentCopyError as exc:
            raise StudentCopyError(f"{path}: {exc}") from exc
        nbformat.write(student_copy(marked), target)
        written.append(target)
    return written


def main(argv=None) -> int:
    """``python -m nasbook.student NOTEBOOK... [--out build/student]``: write student copies;
    ``python -m nasbook.student --mark NOTEBOOK...``: mark the notebooks, in place, as nbgrader
    source notebooks (``nasbook.marking``); ``--course DIR``: copy them, marked, into an nbgrader
    course (a source notebook there that differs is kept unless ``--force``)."""
    parser = argparse.ArgumentParser(prog="python -m nasbook.student", description=main.__doc__)
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("build/student"))
    parser.add_argument("--no-check", action="store_true",
                        help="write copies even where lint() finds a cell that would crash")
    parser.add_argument("--mark", action="store_true",
                        help="instead of copies, add nbgrader's cell metadata to the notebooks "
                             "in place (idempotent: a marked notebook is left as it is)")
    parser.add_argument("--course", type=Path, default=None, metavar="DIR",
                        help="instead of copies, write each notebook, marked, into the nbgrader "
                             "course DIR as its own assignment (DIR/source/NAME/NAME.ipynb) and "
                             "set nbgrader's stubs to these in DIR/nbgrader_config.py; a "
                             "source notebook there that differs is not overwritten")
    parser.add_argument("--force", action="store_true",
                        help="with --course: overwrite course source notebooks that differ "
                             "(a teacher's points and added cells there are lost)")
    args = parser.parse_args(argv)
    if args.mark or args.course:
        return _mark(args.notebooks, args.course, force=args.force)
    try:
        written = write_student_copies(args.notebooks, args.out, check=not args.no_check)
    except (StudentCopyError, OSError) as exc:
        print(f"nasbook.student: error: {exc}", file=sys.stderr)
        return 1
    import nbformat

    for target in written:
        regions = nbformat.read(target, as_version=4).metadata["nasbook"]["solutions_replaced"]
        print(f"{target}: {regions} solution region(s) replaced")
    return 0


def _mark(paths, course=None, force=False) -> int:
    from nasbook.marking import mark_files, write_course

    try:
        done = write_course(paths, course, force=force) if course else mark_files(paths)
    except (ValueError, OSError) as exc:  # a MarkingError, or a file that is not a notebook
        print(f"nasbook.student: error: {exc}", file=sys.stderr)
        return 1
    if course:
        for target in done:
            print(f"{target}: marked copy")
        print(f"{course / 'nbgrader_config.py'}: nasbook's stubs and cell time limit")
    else:
        for path in paths:
            print(f"{path}: {'marked' if Path(path) in done else 'already marked, unchanged'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
