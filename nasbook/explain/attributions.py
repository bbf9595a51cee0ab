"""Attribution maps from gradients and occlusion, one signature for every method.

Every method answers "which parts of this input moved the model's score for class ``t``?"
and returns an array shaped like the input. Gradients are taken with ``tf.GradientTape`` on
the **logits** (pre-softmax scores): nasbook models output logits; a model that ends in a
softmax is rebuilt to output its pre-softmax values first (see :func:`logit_model`).

Usage::

    attr = nb.explain.attribute(model, ds.x_test[:8], method="integrated_gradients", steps=64)
    nb.explain.completeness(model, ds.x_test[:8], attr)   # sum(attr) vs f(x) - f(baseline)
    nb.explain.available_methods()                        # names and one-line descriptions

Shapes: ``x`` is a batch ``(n, *input_shape)`` -- e.g. ``(n, 40, 1)`` for mnist1d or
``(n, 8, 8, 1)`` for digits -- or one example ``input_shape``. The result has the shape of
``x``; with ``target="all"`` a leading class axis is added: ``(classes, *x.shape)``.

``target`` picks the class explained: ``None``/``"predicted"`` (each example's predicted
class), an ``int`` (the same class for every example), one class per example (a sequence of
length ``n``), or ``"all"`` (every class).
"""
from __future__ import annotations

import difflib
import inspect

import numpy as np

from nasbook.logits import (DEFAULT_BATCH, as_batch, compiled, logit_model, predict_logits,
                            resolve_targets)

# logit_model, resolve_targets and predict_logits live in nasbook.logits (shared with the
# search, SHAP, LIME, surrogates and widgets); they stay importable from here.
__all__ = ["attribute", "available_methods", "completeness", "make_baseline", "logit_model",
           "find_conv_layer", "resolve_targets", "predict_logits"]


def _gradients(model, x, targets, batch_size):
    """d logit[target_i] / d x_i for every example, in batches; float32 like x."""
    grad = compiled(model).grad
    targets = np.asarray(targets, dtype=np.int32)
    out = np.empty(x.shape, dtype=np.float32)
    for s in range(0, len(x), batch_size):
        out[s:s + batch_size] = grad(x[s:s + batch_size], targets[s:s + batch_size]).numpy()
    return out


# ----------------------------------------------------------------------------- baselines
def make_baseline(x, kind="zeros", *, seed=0, sigma=None, low=None, high=None) -> np.ndarray:
    """A reference input for integrated gradients, shaped like ``x``.

    - ``"zeros"``: all zeros (black image, flat signal);
    - ``"blurred"``: ``x`` blurred by a Gaussian over positions only (``sigma`` in pixels,
      default a quarter of the smallest spatial size), so it keeps brightness, loses shape;
    - ``"uniform"``: uniform noise in ``[low, high]`` (default: the range of ``x``), seeded;
    - an array broadcastable to ``x``.

    Usage: ``b = nb.explain.make_baseline(x, "blurred", sigma=2)``
    """
    x = np.asarray(x, dtype=np.float32)
    if not isinstance(kind, str):
        try:
            return np.broadcast_to(np.asarray(kind, dtype=np.float32), x.shape).copy()
        except ValueError:
            raise ValueError(f"baseline of shape {np.shape(kind)} cannot be broadcast to x's "
                             f"shape {x.shape}") from None
    if kind == "zeros":
        return np.zeros_like(x)
    if kind == "blurred":
        from scipy.ndimage import gaussian_filter

        spatial = x.shape[1:-1]
        s = float(sigma) if sigma is not None else max(1.0, min(spatial) / 4)
        return gaussian_filter(x, sigma=[0, *([s] * len(spatial)), 0], mode="nearest")
    if kind == "uniform":
        rng = np.random.default_rng(seed)
        lo = float(x.min()) if low is None else float(low)
        hi = float(x.max()) if high is None else float(high)
        return rng.uniform(lo, hi, size=x.shape).astype(np.float32)
    close = difflib.get_close_matches(kind, ["zeros", "blurred", "uniform"], n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"unknown baseline {kind!r}: use 'zeros', 'blurred', 'uniform' or an "
                     f"array shaped like x{hint}")


