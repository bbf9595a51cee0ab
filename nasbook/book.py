"""Run notebooks as a reader would, and check what the reader sees: `make book` and the tests.

A notebook passes when it runs top to bottom and no cell output shows a traceback or a
warning it did not announce. A cell that errors on purpose carries the tag
``raises-exception`` (nbclient then lets it fail); a cell that shows a warning on purpose
carries ``expect-warning`` and the prose beside it explains the warning. Each run executes in
a fresh working directory, so the trials it leaves behind (keras-tuner's ``trial.json``,
nasbook's ``nasbook_trial.json``) can be counted: ``trials_failed`` in the runtime table.

Usage::

    python -m nasbook.book notebooks/0*.ipynb --out build            # full mode; build/index.html
    python -m nasbook.book notebooks/00_welcome_and_tour.ipynb --quick

    from nasbook.book import execute, output_problems
    run = execute("notebooks/00_welcome_and_tour.ipynb", quick=True)
    run.seconds, run.trials_failed, output_problems(run.notebook)
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import datetime
import json
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["NotebookRun", "execute", "output_problems", "count_failed_trials", "copy_notebooks",
           "main"]

RAISES = "raises-exception"
EXPECT_WARNING = "expect-warning"
TRACEBACK = re.compile(r"Traceback \(most recent call last\)")
# Python warnings ("RuntimeWarning: overflow ...", "ConvergenceWarning: ...") and logger lines
# ("WARNING:tensorflow:...", "WARNING: ..."), at the start of a line.
WARNING = re.compile(r"(^|\n)\s*(\S+:\d+: )?(\w*Warning: |WARNING[:\s])")


@dataclass
class NotebookRun:
    """One executed notebook: the executed copy, wall time, trials failed, problems seen."""

    path: Path
    notebook: object
    seconds: float
    quick: bool
    trials_failed: int = 0
    error: str | None = None
    problems: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and not self.problems


def _text_of(output) -> str:
    kind = output.get("output_type")
    if kind == "stream":
        return output.get("text", "")
    if kind == "error":
        return "\n".join(output.get("traceback", [])) or f"{output.get('ename')}: {output.get('evalue')}"
    data = output.get("data", {})
    return data.get("text/plain", "") if isinstance(data.get("text/plain", ""), str) else ""


def output_problems(notebook) -> list:
    """Every traceback, error or warning shown in a cell's output that its tags do not announce.

    Returns ``["cell 14: traceback: KeyError: 'activation'", ...]``; empty when clean.
    """
    problems = []
    for index, cell in enumerate(notebook.cells):
        if cell.get("cell_type") != "code":
            continue
        tags = set(cell.get("metadata", {}).get("tags", []))
        for output in cell.get("outputs", []):
            text = _text_of(output)
            if output.get("output_type") == "error" or TRACEBACK.search(text):
                if RAISES not in tags:
                    name = output.get("ename") or "traceback"
                    last = [line for line in re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines()
                            if line.strip()]
                    problems.append(f"cell {index}: {name}: {last[-1][:200] if last else ''}")
                continue
            match = WARNING.search(text)
            if match and EXPECT_WARNING not in tags:
                line = text[match.start():].strip().splitlines()[0]
                problems.append(f"cell {index}: unexpected warning: {line[:200]}")
    return problems


def count_failed_trials(directory) -> int:
    """Failed trials under ``directory``: nasbook's record when there is one, else keras-tuner's."""
    failed = 0
    for trial_json in Path(directory).rglob("trial.json"):
        ours = trial_json.with_name("nasbook_trial.json")
        try:
            if ours.exists():
                failed += json.loads(ours.read_text()).get("status") == "failed"
            else:
                failed += json.loads(trial_json.read_text()).get("status") in ("FAILED", "INVALID")
        except (OSError, ValueError):
            continue
    return failed


@contextlib.contextmanager
def _quick_mode(quick: bool):
    saved = os.environ.get("NASBOOK_QUICK")
    os.environ["NASBOOK_QUICK"] = "1" if quick else "0"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("NASBOOK_QUICK", None)
        else:
            os.environ["NASBOOK_QUICK"] = saved


def execute(path, *, quick: bool, timeout=None, workdir=None, notebook_timeout=None,
            allow_errors=False) -> NotebookRun:
    """Execute one notebook in a fresh working directory (quick or full mode, one kernel).

    ``timeout`` is per cell in seconds (None: no limit); ``notebook_timeout`` bounds the whole
    notebook (the cell running when it is spent is stopped; later cells do not run). A cell
    that raises without the ``raises-exception`` tag stops the run (``run.error`` says which)
    unless ``allow_errors`` (the grader: every cell runs, errors stay in the outputs).
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no notebook at {path}")
    notebook = nbformat.read(path, as_version=4)
    owned = workdir is None
    workdir = Path(tempfile.mkdtemp(prefix=f"nasbook-{path.stem}-") if owned else workdir)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            allow_errors=allow_errors,
                            resources={"metadata": {"path": str(workdir)}})
    start = time.perf_counter()
    if notebook_timeout is not None:
        def cell_limit(cell):  # what is left of the notebook's time, at most `timeout`
            left = max(notebook_timeout - (time.perf_counter() - start), 0.01)
            return min(left, timeout) if timeout else left

        client.timeout_func = cell_limit
    error = None
    with _quick_mode(quick):
        try:
            client.execute()
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
            lines = [line for line in str(err).strip().splitlines() if line.strip()]
            error = f"{type(err).__name__}: {lines[-1][:300] if lines else err}"
    seconds = time.perf_counter() - start
    run = NotebookRun(path, notebook, seconds, quick, count_failed_trials(workdir), error)
    run.problems = output_problems(notebook)
    if owned:
        shutil.rmtree(workdir, ignore_errors=True)
    return run


