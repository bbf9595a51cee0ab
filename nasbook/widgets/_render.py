"""Show a matplotlib figure inside a widget as PNG bytes in an ``ipywidgets.Image``.

A plain trait update: no ``Output`` capture context, so it behaves the same in JupyterLab and
headless under nbclient (where capturing into an ``Output`` widget could leave the executing
client waiting for the cell's end until its timeout).
"""
import io

import matplotlib.pyplot as plt


def show_figure(image, fig) -> None:
    """Render ``fig`` into the ``ipywidgets.Image`` ``image`` and close the figure."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    image.value = buffer.getvalue()
