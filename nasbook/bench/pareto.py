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

    runs, weights = nb.bench.strategy_runs(table, objectives, population_size=12)
    frame = nb.bench.pareto_compare(runs, table, objectives, [25, 50], range(20))
    nb.bench.paired_regret(frame, "NSGA-II", 50)   # NSGA-II minus each other, paired by seed
    nb.bench.supported(front, objectives)          # the points a weighted sum can reach
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from nasbook.bench.simulate import lookup_table, simulate
from nasbook.pareto import hypervolume, pareto_mask
from nasbook.stats import grouped_mean_ci
from nasbook.strategies.nsga2 import check_objectives

__all__ = ["architecture_points", "pareto_front", "reference_point", "front_hypervolume",
           "hypervolume_regret", "regret_at_budgets", "pareto_compare", "pareto_summary",
           "strategy_runs", "paired_regret", "supported"]


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


def strategy_runs(table, objectives, *, population_size=10, weights=None):
    """The four searches of the multi-objective comparison, as ``(runs, weights)`` for
    :func:`pareto_compare`: ``"NSGA-II"`` on ``objectives``; ``"evolution (<first> only)"``,
    aging evolution on the first objective alone; ``"scalarised evolution"`` on the weighted
    sum ``weights`` (default: ±1 / each objective's range over the table's architectures,
    signed by its direction: equal weight after scaling, a range a real search would not
    know); ``"random"``. Every evolution has ``population_size``. ``weights`` is returned as
    the dict used."""
    from nasbook.strategies import weighted

    pairs = check_objectives(objectives)
    names = [n for n, _ in pairs]
    if weights is None:
        points = architecture_points(table, pairs)
        spans = points[names].max() - points[names].min()
        weights = {n: (1.0 if d == "max" else -1.0) / float(spans[n]) for n, d in pairs}
    weights = {str(n): float(w) for n, w in dict(weights).items()}
    first, direction = pairs[0]
    single = {"population_size": population_size}
    if first != "val_accuracy":
        single["objective"] = weighted({first: 1.0 if direction == "max" else -1.0},
                                       name="single")
    runs = {"NSGA-II": ("nsga2", {"objectives": pairs, "population_size": population_size}),
            f"evolution ({first} only)": ("evolution", single),
            "scalarised evolution": ("evolution", {"population_size": population_size,
                                                   "objective": weighted(weights)}),
            "random": ("random", {})}
    return runs, weights


def paired_regret(runs: pd.DataFrame, first: str, budget: int, level=0.95) -> pd.DataFrame:
    """``first``'s hypervolume regret against each other run's after ``budget`` evaluations,
    paired by seed (the runs of :func:`pareto_compare` share their seeds and, for the
    evolutions, their random start): :func:`nasbook.bench.paired_comparison` of the claim
    "``first``'s regret is lower" (the paired t interval of the difference, its p-value and
    bootstrap interval, and the verdict of :func:`nasbook.stats.verdict`; a tie is not
    lower). One row per other run, indexed by its label."""
    from nasbook.bench.compare import paired_comparison

    at = runs[runs.budget == int(budget)].pivot(index="seed", columns="label", values="regret")
    if first not in at.columns:
        raise ValueError(f"no run labelled {first!r} at budget {budget}; runs: "
                         f"{list(at.columns)}")
    others = [c for c in runs.label.unique() if c != first]
    out = paired_comparison(at, pairs=[(first, o) for o in others], better="lower",
                            level=level, what=f"hypervolume regret at N={int(budget)}")
    return out.set_index("b").rename_axis("other")


def supported(front, objectives) -> pd.Series:
    """Which points of a two-objective Pareto ``front`` (e.g. :func:`pareto_front`) a weighted
    sum can reach: True for the vertices of the front's convex hull, the only points that are
    the unique best of ``w1 * f1 + w2 * f2`` for some positive weights (a point inside a
    concave dent of the front is the best for no weights at all). Index as ``front``."""
    names, dirs = _split(objectives)
    if len(names) != 2:
        raise ValueError(f"supported() is for two objectives, got {names}")
    q = front[names].to_numpy(dtype=float) * np.array([-1.0 if d == "max" else 1.0
                                                       for d in dirs])
    order = np.lexsort((q[:, 1], q[:, 0]))   # first objective ascending (minimised)
    hull = []   # lower-left convex hull by the monotone chain, strictly convex vertices
    for i in order:
        while len(hull) >= 2:
            (x1, y1), (x2, y2) = q[hull[-2]], q[hull[-1]]
            x3, y3 = q[i]
            if (x2 - x1) * (y3 - y1) - (y2 - y1) * (x3 - x1) <= 0:   # not a left turn
                hull.pop()
            else:
                break
        hull.append(i)
    keep = np.zeros(len(q), dtype=bool)
    keep[hull] = True
    return pd.Series(keep, index=front.index, name="supported")
