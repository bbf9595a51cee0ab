"""Can a search's own trials tell which decisions matter? Importance estimates against the truth.

On the full-factorial table the exact functional ANOVA gives each decision's true share of the
score's variance (:func:`nasbook.explain.anova.main_effects`). A reader who explains a search
sees only the trials it ran. :func:`recovery` measures how well the importances estimated from
the first N trials of a simulated search (fANOVA, PED-ANOVA, SHAP of a tree surrogate) agree
with that truth, as N grows, for each strategy: Spearman and Kendall rank correlation, whether
the most important decision is found (top-1), and the mean absolute error of the shares.

For each strategy and seed, *one* search of ``max(sizes)`` trials is simulated and its first N
trials are explained: how a reader looks at a growing search, and far cheaper than a fresh
search per N.

Usage::

    from nasbook.bench.recovery import recovery, recovery_summary
    frame = recovery(nb.bench.load(), sizes=(25, 100), seeds=range(3))
    recovery_summary(frame)            # mean Spearman ± 95% CI and top-1 rate per N
    nb.plot.recovery_curves(frame)

Caveat: PED-ANOVA answers another question (which decisions separate the best 10% of trials
from the rest), so its agreement with the whole-space ANOVA is not its accuracy.
"""
from __future__ import annotations

import math
import numbers
import time

import numpy as np
import pandas as pd

from nasbook.stats import mean_ci

__all__ = ["recovery", "recovery_summary", "recovery_bands", "RecoveryError", "QUICK", "COLUMNS"]

# A small version for a notebook's quick mode: about 20 s on one core (measured 19.6 s).
QUICK = {"strategies": ("random", "evolution"), "sizes": (25, 100), "seeds": range(4),
         "methods": ("fanova", "ped_anova", "shap")}
COLUMNS = ["strategy", "N", "seed", "method", "n_trials", "n_distinct", "spearman", "kendall",
           "top1", "mae", "surrogate_r2", "seconds"]
_SCORES = ("val_accuracy", "test_accuracy")   # columns of a simulated history


class RecoveryError(ValueError):
    """An importance-recovery study asked for something that cannot be run."""


def _check(table, strategies, sizes, seeds, methods, score):
    from nasbook import strategies as registry
    from nasbook.explain.search import METHODS

    if isinstance(strategies, str):
        strategies = (strategies,)
    strategies = tuple(str(s).strip().lower() for s in strategies)
    if not strategies:
        raise RecoveryError("strategies is empty: name at least one, e.g. ('random',)")
    known = registry.available()
    unknown = [s for s in strategies if s not in known]
    if unknown:
        raise RecoveryError(f"unknown strategy {unknown}; choose from {known}")
    if isinstance(methods, str):
        methods = (methods,)
    methods = tuple(methods)
    bad = [m for m in methods if m not in METHODS]
    if not methods or bad:
        raise RecoveryError(f"unknown importance method(s) {bad or '(none given)'}; choose "
                            f"from {list(METHODS)}")
    if isinstance(sizes, numbers.Integral):
        sizes = (sizes,)
    sizes = tuple(sizes)
    if not sizes or any(not isinstance(n, numbers.Integral) or n < 5 for n in sizes):
        raise RecoveryError(f"sizes must be whole numbers of trials ≥ 5 (importance needs at "
                            f"least 5 architectures); got {sizes}")
    sizes = tuple(sorted(set(int(n) for n in sizes)))
    n_arch = len(table.drop_duplicates([c for c in _decisions(table)]))
    if max(sizes) > n_arch:
        raise RecoveryError(f"sizes up to {max(sizes)} trials, but the table has only {n_arch} "
                            f"architectures; use sizes ≤ {n_arch}")
    if isinstance(seeds, numbers.Integral):
        raise RecoveryError(f"seeds is a list or range of search seeds, e.g. range({seeds}); "
                            f"got the single number {seeds}")
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise RecoveryError("seeds is empty: pass e.g. range(10)")
    if score not in _SCORES:
        raise RecoveryError(f"score={score!r}: a simulated search records {list(_SCORES)}; "
                            f"explain one of those")
    return strategies, sizes, seeds, methods


def _decisions(table):
    from nasbook.bench.space import DECISIONS

    names = [d for d in DECISIONS if d in table.columns]
    if not names:
        raise RecoveryError(f"the table has none of the benchmark's decisions {list(DECISIONS)}; "
                            f"pass the benchmark table (nb.bench.load())")
    return names


def _compare(estimate, truth):
    """Agreement of one importance column with the true main-effect shares."""
    from scipy.stats import kendalltau, spearmanr

    est = estimate.reindex(truth.index).fillna(0.0).to_numpy(float)  # never varied: 0
    true = truth.to_numpy(float)
    if np.ptp(est) == 0:  # no ranking at all (every decision estimated equal)
        return math.nan, math.nan, pd.NA, float(np.mean(np.abs(est - true / true.sum())))
    rho = float(spearmanr(est, true).statistic)
    tau = float(kendalltau(est, true).statistic)
    top1 = bool(truth.index[int(np.argmax(est))] == truth.idxmax())
    mae = float(np.mean(np.abs(est - true / true.sum())))
    return rho, tau, top1, mae


