"""Figures for the strategy comparison on the tabular benchmark: regret curves with confidence
bands, and how soon each strategy finds a top architecture.

Usage::

    frame = nb.bench.compare(["random", "evolution", "hyperband"], budget=200, seeds=100)
    nb.plot.regret_curves(frame)                          # against evaluations
    nb.plot.regret_curves(frame, x="cumulative_epochs")   # against cost
    nb.plot.evaluations_to_top_plot(frame, top=0.01)
"""
import numpy as np

from nasbook.plot.style import PALETTE, subplots

__all__ = ["regret_curves", "evaluations_to_top_plot"]

_XLABEL = {"evaluation": "evaluations (architectures trained or resumed)",
           "cumulative_epochs": "cost (training epochs, summed)",
           "cumulative_seconds": "cost (seconds: training, plus any cheap estimate up front)"}


def regret_curves(frame, *, x="evaluation", log=True, level=0.95, grid=None, ax=None,
                  title=None):
    """Mean regret over seeds against ``x`` (``"evaluation"`` or ``"cumulative_epochs"``), one
    line per strategy, with a ``level`` Student-t confidence band for the mean.

    ``frame`` is :func:`nasbook.bench.compare`'s output; runs are read on a common grid
    (:func:`nasbook.bench.regret_on_grid`). ``log`` puts regret on a log scale (a mean regret of
    exactly 0, every seed finding the best architecture, then falls off the bottom).
    Returns the figure.
    """
    from nasbook.bench.compare import regret_bands

    if ax is None:
        fig, ax = subplots(size=3.8, figsize=(7, 4))
    else:
        fig = ax.figure
    stats = regret_bands(frame, x, grid, level)  # computed by the benchmark, drawn here
    floor = None
    if log:
        positive = stats["mean"][stats["mean"] > 0]
        floor = positive.min() / 3 if len(positive) else 1e-4
    for colour, label in zip(PALETTE * 3, stats.index.get_level_values("strategy").unique()):
        s = stats.loc[label].dropna(subset=["mean"])
        seeds = int(stats.loc[label, "seeds"].iloc[0])
        xs = s.index.to_numpy(dtype=float)
        ax.plot(xs, s["mean"], color=colour, lw=2, label=f"{label} ({seeds} seeds)")
        low, high = s["low"].to_numpy(), s["high"].to_numpy()
        if floor is not None:
            low = np.maximum(low, floor)
        ax.fill_between(xs, low, high, color=colour, alpha=0.2, lw=0)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(_XLABEL.get(x, x))
    ax.set_ylabel("regret (test accuracy, fraction)")
    ax.set_title(title or f"Mean regret with {level:.0%} confidence band")
    ax.legend(fontsize=8)
    return fig


def evaluations_to_top_plot(frame, top=0.01, *, x="evaluation", table=None, by="evaluated",
                            theory=True, ax=None, title=None):
    """Fraction of runs that have reached a top architecture, against evaluations (or
    cumulative epochs with ``x="cumulative_epochs"``), one step curve per strategy. Censored
    runs keep the curve below 1; each median is marked. With ``theory``, the exact curve of
    uniform sampling without replacement is drawn dashed for reference (evaluations only).
    ``table`` is the benchmark the runs were simulated on (``nb.bench.load()``): a plot only
    draws, so it does not load it. Returns the figure.
    """
    from nasbook.bench.compare import first_top, top_architectures, top_hit_probability
    from nasbook.bench.simulate import lookup_table

    if x not in _XLABEL:
        raise ValueError(f"x must be one of {tuple(_XLABEL)}, got {x!r}")
    if table is None:
        raise ValueError("pass the benchmark table the runs were simulated on: "
                         "table=nb.bench.load() (a plot does not load data)")
    runs = first_top(frame, top, table=table, by=by)
    column = "evaluations" if x == "evaluation" else "cumulative_epochs"
    if ax is None:
        fig, ax = subplots(size=3.8, figsize=(7, 4))
    else:
        fig = ax.figure
    end = float(frame[x].max())
    for colour, (label, r) in zip(PALETTE * 3, runs.groupby("strategy", sort=False)):
        hits = np.sort(r[column].dropna().to_numpy())
        xs = np.concatenate([[0.0], hits, [end]])
        ys = np.concatenate([[0.0], np.arange(1, len(hits) + 1), [len(hits)]]) / len(r)
        censored = int((~r["reached"]).sum())
        ax.step(xs, ys, where="post", color=colour, lw=2,
                label=f"{label} ({len(r)} runs, {censored} censored)")
        median = np.median(r[column].fillna(np.inf))
        if np.isfinite(median):
            ax.plot([median], [0.5], "o", color=colour, ms=6)
    k = len(top_architectures(table, top))
    if theory and x == "evaluation":
        n_total = len(lookup_table(table))
        n = np.arange(0, int(min(end, n_total)) + 1)
        ax.plot(n, top_hit_probability(n_total, k, n), "--", color="grey", lw=1,
                label="uniform without replacement (exact)")
    ax.axhline(0.5, color="grey", lw=0.5)
    ax.set_xlabel(_XLABEL.get(x, x))
    ax.set_ylabel("fraction of runs")
    what = "evaluated" if by == "evaluated" else "picked"
    ax.set_title(title or f"Runs that have {what} a top-{top:.0%} architecture (best {k})")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8)
    return fig
