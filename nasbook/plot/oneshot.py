"""Figures for efficient NAS audited against the truth: how well each cheap estimator ranks,
how much a τ measured on a dozen models can vary, and which decisions each one rests on.
They only draw what :mod:`nasbook.oneshot.audit` and :mod:`nasbook.oneshot.bias` computed.

Usage::

    rows = oneshot.audit.audit_table(estimators)
    nb.plot.audit_bars(rows)
    nb.plot.subset_tau_plot({"synflow": taus}, full={"synflow": 0.46})
    nb.plot.estimator_scatter(scores, truth["test"], name="synflow")
    nb.plot.bias_heatmap(oneshot.bias.importance_beside_truth(estimators))
"""
import numpy as np

from nasbook.plot.style import PALETTE, subplots

__all__ = ["audit_bars", "subset_tau_plot", "estimator_scatter", "bias_heatmap"]


def audit_bars(rows, *, stat="kendall_test", ceiling=None, title=None,
               interval="95% bootstrap interval"):
    """One horizontal bar per estimator: its rank correlation with the truth (``stat``, with
    the ``_low``/``_high`` interval when the frame has it, labelled ``interval``), and the
    noise ceiling as a dashed line (``ceiling``: a number, labelled as the one-run ceiling
    between the table's seeds, or ``{label: value}`` for several ceilings; default the frame's
    ``noise_ceiling`` column). ``rows``: :func:`nasbook.oneshot.audit.audit_table`, or
    :func:`~nasbook.oneshot.audit.across_seeds` with ``interval`` saying what its interval is.
    Returns the figure."""
    if stat not in rows.columns:
        raise ValueError(f"rows have no column {stat!r}; pass audit_table(...)'s output")
    order = rows[stat].astype(float).sort_values().index
    values = rows.loc[order, stat].astype(float).to_numpy()
    fig, ax = subplots(1, 1, figsize=(7, 0.38 * len(order) + 1.4))
    y = np.arange(len(order))
    ax.barh(y, values, color=[PALETTE[0] if v >= 0 else PALETTE[3] for v in values])
    if f"{stat}_low" in rows.columns:
        low = rows.loc[order, f"{stat}_low"].astype(float).to_numpy()
        high = rows.loc[order, f"{stat}_high"].astype(float).to_numpy()
        ax.errorbar(values, y, xerr=[values - low, high - values], fmt="none", color="black",
                    capsize=3, lw=1, label=interval)
    if ceiling is None and "noise_ceiling" in rows.columns:
        ceiling = float(rows["noise_ceiling"].iloc[0])
    if ceiling is not None and not isinstance(ceiling, dict):
        ceiling = {"noise ceiling (seed 0 vs seed 1)": float(ceiling)}
    for style, (label, value) in zip(("--", ":", "-."), (ceiling or {}).items()):
        ax.axvline(value, color="black", ls=style, lw=1.2, label=f"{label}: {value:.2f}")
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels([str(i) for i in order])
    ax.set_xlabel({"kendall_test": "Kendall τ with mean test accuracy",
                   "spearman_test": "Spearman ρ with mean test accuracy"}.get(stat, stat))
    ax.set_title(title or "How well each cheap estimator ranks all 324 architectures",
                 fontsize=11)
    ax.legend(fontsize=8, loc="lower right")
    return fig


def subset_tau_plot(taus, *, full=None, size=13, title=None):
    """Histograms of τ measured on random ``size``-architecture subsets, one per estimator
    (``{name: array}`` from :func:`nasbook.oneshot.audit.subset_taus`), with the τ on all
    architectures marked (``full``: ``{name: value}``). Returns the figure."""
    fig, ax = subplots(1, 1, figsize=(7, 3.6))
    bins = np.linspace(-1, 1, 41)
    for colour, (name, values) in zip(PALETTE * 3, taus.items()):
        ax.hist(values, bins=bins, alpha=0.45, color=colour, label=name)
        if full is not None and name in full:
            ax.axvline(full[name], color=colour, lw=2, ls="--")
    ax.set_xlabel(f"Kendall τ on {size} random architectures (dashed: on all of them)")
    ax.set_ylabel("subsets")
    ax.set_title(title or f"A τ measured on {size} models is a wide guess", fontsize=11)
    ax.legend(fontsize=8)
    return fig


def estimator_scatter(scores, true, *, name="estimator", highlight=None, title=None):
    """True mean test accuracy against the estimator's rank (percentile), one dot per
    architecture; ``highlight`` (a boolean mask or index) drawn in another colour, e.g. the
    true top 10%. Returns the figure."""
    import pandas as pd

    s = pd.Series(scores, dtype=float)
    rank = s.rank(pct=True)
    y = pd.Series(true, dtype=float).reindex(s.index)
    fig, ax = subplots(1, 1, figsize=(5.5, 4))
    ax.scatter(rank, y, s=12, alpha=0.6, color=PALETTE[0], label="architectures")
    if highlight is not None:
        mask = pd.Series(False, index=s.index)
        mask.loc[highlight if not isinstance(highlight, pd.Series) else
                 highlight[highlight].index] = True
        ax.scatter(rank[mask], y[mask], s=18, color=PALETTE[3], label="highlighted")
    ax.set_xlabel(f"rank by {name} (percentile; 1 = its best)")
    ax.set_ylabel("true mean test accuracy")
    ax.set_title(title or f"{name} against the truth", fontsize=11)
    ax.legend(fontsize=8)
    return fig


def bias_heatmap(importance, *, title=None):
    """Decision importance, one row per estimator (the truth's first), one column per
    decision: :func:`nasbook.oneshot.bias.importance_beside_truth`'s frame. Returns the
    figure."""
    import seaborn as sns

    data = importance.T.astype(float)
    fig, ax = subplots(1, 1, figsize=(7.5, 0.42 * len(data) + 1.6))
    sns.heatmap(data, annot=True, fmt=".2f", cmap="Blues", vmin=0, vmax=1, cbar=False, ax=ax)
    ax.set_xlabel("decision")
    ax.set_ylabel("")
    method = importance.attrs.get("method", "importance")
    ax.set_title(title or f"What each ranking rests on ({method} of rank percentiles; "
                          f"truth: exact ANOVA)", fontsize=10)
    return fig
