"""A small LIME (Ribeiro et al. 2016) for images and 1-D signals, written out so it can be read.

1. Cut the input into segments: square blocks of an image, windows of a signal (or pass your
   own integer label array).
2. Draw random on/off patterns over the segments; "off" segments are replaced by ``fill``.
3. Ask the model for the explained output (a logit by default) on each perturbed input.
4. Weight each pattern by how close it is to the original (an exponential kernel on the
   cosine distance of the on/off vector to all-ones, as in the reference implementation).
5. Fit a weighted ridge regression from on/off patterns to outputs; its coefficients are the
   segment weights. Its weighted R² on the perturbations is the *local fidelity*: how much of
   the model's behaviour near ``x`` the linear story captures.

Usage::

    res = nb.explain.explain_lime(model, ds.x_test[0], segment_size=2, num_samples=500)
    res.attribution          # shaped like x: each pixel carries its segment's weight
    res.fidelity             # weighted R² of the ridge on the perturbations
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nasbook.logits import predict_logits

__all__ = ["LimeResult", "grid_segments", "explain_lime"]


@dataclass
class LimeResult:
    """LIME's answer for one input.

    ``weights`` (segments,) ridge coefficients; ``attribution`` shaped like x; ``segments``
    integer labels shaped like x without channels; ``fidelity`` weighted R²; ``intercept``;
    ``target`` the explained class; ``masks`` (samples, segments) on/off patterns;
    ``outputs`` the model's outputs on them; ``sample_weights`` the kernel weights.
    """

    weights: np.ndarray
    attribution: np.ndarray
    segments: np.ndarray
    fidelity: float
    intercept: float
    target: int
    masks: np.ndarray
    outputs: np.ndarray
    sample_weights: np.ndarray

    def __repr__(self):
        return (f"LimeResult(target={self.target}, {len(self.weights)} segments, "
                f"fidelity R²={self.fidelity:.3f})")


def grid_segments(spatial_shape, size) -> np.ndarray:
    """Integer labels of contiguous segments: ``size``-by-``size`` blocks of an image (h, w)
    or windows of ``size`` samples of a signal (length,). Edge segments may be smaller.

    Usage: ``grid_segments((8, 8), 2)`` -> 16 blocks of 2x2 pixels
    """
    spatial_shape = tuple(int(s) for s in spatial_shape)
    if int(size) < 1:
        raise ValueError(f"segment size must be a positive integer, got {size!r}")
    size = int(size)
    if len(spatial_shape) == 1:
        return np.arange(spatial_shape[0]) // size
    if len(spatial_shape) == 2:
        h, w = spatial_shape
        cols = -(-w // size)
        rows = np.arange(h)[:, None] // size
        return rows * cols + np.arange(w)[None, :] // size
    raise ValueError(f"segments are defined for (length,) or (height, width), got {spatial_shape}")


def _kernel_weights(masks, kernel_width):
    on = masks.sum(axis=1)
    # cosine similarity between each on/off vector and the all-ones vector (the original input)
    cosine = on / (np.sqrt(np.maximum(on, 1e-12)) * np.sqrt(masks.shape[1]))
    distance = 1.0 - np.where(on > 0, cosine, 0.0)
    return np.exp(-(distance ** 2) / kernel_width ** 2)


def explain_lime(model, x, *, target=None, segments=None, segment_size=2, num_samples=500,
         fill=0.0, keep_prob=0.5, kernel_width=0.25, alpha=1.0, output="logits", seed=0,
         batch_size=256) -> LimeResult:
    """Explain ``model``'s output for one input ``x`` (*input_shape, channels last) with LIME.

    ``target``: class to explain (default: the predicted class); ``segments``: your own integer
    labels shaped like x without its channel axis (default :func:`grid_segments` with
    ``segment_size``); ``fill``: the value of switched-off segments; ``output``: "logits" or
    "probabilities"; ``alpha``: the ridge penalty.

    Usage: ``res = explain_lime(model, x, segment_size=4, num_samples=1000); res.fidelity``
    """
    from sklearn.linear_model import Ridge

    x = np.asarray(x, dtype=np.float32)
    if x.ndim not in (2, 3):
        raise ValueError(f"x must be one example shaped (length, channels) or (h, w, channels), "
                         f"got {x.shape}; pass x[i], not a batch")
    expected = getattr(model, "input_shape", None)
    if isinstance(expected, tuple) and (
            len(expected) != x.ndim + 1
            or any(e is not None and e != s for e, s in zip(expected[1:], x.shape))):
        raise ValueError(f"x has shape {x.shape} but the model expects one example shaped "
                         f"{tuple(expected[1:])}; pass x[i], not a batch")
    if output not in ("logits", "probabilities"):
        raise ValueError(f"output={output!r}: use 'logits' or 'probabilities'")
    spatial = x.shape[:-1]
    seg = grid_segments(spatial, segment_size) if segments is None else np.asarray(segments)
    if seg.shape != spatial:
        raise ValueError(f"segments have shape {seg.shape}; they must match x without its "
                         f"channel axis, {spatial}")
    labels, seg_index = np.unique(seg, return_inverse=True)
    seg_index = seg_index.reshape(spatial)
    k = len(labels)
    if num_samples < 2 * k:
        raise ValueError(f"num_samples={num_samples} is too few for {k} segments; use at "
                         f"least {2 * k} (10x the segments is comfortable)")

    rng = np.random.default_rng(seed)
    masks = (rng.random((num_samples, k)) < keep_prob).astype(np.float64)
    masks[0] = 1.0  # the original input itself, as in the reference implementation
    pixel_on = masks[:, seg_index][..., None]  # (samples, *spatial, 1)
    perturbed = (x[None] * pixel_on + fill * (1.0 - pixel_on)).astype(np.float32)

    logits = predict_logits(model, perturbed, batch_size=batch_size)
    if output == "probabilities":
        z = np.exp(logits - logits.max(axis=1, keepdims=True))
        logits = z / z.sum(axis=1, keepdims=True)
    if target is None:
        target = int(np.argmax(logits[0]))
    if not 0 <= int(target) < logits.shape[1]:
        raise ValueError(f"target {target} is not a class index 0..{logits.shape[1] - 1}")
    y = logits[:, int(target)]

    sample_weights = _kernel_weights(masks, kernel_width)
    ridge = Ridge(alpha=alpha).fit(masks, y, sample_weight=sample_weights)
    fidelity = float(ridge.score(masks, y, sample_weight=sample_weights))
    weights = ridge.coef_.astype(np.float64)
    attribution = np.broadcast_to(weights[seg_index][..., None], x.shape).copy()
    return LimeResult(weights=weights, attribution=attribution, segments=seg_index,
                      fidelity=fidelity, intercept=float(ridge.intercept_), target=int(target),
                      masks=masks, outputs=y, sample_weights=sample_weights)
