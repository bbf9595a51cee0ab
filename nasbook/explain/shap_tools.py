"""SHAP for Keras models, on the logits: gradient (default), guarded deep, model-agnostic.

Three explainers, one result type:

- ``method="gradient"``: ``shap.GradientExplainer`` (expected gradients). Works for any
  differentiable Keras model; additivity holds only in expectation (more ``nsamples``, smaller gap).
- ``method="deep"``: ``shap.DeepExplainer`` (DeepLIFT-style rescale rule). Exact additivity, but
  only for the layers it knows. We check the layers first and fall back to the gradient
  explainer, with a warning, for anything else; and we restore TensorFlow's gradient-recording
  state afterwards (see :func:`tf_gradient_state`).
- ``method="partition"``: ``shap.Explainer`` with an image masker that fills hidden pixels with a
  number (Owen values over a pixel hierarchy). Needs only ``f(x)``; exact additivity against
  ``f(fully masked input)``. 1-D signals are treated as a one-pixel-wide image.

Usage::

    res = nb.explain.explain_shap(model, ds.x_test[:4], background=ds.x_train[:50])
    print(nb.explain.additivity(res))           # sum(SHAP) vs f(x) - E[f(baseline)]
    shap.image_plot(**nb.explain.to_image_plot(res, class_names=ds.class_names))
"""
from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass

import numpy as np

from nasbook.logits import predict_logits, targets_from_logits

__all__ = [
    "DEEP_SUPPORTED_LAYERS", "DEEP_SUPPORTED_ACTIVATIONS", "ShapResult", "Additivity",
    "deep_unsupported_layers", "tf_gradient_state", "explain_shap", "additivity",
    "to_image_plot", "to_explanation",
]

# Keras layers whose TensorFlow ops shap 0.51's DeepExplainer has rules for (deep_tf.op_handlers):
# MatMul/BiasAdd, Conv2D (Conv1D runs as Conv2D), MaxPool, AvgPool, Mean, Reshape, Pad, ConcatV2,
# Add, Relu/Elu/Selu/Sigmoid/Tanh/Softplus, Softmax, and inference-mode batch norm (constants).
DEEP_SUPPORTED_LAYERS = frozenset({
    "InputLayer", "Dense", "Conv1D", "Conv2D", "MaxPooling1D", "MaxPooling2D",
    "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
    "Flatten", "Reshape", "Dropout", "SpatialDropout1D", "SpatialDropout2D", "Activation",
    "ReLU", "ELU", "Softmax", "BatchNormalization", "ZeroPadding1D", "ZeroPadding2D", "Add",
    "Concatenate",
})
DEEP_SUPPORTED_ACTIVATIONS = frozenset({
    "linear", "relu", "elu", "selu", "sigmoid", "tanh", "softplus", "softmax",
})
METHODS = ("gradient", "deep", "partition")


@dataclass
class ShapResult:
    """SHAP values for ``n`` inputs and ``k`` explained outputs (logits).

    ``values`` (n, *input_shape, k); ``base_values`` (n, k) = E[f(background)] (gradient, deep)
    or f(fully masked input) (partition); ``outputs`` (n, k) = f(x); ``classes`` (n, k) = which
    logit each column explains; ``method`` the explainer actually used (after any fallback).
    """

    values: np.ndarray
    base_values: np.ndarray
    outputs: np.ndarray
    classes: np.ndarray
    method: str
    x: np.ndarray

    def __repr__(self):
        return (f"ShapResult(method={self.method!r}, values{self.values.shape}, "
                f"classes={self.classes[:, 0].tolist() if self.classes.shape[1] == 1 else '...'})")


@dataclass
class Additivity:
    """Sum(SHAP) − (f(x) − base) per example and output, and whether it is within tolerance."""

    gap: np.ndarray          # (n, k)
    max_abs_gap: float
    relative_gap: float      # max |gap| / max |f(x) - base|
    tolerance: float
    ok: bool

    def __repr__(self):
        verdict = "holds" if self.ok else "FAILS"
        return (f"additivity {verdict}: max |sum(SHAP) - (f(x) - base)| = {self.max_abs_gap:.3g} "
                f"({100 * self.relative_gap:.2f}% of the largest |f(x) - base|; "
                f"tolerance {100 * self.tolerance:.2g}%)")


# --- the DeepExplainer guard ---------------------------------------------------------------

def _layers(model):
    for layer in model.layers:
        if hasattr(layer, "layers") and layer.layers:  # nested Sequential / Functional
            yield from _layers(layer)
        else:
            yield layer


