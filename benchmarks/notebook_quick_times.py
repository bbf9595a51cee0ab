"""How long each notebook takes in quick mode (``NASBOOK_QUICK=1``, what ``make test`` runs),
against its speed goal.

Usage::

    .venv/bin/python benchmarks/notebook_quick_times.py                  # every notebook, 3 runs
    .venv/bin/python benchmarks/notebook_quick_times.py --repeat 5 notebooks/00_welcome_and_tour.ipynb

Goals, on 2 CPU cores (README, "Quick mode and full mode": a notebook runs in a minute or two):
notebook 00, the tour a new reader opens first, in at most 90 s; every other notebook in at most
300 s. These used to be asserted by tests/test_notebooks.py, which failed a notebook that ran
clean but slowly on a busy machine; the test now only prints the seconds and keeps a generous
hang protection. Each notebook runs with ``nasbook.book.execute`` (a fresh kernel and working
directory, as in the test) ``--repeat`` times (3 by default); printed: each run's seconds
(kernel start included), failed trials, whether it ran clean and the load average, then the
verdict on the goal from :func:`nasbook.stats.verdict` over the repeated runs (met only when the
one-sided 95% upper bound of the mean seconds is within the goal; one run is never met: no
bound), and the machine (cores, load average before and after: on a shared machine the seconds
move with the load). Exits 0 whatever the times are.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_S = {"00_welcome_and_tour.ipynb": 90}
DEFAULT_GOAL_S = 300
HANG_LIMIT_S = 1800  # a notebook still running after this long is stopped and reported


def _load():
    return "/".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to time (default: every numbered one and the exercises)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per notebook (the verdict needs at least 2)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    paths = args.notebooks or (sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
                               + sorted((ROOT / "notebooks" / "exercises").glob("*.ipynb")))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from nasbook.book import execute
    from nasbook.stats import MET, verdict

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"{len(paths)} notebooks in quick mode, {args.repeat} run(s) each; {cores} CPU cores; "
          f"load average {_load()}; {time.strftime('%Y-%m-%d %H:%M')}", flush=True)
    words = {}
    for path in paths:
        goal = GOAL_S.get(path.name, DEFAULT_GOAL_S)
        seconds = []
        for k in range(args.repeat):
            run = execute(path, quick=True, timeout=HANG_LIMIT_S, notebook_timeout=HANG_LIMIT_S)
            seconds.append(run.seconds)
            state = ("clean" if run.ok else
                     f"problems ({run.error or '; '.join(run.problems)[:200]})")
            print(f"{path.name:55} run {k + 1}: {run.seconds:7.1f} s  {run.trials_failed} failed "
                  f"trials  {state}  (load {_load()})", flush=True)
        v = verdict(seconds, goal, better="lower", what=f"{path.name}, quick-mode seconds")
        words[path.name] = v.word
        print(f"  {v}", flush=True)
    met = [name for name, word in words.items() if word == MET]
    print(f"goal met (one-sided 95% bound within it) for {len(met)} of {len(paths)} notebooks; "
          + "; ".join(f"{word}: {sum(w == word for w in words.values())}"
                      for word in dict.fromkeys(words.values())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
