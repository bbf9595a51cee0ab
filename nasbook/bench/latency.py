"""Measured inference latency (hardware-aware NAS on this CPU): one protocol, and the FLOPs it is
compared with.

The protocol (HW-NAS-Bench's question, "do FLOPs predict latency?", asked on our space): the
model's traced forward pass (:func:`nasbook.logits.compiled`, as a deployed model runs) on a
fixed random batch; ``warmup`` calls first (tracing, caches), then ``repeats`` timed calls; the
median and interquartile range in milliseconds, with TensorFlow's thread counts, the CPU and the
load average recorded. :func:`measure_stable` repeats rounds until two medians agree within
``tolerance`` (a busy machine moves the median; the rounds it took are recorded).

Two clocks per call: the wall clock (what a user waits; on a shared machine it includes time
spent waiting for a core) and this process's CPU time (every thread of the process, so with one
TensorFlow thread it is the work of the call, and another process's load barely moves it; cache
and a busy hyper-threaded sibling still can). On a quiet machine the two agree; which one a
figure uses is said beside it. :func:`latency_metric` makes the measurement a per-trial metric of
a real ``nb.search``.

Usage::

    from nasbook.bench.latency import measure_stable, flops, latency_metric
    row = measure_stable(model, batch_size=1)      # {"median_ms", "cpu_median_ms", "rounds", ...}
    flops(model)                                   # multiply-adds x 2 of Conv1D and Dense layers
    nb.search(ds, space, "nsga2", trial_metrics={"latency_ms": latency_metric()}, ...)
"""
from __future__ import annotations

import os
import platform
import time
from pathlib import Path

import numpy as np

__all__ = ["measure", "measure_stable", "flops", "machine", "latency_metric", "load_latency",
           "latency_path", "with_latency", "correlations", "flops_vs_params", "CLOCKS",
           "load_latency_reference", "drift", "front_kept_under_drift"]


def machine() -> dict:
    """The CPU, its core count, TensorFlow's thread settings and the 1-minute load average."""
    import tensorflow as tf

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(),
            "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
            "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
            "load_1min": round(os.getloadavg()[0], 2)}


def measure(model, batch_size: int, *, repeats: int = 20, warmup: int = 3, seed: int = 0) -> dict:
    """Latency of one forward pass of ``batch_size`` examples: median and interquartile range
    (ms) of ``repeats`` timed calls after ``warmup`` untimed ones, by the wall clock
    (``median_ms``, ``iqr_ms``) and by this process's CPU time (``cpu_median_ms``,
    ``cpu_iqr_ms``)."""
    from nasbook.logits import compiled

    if repeats < 5 or warmup < 1 or batch_size < 1:
        raise ValueError(f"need repeats >= 5, warmup >= 1 and batch_size >= 1, got "
                         f"{repeats}, {warmup}, {batch_size}")
    shape = tuple(model.input_shape[1:])
    x = np.random.default_rng(seed).normal(size=(batch_size, *shape)).astype(np.float32)
    forward = compiled(model).forward
    for _ in range(warmup):
        forward(x).numpy()
    times, cpu = np.empty(repeats), np.empty(repeats)
    for i in range(repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        forward(x).numpy()
        times[i] = time.perf_counter() - start
        cpu[i] = time.process_time() - cpu_start
    q1, median, q3 = np.percentile(times * 1e3, [25, 50, 75])
    c1, cpu_median, c3 = np.percentile(cpu * 1e3, [25, 50, 75])
    return {"batch_size": batch_size, "median_ms": float(median), "iqr_ms": float(q3 - q1),
            "cpu_median_ms": float(cpu_median), "cpu_iqr_ms": float(c3 - c1),
            "repeats": repeats, "load_1min": round(os.getloadavg()[0], 2)}


def measure_stable(model, batch_size: int, *, repeats: int = 20, warmup: int = 3,
                   tolerance: float = 0.1, max_rounds: int = 5) -> dict:
    """:func:`measure` in rounds until two consecutive medians differ by at most ``tolerance``
    (relative), at most ``max_rounds``; the last round's figures, ``rounds`` and ``stable``."""
    last = measure(model, batch_size, repeats=repeats, warmup=warmup)
    for rounds in range(2, max_rounds + 1):
        now = measure(model, batch_size, repeats=repeats, warmup=1)
        if abs(now["median_ms"] - last["median_ms"]) <= tolerance * last["median_ms"]:
            return {**now, "rounds": rounds, "stable": True}
        last = now
    return {**last, "rounds": max_rounds, "stable": False}


def flops(model) -> int:
    """Floating-point operations of one example's forward pass through the Conv1D and Dense
    layers (2 x multiply-adds; biases, activations and pooling left out, as FLOP counts
    usually do): Conv1D ``2 * out_length * kernel * in_channels * filters``, Dense
    ``2 * inputs * units``."""
    import keras

    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv1D):
            out_len = layer.output.shape[1]
            in_ch = layer.input.shape[-1]
            total += 2 * out_len * layer.kernel_size[0] * in_ch * layer.filters
        elif isinstance(layer, keras.layers.Dense):
            total += 2 * int(np.prod(layer.input.shape[1:])) * layer.units
    return int(total)


