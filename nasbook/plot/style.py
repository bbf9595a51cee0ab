"""One look for every figure: seaborn's theme, a colour palette, labelled axes.

Usage: ``fig, axes = nb.plot.subplots(1, 3)``
"""
import matplotlib.pyplot as plt
import seaborn as sns

__all__ = ["use_style", "subplots", "PALETTE"]

PALETTE = sns.color_palette("colorblind")


def use_style() -> None:
    """Apply the collection's plot style (seaborn 'whitegrid', colour-blind palette)."""
    sns.set_theme(style="whitegrid", palette=PALETTE, context="notebook")
    plt.rcParams.update({"figure.dpi": 100, "axes.titleweight": "bold",
                         "figure.autolayout": True})


def subplots(nrows=1, ncols=1, *, size=3.2, **kwargs):
    """``plt.subplots`` in the collection's style, ``size`` inches per panel."""
    use_style()
    kwargs.setdefault("figsize", (size * ncols * 1.25, size * nrows))
    return plt.subplots(nrows, ncols, **kwargs)
