"""How well a search's trials recover the true decision importance, as the search grows.

Draws the output of :func:`nasbook.bench.recovery.recovery`: one panel per estimator, one
line per strategy, the mean over seeds with its 95% confidence band::

    from nasbook.bench.recovery import recovery
    nb.plot.recovery_curves(recovery(nb.bench.load(), seeds=range(5)))
"""
import numpy as np

from nasbook.labels import METHOD_LABELS
from nasbook.plot.style import PALETTE, subplots

__all__ = ["recovery_curves"]

_METRICS = {"spearman": "Spearman ρ with the exact ANOVA",
            "kendall": "Kendall τ with the exact ANOVA",
            "top1": "top-1 agreement (share of seeds)"}


def recovery_curves(frame, *, metric="spearman", level=0.95, title=None):
    """Agreement with the exact functional ANOVA against the number of trials explained.

    ``frame`` is :func:`~nasbook.bench.recovery.recovery`'s long DataFrame. ``metric`` is
    ``"spearman"`` (default), ``"kendall"`` or ``"top1"``. Each line is a strategy's mean over
    seeds; the band is its ``level`` confidence interval (Student's t over seeds; for top-1 the
    normal interval of a proportion). Returns the figure.
    Usage: ``nb.plot.recovery_curves(frame)``
    """
    from nasbook.bench.recovery import RecoveryError, recovery_bands

    if metric not in _METRICS:
        raise RecoveryError(f"metric={metric!r}; choose from {list(_METRICS)}")
    summary = recovery_bands(frame, metric=metric, level=level)  # computed by the benchmark
    if summary.empty:
        raise RecoveryError("the frame has no rows to draw; run recovery() first")
    methods = list(dict.fromkeys(summary["method"]))
    strategies = list(dict.fromkeys(summary["strategy"]))
    fig, axes = subplots(1, len(methods), sharey=True, squeeze=False)
    axes = axes[0]
    sizes = sorted(summary["N"].unique())
    lowest = 0.0
    for ax, method in zip(axes, methods):
        for i, strategy in enumerate(strategies):
            rows = summary[(summary["method"] == method) & (summary["strategy"] == strategy)]
            rows = rows.sort_values("N")
            x = rows["N"].to_numpy(float)
            mean, low, high = (rows[c].to_numpy(float) for c in ("mean", "low", "high"))
            lowest = np.nanmin([lowest, *mean, *low])
            color = PALETTE[i % len(PALETTE)]
            ax.plot(x, mean, marker="o", color=color, label=strategy)
            ax.fill_between(x, low, high, color=color, alpha=0.2, linewidth=0)
        ax.set_xscale("log")
        ax.set_xticks(sizes)
        ax.set_xticklabels([str(int(n)) for n in sizes])
        ax.minorticks_off()
        ax.set_xlabel("trials explained (N)")
        ax.set_title(METHOD_LABELS.get(method, method))
        if metric != "top1":
            ax.axhline(0, color="0.6", linewidth=0.8)
    axes[0].set_ylim(-0.03 if metric == "top1" else lowest - 0.05, 1.03)  # y is shared
    axes[0].set_ylabel(_METRICS[metric])
    axes[-1].legend(title="strategy", loc="best")
    if title:
        fig.suptitle(title)
    return fig
