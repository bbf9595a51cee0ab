"""Checks for notebook 13: the wall-clock time of a search run by N workers, and the time of
one training epoch with a fixed cost per step."""

from __future__ import annotations

import heapq
import math

import numpy as np

from nasbook.exercises._base import Verdict, _number_answer, _verdict

__all__ = ["check_makespan", "check_epoch_time"]


# --- N workers sharing the trials (notebook 13, section 2) ----------------------------------------

def _makespan(durations, workers):
    """Reference: trials handed out in order, each to the first worker that is free; the time
    at which the last one ends."""
    free = [0.0] * int(workers)   # when each worker is next free
    heapq.heapify(free)
    end = 0.0
    for d in durations:
        start = heapq.heappop(free)
        heapq.heappush(free, start + float(d))
        end = max(end, start + float(d))
    return end


def _makespan_cases():
    rng = np.random.default_rng(13)
    return {"4 equal trials, 2 workers": ([10.0] * 4, 2),
            "one long trial last, 2 workers": ([5.0, 5.0, 5.0, 30.0], 2),
            "one long trial first, 3 workers": ([30.0, 5.0, 5.0, 5.0, 5.0], 3),
            "more workers than trials": ([4.0, 9.0], 8),
            "1 worker": ([3.0, 1.5, 2.5], 1),
            "20 varied trials, 4 workers": (list(rng.uniform(1.0, 20.0, 20).round(2)), 4)}


def check_makespan(fn, quiet=False) -> Verdict:
    """Check ``fn(durations, workers) -> float``: the wall-clock seconds of a search whose trials
    (``durations``, in the order they are handed out) run on ``workers`` workers, each trial
    going to the first worker that is free (how keras-tuner's chief hands them out)."""
    cases = _makespan_cases()
    for case, (durations, workers) in cases.items():
        ref = _makespan(durations, workers)
        got, bad = _number_answer(fn, (list(durations), workers), case, quiet)
        if bad is not None:
            return bad
        diff = abs(got - ref) if np.isfinite(got) else float("inf")
        if not diff <= 1e-9 * max(1.0, ref):
            hint = ""
            if math.isclose(got, sum(durations) / workers):
                hint = (" That is the total divided by the workers: perfect sharing. A trial "
                        "cannot be split, so a worker with a long trial finishes late.")
            elif math.isclose(got, sum(durations)):
                hint = " That is one worker's time: the workers run at the same time."
            elif math.isclose(got, max(durations)):
                hint = (" That is the longest trial alone; a worker runs several trials one "
                        "after another.")
            return _verdict(False, f"case '{case}': your time is {got:.6g} s, the reference "
                            f"{ref:.6g} s (off by {diff:.3g}).{hint}", quiet, case=case,
                            difference=diff)
    return _verdict(True, f"your wall-clock time matches on all {len(cases)} cases.", quiet,
                    difference=0.0)


# --- one epoch: a cost per step and a cost per example (notebook 13, section 6) ------------------

def _epoch_time(n_examples, batch_size, step_s, example_s):
    return math.ceil(n_examples / batch_size) * step_s + n_examples * example_s


def check_epoch_time(fn, quiet=False) -> Verdict:
    """Check ``fn(n_examples, batch_size, step_s, example_s) -> float``: the seconds of one
    epoch when every step (batch) costs ``step_s`` (launching the work: Python, kernel launches,
    copies) plus ``example_s`` per example it holds; the last batch may be smaller."""
    cases = {"4000 examples, batch 32": (4000, 32, 2e-3, 1e-5),
             "last batch smaller (1000 / 64)": (1000, 64, 1e-3, 2e-5),
             "batch larger than the data": (100, 256, 5e-3, 1e-5),
             "batch 1": (50, 1, 1e-3, 1e-4),
             "GPU-like: costly steps, cheap examples": (4000, 128, 8e-3, 1e-7)}
    for case, args in cases.items():
        ref = _epoch_time(*args)
        got, bad = _number_answer(fn, args, case, quiet)
        if bad is not None:
            return bad
        diff = abs(got - ref) if np.isfinite(got) else float("inf")
        if not diff <= 1e-9 * max(1.0, ref):
            n, b, step_s, example_s = args
            hint = ""
            if math.isclose(got, n / b * step_s + n * example_s):
                hint = (" The number of steps is a whole number: the last, smaller batch is a "
                        "step too (round up).")
            elif math.isclose(got, (n // b) * step_s + n * example_s):
                hint = " Round the number of steps up, not down: the last batch still runs."
            elif math.isclose(got, math.ceil(n / b) * step_s):
                hint = " Add the cost of the examples themselves (n_examples * example_s)."
            return _verdict(False, f"case '{case}': your epoch takes {got:.6g} s, the reference "
                            f"{ref:.6g} s (off by {diff:.3g}).{hint}", quiet, case=case,
                            difference=diff)
    return _verdict(True, f"your epoch time matches on all {len(cases)} cases.", quiet,
                    difference=0.0)
