"""Figures for attention: maps over inputs, attention next to gradients, interventions.

Usage::

    nb.plot.attention_overlay(ds.x_test[:6], nb.attention.attention_map(model, ds.x_test[:6]))
"""
import numpy as np

from nasbook.plot.shap_lime import draw_map
from nasbook.plot.style import PALETTE, subplots

__all__ = ["attention_overlay", "attention_vs_saliency", "attention_intervention_hist"]


def attention_overlay(x, maps, *, labels=None, predictions=None, class_names=None):
    """One panel per input: the attention map (weights, not signed) drawn over the input."""
    n = len(x)
    fig, axes = subplots(1, n, size=2.2, squeeze=False)
    for i in range(n):
        parts = []
        if labels is not None:
            parts.append(f"true {class_names[labels[i]] if class_names else labels[i]}")
        if predictions is not None:
            parts.append(f"pred {class_names[predictions[i]] if class_names else predictions[i]}")
        draw_map(axes[0, i], x[i], maps[i], cmap="YlOrRd", symmetric=False,
                 vmax=float(np.max(maps[i])), title=", ".join(parts) or None)
    fig.suptitle("attention weights over the input (darker red = more weight; black: the input)",
                 fontsize=10)
    return fig


def attention_vs_saliency(x, attention, saliency, *, correlations=None):
    """Rows: inputs; columns: input, attention map, |gradient| saliency (each on its own scale).

    ``correlations``: optional per-example rank correlation to print in the last title.
    """
    n = len(x)
    fig, axes = subplots(n, 3, size=2.2, squeeze=False)
    for i in range(n):
        draw_map(axes[i, 0], x[i], title="input" if i == 0 else None)
        draw_map(axes[i, 1], x[i], attention[i], cmap="YlOrRd", symmetric=False,
                 title="attention" if i == 0 else None)
        note = "" if correlations is None else f"ρ = {correlations[i]:+.2f}"
        head = "|gradient|" + (f"\n{note}" if note else "") if i == 0 else note
        draw_map(axes[i, 2], x[i], np.abs(saliency[i]), cmap="YlOrRd", symmetric=False,
                 title=head or None)
    fig.suptitle("where the model attends vs. what its output is sensitive to", fontsize=10)
    return fig


def attention_intervention_hist(changes, *, xlabel="change in the predicted class's "
                                "probability", title="What if the attention were different?"):
    """Histograms of output changes under attention interventions (dict name -> array)."""
    fig, ax = subplots(1, 1, size=3.8)
    values = np.concatenate([np.asarray(v) for v in changes.values()])
    bins = np.linspace(float(values.min()), float(values.max()) or 1.0, 30)
    for (name, v), colour in zip(changes.items(), PALETTE):
        v = np.asarray(v).ravel()
        ax.hist(v, bins=bins, alpha=0.55, color=colour, label=name,
                weights=np.full(len(v), 1.0 / len(v)))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("fraction of cases")
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    return fig
