"""Several objectives on the benchmark table: the exact Pareto front, its hypervolume, and
the hypervolume regret of a search (how much of the true front's hypervolume the
architectures it evaluated miss), over many seeds.

The points are one per architecture: the mean over the table's seeds of each objective
column (what :func:`nasbook.bench.simulate` reports to a strategy). The reference point is by
default the worst value of each objective over the whole table, so every architecture lies
inside the measured box (one that is worst in some objective adds no volume).

Usage::

    table = nb.bench.load(); table["log10_params"] = np.log10(table["params"])
    objectives = [("val_accuracy", "max"), ("log10_params", "min")]
    front = nb.bench.pareto_front(table, objectives)             # the exact front
    history = nb.bench.simulate("nsga2", 50, seed=0, table=table, objectives=objectives)
    nb.bench.hypervolume_regret(history, table, objectives)      # >= 0; 0 = front found
    runs = nb.bench.pareto_compare({"NSGA-II": ("nsga2", {"objectives": objectives}),
                                    "random": ("random", {})}, table, objectives,
                                   budgets=[25, 50], seeds=range(20))
    nb.bench.pareto_summary(runs)         # mean ± 95 % Student-t interval per budget
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from nasbook.bench.simulate import lookup_table, simulate
from nasbook.pareto import hypervolume, pareto_mask
from nasbook.stats import grouped_mean_ci
from nasbook.strategies.nsga2 import check_objectives

__all__ = ["architecture_points", "pareto_front", "reference_point", "front_hypervolume",
           "hypervolume_regret", "regret_at_budgets", "pareto_compare", "pareto_summary"]


def _split(objectives):
    pairs = check_objectives(objectives)
    return [n for n, _ in pairs], [d for _, d in pairs]


def architecture_points(table, objectives) -> pd.DataFrame:
    """One row per architecture (decisions as columns) with the mean over seeds of each
    objective column. A table without the benchmark's decisions (a hand-made one) is used
    as it is, one row per point."""
    names, _ = _split(objectives)
    from nasbook.bench.space import DECISIONS

    if all(d in table.columns for d in DECISIONS):
        return lookup_table(table, columns=names).reset_index()
    missing = [n for n in names if n not in table.columns]
    if missing:
        raise ValueError(f"the table has no column(s) {missing}; columns: "
                         f"{list(table.columns)}")
    return table.reset_index(drop=True)


def pareto_front(table, objectives) -> pd.DataFrame:
    """The rows of :func:`architecture_points` that no other row dominates, best first in
    the first objective."""
    names, dirs = _split(objectives)
    points = architecture_points(table, objectives)
    front = points[pareto_mask(points[names].to_numpy(), dirs)]
    return front.sort_values(names[0], ascending=dirs[0] == "min", kind="stable")


def reference_point(table, objectives) -> np.ndarray:
    """The worst value of each objective over the table's architectures."""
    names, dirs = _split(objectives)
    values = architecture_points(table, objectives)[names].to_numpy(dtype=float)
    return np.array([values[:, j].min() if d == "max" else values[:, j].max()
                     for j, d in enumerate(dirs)])


def front_hypervolume(table, objectives, reference=None) -> float:
    """The hypervolume of the table's exact front (the most any search can reach)."""
    names, dirs = _split(objectives)
    ref = reference_point(table, objectives) if reference is None else reference
    return hypervolume(pareto_front(table, objectives)[names].to_numpy(), ref, dirs)


def hypervolume_regret(found, table, objectives, reference=None, *, relative=False) -> float:
    """HV(exact front of ``table``) - HV(the points in ``found``): ``found`` is a simulated
    history (or any DataFrame) holding the objective columns of the architectures a search
    evaluated (rows with a NaN are skipped). ``relative=True`` divides by HV(front)."""
    names, dirs = _split(objectives)
    ref = reference_point(table, objectives) if reference is None else np.asarray(reference)
    best = front_hypervolume(table, objectives, ref)
    pts = found[names].to_numpy(dtype=float)
    pts = pts[~np.isnan(pts).any(axis=1)]
    regret = best - hypervolume(pts, ref, dirs)
    return regret / best if relative else regret


def regret_at_budgets(history, table, objectives, budgets, reference=None, *, relative=True,
                      best=None) -> np.ndarray:
    """Hypervolume regret of the first ``b`` evaluations of ``history`` for each ``b`` in
    ``budgets`` (relative to the front's hypervolume by default)."""
    names, dirs = _split(objectives)
    ref = reference_point(table, objectives) if reference is None else np.asarray(reference)
    best = front_hypervolume(table, objectives, ref) if best is None else best
    pts = history[names].to_numpy(dtype=float)
    out = []
    for b in budgets:
        p = pts[: int(b)]
        p = p[~np.isnan(p).any(axis=1)]
        r = best - hypervolume(p, ref, dirs)
        out.append(r / best if relative else r)
    return np.array(out)


def pareto_compare(runs: dict, table, objectives, budgets, seeds, *, reference=None,
                   relative=True) -> pd.DataFrame:
    """Simulate every run for ``max(budgets)`` evaluations with every seed, and measure its
    hypervolume regret at each budget. ``runs`` is ``{label: (strategy name, options)}``
    (options go to :func:`nasbook.bench.simulate`, e.g. ``{"objectives": [...]}`` or
    ``{"objective": nb.strategies.weighted({...})}``). Every run reports all objective
    columns. Returns one row per (label, seed, budget) with ``regret``."""
    names, _ = _split(objectives)
    ref = reference_point(table, objectives) if reference is None else np.asarray(reference)
    best = front_hypervolume(table, objectives, ref)
    budgets = sorted(int(b) for b in budgets)
    rows = []
    for label, (strategy, options) in runs.items():
        opts = dict(options)
        opts["metrics"] = list(dict.fromkeys([*opts.get("metrics", ()), *names]))
        for seed in seeds:
            history = simulate(strategy, budgets[-1], seed=int(seed), table=table, **opts)
            regret = regret_at_budgets(history, table, objectives, budgets, ref,
                                       relative=relative, best=best)
            rows += [{"label": label, "seed": int(seed), "budget": b, "regret": r,
                      "evaluations": min(b, len(history))} for b, r in zip(budgets, regret)]
    return pd.DataFrame(rows)


def pareto_summary(runs: pd.DataFrame, level=0.95) -> pd.DataFrame:
    """Mean hypervolume regret per (label, budget) with its Student-t interval
    (:func:`nasbook.stats.grouped_mean_ci`): columns n, mean, sd, half_width, low, high."""
    return grouped_mean_ci(runs.groupby(["label", "budget"], sort=False)["regret"], level)
