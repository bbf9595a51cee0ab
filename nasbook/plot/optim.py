"""Pictures of optimisers: paths on a 2-D loss surface, training curves, learning-rate sweeps.

Usage::

    s = nb.optim.SURFACES["ravine"]
    paths = {name: nb.optim.run(name, s, 100, learning_rate=0.05) for name in nb.optim.STEPS}
    nb.plot.optimizer_paths(s, paths)
"""
import numpy as np
from matplotlib.colors import LogNorm

from nasbook.plot.style import PALETTE, subplots

__all__ = ["optimizer_paths", "optimizer_curves", "learning_rate_sweep", "adam_bias_correction",
           "optimizer_colour"]

_ORDER = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]


def optimizer_colour(name, index=0):
    """The same colour for the same optimiser in every figure."""
    key = str(name).split(" ")[0].lower()
    return PALETTE[_ORDER.index(key) % len(PALETTE)] if key in _ORDER else \
        PALETTE[(len(_ORDER) + index) % len(PALETTE)]


def _surface_grid(surface, n=200):
    xs = np.linspace(*surface.xlim, n)
    ys = np.linspace(*surface.ylim, n)
    xx, yy = np.meshgrid(xs, ys)
    return xx, yy, surface.f(np.stack([xx, yy], axis=-1))


def _draw_surface(ax, surface, levels=30):
    xx, yy, zz = _surface_grid(surface)
    shift = 1e-3 - min(zz.min(), 0.0)   # log-spaced levels show the valley floor
    ax.contourf(xx, yy, zz + shift, levels=np.geomspace(zz.min() + shift, zz.max() + shift,
                                                       levels),
                norm=LogNorm(), cmap="Greys_r", alpha=0.55)
    ax.contour(xx, yy, zz + shift, levels=np.geomspace(zz.min() + shift, zz.max() + shift,
                                                      levels // 2),
               norm=LogNorm(), colors="0.35", linewidths=0.5)
    ax.plot(*surface.minimum, marker="*", ms=14, color="gold", mec="k", zorder=5)
    ax.plot(*surface.start, marker="o", ms=7, color="k", zorder=5)
    ax.set_xlim(surface.xlim)
    ax.set_ylim(surface.ylim)
    ax.set_xlabel("w₁")
    ax.set_ylabel("w₂")


def optimizer_paths(surface, paths, *, ax=None, title=None):
    """Contours of ``surface`` (log-spaced) with each optimiser's path drawn over them.

    ``paths`` maps a label to an array (steps+1, 2), e.g. from :func:`nasbook.optim.run`.
    The black dot is the start, the star the minimum. Returns the figure.
    """
    if ax is None:
        fig, ax = subplots(size=4.5)
    else:
        fig = ax.figure
    _draw_surface(ax, surface)
    for i, (label, path) in enumerate(paths.items()):
        path = np.asarray(path)
        finite = np.all(np.isfinite(path), axis=1)
        path = path[finite]
        colour = optimizer_colour(label, i)
        final = surface.f(path[-1])
        ax.plot(path[:, 0], path[:, 1], "-", color=colour, lw=1.8, marker=".", ms=3,
                label=f"{label} (loss {final:.2g})" if finite.all() else f"{label} (diverged)")
    ax.legend(fontsize=8, loc="best", framealpha=0.9)
    ax.set_title(title or f"{surface.name}: {len(next(iter(paths.values()))) - 1} steps")
    return fig


def optimizer_curves(curves, *, metric="loss", ax=None, log=True, xlabel="epoch", title=None):
    """Lines of ``metric`` per epoch (or step) for several optimisers.

    ``curves`` maps a label to a Keras ``History``, a ``history.history`` dict, or a 1-D
    array (for example a surface's loss along a path). Returns the figure.
    """
    if ax is None:
        fig, ax = subplots(size=4.0)
    else:
        fig = ax.figure
    for i, (label, curve) in enumerate(curves.items()):
        colour = optimizer_colour(label, i)
        hist = getattr(curve, "history", curve)
        if isinstance(hist, dict):
            y = np.asarray(hist[metric], dtype=float)
            x = np.arange(1, len(y) + 1)
            ax.plot(x, y, "-", color=colour, lw=2, label=f"{label}")
            if f"val_{metric}" in hist:
                ax.plot(x, hist[f"val_{metric}"], "--", color=colour, lw=1.5)
        else:
            y = np.asarray(curve, dtype=float)
            ax.plot(np.arange(len(y)), y, "-", color=colour, lw=2, label=label)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    has_val = any(f"val_{metric}" in getattr(c, "history", c) for c in curves.values()
                  if isinstance(getattr(c, "history", c), dict))
    ax.set_ylabel(metric + (" (solid: train, dashed: validation)" if has_val else ""))
    ax.legend(fontsize=8)
    ax.set_title(title or f"{metric} by optimiser")
    return fig


def learning_rate_sweep(table, *, x="learning_rate", y="final_loss", hue="optimizer", ax=None,
                        log_y=True, title=None):
    """``y`` against the learning rate (log axis), one line per ``hue``: where each
    optimiser works. ``table`` is a DataFrame with those columns. Returns the figure."""
    if ax is None:
        fig, ax = subplots(size=4.0)
    else:
        fig = ax.figure
    for i, (name, group) in enumerate(table.groupby(hue, sort=False)):
        group = group.sort_values(x)
        group = group[np.isfinite(group[y].astype(float)) & (group[y].abs() < 1e100)]
        ax.plot(group[x], group[y], "-o", color=optimizer_colour(name, i), lw=2, ms=4,
                label=name)
    ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel(y.replace("_", " "))
    ax.legend(fontsize=8)
    ax.set_title(title or f"{y.replace('_', ' ')} against the learning rate")
    return fig


def adam_bias_correction(steps=200, beta_1=0.9, beta_2=0.999, *, ax=None):
    """How much larger Adam's step is without bias correction: (1 - beta_1^t) /
    sqrt(1 - beta_2^t) against t, for a constant gradient. Returns the figure."""
    if ax is None:
        fig, ax = subplots(figsize=(6.0, 3.8))
    else:
        fig = ax.figure
    t = np.arange(1, steps + 1)
    ratio = (1 - beta_1 ** t) / np.sqrt(1 - beta_2 ** t)
    ax.plot(t, ratio, lw=2, color=optimizer_colour("adam"))
    ax.axhline(1, color="0.3", ls="--", lw=1)
    ax.set_xscale("log")
    ax.set_xlabel("step t (log scale)")
    ax.set_ylabel("uncorrected / corrected step")
    ax.set_title(f"Adam's step without bias correction\n"
                 f"(β₁={beta_1}, β₂={beta_2}, constant gradient)")
    return fig