def latency_metric(batch_size: int = 1, *, repeats: int = 20, clock: str = "wall"):
    """A per-trial metric for ``nb.search(trial_metrics={"latency_ms": latency_metric()})``:
    the trained model's median latency (ms) at ``batch_size`` by :func:`measure_stable`,
    ``clock`` "wall" or "cpu". Minimise it (e.g. a negative weight in
    ``nb.strategies.weighted``, or NSGA-II's objectives).

    Usage: ``nb.search(ds, space, trial_metrics={"latency_ms": latency_metric(1)})``
    """
    if clock not in ("wall", "cpu"):
        raise ValueError(f"clock must be 'wall' or 'cpu', got {clock!r}")
    key = "median_ms" if clock == "wall" else "cpu_median_ms"

    def latency_ms(model, dataset=None) -> float:
        return float(measure_stable(model, batch_size, repeats=repeats)[key])

    latency_ms.__name__ = f"latency_ms_batch{batch_size}_{clock}"
    return latency_ms


# --- the shipped latency table of the 324 benchmark architectures -------------------------------

LATENCY_COLUMNS = ("arch_id", "params", "flops", "batch", "median_ms", "iqr_ms",
                   "cpu_median_ms", "cpu_iqr_ms")
CLOCKS = {"wall": "median_ms", "cpu": "cpu_median_ms"}


def latency_path():
    """Where the latency table ships (package data ``nasbook.tables``)."""
    from nasbook.bench.table import TABLE_PATH

    return TABLE_PATH.with_name("mnist1d_latency.csv")


def load_latency(path=None, *, verify=True):
    """The measured latency of every benchmark architecture (``benchmarks/latency.py``): one
    row per (``arch_id``, ``batch``) with ``params``, ``flops``, the wall-clock and CPU-time
    medians and IQRs in ms, the rounds, the load and the CPU; SHA-256 checked as for
    :func:`nasbook.bench.load`.

    Usage: ``lat = nb.bench.load_latency(); lat[lat.batch == 1]``"""
    import pandas as pd

    from nasbook.bench.table import BenchmarkError, _check

    path = latency_path() if path is None else Path(path)
    _check(path, verify, "`python benchmarks/latency.py --out FILE`")
    table = pd.read_csv(path)
    missing = [c for c in LATENCY_COLUMNS if c not in table.columns]
    if missing:
        raise BenchmarkError(f"{path} lacks the columns {missing}")
    return table.sort_values(["arch_id", "batch"], kind="stable").reset_index(drop=True)