def _activation_name(layer):
    act = getattr(layer, "activation", None)
    if act is None:
        return None
    return getattr(act, "__name__", type(act).__name__)


def deep_unsupported_layers(model) -> list[str]:
    """Layers of ``model`` DeepExplainer has no exact rule for, as ``"name (reason)"`` strings.

    Usage: ``if not nb.explain.deep_unsupported_layers(model): ...  # safe for method="deep"``
    """
    bad = []
    for layer in _layers(model):
        kind = type(layer).__name__
        if kind not in DEEP_SUPPORTED_LAYERS:
            bad.append(f"{layer.name} ({kind})")
            continue
        act = _activation_name(layer)
        if act is not None and act not in DEEP_SUPPORTED_ACTIVATIONS:
            bad.append(f"{layer.name} ({kind} with activation {act!r})")
    return bad


@contextlib.contextmanager
def tf_gradient_state():
    """Snapshot and restore the TensorFlow globals shap's DeepExplainer patches.

    shap 0.51 (``explainers/_deep/deep_tf.py``) swaps ``tensorflow.python.eager.execute.
    record_gradient`` for its own function that records every op as ``"shap_<Op>"``, and puts
    it back only if the forward pass succeeds. After a failure, every later ``GradientTape``
    (so every fresh ``model.fit``) asks the gradient registry for ``"shap_<Op>"`` entries that
    no longer exist: ``LookupError: gradient registry has no entry for: shap_BiasAdd``. It also
    rewrites gradient-registry entries and ``gradients_util._IsBackpropagatable``. All three are
    restored on exit, whatever happened inside.

    Usage::

        with nb.explain.tf_gradient_state():
            shap.DeepExplainer(model, bg).shap_values(x)
    """
    from tensorflow.python.eager import execute as tf_execute
    from tensorflow.python.framework import ops as tf_ops
    from tensorflow.python.ops import gradients_util

    registry = tf_ops._gradient_registry._registry
    saved_registry = {key: dict(value) for key, value in registry.items()}
    saved_record = tf_execute.record_gradient
    saved_backprop = getattr(gradients_util, "_IsBackpropagatable", None)
    try:
        yield
    finally:
        tf_execute.record_gradient = saved_record
        if saved_backprop is not None:
            gradients_util._IsBackpropagatable = saved_backprop
        for key in [k for k in registry if k not in saved_registry]:
            del registry[key]
        for key, value in saved_registry.items():
            registry[key] = value


# --- explainers ----------------------------------------------------------------------------

def _targets(fx, target):
    """Chosen classes as ``(n, k)`` (the transpose of :func:`nasbook.logits.resolve_targets`'s
    layout, as SHAP's arrays put the output axis last); a 2-D ``(n, k)`` array is kept."""
    t = np.asarray(target) if target is not None and not isinstance(target, str) else None
    if t is not None and t.ndim == 2:
        if t.min() < 0 or t.max() >= fx.shape[1]:
            raise ValueError(f"target classes must lie in 0..{fx.shape[1] - 1}, got "
                             f"{np.unique(t).tolist()}")
        return t.astype(int)
    return targets_from_logits(fx, target).T


def _select(all_values, classes):
    """(n, *shape, K) values of every output -> (n, *shape, k) for the chosen classes."""
    idx = classes.reshape((classes.shape[0],) + (1,) * (all_values.ndim - 2) + (-1,))
    return np.take_along_axis(all_values, idx, axis=-1)


def _gradient(model, x, background, nsamples, seed):
    import shap

    np.random.seed(seed)  # GradientExplainer samples background rows and path points with NumPy
    explainer = shap.GradientExplainer(model, background)
    values = np.asarray(explainer.shap_values(x, nsamples=nsamples))
    return values, predict_logits(model, background).mean(axis=0)


@contextlib.contextmanager
def _tensorflow_logger_at_error():
    """shap's DeepExplainer calls its ``grad_graph`` tf.function once per output class and input
    shape, and TensorFlow logs "WARNING:tensorflow:5 out of the last 13 calls ... triggered
    tf.function retracing" when it explains several models in a row. The retracing is shap's
    design, costs a little time and changes no number; the log line is silenced while it runs."""
    import tensorflow as tf

    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        yield
    finally:
        logger.setLevel(level)


def _deep(model, x, background):
    import shap

    with tf_gradient_state(), _tensorflow_logger_at_error():
        explainer = shap.DeepExplainer(model, background)
        values = np.asarray(explainer.shap_values(x, check_additivity=False))
    return values, np.asarray(explainer.expected_value)


