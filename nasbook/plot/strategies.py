"""Figures for the search strategies: best-so-far curves with spread, greedy's path,
evolution's population, the RL policy over time.

Usage: ``nb.plot.best_so_far({"random": curves_r, "evolution": curves_e})``
"""
import numpy as np

from nasbook.plot.style import PALETTE, subplots

__all__ = ["best_so_far", "greedy_path", "population_over_time", "policy_over_time"]


def _running_best(scores, direction="max"):
    scores = np.asarray(scores, dtype=float)
    filled = np.where(np.isnan(scores), -np.inf if direction == "max" else np.inf, scores)
    best = np.maximum.accumulate(filled) if direction == "max" else np.minimum.accumulate(filled)
    return np.where(np.isinf(best), np.nan, best)


def best_so_far(curves: dict, *, direction="max", ax=None, xlabel="trials",
                ylabel="best score so far", band=(25, 75), title=None):
    """One line per strategy: the median over seeds of the best score found so far, with a
    shaded percentile band (``band``) and, for few seeds, each seed as a thin line.

    ``curves`` maps a name to a list of per-seed score sequences (raw scores in trial order;
    the running best is taken here). Sequences of unequal length are cut to the shortest.
    """
    if ax is None:
        _, ax = subplots(size=3.6)
    for colour, (name, runs) in zip(PALETTE, curves.items()):
        runs = [np.asarray(r, dtype=float) for r in runs if len(r)]
        if not runs:
            continue
        n = min(len(r) for r in runs)
        best = np.array([_running_best(r[:n], direction) for r in runs])
        x = np.arange(1, n + 1)
        ax.plot(x, np.nanmedian(best, axis=0), color=colour, lw=2,
                label=f"{name} ({len(runs)} seed{'s' if len(runs) > 1 else ''})")
        if len(runs) > 1:
            lo, hi = np.nanpercentile(best, band, axis=0)
            ax.fill_between(x, lo, hi, color=colour, alpha=0.2, lw=0)
        if len(runs) <= 3:
            for b in best:
                ax.plot(x, b, color=colour, lw=0.7, alpha=0.5)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
    return ax


def greedy_path(history, path, *, ax=None, title="Greedy: every trial, and the incumbent"):
    """Scores of all trials in order, with the incumbent (best so far of the climb) as a step
    line and each new incumbent marked. ``path`` is ``GreedyOracle.path``."""
    if ax is None:
        _, ax = subplots(size=3.4, figsize=(8, 3.4))
    order = {h["trial"]: i + 1 for i, h in enumerate(history)}
    scores = [h["score"] for h in history]
    ax.plot(range(1, len(scores) + 1), scores, "o", color=PALETTE[0], ms=4, label="trial")
    xs = [order[t] for t, _ in path if t in order]
    ys = [h["score"] for h in history if h["trial"] in {t for t, _ in path}]
    ax.step(xs + [len(scores)], ys + ys[-1:], where="post", color=PALETTE[1], lw=2,
            label="incumbent")
    ax.plot(xs, ys, "*", color=PALETTE[1], ms=12)
    ax.set_xlabel("trial")
    ax.set_ylabel("score")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax


def population_over_time(history, population_size, *, ax=None,
                         title="Aging evolution: the living population after each trial"):
    """For each step, the scores of the members alive then (the last ``population_size``
    finished trials), as a strip of dots; the population's best as a line."""
    if ax is None:
        _, ax = subplots(size=3.4, figsize=(8, 3.4))
    scores = [h["score"] for h in history if h["status"] == "COMPLETED"]
    best = []
    for step in range(1, len(scores) + 1):
        alive = scores[max(0, step - population_size):step]
        ax.scatter([step] * len(alive), alive, s=8, color=PALETTE[0], alpha=0.35, lw=0)
        best.append(max(alive))
    ax.plot(range(1, len(scores) + 1), best, color=PALETTE[1], lw=2, label="best alive")
    ax.plot(range(1, len(scores) + 1), _running_best(scores), color="0.4", lw=1, ls="--",
            label="best ever")
    ax.axvline(population_size + 0.5, color="0.6", lw=1)
    ax.text(population_size + 0.7, ax.get_ylim()[0], " evolution starts", fontsize=8,
            va="bottom", color="0.4")
    ax.set_xlabel("trials finished")
    ax.set_ylabel("score")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax


def policy_over_time(policy_history, decisions=None, *, title="REINFORCE: the policy over time"):
    """One panel per decision: the probability of each value after each update (stacked)."""
    if not policy_history:
        raise ValueError("the policy has no history yet: run some trials first")
    names = decisions or list(policy_history[0])
    fig, axes = subplots(1, len(names), size=2.6, squeeze=False)
    steps = np.arange(1, len(policy_history) + 1)
    for ax, name in zip(axes[0], names):
        values = list(policy_history[-1][name])
        probs = np.array([[h[name].get(v, np.nan) for v in values] for h in policy_history])
        ax.stackplot(steps, probs.T, labels=values, colors=PALETTE[:len(values)], alpha=0.8)
        ax.set_ylim(0, 1)
        ax.set_xlim(1, len(steps))
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("updates")
        ax.legend(fontsize=7, loc="upper left")
    axes[0][0].set_ylabel("probability")
    fig.suptitle(title)
    return fig
