"""Where does a trial's time go, and does the process's memory stay flat across trials?

Runs a real ``nb.search`` (random strategy, the ``cnn`` preset, MNIST-1D's standard split, 5
epochs per trial, TensorBoard logs on as by default) of ``--trials`` trials, in calls of one
block (``--block``, 25 trials) each, resuming the same run directory, so each block is printed
as soon as it ends. The figures come from the trials' own records (``result.phases()``, written
by the runner for every search): per block, the mean seconds of each phase per completed trial,
the overhead fraction (everything but the steady training epochs, as a share of the block's
total trial time) and the process's resident memory (RSS) after the block's last trial.

Goals (issue 15): overhead <= 20% of a trial's time; RSS growth < 50 MB per 100 trials (the
least-squares slope of RSS against trial number after the first block, which holds one-time
warm-up). Also printed: the machine (cores, CPU, load average at the start and the end: on a
shared machine the seconds move with the load, the fractions less so).

Usage::

    .venv/bin/python benchmarks/trial_overhead.py                  # 200 trials, ~30-60 min
    .venv/bin/python benchmarks/trial_overhead.py --trials 50 --epochs 5
    .venv/bin/python benchmarks/trial_overhead.py --no-tensorboard --save phases.csv
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

GOAL_OVERHEAD = 0.20  # of a trial's time
GOAL_RSS_PER_100 = 50.0  # MB per 100 trials
PARTS = ("build_s", "trace_s", "fit_s", "evaluate_s", "save_s", "other_s", "total_s")


def _positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text}")
    return value


def _machine() -> str:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    return f"{os.cpu_count()} cores ({usable} usable), {cpu}, {platform.system()}"


HEADER = (f"{'trials':>9} {'done':>4} " + " ".join(f"{p:>10}" for p in PARTS)
          + f" {'overhead':>8} {'rss_mb':>7}")


def _line(row) -> str:
    return (f"{row['trials']:>9} {row['completed']:>4} "
            + " ".join(f"{row[p]:>10.3f}" for p in PARTS)
            + f" {row['overhead']:>8.1%} {row['rss_mb']:>7.0f}")


def _load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def block_table(phases, block):
    """One row per block of ``block`` trials: mean seconds per phase over its completed
    trials, overhead fraction (ratio of the block's sums), RSS after its last trial."""
    import numpy as np
    import pandas as pd

    rows = []
    for start in range(0, len(phases), block):
        part = phases.iloc[start:start + block]
        done = part[part.status == "completed"]
        row = {"trials": f"{part.index.min()}-{part.index.max()}", "completed": len(done)}
        row.update({name: done[name].mean() for name in PARTS})
        total = done.total_s.sum()
        row["overhead"] = (total - done.fit_s.sum()) / total if total > 0 else np.nan
        row["rss_mb"] = part.rss_mb.iloc[-1]
        rows.append(row)
    return pd.DataFrame(rows)


def rss_slope_per_100(phases, skip):
    """Least-squares slope of RSS (MB) against trial number, per 100 trials, after ``skip``."""
    import numpy as np

    tail = phases.iloc[skip:].dropna(subset=["rss_mb"])
    if len(tail) < 2:
        return float("nan")
    return float(np.polyfit(tail.index.to_numpy(float), tail.rss_mb.to_numpy(float), 1)[0]) * 100


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=_positive, default=200, help="trials (default 200)")
    parser.add_argument("--epochs", type=_positive, default=5, help="epochs per trial (5)")
    parser.add_argument("--block", type=_positive, default=25, help="trials per block (25)")
    parser.add_argument("--preset", default="cnn", help="space preset (default cnn)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-tensorboard", action="store_true",
                        help="do not write TensorBoard logs (on by default, as in nb.search)")
    parser.add_argument("--run-dir", help="keep the run directory here (default: a temporary "
                                          "directory, deleted at the end)")
    parser.add_argument("--save", help="write the per-trial phases table to this CSV")
    args = parser.parse_args(argv)

    import pandas as pd

    import nasbook as nb

    load_start, started = _load(), time.time()
    print(f"machine: {_machine()}; load average (1/5/15 min) at start: {load_start} "
          f"(a shared machine: other jobs' load slows every phase)")
    ds = nb.load_dataset("mnist1d")
    space = nb.space.preset(args.preset, ds.input_shape, ds.num_classes)
    print(f"search: random, {args.preset} preset, mnist1d ({len(ds.x_train)} train / "
          f"{len(ds.x_val)} validation), {args.epochs} epochs, {args.trials} trials in blocks of "
          f"{args.block}, TensorBoard {'off' if args.no_tensorboard else 'on'}", flush=True)
    tmp = None if args.run_dir else tempfile.TemporaryDirectory(prefix="trial_overhead_")
    run_dir = Path(args.run_dir or tmp.name) / "run"
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 20)
    done = 0
    result = None
    cpu, wall = time.process_time(), time.time()
    while done < args.trials:
        done = min(args.trials, done + args.block)
        result = nb.search(ds, space, "random", max_trials=done, epochs=args.epochs,
                           run_dir=run_dir, overwrite=False, seed=args.seed, progress=False,
                           tensorboard=not args.no_tensorboard)
        cpu, wall = time.process_time() - cpu, time.time() - wall
        row = block_table(result.phases(), args.block).iloc[-1]
        if done <= args.block:
            print(HEADER)
        print(_line(row) + f"  (this process got {cpu / wall:.2f} CPU cores of wall time; "
                           f"load {_load()})", flush=True)
        cpu, wall = time.process_time(), time.time()
    phases = result.phases()
    if args.save:
        phases.to_csv(args.save)
    print()
    print("per block (mean seconds per completed trial; overhead = 1 - fit_s / total_s of the "
          "block; RSS after the block's last trial):")
    print(HEADER)
    for _, row in block_table(phases, args.block).iterrows():
        print(_line(row))
    completed = phases[phases.status == "completed"]
    overhead = 1 - completed.fit_s.sum() / completed.total_s.sum()
    slope = rss_slope_per_100(phases, min(args.block, len(phases) - 2))
    counts = result.counts()
    print(f"\ntrials: {len(phases)} ({', '.join(f'{n} {s}' for s, n in counts.items() if n)}); "
          f"mean epochs run {result.trials.epochs_run.dropna().mean():.2f}; "
          f"wall time {(time.time() - started) / 60:.1f} min")
    # one search is one run: n = 1, so a goal can at best be "not shown" (nb.stats.verdict)
    print(nb.stats.verdict([overhead], GOAL_OVERHEAD, better="lower",
                           what=f"overhead (1 - fit_s / total_s) <= {GOAL_OVERHEAD:.0%}"))
    print(str(nb.stats.verdict([slope], GOAL_RSS_PER_100, better="lower",
                               what=f"RSS growth per 100 trials < {GOAL_RSS_PER_100:.0f} MB")) +
          f"; slope after trial {min(args.block, len(phases) - 2)}, "
          f"{phases.rss_mb.iloc[0]:.0f} MB after the first trial, "
          f"{phases.rss_mb.iloc[-1]:.0f} MB after the last")
    print(f"load average at start: {load_start}; at end: {_load()}; "
          f"{os.cpu_count()} cores shared with other jobs")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