@contextlib.contextmanager
def _shap_without_numba():
    """Run shap's numba-compiled helpers as plain Python for the duration.

    shap compiles its masking and partition helpers with numba on first use: 20-40 s of CPU per
    Python process, far more than explaining a few 8x8 or 40-sample inputs costs in plain Python.
    We swap each ``numba`` dispatcher in the loaded ``shap`` modules for its ``py_func`` and put
    the dispatchers back afterwards; ``shap.links`` is left alone, because shap compares link
    functions by identity (``link != links.identity``).
    """
    import sys

    from numba.core.dispatcher import Dispatcher

    swapped = []
    for name, module in list(sys.modules.items()):
        if not name.startswith("shap.") or name == "shap.links" or module is None:
            continue
        for attr, value in list(vars(module).items()):
            if isinstance(value, Dispatcher):
                swapped.append((module, attr, value))
                setattr(module, attr, value.py_func)
    try:
        yield
    finally:
        for module, attr, value in swapped:
            setattr(module, attr, value)


def _plain_image_masker(fill, shape):
    """``shap.maskers.Image`` whose axis-aligned partition tree is built in plain Python.

    shap builds the tree with a numba function fed a ``numba.typed.List``; its ``py_func``
    needs an ordinary list instead, which is the only change here.
    """
    import shap
    from shap.maskers import _image

    class PlainImage(shap.maskers.Image):
        def build_partition_tree(self):
            h, w, c = (int(v) for v in self.input_shape)
            m = h * w * c
            clustering = np.zeros((m - 1, 4))
            queue = [(0, 0, h, 0, w, 0, c, -1, False)]
            build = getattr(_image._jit_build_partition_tree, "py_func",
                            _image._jit_build_partition_tree)
            build(0, h, 0, w, 0, c, w, c, m, clustering, queue)
            self.clustering = clustering

    return PlainImage(fill, shape)


def _partition(model, x, fill, max_evals, batch_size, classes, numba_jit):
    import shap

    shape = x.shape[1:]
    image_shape = shape if len(shape) == 3 else (shape[0], 1, shape[1])  # 1-D: (L, 1, C)

    def f(z):
        z = np.asarray(z, dtype=np.float32).reshape((-1,) + shape)
        return predict_logits(model, z)

    xs = x.reshape((-1,) + image_shape)
    values = np.zeros(x.shape + (classes.shape[1],), dtype=np.float64)
    base = np.zeros(classes.shape)
    with contextlib.nullcontext() if numba_jit else _shap_without_numba():
        masker = (shap.maskers.Image(float(fill), image_shape) if numba_jit
                  else _plain_image_masker(float(fill), image_shape))
        explainer = shap.Explainer(f, masker, algorithm="partition")
        for i in range(len(x)):  # one call per example so each explains its own classes
            ex = explainer(xs[i:i + 1], max_evals=max_evals, batch_size=batch_size,
                           outputs=classes[i], silent=True)
            values[i] = np.asarray(ex.values[0]).reshape(shape + (classes.shape[1],))
            base[i] = np.asarray(ex.base_values[0])
    return values, base


