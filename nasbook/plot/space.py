"""Figures about search spaces: where a space's models live, and how far the raw count is off.

Usage: ``nb.plot.space_size(nb.space.preset("cnn", (40, 1), 10))``
"""
import numpy as np

from nasbook.plot.style import PALETTE, subplots

__all__ = ["space_size"]


def space_size(space, *, ax=None, title=None):
    """Bars per setting of the layer counts: distinct models vs raw combinations (log scale).

    The raw count multiplies every decision, including the widths of layers that are not
    built; the distinct count multiplies only the decisions that shape the model.
    """
    table = space.size_table()
    counts = [c for c in table.columns if c not in ("models", "raw")]
    if ax is None:
        _, ax = subplots(size=3.4, figsize=(max(5.0, 1.1 * len(table) + 2), 3.6))
    labels = [", ".join(f"{c}={row[c]}" for c in counts) or "all" for _, row in table.iterrows()]
    x = np.arange(len(table))
    ax.bar(x - 0.2, table["raw"], width=0.4, color=PALETTE[7], label="raw combinations")
    ax.bar(x + 0.2, table["models"], width=0.4, color=PALETTE[0], label="distinct models")
    ax.set_yscale("log")
    ax.set_ylim(top=float(table[["raw", "models"]].to_numpy().max()) * 60)
    ax.set_xticks(x, labels, rotation=30 if len(table) > 3 else 0, ha="right"
                  if len(table) > 3 else "center")
    ax.set_ylabel("configurations (log scale)")
    ax.set_xlabel("layer counts")
    ax.legend(loc="upper left", fontsize=9, ncol=2)
    ax.set_title(title or f"{space.name}: {space.size():,} models, "
                          f"{space.raw_size():,} raw combinations", fontsize=11)
    return ax.figure