def with_latency(table, latency, *, batch=1, clock="cpu"):
    """A copy of a benchmark ``table`` with ``latency_ms`` (the ``clock`` median at ``batch``)
    and ``flops`` of each row's architecture, for objectives such as
    ``[("val_accuracy", "max"), ("latency_ms", "min")]``.

    Usage: ``t = with_latency(nb.bench.load(), nb.bench.load_latency(), batch=1)``"""
    if clock not in CLOCKS:
        raise ValueError(f"clock must be one of {sorted(CLOCKS)}, got {clock!r}")
    rows = latency[latency["batch"] == batch]
    if rows.empty:
        raise ValueError(f"no latency measured at batch {batch}; batches: "
                         f"{sorted(latency['batch'].unique())}")
    by_arch = rows.set_index("arch_id")
    missing = sorted(set(table["arch_id"]) - set(by_arch.index))
    if missing:
        raise ValueError(f"no latency for architectures {missing[:5]}"
                         f"{' ...' if len(missing) > 5 else ''}")
    out = table.copy()
    out["latency_ms"] = out["arch_id"].map(by_arch[CLOCKS[clock]]).astype(float)
    out["flops"] = out["arch_id"].map(by_arch["flops"]).astype(float)
    return out


def correlations(latency, *, n_boot=1000, seed=0, level=0.95):
    """Spearman's rho of params and of FLOPs with each clock's latency, and of the two clocks
    with each other, per batch size, with percentile-bootstrap intervals over architectures:
    HW-NAS-Bench's "do FLOPs predict latency?" on this space. One row per (batch, x, y).

    Usage: ``correlations(nb.bench.load_latency(), n_boot=2000)``"""
    import pandas as pd
    from scipy.stats import spearmanr

    pairs = [(x, y) for y in CLOCKS.values() for x in ("params", "flops")]
    pairs.append(tuple(CLOCKS.values()))
    rng = np.random.default_rng(seed)
    rows = []
    for batch, part in latency.groupby("batch"):
        idx = rng.integers(0, len(part), size=(n_boot, len(part)))
        for x, y in pairs:
            a, b = part[x].to_numpy(float), part[y].to_numpy(float)
            boots = [spearmanr(a[i], b[i]).statistic for i in idx]
            low, high = np.nanquantile(boots, [(1 - level) / 2, (1 + level) / 2])
            rows.append({"batch": int(batch), "x": x, "y": y, "n": len(part),
                         "rho": float(spearmanr(a, b).statistic), "low": float(low),
                         "high": float(high)})
    return pd.DataFrame(rows)


def flops_vs_params(latency, *, clock="cpu", n_boot=1000, seed=0, level=0.95):
    """Do FLOPs predict latency better than parameters? Per batch size, rho(FLOPs, latency) -
    rho(params, latency), with a paired bootstrap over architectures (each resample draws the
    same architectures for both rhos) and the verdict on "FLOPs' rho is higher": met only when
    the one-sided ``level`` lower bound is above 0 (the words of :mod:`nasbook.stats`). The
    bootstrap resamples architectures, not measurements: the machine's drift (:func:`drift`)
    is in the table's values, and a random measuring order turns it into noise, not bias.

    Usage: ``flops_vs_params(nb.bench.load_latency())``"""
    import pandas as pd
    from scipy.stats import spearmanr

    from nasbook.stats import MET, MISSED, NOT_SHOWN

    if clock not in CLOCKS:
        raise ValueError(f"clock is one of {sorted(CLOCKS)}, got {clock!r}")
    y = CLOCKS[clock]
    rng = np.random.default_rng(seed)
    rows = []
    for batch, part in latency.groupby("batch"):
        f, p, t = (part[c].to_numpy(float) for c in ("flops", "params", y))
        diff = spearmanr(f, t).statistic - spearmanr(p, t).statistic
        idx = rng.integers(0, len(part), size=(n_boot, len(part)))
        boots = np.array([spearmanr(f[i], t[i]).statistic - spearmanr(p[i], t[i]).statistic
                          for i in idx])
        bound = float(np.nanquantile(boots, 1 - level))
        low, high = np.nanquantile(boots, [(1 - level) / 2, (1 + level) / 2])
        word = MISSED if diff < 0 else (MET if bound > 0 else NOT_SHOWN)   # nasbook.stats' rule
        rows.append({"batch": int(batch), "clock": clock, "n": len(part),
                     "difference": float(diff), "low": float(low), "high": float(high),
                     "bound": bound, "verdict": word})
    return pd.DataFrame(rows)


