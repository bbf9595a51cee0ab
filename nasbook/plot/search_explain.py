"""Figures that explain a search: which decisions mattered (beside the ground truth), how each
value moved the score, which pairs interact, and every trial as a line across the decisions.

They draw the tables of :mod:`nasbook.explain.search` as they are::

    from nasbook.explain import search as xs
    nb.plot.importance_bars(xs.importance(trials), truth=nb.explain.main_effects(table))
    nb.plot.effect_plot(xs.marginal_effects(trials))
    nb.plot.interaction_bars(xs.interactions(trials))
    nb.plot.parallel_trials(xs.prepare(trials), top=50)
"""
import math

import matplotlib as mpl
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.patches import Patch

# the words (NOT_BUILT, method titles, value and metric labels) live in nasbook.labels
from nasbook.labels import METHOD_LABELS, NOT_BUILT
from nasbook.labels import metric_label as _label, missing as _missing, text as _text
from nasbook.plot.style import PALETTE, subplots

__all__ = ["importance_bars", "effect_plot", "interaction_bars", "parallel_trials"]

def _require(frame, columns, what, hint):
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks the column(s) {missing}; pass {hint}")


# -- importance ------------------------------------------------------------------------------


def importance_bars(importance, truth=None, *, title=None):
    """Grouped horizontal bars: one group per decision, one bar per method (fANOVA, PED-ANOVA,
    SHAP, ... = the columns of ``importance``), and the ground truth beside them (hatched, black
    outline) when ``truth`` (a Series decision -> variance fraction) is given.

    Decisions are ordered by the truth when given, else by the first method, most important on
    top. The surrogate's cross-validated R² (``importance.attrs["surrogate_r2"]``) and the
    number of trials are stated in the title. Returns the figure.

    Usage: ``nb.plot.importance_bars(xs.importance(history), truth=nb.explain.main_effects(t))``
    """
    if importance is None or len(importance.columns) == 0:
        raise ValueError("importance has no method column; pass the output of "
                         "nasbook.explain.search.importance(...)")
    methods = list(importance.columns)
    if truth is not None:
        truth = truth.astype(float)
        order = list(truth.sort_values(ascending=False).index)
        order += [d for d in importance.index if d not in order]
    else:
        order = list(importance[methods[0]].astype(float).sort_values(ascending=False).index)
    series = [(METHOD_LABELS.get(m, str(m)), importance[m].astype(float),
               {"color": PALETTE[k % len(PALETTE)]}) for k, m in enumerate(methods)]
    if truth is not None:
        series.append(("ground truth (functional ANOVA)", truth,
                       {"facecolor": "white", "edgecolor": "black", "hatch": "///",
                        "linewidth": 1.2}))
    k = len(series)
    height = 0.8 / k
    fig, ax = subplots(1, 1, figsize=(7.0, 0.45 * k * len(order) + 1.6))
    y = np.arange(len(order), dtype=float)
    for j, (label, values, style) in enumerate(series):
        values = values.reindex(order)
        keep = values.notna().to_numpy()
        offset = (j - (k - 1) / 2) * height
        ax.barh(y[keep] + offset, values.to_numpy()[keep], height=height * 0.95, label=label,
                **style)
    ax.set_yticks(y)
    ax.set_yticklabels([str(d) for d in order])
    ax.invert_yaxis()
    ax.set_xlabel("importance (share of variance; each method sums to 1)")
    ax.set_xlim(left=0)
    r2 = importance.attrs.get("surrogate_r2")
    n = importance.attrs.get("n_trials")
    head = title or "Which decisions mattered"
    notes = []
    if n is not None:
        notes.append(f"{int(n)} trials")
    if r2 is not None:
        notes.append("surrogate R² unavailable" if not np.isfinite(r2) else
                     f"surrogate cross-validated R² = {float(r2):.2f}")
    ax.set_title(head + ("\n" + ", ".join(notes) if notes else ""), fontsize=11)
    ax.legend(fontsize=8, loc="lower right")
    return fig


# -- marginal effects ------------------------------------------------------------------------