def _one_search(table, strategy, seed, sizes, methods, score, truth):
    """Simulate one search and explain its first N trials for each N: rows of the frame."""
    from nasbook.bench.simulate import simulate
    from nasbook.explain import search as xs

    history = simulate(strategy, max(sizes), seed=seed, table=table)
    rows = []
    for n in sizes:
        head = history.iloc[:n]
        base = {"strategy": strategy, "N": n, "seed": seed, "n_trials": len(head)}
        trials = xs.prepare(head, objective=score) if len(head) >= n else None
        for method in methods:
            row = {**base, "method": method, "n_distinct": np.nan, "spearman": np.nan,
                   "kendall": np.nan, "top1": pd.NA, "mae": np.nan, "surrogate_r2": np.nan,
                   "seconds": np.nan}
            if trials is not None:  # else the search stopped before N trials
                row["n_distinct"] = len(trials)
                start = time.perf_counter()
                try:
                    imp = xs.importance(trials, methods=(method,), seed=seed)
                except xs.SearchExplainError:
                    imp = None  # too few trials for this estimator (PED-ANOVA's top 10% < 2)
                row["seconds"] = time.perf_counter() - start
                if imp is not None:
                    rho, tau, top1, mae = _compare(imp[method], truth)
                    row.update(spearman=rho, kendall=tau, top1=top1, mae=mae)
                    if method == "shap":
                        row["surrogate_r2"] = imp.attrs.get("surrogate_r2", np.nan)
            rows.append(row)
    return rows


def recovery(table=None, *, strategies=("random", "evolution", "reinforce"),
             sizes=(25, 50, 100, 200), seeds=range(10), methods=("fanova", "ped_anova", "shap"),
             score="val_accuracy", n_jobs=1, progress=True) -> pd.DataFrame:
    """How well importances estimated from a search's first N trials recover the exact ANOVA.

    For each strategy and seed, one search of ``max(sizes)`` trials is simulated on ``table``
    (default: the shipped benchmark) and, for each N in ``sizes`` and each method, the first N
    trials are explained with :func:`nasbook.explain.search.importance` (its ``seed`` = the
    search seed) and compared with the truth, ``main_effects(table, score=score)``: the
    exact main-effect shares of the score the search saw (default the validation accuracy,
    mean over the table's seeds).

    Returns a long DataFrame, one row per (strategy, N, seed, method), columns
    :data:`COLUMNS`: ``n_trials`` explained, ``n_distinct`` architectures among them,
    ``spearman`` and ``kendall`` rank correlation with the truth over all decisions (a
    decision the trials never varied counts as importance 0), ``top1`` (the estimated most
    important decision is the true one; a nullable boolean), ``mae`` (mean absolute error of
    the estimated shares against the true shares renormalised to sum to 1),
    ``surrogate_r2`` (SHAP rows: the surrogate's cross-validated R²) and ``seconds`` (the
    importance call). A measurement that cannot be made is NaN/NA, not an error:
    PED-ANOVA with fewer than 2 trials in its top 10% (N < 20), estimates that rank nothing
    (all equal), or a search that stopped before N trials. ``n_jobs`` > 1 runs the
    (strategy, seed) searches in parallel processes (same numbers as serial); ``attrs`` holds
    the truth and the elapsed time. The defaults take about 10 minutes on one core;
    :data:`QUICK` about 20 s. (A Hyperband history mixes fidelities: its scores are read
    after fewer epochs, which is part of what would be explained.)
    Usage: ``recovery(table, strategies=("random",), seeds=range(5))``
    """
    from nasbook.explain.anova import main_effects

    if table is None:
        from nasbook.bench.table import load

        table = load()
    if not isinstance(table, pd.DataFrame):
        raise RecoveryError(f"table must be the benchmark DataFrame (nb.bench.load()); got a "
                            f"{type(table).__name__}")
    strategies, sizes, seeds, methods = _check(table, strategies, sizes, seeds, methods, score)
    if score not in table.columns:
        raise RecoveryError(f"the table has no column {score!r}")
    truth = main_effects(table, score=score, decisions=_decisions(table))
    jobs = [(s, seed) for s in strategies for seed in seeds]
    start = time.perf_counter()
    bar = _bar(len(jobs), progress)
    if n_jobs == 1:
        chunks = []
        for s, seed in jobs:
            bar.set_postfix_str(f"{s} seed {seed}")
            chunks.append(_one_search(table, s, seed, sizes, methods, score, truth))
            bar.update()
    else:
        from joblib import Parallel, delayed

        run = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
        chunks = []
        for chunk in run(delayed(_one_search)(table, s, seed, sizes, methods, score, truth)
                         for s, seed in jobs):
            chunks.append(chunk)
            bar.update()
    bar.close()
    frame = pd.DataFrame([row for chunk in chunks for row in chunk], columns=COLUMNS)
    frame["top1"] = frame["top1"].astype("boolean")
    order = {"strategy": {s: i for i, s in enumerate(strategies)},
             "method": {m: i for i, m in enumerate(methods)}}
    frame = frame.sort_values(["strategy", "N", "seed", "method"],
                              key=lambda c: c.map(order[c.name]) if c.name in order else c,
                              kind="stable").reset_index(drop=True)
    frame.attrs.update(truth=truth, score=score, elapsed=time.perf_counter() - start,
                       methods=list(methods), strategies=list(strategies))
    return frame


