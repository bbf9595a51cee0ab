"""Figures of a search (a SearchResult read back from its run directory): the history and
the learning curves.

Usage::

    result = nb.results.SearchResult.load("runs/demo")
    nb.plot.search_history(result)                  # best so far vs trials and vs wall time
    nb.plot.trial_curves(result, "val_accuracy")     # one learning curve per trial
"""
import numpy as np
from matplotlib.ticker import MaxNLocator

from nasbook.labels import metric_label
from nasbook.plot.style import PALETTE, subplots

__all__ = ["search_history", "trial_curves"]


def _result(result):
    """A plot only draws: it takes a SearchResult and never reads a run directory itself."""
    if not hasattr(result, "history") or not hasattr(result, "curves"):
        raise TypeError(f"pass a SearchResult (nb.search(...) returns one; for a run directory "
                        f"use nb.results.SearchResult.load(path)), not {type(result).__name__}")
    return result


def search_history(result, *, reference=None, reference_label=None, size=3.4):
    """Best objective so far against the trial number (left) and the search time (right).

    Each finished trial is a dot (failed trials a cross at the bottom edge); the step line is
    the best so far. Search time is the summed duration of the trials (pauses between resumed
    sessions do not count). ``reference`` draws a horizontal line (e.g. a paper's accuracy).
    Takes a SearchResult (``SearchResult.load(run_dir)`` for a run directory). Returns the
    figure.
    """
    result = _result(result)
    hist = result.history()
    fig, axes = subplots(1, 2, size=size)
    name = metric_label(result.objective)
    if hist.empty:
        for ax in axes:
            ax.text(0.5, 0.5, "no finished trial yet", ha="center", va="center",
                    transform=ax.transAxes)
        return fig
    minutes = hist.elapsed_s / 60.0
    ok = hist.status != "failed"
    finite = hist.score[ok]
    low = float(np.nanmin(finite)) if finite.notna().any() else 0.0
    count = np.arange(1, len(hist) + 1)
    for ax, x, xlabel in ((axes[0], count, "trials finished"),
                          (axes[1], minutes, "search time (min)")):
        x = np.asarray(x, dtype=float)
        ax.scatter(x[ok], hist.score[ok], s=18, color=PALETTE[0], alpha=0.6, label="a trial",
                   zorder=3)
        if (~ok).any():
            ax.scatter(x[~ok], np.full((~ok).sum(), low), marker="x", color=PALETTE[3],
                       label="failed trial", zorder=3)
        ax.step(x, hist.best_so_far, where="post", color=PALETTE[1], lw=2,
                label="best so far")
        if reference is not None:
            ax.axhline(reference, ls="--", color="0.4", lw=1,
                       label=reference_label or f"reference {reference:g}")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(name)
    axes[1].set_xlim(left=0)
    if len(hist) <= 30:
        axes[0].set_xticks(np.arange(1, len(hist) + 1, max(1, len(hist) // 10)))
    axes[0].set_title(f"Best {name} so far")
    axes[1].set_title("... against the time it cost")
    axes[0].legend(loc="lower right" if result.direction == "max" else "upper right",
                   fontsize=8)
    return fig


def trial_curves(result, metric="val_accuracy", *, trials=None, highlight_best=True,
                 size=3.4):
    """One learning curve per trained trial (``metric`` per epoch); the best trial in colour.

    ``trials`` limits the plot to some trial numbers. Returns the figure.
    """
    result = _result(result)
    curves = result.curves()
    fig, ax = subplots(1, 1, size=size, figsize=(6.4, 3.6))
    if curves.empty or metric not in curves:
        ax.text(0.5, 0.5, f"no per-epoch {metric} recorded", ha="center", va="center",
                transform=ax.transAxes)
        return fig
    if trials is not None:
        curves = curves[curves.trial.isin(list(trials))]
    best = result.best_trial if highlight_best and result.counts()["completed"] else None
    for trial, frame in curves.groupby("trial"):
        is_best = trial == best
        ax.plot(frame.epoch, frame[metric], marker="o", ms=3,
                lw=2.2 if is_best else 1.0, alpha=1.0 if is_best else 0.45,
                color=PALETTE[1] if is_best else "0.45",
                label=f"best trial ({trial})" if is_best else None, zorder=3 if is_best else 2)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric_label(metric))
    ax.set_title(f"{metric_label(metric).capitalize()} per epoch, one line per trial")
    if best is not None:
        ax.legend(fontsize=8)
    return fig
