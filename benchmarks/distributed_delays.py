"""How fast a distributed search ends, and how fast its workers notice a dead chief.

Usage::

    .venv/bin/python benchmarks/distributed_delays.py --repeats 3

For each repeat, on MNIST-1D (200 training examples, a small MLP space, 1-3 epochs):

- **chief end**: ``nb.search(workers=2)`` with 4 trials; seconds from the last trial's end
  (its record's ``ended_at``) to ``nb.search`` returning (keras-tuner 1.4.8's own chief
  lingers ~20 s here, by its 20-second wait loop);
- **workers after a chief kill**: ``nasbook search --workers 2`` in a subprocess, killed with
  SIGKILL while a trial runs; seconds until both worker processes are gone (the goal is < 10).

Prints each figure per repeat, their mean and max, and the number of CPU cores.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nasbook as nb

GOAL_WORKERS_GONE_S = 10.0   # seconds from a chief SIGKILL until both worker processes are gone


def _records(run_dir):
    return [json.loads(p.read_text()) for p in Path(run_dir).glob("trial_*/nasbook_trial.json")]


def _alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True


def chief_end(base, ds, space):
    run_dir = Path(base) / "end"
    nb.search(ds, space, "random", max_trials=4, epochs=1, run_dir=run_dir, progress=False,
              workers=2)
    returned = time.time()
    return returned - max(r["ended_at"] for r in _records(run_dir))


def workers_after_chief_kill(base):
    run_dir = Path(base) / "kill"
    cmd = [sys.executable, "-m", "nasbook.cli", "search", "--dataset", "mnist1d", "--space",
           "mlp", "--max-trials", "4", "--epochs", "3", "--n-train", "200", "--n-val", "100",
           "--out", str(run_dir), "--no-progress", "--workers", "2"]
    chief = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    info = run_dir / "nasbook_chief.json"
    while True:
        if chief.poll() is not None:
            raise RuntimeError("the search ended before a trial was seen running")
        try:
            oracle = json.loads((run_dir / "oracle.json").read_text())
            pids = json.loads(info.read_text())["workers"]
            if oracle["ongoing_trials"] and len(pids) == 2:
                break
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.05)
    os.kill(chief.pid, signal.SIGKILL)
    killed = time.time()
    chief.wait()
    while any(_alive(p) for p in pids.values()):
        time.sleep(0.05)
    return time.time() - killed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    ds = nb.load_dataset("mnist1d", seed=0).subset(n_train=200, n_val=100, seed=0)
    space = nb.space.preset("mlp", ds.input_shape, ds.num_classes, n_dense=[1, 2],
                            units=[16, 32])
    ends, kills = [], []
    for i in range(args.repeats):
        with tempfile.TemporaryDirectory() as base:
            ends.append(chief_end(base, ds, space))
            kills.append(workers_after_chief_kill(base))
        print(f"repeat {i + 1}: chief end {ends[-1]:.2f} s after the last trial; workers gone "
              f"{kills[-1]:.2f} s after the chief was killed", flush=True)
    for name, xs in (("chief end after the last trial", ends),
                     ("workers gone after a chief kill", kills)):
        print(f"{name}: mean {sum(xs) / len(xs):.2f} s, max {max(xs):.2f} s over {len(xs)} "
              f"runs")
    print(nb.stats.verdict(kills, GOAL_WORKERS_GONE_S, better="lower",
                           what=f"workers gone after a chief kill < {GOAL_WORKERS_GONE_S:g} s"))
    print(f"{os.cpu_count()} CPU cores; load average {os.getloadavg()[0]:.1f}; "
          f"{time.strftime('%Y-%m-%d')}")


if __name__ == "__main__":
    main()
