"""Pictures of explanations: attribution heatmaps over images and 1-D signals, method grids,
deletion/insertion curves and sanity-check bars.

The heatmap helpers take plain arrays (one example and its map), so any explainer --
gradients, SHAP, LIME, attention -- can use them::

    fig, ax = nb.plot.subplots()
    nb.plot.heatmap(ax, x[0], attr[0])
    nb.plot.attribution_grid(x[:4], {"saliency": sal, "IG": ig})
    nb.plot.deletion_curves(nb.explain.deletion_insertion(model, x, maps))
    nb.plot.sanity_bars(nb.explain.randomisation_check(model, x, ["saliency", "grad_cam"]))
"""
import textwrap

import numpy as np

from nasbook.plot.style import PALETTE, subplots

__all__ = ["heatmap", "attribution_grid", "explanation_panel", "deletion_curves",
           "sanity_bars", "ig_convergence"]


def _squeeze(a, name):
    """One example as a 2-D image (h, w) or a 1-D signal (length,): channels summed/averaged."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 3:  # (h, w, channels)
        return a.sum(axis=-1) if name == "attr" else a.mean(axis=-1)
    if a.ndim == 2 and a.shape[-1] <= 4 and a.shape[0] > 4:  # (length, channels)
        return a.sum(axis=-1) if name == "attr" else a.mean(axis=-1)
    if a.ndim in (1, 2):
        return a
    raise ValueError(f"{name} has shape {a.shape}; pass ONE example: (h, w[, channels]) or "
                     f"(length[, channels]) -- index the batch first, e.g. x[0]")


def heatmap(ax, x, attr, *, signed=None, cmap=None, alpha=0.85, vmax=None, title=None,
            show_input=True):
    """Draw attribution ``attr`` for input ``x`` (one example) on ``ax``; returns the artist.

    Images: the map, with the outline of the input's strokes drawn over it (a contour at half
    the input's range). Signals: the map as a coloured band behind the signal's line. ``signed`` (default: whether the map has negative values) picks
    a diverging red/blue scale centred at 0; otherwise a sequential one. ``vmax`` fixes the
    colour range (default: the map's largest magnitude), so several panels can share it.

    Usage: ``nb.plot.heatmap(ax, ds.x_test[0], attr[0], title="saliency")``
    """
    img, a = _squeeze(x, "x"), _squeeze(attr, "attr")
    if img.shape != a.shape:
        raise ValueError(f"x {np.shape(x)} and attr {np.shape(attr)} describe different shapes")
    signed = bool(a.min() < 0) if signed is None else signed
    top = float(vmax) if vmax is not None else float(np.abs(a).max()) or 1.0
    cmap = cmap or ("RdBu_r" if signed else "magma_r")
    lo = -top if signed else 0.0
    if img.ndim == 2:
        art = ax.imshow(a, cmap=cmap, vmin=lo, vmax=top, interpolation="nearest")
        if show_input and img.max() > img.min():
            level = img.min() + 0.5 * (img.max() - img.min())
            ax.contour(img, levels=[level], colors="0.15", linewidths=0.9)
        ax.set_xticks([])
        ax.set_yticks([])
    else:
        span = (img.min(), img.max()) if img.max() > img.min() else (img.min() - 1, img.max() + 1)
        pad = 0.08 * (span[1] - span[0])
        art = ax.imshow(a[None, :], cmap=cmap, vmin=lo, vmax=top, aspect="auto",
                        interpolation="nearest", alpha=alpha if show_input else 1.0,
                        extent=(-0.5, len(a) - 0.5, span[0] - pad, span[1] + pad))
        if show_input:
            ax.plot(np.arange(len(img)), img, color="0.1", lw=1.4)
        ax.set_xlim(-0.5, len(a) - 0.5)
        ax.set_ylim(span[0] - pad, span[1] + pad)
        ax.set_xlabel("position", fontsize=8)
        _few_ticks(ax)
        ax.grid(False)
    if title:
        ax.set_title(title, fontsize=9)
    return art


def _few_ticks(ax):
    """Few, small tick labels: grids of many signal panels lay out much faster."""
    ax.locator_params(axis="x", nbins=4)
    ax.locator_params(axis="y", nbins=3)
    ax.tick_params(labelsize=7)


def _input(ax, x):
    img = _squeeze(x, "x")
    if img.ndim == 2:
        ax.imshow(img, cmap="gray_r", interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
    else:
        ax.plot(np.arange(len(img)), img, color="0.1", lw=1.4)
        ax.set_xlim(-0.5, len(img) - 0.5)
        ax.set_xlabel("position", fontsize=8)
        _few_ticks(ax)


def attribution_grid(x, maps: dict, *, labels=None, predictions=None, class_names=None,
                     shared_scale=False, size=1.7):
    """Examples in rows, the input and then one column per method; returns the figure.

    ``maps`` is ``{method name: array shaped like x}``. ``labels``/``predictions`` (class
    indices) go into the row titles. Each panel has its own colour range unless
    ``shared_scale`` (then one range per column).

    Usage: ``nb.plot.attribution_grid(x[:4], maps, labels=y[:4], predictions=pred[:4])``
    """
    x = np.asarray(x)
    if not maps:
        raise ValueError("maps is empty; pass {method name: attributions shaped like x}")
    for name, a in maps.items():
        if np.shape(a) != x.shape:
            raise ValueError(f"map {name!r} has shape {np.shape(a)} but x has {x.shape}; "
                             f"give one map per example (not target='all')")
    one_d = x.ndim == 3
    n, k = len(x), len(maps) + 1
    if one_d:  # signals are wide: one column per example, the methods down the rows
        fig, grid = subplots(k, n, figsize=(3.2 * n, 1.25 * k + 0.5), squeeze=False)
        axes = grid.T  # axes[example, panel]
    else:
        fig, axes = subplots(n, k, figsize=(size * k, size * n + 0.3), squeeze=False)
    names = class_names

    def name_of(c):
        return str(names[int(c)]) if names is not None else str(int(c))

    for i in range(n):
        _input(axes[i, 0], x[i])
        bits = []
        if labels is not None:
            bits.append(f"true {name_of(labels[i])}")
        if predictions is not None:
            bits.append(f"pred {name_of(predictions[i])}")
        axes[i, 0].set_title(", ".join(bits) if bits else "input", fontsize=8)
        for j, (name, a) in enumerate(maps.items(), start=1):
            vmax = float(np.abs(a).max()) if shared_scale else None
            title = name if one_d else textwrap.fill(name, 16)
            heatmap(axes[i, j], x[i], a[i], vmax=vmax,
                    title=title if (i == 0 or one_d) else None)
            if one_d and j < k - 1:
                axes[i, j].set_xlabel("")
        if one_d:
            axes[i, 0].set_xlabel("")
    note = ("red raises the explained class's logit, blue lowers it; "
            "magnitude-only maps use one colour")
    fig.suptitle(textwrap.fill(note, int(fig.get_figwidth() * 14)), fontsize=8)
    if one_d:  # fixed spacing: the automatic layout of many signal panels takes seconds
        height = fig.get_figheight()
        fig.set_layout_engine("none")
        fig.subplots_adjust(left=0.05, right=0.98, bottom=0.5 / height, top=1 - 0.6 / height,
                            hspace=0.9, wspace=0.2)
    return fig


def explanation_panel(x, probabilities, attr, *, method="", target=None, label=None,
                      class_names=None):
    """One example side by side: the input, the predicted class probabilities, the map.

    Usage: ``nb.plot.explanation_panel(x[0], probs[0], attr[0], method="saliency")``
    """
    p = np.asarray(probabilities, dtype=float).ravel()
    names = [str(c) for c in (class_names if class_names is not None else range(len(p)))]
    fig, axes = subplots(1, 3, figsize=(10.5, 3.0),
                         gridspec_kw={"width_ratios": [1.0, 1.1, 1.2]})
    _input(axes[0], x)
    axes[0].set_title("input" + (f" (true: {names[int(label)]})" if label is not None else ""),
                      fontsize=9)
    colours = [PALETTE[3] if k == target else PALETTE[0] for k in range(len(p))]
    axes[1].barh(np.arange(len(p)), p, color=colours)
    axes[1].set_yticks(np.arange(len(p)), names, fontsize=8)
    axes[1].invert_yaxis()
    axes[1].set_xlim(0, 1)
    axes[1].set_xlabel("probability", fontsize=8)
    axes[1].set_title(f"prediction: {names[int(p.argmax())]} ({p.max():.0%})", fontsize=9)
    art = heatmap(axes[2], x, attr,
                  title=f"{method} for class {names[int(target)] if target is not None else '?'}")
    fig.colorbar(art, ax=axes[2], shrink=0.8)
    return fig


def deletion_curves(results: dict):
    """Deletion (left, lower is better) and insertion (right, higher is better) curves of
    each map, from :func:`nasbook.explain.deletion_insertion`; AUCs in the legend.

    Usage: ``nb.plot.deletion_curves(nb.explain.deletion_insertion(model, x, maps))``
    """
    fig, axes = subplots(1, 2, figsize=(10, 3.6))
    colours = iter(PALETTE)
    for name, curves in results.items():
        style = dict(color="0.45", ls="--") if name == "random" else dict(color=next(colours))
        for ax, kind in zip(axes, ("deletion", "insertion")):
            c = curves[kind]
            ax.plot(c.fractions * 100, c.mean, lw=1.8, label=f"{name} (AUC {c.auc:.3f})",
                    **style)
    for ax, kind, better in zip(axes, ("deletion", "insertion"), ("lower", "higher")):
        ax.set_xlabel(f"positions {'removed' if kind == 'deletion' else 'inserted'} (%)")
        ax.set_ylabel("probability of the explained class")
        ax.set_title(f"{kind}: {better} area is better", fontsize=10)
        ax.set_ylim(-0.02, 1.02)
        ax.legend(fontsize=7)
    return fig


def sanity_bars(table):
    """The randomisation check as bars: rank correlation with the trained model's maps as
    layers are re-initialised from the top (left), and each map's similarity to the input
    (right). Takes the table from :func:`nasbook.explain.randomisation_check`.

    Usage: ``nb.plot.sanity_bars(nb.explain.randomisation_check(model, x, methods))``
    """
    import seaborn as sns

    fig, axes = subplots(1, 2, figsize=(12, 3.8), gridspec_kw={"width_ratios": [2.2, 1]})
    steps = table[table.step > 0].copy()
    steps["randomised up to"] = steps.layer
    colours = PALETTE[:table.method.nunique()]
    sns.barplot(data=steps, x="randomised up to", y="spearman", hue="method", ax=axes[0],
                palette=colours)
    axes[0].axhline(0, color="0.3", lw=0.8)
    axes[0].set_ylim(-0.3, 1.05)
    axes[0].set_ylabel("Spearman ρ with trained maps")
    axes[0].set_xlabel("layers re-initialised, from the output down (cumulative)")
    axes[0].set_title("does the map change when the model is destroyed? (low is good)",
                      fontsize=10)
    axes[0].legend(fontsize=7, ncol=2)
    trained = table[table.step == 0]
    sns.barplot(data=trained, x="method", y="input_similarity", hue="method", ax=axes[1],
                palette=colours, legend=False)
    axes[1].set_ylim(-0.3, 1.05)
    axes[1].set_ylabel("Spearman ρ with the input")
    axes[1].set_xlabel("")
    axes[1].tick_params(axis="x", rotation=35, labelsize=8)
    axes[1].set_title("trained map vs the input itself", fontsize=10)
    return fig


def ig_convergence(table):
    """Integrated gradients' completeness gap against the number of steps.

    ``table`` has columns ``steps`` and ``relative_gap`` (one row per example and step
    count, e.g. stacked :func:`nasbook.explain.completeness` reports); optional ``baseline``
    draws one line per baseline.

    Usage: ``nb.plot.ig_convergence(reports)``
    """
    fig, ax = subplots(figsize=(5.5, 3.6))
    groups = table.groupby("baseline") if "baseline" in table else [("", table)]
    for (name, g), colour in zip(groups, PALETTE):
        stats = g.groupby("steps").relative_gap
        mean, q90 = stats.mean(), stats.quantile(0.9)
        ax.plot(mean.index, mean.values * 100, "o-", color=colour, label=f"{name} mean".strip())
        ax.plot(q90.index, q90.values * 100, "s:", color=colour, label=f"{name} 90th pct".strip())
    ax.axhline(2, color="0.4", lw=1, ls="--")
    ax.text(ax.get_xlim()[0], 2, " 2%", va="bottom", fontsize=8, color="0.3")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("integration steps")
    ax.set_ylabel("|Σ attr − (f(x) − f(baseline))| / |f(x) − f(baseline)| (%)", fontsize=8)
    ax.set_title("completeness gap shrinks as the path integral is refined", fontsize=10)
    ax.legend(fontsize=7)
    return fig