def effect_plot(effects, *, decisions=None, cols=3):
    """One panel per decision: the partial dependence (mean, with the 10th-90th percentile of the
    individual conditional expectations as error bars) beside the observed mean ± std of the
    trials that used each value (``n`` under each tick). Values keep the table's order; panels
    share the y axis so effect sizes compare across decisions. Returns the figure.

    Usage: ``nb.plot.effect_plot(xs.marginal_effects(history), decisions=["kernel"])``
    """
    _require(effects, ["decision", "value", "pd_mean", "pd_low", "pd_high", "observed_mean",
                       "observed_std", "n"], "effects",
             "the output of nasbook.explain.search.marginal_effects(...)")
    known = list(dict.fromkeys(effects["decision"]))
    decisions = known if decisions is None else list(decisions)
    unknown = [d for d in decisions if d not in known]
    if unknown:
        raise ValueError(f"no marginal effects for {unknown}; the table has {known}")
    if not decisions:
        raise ValueError("effects is empty: no decision to plot")
    cols = max(1, min(int(cols), len(decisions)))
    rows = math.ceil(len(decisions) / cols)
    fig, axes = subplots(rows, cols, size=3.0, sharey=True, squeeze=False, layout="constrained")
    axes = axes.ravel()
    for ax in axes[len(decisions):]:
        fig.delaxes(ax)
    ylabel = _label(effects.attrs.get("objective", "val_accuracy"))
    for ax, name in zip(axes, decisions):
        part = effects[effects["decision"] == name]
        x = np.arange(len(part), dtype=float)
        pd_mean = part["pd_mean"].to_numpy(float)
        pd_err = np.vstack([pd_mean - part["pd_low"].to_numpy(float),
                            part["pd_high"].to_numpy(float) - pd_mean]).clip(min=0)
        ax.errorbar(x - 0.1, pd_mean, yerr=pd_err, marker="o", ms=5, lw=1.6, capsize=3,
                    color=PALETTE[0], label="partial dependence (10-90% of ICE)")
        observed = part["observed_mean"].to_numpy(float)
        spread = np.nan_to_num(part["observed_std"].to_numpy(float))
        ax.errorbar(x + 0.1, observed, yerr=spread, marker="s", ms=4, lw=0, elinewidth=1.2,
                    capsize=3, color=PALETTE[1], label="observed mean ± std")
        ax.set_xticks(x)
        ax.set_xticklabels([f"{_text(v)}\nn={int(c)}" for v, c in zip(part["value"],
                                                                        part["n"])], fontsize=8)
        ax.set_xlim(-0.5, len(part) - 0.5)
        ax.set_title(str(name), fontsize=10)
    for row in range(rows):
        axes[row * cols].set_ylabel(ylabel)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=2, fontsize=8, frameon=False)
    return fig


# -- interactions ----------------------------------------------------------------------------


def interaction_bars(interactions):
    """Horizontal bars: the strength of each pairwise interaction (its share of the surrogate's
    variance), strongest on top. Returns the figure.

    Usage: ``nb.plot.interaction_bars(xs.interactions(history, top=5))``
    """
    _require(interactions, ["pair", "strength"], "interactions",
             "the output of nasbook.explain.search.interactions(...)")
    frame = interactions.sort_values("strength", ascending=False)
    fig, ax = subplots(1, 1, figsize=(6.4, 0.4 * max(len(frame), 1) + 1.4))
    if frame.empty:
        ax.text(0.5, 0.5, "no interaction to show", ha="center", va="center",
                transform=ax.transAxes)
        return fig
    y = np.arange(len(frame))
    ax.barh(y, frame["strength"].to_numpy(float), color=PALETTE[2], height=0.6)
    ax.set_yticks(y)
    ax.set_yticklabels([str(p) for p in frame["pair"]])
    ax.invert_yaxis()
    ax.set_xlim(left=0)
    ax.set_xlabel("interaction strength (share of surrogate variance)")
    ax.set_title("Strongest pairwise interactions", fontsize=11)
    return fig


# -- parallel coordinates --------------------------------------------------------------------


def _levels(column, domain):
    """The values of one decision axis, bottom to top: "not built" first when any is missing,
    then the domain's order (values not in the domain appended, sorted as text)."""
    present = [v for v in column if not _missing(v)]
    levels = [v for v in (domain or []) if v in present]
    levels += sorted({v for v in present if v not in levels}, key=str)
    if any(_missing(v) for v in column):
        levels = [None] + levels
    return levels