# ----------------------------------------------------------------------------- methods
# Each method takes (model, x, targets (k, n), batch_size, **options) and returns (k, *x.shape).

def _saliency(model, x, targets, batch_size, *, absolute=True):
    """Vanilla gradient (Simonyan et al. 2014): |d logit / d x| (signed with absolute=False)."""
    maps = np.stack([_gradients(model, x, t, batch_size) for t in targets])
    return np.abs(maps) if absolute else maps


def _input_x_gradient(model, x, targets, batch_size):
    """Input times gradient (Shrikumar et al. 2016): x * d logit / d x, signed."""
    return np.stack([x * _gradients(model, x, t, batch_size) for t in targets])


_RULES = ("trapezoid", "midpoint", "left", "right")


def _path(steps, rule):
    if not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if rule == "trapezoid":
        alphas = np.linspace(0.0, 1.0, steps + 1)
        weights = np.full(steps + 1, 1.0 / steps)
        weights[[0, -1]] /= 2
    elif rule == "midpoint":
        alphas, weights = (np.arange(steps) + 0.5) / steps, np.full(steps, 1.0 / steps)
    elif rule == "left":
        alphas, weights = np.arange(steps) / steps, np.full(steps, 1.0 / steps)
    elif rule == "right":
        alphas, weights = np.arange(1, steps + 1) / steps, np.full(steps, 1.0 / steps)
    else:
        raise ValueError(f"unknown rule {rule!r}; use one of {_RULES}")
    return alphas.astype(np.float32), weights.astype(np.float32)


