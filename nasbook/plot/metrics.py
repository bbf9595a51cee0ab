"""Pictures of evaluation: confusion-matrix heatmaps and models compared under several metrics.

Usage::

    C = nb.metrics.confusion_matrix(ds.y_test, preds, num_classes=ds.num_classes)
    nb.plot.confusion_heatmap(C, ds.class_names)
"""
import numpy as np
import seaborn as sns
from matplotlib.patches import Patch

from nasbook.plot.style import PALETTE, subplots

__all__ = ["confusion_heatmap", "metric_comparison"]


def confusion_heatmap(matrix, class_names=None, *, normalize=None, ax=None, title=None):
    """Heatmap of a confusion matrix (rows true, columns predicted) with the count in each
    cell. ``normalize="true"`` shows each row as fractions (recall on the diagonal),
    ``"pred"`` each column (precision on the diagonal). Returns the figure."""
    matrix = np.asarray(matrix)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"a confusion matrix is square, got shape {matrix.shape}")
    if normalize not in (None, "true", "pred"):
        raise ValueError(f"normalize must be None, 'true' or 'pred', got {normalize!r}")
    shown = matrix.astype(float)
    if normalize == "true":
        shown = shown / np.maximum(shown.sum(axis=1, keepdims=True), 1)
    elif normalize == "pred":
        shown = shown / np.maximum(shown.sum(axis=0, keepdims=True), 1)
    k = matrix.shape[0]
    names = [str(c) for c in (class_names if class_names is not None else range(k))]
    if ax is None:
        fig, ax = subplots(size=max(3.0, 0.42 * k + 1.5), figsize=(max(3.6, 0.5 * k + 2.2),
                                                                    max(3.0, 0.42 * k + 1.5)))
    else:
        fig = ax.figure
    sns.heatmap(shown, annot=matrix if normalize is None else np.round(shown, 2),
                fmt="d" if normalize is None else "", cmap="Blues", cbar=False, square=True,
                xticklabels=names, yticklabels=names, ax=ax, linewidths=0.5, linecolor="0.9",
                annot_kws={"fontsize": 8 if k > 6 else 10})
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title or ("confusion matrix" + (f" (normalised by {normalize})"
                                                  if normalize else " (counts)")))
    return fig


def metric_comparison(table, metrics, *, model="model", ax=None, title=None):
    """Grouped bars: each model's score under each metric, the best per metric outlined.

    ``table`` is a DataFrame with a ``model`` column and one column per metric (higher is
    better). Returns the figure."""
    if ax is None:
        fig, ax = subplots(size=3.8, figsize=(1.9 * len(metrics) + 2.5, 3.8))
    else:
        fig = ax.figure
    models = list(table[model])
    width = 0.8 / len(models)
    for i, name in enumerate(models):
        row = table[table[model] == name].iloc[0]
        xs = np.arange(len(metrics)) + (i - (len(models) - 1) / 2) * width
        values = [row[m] for m in metrics]
        best = [row[m] == table[m].max() for m in metrics]
        ax.bar(xs, values, width=width * 0.95, color=PALETTE[i % len(PALETTE)],
               edgecolor=["k" if b else "none" for b in best],
               linewidth=[2 if b else 0 for b in best])
    ax.set_xticks(np.arange(len(metrics)))
    ax.set_xticklabels([m.replace("_", " ") for m in metrics])
    low = float(np.nanmin(table[metrics].to_numpy()))
    ax.set_ylim(max(0.0, low - 0.1), 1.0)
    ax.set_ylabel("score (higher is better)")
    handles = [Patch(color=PALETTE[i % len(PALETTE)], label=name) for i, name in enumerate(models)]
    ax.legend(handles=handles, fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.set_title(title or "the same models under different objectives (best outlined)")
    return fig