def parallel_trials(trials, *, top=None):
    """Parallel coordinates of prepared trials: one vertical axis per decision (its values in
    their natural order, "not built" at the bottom where a decision was masked) and one for the
    score; one line per architecture, coloured by score, the best drawn on top. ``top`` keeps
    only the best ``top`` trials. Returns the figure; the lines are ``fig.axes[0].collections[0]``.

    Usage: ``nb.plot.parallel_trials(xs.prepare(history), top=50)``
    """
    _require(trials, ["score"], "trials", "the output of nasbook.explain.search.prepare(...)")
    decisions = list(trials.attrs.get("decisions") or
                     [c for c in trials.columns if c not in ("score", "n_runs")])
    domains = trials.attrs.get("domains") or {}
    direction = trials.attrs.get("direction", "max")
    objective = trials.attrs.get("objective", "score")
    frame = trials[trials["score"].notna()]
    if frame.empty:
        raise ValueError("no trial has a score; nothing to draw")
    best_first = frame.sort_values("score", ascending=(direction == "min"), kind="stable")
    if top is not None:
        best_first = best_first.head(int(top))
    drawn = best_first.iloc[::-1]  # worst first, so the best lines are drawn last (on top)
    scores = drawn["score"].to_numpy(float)
    lo, hi = float(scores.min()), float(scores.max())
    span = hi - lo if hi > lo else 1.0

    columns, labels = [], []
    for name in decisions:
        levels = _levels(list(drawn[name]), domains.get(name))
        step = 1.0 / (len(levels) - 1) if len(levels) > 1 else 0.0
        where = {("__missing__" if _missing(v) else v): (k * step if len(levels) > 1 else 0.5)
                 for k, v in enumerate(levels)}
        columns.append([where["__missing__" if _missing(v) else v] for v in drawn[name]])
        labels.append([(where["__missing__" if _missing(v) else v], _text(v)) for v in levels])
    columns.append(list((scores - lo) / span))
    ticks = np.linspace(lo, hi, 3) if hi > lo else [lo]
    labels.append([((t - lo) / span if hi > lo else 0.0, f"{t:.3g}") for t in ticks])
    y = np.array(columns, dtype=float).T          # (trials, axes)
    x = np.arange(y.shape[1], dtype=float)
    segments = [np.column_stack([x, row]) for row in y]

    cmap = mpl.colormaps["viridis" if direction == "max" else "viridis_r"]
    norm = mpl.colors.Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1e-9)
    fig, ax = subplots(1, 1, figsize=(min(1.5 * len(x) + 2.5, 18.0), 4.2))
    lines = LineCollection(segments, cmap=cmap, norm=norm, linewidths=1.3, alpha=0.75)
    lines.set_array(scores)
    ax.add_collection(lines)
    for xi, ticks_here in zip(x, labels):
        ax.axvline(xi, color="0.3", lw=1, zorder=0)
        for pos, text in ticks_here:
            ax.text(xi + 0.04, pos, text, fontsize=8, va="center", ha="left",
                    style="italic" if text == NOT_BUILT else "normal",
                    color="0.45" if text == NOT_BUILT else "0.1",
                    bbox={"facecolor": "white", "alpha": 0.7, "lw": 0, "pad": 1})
    ax.set_xlim(-0.2, x[-1] + 0.6)
    ax.set_ylim(-0.06, 1.06)
    ax.set_xticks(x)
    ax.set_xticklabels([str(d) for d in decisions] + [_label(objective)], fontsize=9)
    ax.set_yticks([])
    ax.grid(False)
    fig.colorbar(lines, ax=ax, label=_label(objective), pad=0.02)
    shown = f"best {len(drawn)} of {len(frame)}" if len(drawn) < len(frame) else f"{len(frame)}"
    ax.set_title(f"{shown} architectures, one line each, coloured by {_label(objective)}",
                 fontsize=11)
    return fig


# -- one trial's learning curve beside the winner's (drawn by nb.widgets.trial_browser) -------


def curves_vs_winner(runs, winner_runs, *, metric="val_accuracy", label="this trial",
                     winner_label="the winner"):
    """Learning curves of one architecture (``runs``: a list of per-epoch arrays, one per run)
    beside the winner's (``winner_runs``); pass ``runs=None`` when the trial is the winner.
    Returns the figure. Usage: ``curves_vs_winner([acc], [best_acc], metric="val_accuracy")``
    """
    fig, ax = subplots(1, 1, figsize=(5.2, 3.3))
    groups = [(winner_label, winner_runs, PALETTE[1], 2.2)]
    if runs is not None:
        groups.insert(0, (label, runs, PALETTE[0], 1.6))
    drawn = False
    for name, curves, color, width in groups:
        for k, values in enumerate(curves or []):
            values = np.asarray(values, dtype=float)
            ax.plot(np.arange(1, len(values) + 1), values, marker="o", ms=3, lw=width,
                    color=color, alpha=0.9, label=name if k == 0 else None)
            drawn = True
    if not drawn:
        ax.text(0.5, 0.5, "no per-epoch curve recorded", ha="center", va="center",
                transform=ax.transAxes)
        return fig
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("epoch")
    ax.set_ylabel(_label(metric))
    ax.set_title(f"{_label(metric).capitalize()} per epoch", fontsize=11)
    ax.legend(fontsize=8)
    return fig