def _integrated_gradients(model, x, targets, batch_size, *, baseline="zeros", steps=64,
                          rule="trapezoid", seed=0, sigma=None):
    """Integrated gradients (Sundararajan et al. 2017) along the straight path from a baseline."""
    base = make_baseline(x, baseline, seed=seed, sigma=sigma)
    alphas, weights = _path(steps, rule)
    points = len(alphas)
    chunk = max(1, batch_size // points)  # examples per chunk: chunk * points gradients
    out = np.empty((len(targets), *x.shape), dtype=np.float32)
    shape = (1,) * (x.ndim - 1)
    for s in range(0, len(x), chunk):
        xs, bs = x[s:s + chunk], base[s:s + chunk]
        # (points, m, ...) -> (points*m, ...): every example at every alpha
        path = bs[None] + alphas.reshape(-1, 1, *shape) * (xs - bs)[None]
        flat = path.reshape(-1, *x.shape[1:])
        for k, t in enumerate(targets):
            grads = _gradients(model, flat, np.tile(t[s:s + chunk], points), batch_size)
            avg = np.tensordot(weights, grads.reshape(points, len(xs), *x.shape[1:]), axes=1)
            out[k, s:s + chunk] = (xs - bs) * avg
    return out


def _noisy(x, n_samples, noise_level, seed):
    if not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    if noise_level < 0:
        raise ValueError(f"noise_level must be >= 0, got {noise_level!r}")
    rng = np.random.default_rng(seed)
    axes = tuple(range(1, x.ndim))
    spread = (x.max(axis=axes) - x.min(axis=axes)).reshape(-1, *(1,) * (x.ndim - 1))
    sd = noise_level * np.where(spread > 0, spread, 1.0)
    noise = rng.normal(size=(n_samples, *x.shape)).astype(np.float32) * sd[None]
    return x[None] + noise  # (n_samples, n, ...)


def _noise_gradients(model, x, t, batch_size, n_samples, noise_level, seed):
    noisy = _noisy(x, n_samples, noise_level, seed)
    grads = _gradients(model, noisy.reshape(-1, *x.shape[1:]), np.tile(t, n_samples), batch_size)
    return grads.reshape(n_samples, *x.shape)


def _smoothgrad(model, x, targets, batch_size, *, n_samples=32, noise_level=0.15, seed=0,
                absolute=False):
    """SmoothGrad (Smilkov et al. 2017): mean gradient over Gaussian-noised copies of x.

    ``noise_level`` is the noise standard deviation as a fraction of each input's range.
    The noise for the whole batch is drawn from ``seed``, so a result is repeatable for the
    same batch (an example explained alone gets other noise draws).
    """
    maps = np.stack([_noise_gradients(model, x, t, batch_size, n_samples, noise_level,
                                      seed).mean(axis=0) for t in targets])
    return np.abs(maps) if absolute else maps


def _vargrad(model, x, targets, batch_size, *, n_samples=32, noise_level=0.15, seed=0):
    """VarGrad (Adebayo et al. 2018): variance of the gradient over noised copies of x."""
    return np.stack([_noise_gradients(model, x, t, batch_size, n_samples, noise_level,
                                      seed).var(axis=0) for t in targets])


def find_conv_layer(model, layer=None):
    """The convolutional layer Grad-CAM reads: ``layer`` by name, or the last one.

    Usage: ``nb.explain.find_conv_layer(model).name  # 'conv_2'``
    """
    convs = [l for l in model.layers if "conv" in type(l).__name__.lower()
             and len(l.output.shape) in (3, 4)]
    if layer is not None:
        names = [l.name for l in model.layers]
        if layer not in names:
            close = difflib.get_close_matches(layer, names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"model {model.name!r} has no layer {layer!r}{hint} "
                             f"(convolutional layers: {[l.name for l in convs]})")
        found = model.get_layer(layer)
        if len(found.output.shape) not in (3, 4):
            raise ValueError(f"layer {layer!r} outputs shape {found.output.shape}; Grad-CAM "
                             f"needs a feature map (n, length, channels) or (n, h, w, channels)")
        return found
    if not convs:
        raise ValueError(f"model {model.name!r} has no convolutional layer for Grad-CAM; pass "
                         f"layer='name' of a layer with output (n, length, channels) or "
                         f"(n, h, w, channels), or use another method")
    return convs[-1]


def _upsample(cam, spatial):
    """Resize maps (n, *small) to (n, *spatial) with linear/bilinear interpolation."""
    import tensorflow as tf

    if cam.ndim == 2:  # 1-D: treat as an image of width 1
        img = tf.image.resize(cam[:, :, None, None], (spatial[0], 1), method="bilinear")
        return img.numpy()[:, :, 0, 0]
    return tf.image.resize(cam[..., None], spatial, method="bilinear").numpy()[..., 0]


def _grad_cam(model, x, targets, batch_size, *, layer=None, relu=True):
    """Grad-CAM (Selvaraju et al. 2017): feature maps weighted by their mean gradient,
    ReLU'd and upsampled to the input; the same value is given to every input channel."""
    conv = find_conv_layer(model, layer)
    run = compiled(model).probe(conv.name)
    out = np.empty((len(targets), *x.shape), dtype=np.float32)
    for s in range(0, len(x), batch_size):
        xb = x[s:s + batch_size]
        for k, t in enumerate(targets):
            feats, grads = (v.numpy() for v in run(xb, np.asarray(t[s:s + batch_size], np.int32)))
            pos = tuple(range(1, feats.ndim - 1))
            alpha = grads.mean(axis=pos, keepdims=True)  # one weight per channel
            cam = (alpha * feats).sum(axis=-1)
            if relu:
                cam = np.maximum(cam, 0.0)
            cam = _upsample(cam.astype(np.float32), x.shape[1:-1])
            out[k, s:s + batch_size] = cam[..., None]
    return out


def _windows(spatial, window, stride):
    """Start positions of every occlusion window; the last window always reaches the end."""
    def per_dim(v, name):
        v = (v,) * len(spatial) if isinstance(v, (int, np.integer)) else tuple(v)
        if len(v) != len(spatial) or any(int(a) < 1 for a in v):
            raise ValueError(f"{name} must be a positive int or {len(spatial)} positive ints "
                             f"(one per spatial axis), got {v}")
        return tuple(int(a) for a in v)

    window, stride = per_dim(window, "window"), per_dim(stride, "stride")
    if any(w > s for w, s in zip(window, spatial)):
        raise ValueError(f"window {window} is larger than the input {spatial}")
    starts = []
    for size, w, st in zip(spatial, window, stride):
        first = list(range(0, size - w + 1, st))
        if first[-1] != size - w:
            first.append(size - w)
        starts.append(first)
    grid = np.stack(np.meshgrid(*starts, indexing="ij"), -1).reshape(-1, len(spatial))
    return grid, window


def _occlusion(model, x, targets, batch_size, *, window=2, stride=1, fill=0.0):
    """Occlusion (Zeiler & Fergus 2014): logit drop when a window is replaced by ``fill``,
    averaged over all windows covering a position (positive = the region supported the class)."""
    spatial = x.shape[1:-1]
    starts, window = _windows(spatial, window, stride)
    try:
        fill_arr = np.broadcast_to(np.asarray(fill, dtype=np.float32), x.shape)
    except ValueError:
        raise ValueError(f"fill of shape {np.shape(fill)} does not broadcast to x's shape "
                         f"{x.shape}; use a number or an array shaped like x") from None
    base = predict_logits(model, x, batch_size=batch_size)
    classes = base.shape[1]
    total = np.zeros((classes, *x.shape[:-1]), dtype=np.float32)
    count = np.zeros(spatial, dtype=np.float32)
    masks = []
    for st in starts:
        mask = np.zeros(spatial, dtype=bool)
        mask[tuple(slice(a, a + w) for a, w in zip(st, window))] = True
        masks.append(mask)
        count += mask
    masks = np.stack(masks)  # (windows, *spatial)
    per_chunk = max(1, batch_size // max(1, len(masks)))
    for s in range(0, len(x), per_chunk):
        xs, fs = x[s:s + per_chunk], fill_arr[s:s + per_chunk]
        m = masks[:, None, ..., None]  # (windows, 1, *spatial, 1)
        occluded = np.where(m, fs[None], xs[None]).reshape(-1, *x.shape[1:])
        logits = predict_logits(model, occluded, batch_size=batch_size)
        drop = base[s:s + per_chunk][None] - logits.reshape(len(masks), len(xs), classes)
        # drop: (windows, m, classes); spread each window's drop over its positions
        total[:, s:s + per_chunk] += np.einsum("wmc,w...->cm...", drop, masks.astype(np.float32))
    total /= np.where(count > 0, count, 1.0)
    n = np.arange(len(x))
    maps = np.stack([total[t, n] for t in targets])  # (k, n, *spatial)
    return np.repeat(maps[..., None], x.shape[-1], axis=-1)


_METHODS = {
    "saliency": (_saliency, "vanilla gradient |d logit/d x| (absolute=False for the sign)"),
    "input_x_gradient": (_input_x_gradient, "input times gradient, signed"),
    "integrated_gradients": (_integrated_gradients,
                             "gradients averaged along a path from a baseline, times (x - "
                             "baseline); options baseline, steps, rule"),
    "smoothgrad": (_smoothgrad, "gradient averaged over noisy copies; n_samples, noise_level"),
    "vargrad": (_vargrad, "variance of the gradient over noisy copies; n_samples, noise_level"),
    "grad_cam": (_grad_cam, "class activation map of the last (or a named) conv layer, "
                            "upsampled to the input; options layer, relu"),
    "occlusion": (_occlusion, "logit drop when a window is covered; window, stride, fill"),
}
_ALIASES = {"ig": "integrated_gradients", "gradcam": "grad_cam",
            "input_times_gradient": "input_x_gradient", "vanilla_gradient": "saliency"}


def available_methods() -> dict:
    """Names of the attribution methods, each with a one-line description.

    Usage: ``list(nb.explain.available_methods())``
    """
    return {name: desc for name, (_, desc) in _METHODS.items()}


def _lookup(method):
    if not isinstance(method, str):
        raise TypeError(f"method must be a name (str), got {type(method).__name__}; "
                        f"choose from {list(_METHODS)}")
    name = _ALIASES.get(method.lower(), method.lower())
    if name not in _METHODS:
        close = difflib.get_close_matches(name, list(_METHODS) + list(_ALIASES), n=1)
        hint = f"did you mean {_ALIASES.get(close[0], close[0])!r}? " if close else ""
        raise ValueError(f"unknown attribution method {method!r}; {hint}choose from "
                         f"{list(_METHODS)}")
    return name, _METHODS[name][0]


def attribute(model, x, method="saliency", target=None, *, batch_size=DEFAULT_BATCH,
              output="logits", **options) -> np.ndarray:
    """Attribution map of ``model`` at ``x`` for class ``target``, shaped like ``x``.

    ``method`` is one of :func:`available_methods` (``saliency``, ``input_x_gradient``,
    ``integrated_gradients``, ``smoothgrad``, ``vargrad``, ``grad_cam``, ``occlusion``);
    ``options`` are that method's settings (e.g. ``steps=64, baseline="blurred"``).
    ``target="all"`` returns ``(classes, *x.shape)``. ``output="logits"`` (default) explains
    the pre-softmax scores even when the model ends in a softmax; ``output="as_is"`` explains
    whatever the model outputs.

    Usage: ``nb.explain.attribute(model, x, method="grad_cam", target="all")``
    """
    name, fn = _lookup(method)
    accepted = [p for p in inspect.signature(fn).parameters.values()
                if p.kind is inspect.Parameter.KEYWORD_ONLY]
    unknown = set(options) - {p.name for p in accepted}
    if unknown:
        raise TypeError(f"method {name!r} does not take option(s) {sorted(unknown)}; it takes "
                        f"{[p.name for p in accepted] or 'no options'}")
    if output not in ("logits", "as_is"):
        raise ValueError(f"output must be 'logits' or 'as_is', got {output!r}")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    net = logit_model(model) if output == "logits" else model
    xb, single = as_batch(net, x)
    targets = resolve_targets(net, xb, target, batch_size=batch_size)
    maps = fn(net, xb, targets, int(batch_size), **options).astype(np.float32)
    if single:
        maps = maps[:, 0]
    is_all = isinstance(target, str) and target == "all"
    return maps if is_all else maps[0]


def completeness(model, x, attributions, *, baseline="zeros", target=None, seed=0, sigma=None,
                 batch_size=DEFAULT_BATCH):
    """Integrated gradients' completeness check, one row per example (and class).

    IG's attributions add up to the change of the logit between the baseline and the input:
    ``sum(attr) = f(x) - f(baseline)``. The table reports both sides, ``gap`` (their
    difference) and ``relative_gap = |gap| / |f(x) - f(baseline)|``. Pass the same
    ``baseline``, ``seed``, ``sigma`` and ``target`` that produced ``attributions``; with
    ``target="all"`` pass the ``(classes, *x.shape)`` array.

    Usage: ``nb.explain.completeness(model, x, attr, baseline="blurred").relative_gap.max()``
    """
    import pandas as pd

    net = logit_model(model)
    xb, single = as_batch(net, x)
    attr = np.asarray(attributions, dtype=np.float32)
    is_all = isinstance(target, str) and target == "all"
    if single:
        attr = attr[:, None] if is_all else attr[None]
    if not is_all:
        attr = attr[None]
    targets = resolve_targets(net, xb, target, batch_size=batch_size)
    if attr.shape != (len(targets), *xb.shape):
        raise ValueError(f"attributions have shape {np.shape(attributions)}, expected "
                         f"{(len(targets), *xb.shape)[0 if is_all else 1:]} for x of shape "
                         f"{np.shape(x)} and target={target!r}")
    base = make_baseline(xb, baseline, seed=seed, sigma=sigma)
    fx = predict_logits(net, xb, batch_size=batch_size)
    fb = predict_logits(net, base, batch_size=batch_size)
    rows = []
    n = np.arange(len(xb))
    for k, t in enumerate(targets):
        total = attr[k].reshape(len(xb), -1).sum(axis=1, dtype=np.float64)
        delta = fx[n, t].astype(np.float64) - fb[n, t]
        for i in n:
            rows.append({"example": int(i), "target": int(t[i]), "sum_attr": total[i],
                         "f_x": float(fx[i, t[i]]), "f_baseline": float(fb[i, t[i]]),
                         "delta_f": delta[i], "gap": total[i] - delta[i],
                         "relative_gap": abs(total[i] - delta[i]) / max(abs(delta[i]), 1e-12)})
    return pd.DataFrame(rows)
