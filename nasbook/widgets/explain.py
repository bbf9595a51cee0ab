"""An explorer for attributions: pick an example, a method and a class; see the input, the
prediction and the attribution map side by side.

Usage (in JupyterLab)::

    nb.widgets.explanation_explorer(model, ds.x_test[:50], ds.y_test[:50],
                                    class_names=ds.class_names)
"""
import numpy as np

__all__ = ["explanation_explorer", "ExplanationExplorer"]


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _base():
    import ipywidgets as widgets

    return widgets.VBox


class ExplanationExplorer(_base()):
    """A VBox of controls (``example``, ``method``, ``target``) above an ``output`` area.

    Build it with :func:`explanation_explorer`. ``figure()`` returns the current panel as a
    matplotlib figure (handy without a browser); maps are cached per example/method/class.
    """

    def __init__(self, model, x, y=None, *, methods=None, class_names=None, options=None):
        import ipywidgets as widgets

        from nasbook.explain.attributions import available_methods
        from nasbook.logits import as_batch, logit_model, predict_logits

        self.model = model
        self.x, _ = as_batch(logit_model(model), x)
        if y is not None and len(y) != len(self.x):
            raise ValueError(f"y has {len(y)} labels for {len(self.x)} examples")
        self.y = None if y is None else np.asarray(y)
        known = list(available_methods())
        self.methods = list(methods) if methods is not None else known
        unknown = [m for m in self.methods if m not in known]
        if unknown:
            raise ValueError(f"unknown method(s) {unknown}; choose from {known}")
        self.options = dict(options or {})
        self.probabilities = _softmax(predict_logits(logit_model(model), self.x))
        classes = self.probabilities.shape[1]
        self.class_names = ([str(c) for c in class_names] if class_names is not None
                            else [str(c) for c in range(classes)])
        self._cache = {}

        self.example = widgets.IntSlider(value=0, min=0, max=len(self.x) - 1,
                                         description="example", continuous_update=False)
        self.method = widgets.Dropdown(options=self.methods, value=self.methods[0],
                                       description="method")
        self.target = widgets.Dropdown(
            options=[("predicted class", -1)] + [(n, k) for k, n in enumerate(self.class_names)],
            value=-1, description="explain")
        self.output = widgets.Image(format="png")
        for control in (self.example, self.method, self.target):
            control.observe(self._redraw, names="value")
        super().__init__([widgets.HBox([self.example, self.method, self.target]), self.output])
        self._redraw()

    def current(self):
        """(example index, method, explained class) currently selected."""
        i = int(self.example.value)
        t = int(self.target.value)
        return i, self.method.value, int(self.probabilities[i].argmax()) if t < 0 else t

    def attribution(self):
        """The attribution map for the current selection (cached)."""
        from nasbook.explain.attributions import attribute

        key = self.current()
        if key not in self._cache:
            i, method, t = key
            self._cache[key] = attribute(self.model, self.x[i:i + 1], method=method, target=t,
                                         **self.options.get(method, {}))[0]
        return self._cache[key]

    def figure(self):
        """The current panel as a matplotlib figure."""
        from nasbook.plot.explain import explanation_panel

        i, method, t = self.current()
        return explanation_panel(self.x[i], self.probabilities[i], self.attribution(),
                                 method=method, target=t,
                                 label=None if self.y is None else int(self.y[i]),
                                 class_names=self.class_names)

    def _redraw(self, *_):
        from nasbook.widgets._render import show_figure

        show_figure(self.output, self.figure())


def explanation_explorer(model, x, y=None, *, methods=None, class_names=None, options=None):
    """Build the explorer for ``model`` on examples ``x`` (labels ``y`` optional).

    ``methods`` limits the dropdown (default: every method of
    :func:`nasbook.explain.available_methods`); ``options`` is ``{method: {option: value}}``,
    e.g. ``{"integrated_gradients": {"steps": 32}}``.

    Usage: ``nb.widgets.explanation_explorer(model, ds.x_test[:50], ds.y_test[:50])``
    """
    return ExplanationExplorer(model, x, y, methods=methods, class_names=class_names,
                               options=options)