def copy_notebooks(dest, *, force=False) -> list:
    """Copy the numbered notebooks of the installed nasbook (package data ``nasbook.lessons``)
    into the folder ``dest``; returns the paths written. A notebook already there is kept (a
    reader's work is never overwritten) unless ``force``.

    Usage: ``copy_notebooks("~/nasbook")``; ``nasbook notebooks ~/nasbook`` from a shell
    """
    from importlib.resources import files

    dest = Path(dest).expanduser()
    lessons = sorted((p for p in files("nasbook.lessons").iterdir()
                      if re.fullmatch(r"\d\d_.+\.ipynb", p.name)), key=lambda p: p.name)
    if not lessons:
        raise FileNotFoundError("this nasbook has no notebooks in its package data "
                                "(nasbook.lessons); reinstall it from a wheel or a clone")
    dest.mkdir(parents=True, exist_ok=True)
    kept = [p.name for p in lessons if (dest / p.name).exists() and not force]
    if kept:
        raise FileExistsError(f"{dest} already has {', '.join(kept[:3])}"
                              f"{' ...' if len(kept) > 3 else ''}; pass --force to overwrite "
                              f"them, or choose another folder")
    written = []
    for lesson in lessons:
        target = dest / lesson.name
        target.write_bytes(lesson.read_bytes())
        written.append(target)
    return written


def _write_table(runs, out: Path):
    rows = [{"notebook": r.path.name, "mode": "quick" if r.quick else "full",
             "seconds": round(r.seconds, 1), "trials_failed": r.trials_failed,
             "warnings": sum("warning" in p for p in r.problems),
             "tracebacks": sum("warning" not in p for p in r.problems) + (r.error is not None),
             "outcome": "clean" if r.ok else "problems",
             "date": datetime.date.today().isoformat()} for r in runs]
    with open(out / "runtimes.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    lines = ["| notebook | mode | seconds | trials failed | warnings | tracebacks | outcome |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['notebook']} | {r['mode']} | {r['seconds']:.0f} | {r['trials_failed']} | "
              f"{r['warnings']} | {r['tracebacks']} | {r['outcome']} |" for r in rows]
    (out / "runtimes.md").write_text("\n".join(lines) + "\n")
    return rows


def main(argv=None) -> int:
    """``python -m nasbook.book NOTEBOOK... [--out build] [--quick]``: run, render, tabulate.

    Writes one offline HTML page per notebook (previous / next links), ``index.html`` (the
    front page, see :mod:`nasbook.site`) and the runtime table ``runtimes.csv``/``.md``."""
    parser = argparse.ArgumentParser(prog="python -m nasbook.book", description=main.__doc__)
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("build"))
    parser.add_argument("--quick", action="store_true", help="quick mode (default: full)")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per cell")
    parser.add_argument("--runtimes", type=Path, default=None,
                        help="the learning path's runtime table shown on the front page "
                             "(default: runtimes.csv beside the first notebook; may be absent)")
    args = parser.parse_args(argv)
    import nbformat

    from nasbook import site

    args.out.mkdir(parents=True, exist_ok=True)
    infos = [site.notebook_info(nbformat.read(p, as_version=4), p) for p in args.notebooks]
    runs, built = [], {}
    for k, path in enumerate(args.notebooks):
        print(f"{path.name}: running in {'quick' if args.quick else 'full'} mode ...", flush=True)
        run = execute(path, quick=args.quick, timeout=args.timeout)
        prev = infos[k - 1] if k > 0 else None
        nxt = infos[k + 1] if k + 1 < len(infos) else None
        page = site.render_page(run.notebook, infos[k], prev, nxt)
        (args.out / site.page_name(path)).write_text(page, encoding="utf-8")
        status = "clean" if run.ok else "; ".join(([run.error] if run.error else []) + run.problems)
        print(f"{path.name}: {run.seconds:.0f} s, {run.trials_failed} failed trials, {status}",
              flush=True)
        built[path.name] = (run.seconds, "clean" if run.ok else "problems: see runtimes.md")
        runs.append(run)
    _write_table(runs, args.out)
    runtimes = args.runtimes or args.notebooks[0].parent / "runtimes.csv"
    index = site.write_index(infos, args.out, runtimes=site.read_runtimes(runtimes),
                             built=built, quick=args.quick)
    print(f"runtime table: {args.out / 'runtimes.md'}; the book: {index}")
    return 0 if all(r.ok for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