def _bar(total, progress):
    if progress:
        from tqdm.auto import tqdm

        return tqdm(total=total, desc="searches explained", unit="search")

    class _Silent:
        def update(self, *_):
            pass

        def set_postfix_str(self, *_):
            pass

        def close(self):
            pass

    return _Silent()


def recovery_summary(frame, *, level=0.95) -> pd.DataFrame:
    """Mean Spearman ± confidence interval and top-1 rate per (strategy, method, N).

    The interval is Student's t over the seeds that gave a number (NaN rows, e.g. PED-ANOVA at
    small N, are left out and counted in ``n``): mean ± t(level, n-1) · sd / √n, its ends
    clipped to [-1, 1] where a correlation lives (``spearman_ci`` is the unclipped half-width;
    NaN with fewer than 2 seeds). Columns:
    strategy, method, N, n, spearman, spearman_low, spearman_high, spearman_ci (half-width),
    kendall, top1_rate, mae, n_distinct.  Usage: ``recovery_summary(recovery(table))``
    """
    needed = ["strategy", "method", "N", "spearman", "top1"]
    missing = [c for c in needed if c not in getattr(frame, "columns", [])]
    if missing:
        raise RecoveryError(f"the frame lacks the columns {missing}; pass the output of "
                            f"recovery()")
    if not 0 < level < 1:
        raise RecoveryError(f"level is a probability such as 0.95; got {level}")
    rows = []
    for (strategy, method, n), g in frame.groupby(["strategy", "method", "N"], sort=False):
        k = int(g["spearman"].notna().sum())
        mean, half = mean_ci(g["spearman"].to_numpy(float), level)
        top1 = g["top1"].astype("boolean").dropna()
        rows.append({"strategy": strategy, "method": method, "N": n, "n": k,
                     "spearman": mean, "spearman_low": max(mean - half, -1.0),
                     "spearman_high": min(mean + half, 1.0), "spearman_ci": half,
                     "kendall": g["kendall"].mean() if "kendall" in g else math.nan,
                     "top1_rate": float(top1.mean()) if len(top1) else math.nan,
                     "mae": g["mae"].mean() if "mae" in g else math.nan,
                     "n_distinct": g["n_distinct"].mean() if "n_distinct" in g else math.nan})
    out = pd.DataFrame(rows)
    strategies = list(dict.fromkeys(frame["strategy"]))
    methods = list(dict.fromkeys(frame["method"]))
    out = out.sort_values(["strategy", "method", "N"], key=lambda c: c.map(
        {v: i for i, v in enumerate(strategies if c.name == "strategy" else methods)})
        if c.name in ("strategy", "method") else c, kind="stable")
    return out.reset_index(drop=True)


_BOUNDS = {"spearman": (-1.0, 1.0), "kendall": (-1.0, 1.0), "top1": (0.0, 1.0)}


def recovery_bands(frame, *, metric="spearman", level=0.95) -> pd.DataFrame:
    """Mean and ``level`` interval of ``metric`` over seeds, per (strategy, method, N): what
    ``nb.plot.recovery_curves`` draws. Spearman and Kendall: Student's t over the seeds that
    gave a number; top-1: the normal interval of a proportion. Ends are clipped to the
    metric's range. Columns: strategy, method, N, mean, low, high.

    Usage: ``recovery_bands(recovery(table), metric="kendall")``
    """
    from scipy.stats import norm

    if metric not in _BOUNDS:
        raise RecoveryError(f"metric={metric!r}; choose from {list(_BOUNDS)}")
    summary = recovery_summary(frame, level=level)
    lo, hi = _BOUNDS[metric]
    rows = []
    for _, r in summary.iterrows():
        if metric == "spearman":
            mean, low, high = r["spearman"], r["spearman_low"], r["spearman_high"]
        else:
            g = frame[(frame["method"] == r["method"]) & (frame["strategy"] == r["strategy"])
                      & (frame["N"] == r["N"])]
            if metric == "top1":
                v = g["top1"].astype("boolean").dropna().to_numpy(float)
                mean = v.mean() if len(v) else np.nan
                half = (norm.ppf(0.5 + level / 2) * np.sqrt(mean * (1 - mean)) / np.sqrt(len(v))
                        if len(v) > 1 else np.nan)
            else:
                mean, half = mean_ci(g[metric].to_numpy(float), level)
            low, high = max(mean - half, lo), min(mean + half, hi)
        rows.append({"strategy": r["strategy"], "method": r["method"], "N": r["N"],
                     "mean": mean, "low": low, "high": high})
    return pd.DataFrame(rows, columns=["strategy", "method", "N", "mean", "low", "high"])
