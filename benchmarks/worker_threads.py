"""One process against two worker processes, before and after giving each worker its share of
the cores (nb.search(workers=N) sets TF_NUM_INTRAOP_THREADS = cores // N, inter-op 1).

Usage::

    .venv/bin/python benchmarks/worker_threads.py --rounds 5     # about 2 minutes a round

Each round runs the same random search (same seed, so the same trials: checked) three ways, in
an order that rotates from round to round so that a change of the machine's load falls on each
way alike:

- ``one``: ``workers=1``, trials in this process (TensorFlow's default threads: one per core);
- ``before``: ``workers=2, worker_threads=(0, 0)``: each worker with TensorFlow's default
  threads, as ``nb.search`` did before (two processes, each with a thread per core);
- ``after``: ``workers=2`` with the default ``worker_threads``: ``cores // 2`` intra-op threads
  and 1 inter-op thread per worker.

Per round: the wall clock of each (``nb.search`` called to returned), the 1-minute load average
when it started (``os.getloadavg()``), the speed-ups ``one / before`` and ``one / after``, and
the *ideal* speed-up, computed from the one-process run alone: its wall clock with its trials
re-dealt to two workers (``makespan`` of its own trial durations, in order, each to the first
free worker) and everything else unchanged. That ideal assumes a trial on one worker takes as
long as it took alone in one process (which had every core), so it is an optimistic bound, not a
prediction. The verdicts and intervals come from ``nasbook.stats`` (one figure per round).
"""
import argparse
import os
import re
import tempfile
import time
from pathlib import Path

import numpy as np

import nasbook as nb
from nasbook import distributed, rundir, stats

WAYS = {"one": dict(workers=1), "before": dict(workers=2, worker_threads=(0, 0)),
        "after": dict(workers=2)}


def makespan(durations, workers):
    """Seconds until the last trial ends, each trial (in order) going to the first free worker."""
    free = [0.0] * workers
    for d in durations:
        i = free.index(min(free))
        free[i] += d
    return max(free)


def run(way, ds, space, base, args):
    run_dir = Path(base) / way
    load = os.getloadavg()[0]
    start = time.perf_counter()
    result = nb.search(ds, space, "random", max_trials=args.trials, epochs=args.epochs,
                       seed=0, run_dir=run_dir, overwrite=True, progress=False, **WAYS[way])
    wall = time.perf_counter() - start
    records = rundir.records(result.run_dir)
    threads = sorted({m for log in (Path(result.run_dir) / "workers").glob("*.log")
                      for m in re.findall(r"threads: intra-op \d+, inter-op \d+",
                                          log.read_text())})
    trials = result.trials.sort_index()
    return {"wall": wall, "load": load, "durations": trials.duration_s.tolist(),
            "values": {t: r["active_values"] for t, r in records.items()},
            "status": list(trials.status), "threads": threads}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=6)
    args = parser.parse_args()

    ds = nb.load_dataset("mnist1d", seed=0)
    space = nb.space.preset("cnn", ds.input_shape, ds.num_classes, n_blocks=[1, 2],
                            filters=[8, 16], kernel=[3, 5], activation=["relu", "tanh"],
                            n_dense=[0], dropout=[0.0], l2=[0.0], optimizer=["adam"],
                            learning_rate=[3e-3], connection=["full"], pooling=["max"])
    cores = distributed.cpu_cores()
    print(f"{cores} cores (os.cpu_count() {os.cpu_count()}); MNIST-1D {len(ds.y_train)} "
          f"training examples; the notebook-13 CNN space; random search, {args.trials} trials of "
          f"{args.epochs} epochs; {args.rounds} rounds; worker threads after: "
          f"{distributed.thread_counts(2)} (intra-op, inter-op)")
    names = list(WAYS)
    rows = []
    with tempfile.TemporaryDirectory() as base:
        for r in range(args.rounds):
            order = names[r % 3:] + names[:r % 3]
            out = {way: run(way, ds, space, base, args) for way in order}
            one = out["one"]
            same = all(out[w]["values"] == one["values"] for w in ("before", "after"))
            completed = all(s == "completed" for w in names for s in out[w]["status"])
            d = one["durations"]
            ideal_wall = one["wall"] - sum(d) + makespan(d, 2)
            row = {"round": r + 1, "order": " ".join(order), "same_trials": same,
                   "completed": completed,
                   **{f"{w}_s": out[w]["wall"] for w in names},
                   **{f"load_{w}": out[w]["load"] for w in names},
                   **{f"trial_mean_{w}_s": float(np.mean(out[w]["durations"])) for w in names},
                   "speedup_before": one["wall"] / out["before"]["wall"],
                   "speedup_after": one["wall"] / out["after"]["wall"],
                   "speedup_ideal": one["wall"] / ideal_wall,
                   "threads_before": out["before"]["threads"],
                   "threads_after": out["after"]["threads"]}
            rows.append(row)
            print(f"round {row['round']} ({row['order']}): one {row['one_s']:.1f} s, before "
                  f"{row['before_s']:.1f} s, after {row['after_s']:.1f} s; speed-up before "
                  f"{row['speedup_before']:.2f}, after {row['speedup_after']:.2f}, ideal "
                  f"{row['speedup_ideal']:.2f}; mean trial one {row['trial_mean_one_s']:.2f} s, "
                  f"before {row['trial_mean_before_s']:.2f} s, after "
                  f"{row['trial_mean_after_s']:.2f} s; load "
                  f"{row['load_one']:.1f}/{row['load_before']:.1f}/{row['load_after']:.1f}; same "
                  f"trials {same}, all completed {completed}; worker threads before "
                  f"{row['threads_before']}, after {row['threads_after']}", flush=True)

    col = {k: np.array([row[k] for row in rows], dtype=float)
           for k in ("speedup_before", "speedup_after", "speedup_ideal")}
    loads = np.array([[row[f"load_{w}"] for w in names] for row in rows])
    print(f"\nload average (1 min) at the runs' starts: {loads.min():.1f} to {loads.max():.1f}")
    for k in col:
        mean, half = stats.mean_ci(col[k])
        print(f"{k}: mean {mean:.3f} +- {half:.3f} (95% t interval, n = {len(col[k])}); "
              f"per round {np.round(col[k], 2).tolist()}")
    print(stats.verdict(col["speedup_after"], 1.0, what="after: 2 workers faster than 1 process "
                                                         "(speed-up > 1)"))
    print(stats.verdict(col["speedup_before"], 1.0, what="before: 2 workers faster than 1 "
                                                          "process (speed-up > 1)"))
    print(stats.paired_difference(col["speedup_after"], col["speedup_before"],
                                  what="speed-up after - before, paired by round"))
    print(stats.verdict(col["speedup_after"] - col["speedup_before"], 0.0,
                        what="after beats before (speed-up difference > 0)"))
    print(stats.verdict(col["speedup_ideal"] - col["speedup_after"], 0.0,
                        what="after falls short of the ideal (ideal - after > 0)"))


if __name__ == "__main__":
    main()