def explain_shap(model, x, background=None, *, method="gradient", target=None, nsamples=200,
                 fill=0.0, max_evals=500, batch_size=64, check_layers=True, numba_jit=False,
                 seed=0) -> ShapResult:
    """SHAP values of ``model``'s logits for inputs ``x`` (n, *input_shape).

    ``background``: reference inputs for "gradient" and "deep" (50-200 training examples);
    ``target``: None (predicted class), an int, one class per example, or "all".
    ``method="deep"`` checks the layers first (``check_layers``) and falls back to "gradient"
    with a warning if any is unsupported (or if DeepExplainer fails). ``fill`` is the value
    of hidden pixels for "partition" and ``max_evals`` its budget of model calls per example;
    ``numba_jit=True`` lets shap compile its partition code (worth it only for large inputs or
    many examples: compiling takes 20-40 s). ``seed`` seeds the gradient explainer's sampling.

    Usage: ``res = explain_shap(model, x, ds.x_train[:100], method="deep")``
    """
    if method not in METHODS:
        raise ValueError(f"unknown SHAP method {method!r}; choose one of {METHODS}")
    x = np.asarray(x, dtype=np.float32)
    if x.ndim < 2:
        raise ValueError(f"x must be a batch (n, *input_shape), got shape {x.shape}")
    if method in ("gradient", "deep"):
        if background is None:
            raise ValueError(f"method={method!r} needs a background, e.g. ds.x_train[:100]")
        background = np.asarray(background, dtype=np.float32)
        if background.shape[1:] != x.shape[1:]:
            raise ValueError(f"background shape {background.shape[1:]} differs from input "
                             f"shape {x.shape[1:]}")
    fx = predict_logits(model, x)
    classes = _targets(fx, target)
    if method == "deep" and check_layers:
        bad = deep_unsupported_layers(model)
        if bad:
            warnings.warn(f"DeepExplainer has no rule for {', '.join(bad)}; using "
                          f"GradientExplainer instead (method='gradient').", stacklevel=2)
            method = "gradient"
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The structure of `inputs`")
        warnings.filterwarnings("ignore", message="Your TensorFlow version is newer")
        if method == "partition":
            values, base = _partition(model, x, fill, max_evals, batch_size, classes,
                                          numba_jit)
        else:
            if method == "gradient":
                all_values, expected = _gradient(model, x, background, nsamples, seed)
            else:
                try:
                    all_values, expected = _deep(model, x, background)
                except Exception as error:  # TF state is already restored by _deep
                    warnings.warn(f"DeepExplainer failed ({type(error).__name__}: "
                                  f"{str(error).strip().splitlines()[-1][:200]}); using "
                                  f"GradientExplainer instead (method='gradient').",
                                  stacklevel=2)
                    method = "gradient"
                    all_values, expected = _gradient(model, x, background, nsamples, seed)
            if all_values.ndim == x.ndim:  # a single-output model: add the output axis
                all_values = all_values[..., None]
            values = _select(all_values, classes)
            base = np.asarray(expected).reshape(-1)[classes]
    return ShapResult(values=values, base_values=base,
                      outputs=np.take_along_axis(fx, classes, axis=1), classes=classes,
                      method=method, x=x)


def additivity(result: ShapResult, tolerance=0.01) -> Additivity:
    """Check sum(SHAP) = f(x) − base (the efficiency axiom), relative to max |f(x) − base|.

    Usage: ``print(nb.explain.additivity(res, tolerance=0.05))``
    """
    total = result.values.reshape(result.values.shape[0], -1, result.values.shape[-1]).sum(1)
    target = result.outputs - result.base_values
    gap = total - target
    scale = max(float(np.abs(target).max()), 1e-12)
    max_gap = float(np.abs(gap).max())
    return Additivity(gap=gap, max_abs_gap=max_gap, relative_gap=max_gap / scale,
                      tolerance=tolerance, ok=max_gap / scale <= tolerance)


# --- adapters for shap's own plots ---------------------------------------------------------

def to_image_plot(result: ShapResult, class_names=None) -> dict:
    """Keyword arguments for ``shap.image_plot(**kwargs)`` (2-D inputs).

    Usage: ``shap.image_plot(**to_image_plot(res, ds.class_names), show=False)``
    """
    if result.x.ndim != 4:
        raise ValueError(f"image_plot wants images (n, h, w, c); these inputs are "
                         f"{result.x.shape}. Use to_explanation(...) with shap.plots.beeswarm")
    k = result.values.shape[-1]
    names = class_names if class_names is not None else [str(c) for c in
                                                         range(result.classes.max() + 1)]
    labels = np.array([[f"{names[c]}: {result.outputs[i, j]:+.2f}"
                        for j, c in enumerate(row)] for i, row in enumerate(result.classes)])
    return {"shap_values": [result.values[..., j] for j in range(k)],
            "pixel_values": result.x, "labels": labels}


def _feature_names(shape):
    if len(shape) == 3:  # (h, w, c)
        return [f"({r},{c})" for r in range(shape[0]) for c in range(shape[1])
                for _ in range(shape[2])]
    if len(shape) == 2:  # (length, channels)
        return [f"t={t}" for t in range(shape[0]) for _ in range(shape[1])]
    return [f"x{i}" for i in range(int(np.prod(shape)))]


def to_explanation(result: ShapResult, output=0, feature_names=None):
    """A ``shap.Explanation`` with flat features (n, features) for beeswarm/waterfall/bar plots.

    ``output`` picks the column of ``result.classes`` to show.
    Usage: ``shap.plots.waterfall(to_explanation(res)[0])``;
    ``shap.plots.beeswarm(to_explanation(res))``
    """
    import shap

    n = result.values.shape[0]
    names = feature_names or _feature_names(result.x.shape[1:])
    return shap.Explanation(values=result.values[..., output].reshape(n, -1),
                            base_values=result.base_values[:, output],
                            data=result.x.reshape(n, -1), feature_names=list(names))