def load_latency_reference(path=None, *, verify=True):
    """The reference architectures (0 and 323) re-measured every 27 architectures while the
    latency table was measured, one row per re-measurement (``order``: the position in the
    measuring order of the architecture measured next); SHA-256 checked.

    Usage: ``drift(load_latency_reference())``"""
    import pandas as pd

    from nasbook.bench.table import _check

    path = latency_path().with_name("mnist1d_latency_reference.csv") if path is None \
        else Path(path)
    _check(path, verify, "`python benchmarks/latency.py --out FILE` (FILE.reference.csv)")
    return pd.read_csv(path)


def drift(reference, *, clock="cpu"):
    """How much the machine drifted while the table was measured: per reference architecture
    and batch size, the number of re-measurements and the coefficient of variation (sd / mean)
    of the ``clock`` median. One row of the table may be off by about this fraction.

    Usage: ``drift(load_latency_reference()).query("batch == 1")``"""
    import pandas as pd

    if clock not in CLOCKS:
        raise ValueError(f"clock is one of {sorted(CLOCKS)}, got {clock!r}")
    col = CLOCKS[clock]
    rows = [{"arch_id": int(a), "batch": int(b), "n": len(r),
             "cv": float(r[col].std(ddof=1) / r[col].mean()) if len(r) > 1 else float("nan")}
            for (a, b), r in reference.groupby(["arch_id", "batch"])]
    return pd.DataFrame(rows)


def front_kept_under_drift(points, cv, *, draws=200, seed=0, accuracy="val_accuracy",
                           latency="latency_ms"):
    """How much of the accuracy-latency front is the measurement's: the share of the front's
    members still on it when the table's latencies are measured a second time. ``cv`` is one
    measurement's spread (:func:`drift`, of the same batch size and clock as ``points``); the
    shipped value and the second one each carry it, so each latency is multiplied by their
    ratio, log-normal with log-sd ``sqrt(2 * ln(1 + cv**2))`` (~ 1.41 cv), one independent draw
    per architecture (approximately: neighbours in the measuring order share part of the
    drift), ``draws`` times; the shares are averaged. 1.0 at ``cv = 0``. ``points``: one row
    per architecture (:func:`nasbook.bench.pareto.architecture_points`). If anything an
    overestimate: the front's members were partly picked for a lucky first measurement, which
    a second one would not repeat, and the accuracies are held fixed.

    Usage: ``front_kept_under_drift(points,
    drift(load_latency_reference()).query("batch == 1").cv.mean())``
    -> ``{"members", "kept", "draws", "cv"}``"""
    from nasbook.pareto import pareto_mask

    if isinstance(cv, (bool, np.bool_)) or not isinstance(
            cv, (int, float, np.floating, np.integer)) or not np.isfinite(cv) or cv < 0:
        raise ValueError(f"cv is a spread, a finite number >= 0, got {cv!r}")
    if isinstance(draws, (bool, np.bool_)) or not isinstance(draws, (int, np.integer)) \
            or draws < 1:
        raise ValueError(f"draws is a whole number >= 1, got {draws!r}")
    xy = points[[accuracy, latency]].to_numpy(dtype=float)
    if len(xy) == 0:
        raise ValueError("no points: the front of nothing is empty")
    directions = ["max", "min"]
    on_front = pareto_mask(xy, directions)
    sigma = float(np.sqrt(2.0 * np.log1p(float(cv) ** 2)))
    factors = np.random.default_rng(seed).lognormal(0.0, sigma, size=(draws, len(xy)))
    kept = [pareto_mask(np.column_stack([xy[:, 0], xy[:, 1] * f]), directions)[on_front].mean()
            for f in factors]
    return {"members": int(on_front.sum()), "kept": float(np.mean(kept)), "draws": int(draws),
            "cv": float(cv)}
