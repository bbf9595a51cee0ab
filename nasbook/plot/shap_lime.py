"""Figures for SHAP, LIME and tree surrogates: maps over digits and over 1-D signals.

Usage::

    nb.plot.shap_grid({"deep": res_deep, "partition": res_part}, class_names=ds.class_names)
    nb.plot.lime_panel(ds.x_test[0], lime_result)
    nb.plot.surrogate_fidelity_curve(table)   # columns: depth, fidelity, train_fidelity
"""
import numpy as np

from nasbook.plot.style import PALETTE, subplots

__all__ = ["draw_map", "shap_grid", "lime_panel", "surrogate_fidelity_curve"]


def draw_map(ax, x, values=None, *, cmap="RdBu_r", symmetric=True, vmax=None, title=None):
    """Draw ``values`` (shaped like ``x``, or like x without channels) for one input ``x``.

    Images: the map, with the input's strokes outlined in black. Signals: the signal as a
    black line over a colour strip of the map. ``values=None`` draws the input alone.
    Returns the map's image artist (for a colour bar), or None.
    """
    x = np.asarray(x)
    art = None
    if values is not None:
        v = np.asarray(values, dtype=float)
        if v.ndim == x.ndim:
            v = v[..., 0] if v.shape[-1] == 1 else v.sum(axis=-1)
        if vmax is None:
            vmax = float(np.abs(v).max()) or 1.0
        vmin = -vmax if symmetric else min(float(v.min()), 0.0)
    if x.ndim == 3:  # (h, w, c): an image
        image = x[..., 0]
        if values is None:
            ax.imshow(image, cmap="gray_r", interpolation="nearest")
        else:
            art = ax.imshow(v, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
            level = 0.5 * (float(image.min()) + float(image.max()))
            ax.contour(image, levels=[level], colors="black", linewidths=0.8)
        ax.set_xticks([])
        ax.set_yticks([])
    else:  # (length, c): a signal, drawn left to right over its map
        signal = x[:, 0]
        lo, hi = float(signal.min()), float(signal.max())
        pad = 0.1 * (hi - lo or 1.0)
        if values is not None:
            art = ax.imshow(v[None, :], cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto",
                            extent=(-0.5, len(signal) - 0.5, lo - pad, hi + pad),
                            interpolation="nearest")
        ax.plot(np.arange(len(signal)), signal, color="black", lw=1.2)
        ax.set_xlim(-0.5, len(signal) - 0.5)
        ax.set_ylim(lo - pad, hi + pad)
        ax.set_xlabel("position")
        ax.set_yticks([])
        ax.grid(False)
    if title:
        ax.set_title(title, fontsize=9)
    return art


def shap_grid(results, *, class_names=None, max_examples=4):
    """Rows: examples; columns: the input, then each SHAP result's map for its first class.

    ``results``: a dict name -> ``ShapResult`` (same inputs). Each map has its own symmetric
    colour scale (red pushes the logit up, blue down); titles give sum(SHAP) and f(x) - base.
    """
    names = list(results)
    first = results[names[0]]
    n = min(len(first.x), max_examples)
    fig, axes = subplots(n, len(names) + 1, size=2.3, squeeze=False)
    for i in range(n):
        c = int(first.classes[i, 0])
        label = class_names[c] if class_names is not None else c
        draw_map(axes[i, 0], first.x[i], title=f"input, explaining class {label}")
        for j, name in enumerate(names, start=1):
            r = results[name]
            v = r.values[i, ..., 0]
            gap = r.outputs[i, 0] - r.base_values[i, 0]
            head = name if r.method in name else f"{name} (ran {r.method})"
            draw_map(axes[i, j], r.x[i], v,
                     title=f"{head}\nΣφ {v.sum():+.2f}, f(x)−base {gap:+.2f}")
    fig.suptitle("SHAP values of the predicted logit: red raises it, blue lowers it", fontsize=10)
    return fig


def lime_panel(x, result, *, title=None):
    """Three panels: the input, its segments, LIME's weight per segment (with fidelity)."""
    fig, axes = subplots(1, 3, size=2.6, squeeze=False)
    axes = axes[0]
    x = np.asarray(x)
    draw_map(axes[0], x, title="input")
    seg = result.segments
    draw_map(axes[1], x, seg % 7, cmap="Pastel2", symmetric=False, vmax=7,
             title=f"{len(result.weights)} segments")
    art = draw_map(axes[2], x, result.attribution,
                   title=f"LIME weights, class {result.target}\nlocal fidelity R² = "
                         f"{result.fidelity:.2f}")
    fig.colorbar(art, ax=axes[2], shrink=0.8, label="Δ logit (segment on)")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def surrogate_fidelity_curve(table, *, title="How faithful is a readable tree?"):
    """Held-out fidelity (and fit-set fidelity, accuracy if present) against tree depth.

    ``table``: a DataFrame with columns ``depth``, ``fidelity``, ``train_fidelity`` and
    optionally ``tree_accuracy`` and ``leaves``.
    """
    fig, ax = subplots(1, 1, size=3.6)
    ax.plot(table["depth"], table["fidelity"], "o-", color=PALETTE[0],
            label="fidelity on held-out data")
    ax.plot(table["depth"], table["train_fidelity"], "s--", color=PALETTE[1],
            label="fidelity on the fit data")
    if "tree_accuracy" in table:
        ax.plot(table["depth"], table["tree_accuracy"], "^:", color=PALETTE[2],
                label="tree accuracy (true labels)")
    ax.set_xlabel("maximum tree depth")
    ax.set_ylabel("fraction of examples")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(title, fontsize=10)
    return fig
