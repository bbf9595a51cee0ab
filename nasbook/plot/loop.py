"""The NAS loop as a figure, for readers whose viewer does not draw Mermaid.

Usage: ``nb.plot.nas_loop()``
"""
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from nasbook.plot.style import PALETTE, subplots

__all__ = ["nas_loop"]

_STEPS = [("Search space", "what can be built"), ("Search strategy", "what to try next"),
          ("Evaluation", "train, then score"), ("Update", "learn from the score")]


def nas_loop():
    """Draw search space → strategy → evaluation → update → strategy; returns the figure."""
    fig, ax = subplots(size=3.0, figsize=(8, 3.2))
    positions = [(0.12, 0.5), (0.40, 0.78), (0.68, 0.5), (0.40, 0.22)]
    for (title, sub), (x, y), colour in zip(_STEPS, positions, PALETTE):
        ax.add_patch(FancyBboxPatch((x - 0.1, y - 0.1), 0.2, 0.2, boxstyle="round,pad=0.02",
                                    fc=colour, alpha=0.25, ec=colour, lw=2))
        ax.text(x, y + 0.03, title, ha="center", va="center", fontsize=11, weight="bold")
        ax.text(x, y - 0.04, sub, ha="center", va="center", fontsize=8)
    arrows = [((0.22, 0.56), (0.30, 0.80), -0.3), ((0.50, 0.80), (0.62, 0.61), -0.3),
              ((0.62, 0.39), (0.50, 0.20), -0.3), ((0.40, 0.33), (0.40, 0.67), 0.0)]
    for start, end, bend in arrows:
        ax.add_patch(FancyArrowPatch(start, end, connectionstyle=f"arc3,rad={bend}",
                                     arrowstyle="-|>", mutation_scale=15, lw=1.5,
                                     color="0.3"))
    ax.annotate("best architecture\n(when a stop condition is met)", xy=(0.78, 0.5),
                xytext=(0.86, 0.5), ha="left", va="center", fontsize=9,
                arrowprops=dict(arrowstyle="<|-", color="0.3"))
    ax.set_xlim(0, 1.1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    ax.set_title("The NAS loop")
    return fig
