"""Pictures of datasets: images for 2-D inputs, line plots for 1-D signals.

Usage: ``nb.plot.examples(nb.load_dataset("mnist1d"), per_class=1)``
"""
import numpy as np

from nasbook.plot.style import subplots

__all__ = ["examples"]


def examples(ds, per_class=1, *, split="train", max_classes=10):
    """Show ``per_class`` examples of each class; returns the figure."""
    x, y = ds.splits()[split]
    classes = list(range(min(ds.num_classes, max_classes)))
    one_d = x.ndim == 3  # (n, length, channels)
    figsize = (1.3 * len(classes), (2.6 if one_d else 1.4) * per_class + 0.4)
    fig, axes = subplots(per_class, len(classes), figsize=figsize, squeeze=False)
    for col, label in enumerate(classes):
        picks = np.flatnonzero(y == label)[:per_class]
        for row in range(per_class):
            ax = axes[row, col]
            if row < len(picks):
                sample = x[picks[row]]
                if sample.ndim == 3:  # (height, width, channels)
                    ax.imshow(sample[..., 0], cmap="gray_r")
                else:  # (length, channels): a 1-D signal, drawn upright as in the paper
                    ax.plot(sample[:, 0], np.arange(len(sample)), lw=1.5)
                    ax.invert_yaxis()
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(ds.class_names[label], fontsize=9)
    fig.suptitle(f"{ds.name}: {per_class} example(s) per class, input shape {ds.input_shape}",
                 fontsize=10)
    return fig
