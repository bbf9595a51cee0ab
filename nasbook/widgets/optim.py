"""Move a learning-rate slider and watch optimisers walk a 2-D loss surface.

Usage (in JupyterLab)::

    explorer = nb.widgets.learning_rate_explorer("ravine")
    explorer            # shows the sliders and the plot
    explorer.update(learning_rate=0.1)   # the same as moving the slider

Headless (nbclient, a script) building it and calling ``update`` once is safe: the figure
is rendered to PNG into an ``Image`` widget and nothing waits for a browser.
"""
import ipywidgets as W
import numpy as np

from nasbook import optim
from nasbook.widgets._render import show_figure

__all__ = ["learning_rate_explorer", "LearningRateExplorer"]


class LearningRateExplorer(W.VBox):
    """A learning-rate slider (log scale), a steps slider, optimiser toggles, and the plot.

    ``update(**changes)`` sets controls and redraws; ``paths`` holds the last paths drawn.
    """

    def __init__(self, surface="ravine", optimizers=("sgd", "momentum", "adam"),
                 learning_rate=0.05, steps=60):
        if isinstance(surface, str):
            if surface not in optim.SURFACES:
                raise ValueError(f"unknown surface {surface!r}; choose one of "
                                 f"{sorted(optim.SURFACES)}")
            surface = optim.SURFACES[surface]
        unknown = [o for o in optimizers if o not in optim.STEPS]
        if unknown:
            raise ValueError(f"unknown optimizer(s) {unknown}; choose from {sorted(optim.STEPS)}")
        self.surface = surface
        self.paths = {}
        self.lr = W.FloatLogSlider(value=learning_rate, base=10, min=-4, max=0.5, step=0.05,
                                   description="learning rate", continuous_update=False,
                                   style={"description_width": "initial"})
        self.steps = W.IntSlider(value=steps, min=5, max=300, step=5, description="steps",
                                 continuous_update=False)
        self.chosen = W.SelectMultiple(options=list(optim.STEPS), value=tuple(optimizers),
                                       description="optimisers", rows=6)
        self.out = W.Image(format="png")
        self.message = W.HTML()
        self._quiet = False
        for control in (self.lr, self.steps, self.chosen):
            control.observe(self._on_change, names="value")
        super().__init__([W.HBox([W.VBox([self.lr, self.steps]), self.chosen]), self.message,
                          self.out])

    def _on_change(self, _change):
        if not self._quiet:
            self.update()

    def update(self, learning_rate=None, steps=None, optimizers=None):
        """Set any control given, then recompute the paths and redraw; returns the paths."""
        from nasbook.plot.optim import optimizer_paths

        self._quiet = True          # set values without one redraw per control
        try:
            if learning_rate is not None:
                self.lr.value = learning_rate
            if steps is not None:
                self.steps.value = steps
            if optimizers is not None:
                self.chosen.value = tuple(optimizers)
        finally:
            self._quiet = False
        self.paths = {name: optim.run(name, self.surface, self.steps.value,
                                      learning_rate=self.lr.value)
                      for name in self.chosen.value}
        if self.paths:
            self.message.value = ""
            show_figure(self.out, optimizer_paths(
                self.surface, self.paths, title=f"{self.surface.name}, learning rate "
                                                f"{self.lr.value:.3g}, {self.steps.value} steps"))
        else:
            self.message.value = "<b>choose at least one optimiser</b>"
        return self.paths

    def final_losses(self) -> dict:
        """Loss at the end of each drawn path (inf where a path diverged)."""
        return {k: float(self.surface.f(p[-1])) if np.all(np.isfinite(p[-1])) else np.inf
                for k, p in self.paths.items()}


def learning_rate_explorer(surface="ravine", optimizers=("sgd", "momentum", "adam"),
                           learning_rate=0.05, steps=60) -> LearningRateExplorer:
    """Build the explorer and draw it once. Usage: ``nb.widgets.learning_rate_explorer()``"""
    explorer = LearningRateExplorer(surface, optimizers, learning_rate, steps)
    explorer.update()
    return explorer
