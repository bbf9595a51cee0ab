"""Can an explanation be trusted? Deletion/insertion curves and the randomisation sanity check.

- **Deletion and insertion** (Petsiuk et al. 2018, "RISE"): remove the most important
  positions first (replace them by ``fill``) and watch the class probability fall -- a small
  area under the curve is good; or start from ``fill`` and insert the most important
  positions first -- a large area is good. Always compare with a random map.
- **Model-parameter randomisation** (Adebayo et al. 2018, "Sanity checks for saliency
  maps"): re-initialise the weights layer by layer from the top, recompute the maps, and
  measure their Spearman rank correlation with the original maps. An explanation of *the
  model* must change when the model is destroyed; a map that stays put is explaining the
  input (we report each map's rank correlation with the input too).

Usage::

    maps = {m: nb.explain.attribute(model, x, method=m) for m in ["saliency", "grad_cam"]}
    results = nb.explain.deletion_insertion(model, x, maps, fill=0.0)
    nb.explain.auc_table(results)
    nb.explain.randomisation_check(model, x, ["saliency", "grad_cam", nb.explain.input_map])
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from nasbook.explain.attributions import attribute
from nasbook.logits import as_batch, logit_model, predict_logits, resolve_targets

__all__ = ["Curve", "deletion_curve", "insertion_curve", "deletion_insertion", "auc_table",
           "random_attribution", "input_map", "randomisation_check", "randomisation_summary",
           "randomised_copy", "spearman"]

_BATCH = 512


@dataclass(frozen=True)
class Curve:
    """One deletion or insertion curve: the score after each step, for every example.

    ``fractions`` (steps+1,) is the share of positions removed/inserted; ``scores`` is
    (n, steps+1). ``mean`` is the curve averaged over examples; ``auc`` its area (trapezoid
    rule over fractions, so a score of 1 throughout gives 1).
    """

    kind: str
    fractions: np.ndarray
    scores: np.ndarray

    @property
    def mean(self) -> np.ndarray:
        return self.scores.mean(axis=0)

    @property
    def auc_per_example(self) -> np.ndarray:
        return np.trapezoid(self.scores, self.fractions, axis=1)

    @property
    def auc(self) -> float:
        return float(np.trapezoid(self.mean, self.fractions))


def random_attribution(x, *, seed=0) -> np.ndarray:
    """A map of uniform noise shaped like ``x``: the baseline every method must beat.

    Usage: ``nb.explain.random_attribution(x, seed=1)``
    """
    return np.random.default_rng(seed).uniform(size=np.shape(x)).astype(np.float32)


def input_map(model, x, target=None) -> np.ndarray:
    """An "explanation" that ignores the model and returns the input itself.

    It looks like a digit, and it can score well on deletion (removing bright pixels does hurt),
    yet it says nothing about the model: the randomisation check must flag it.

    Usage: ``nb.explain.randomisation_check(model, x, {"input": nb.explain.input_map})``
    """
    return np.array(x, dtype=np.float32, copy=True)


def _order(attr, seed):
    """Positions of each example from most to least important; ties broken at random.

    Channels are summed, so a position (pixel, time step) is removed with all its channels.
    """
    per_pos = attr.reshape(len(attr), -1, attr.shape[-1]).sum(axis=-1)
    tie = np.random.default_rng(seed).uniform(size=per_pos.shape)
    return np.lexsort((tie, -per_pos), axis=1)  # last key is primary: descending importance


def _curve(kind, model, x, attributions, *, target, fill, steps, score, seed, batch_size):
    net = logit_model(model)
    xb, _ = as_batch(net, x)
    attr = np.asarray(attributions, dtype=np.float32)
    if attr.shape != xb.shape:
        raise ValueError(f"attributions have shape {attr.shape} but x has {xb.shape}; pass one "
                         f"map per example, shaped like x (not target='all' maps)")
    if score not in ("probability", "logit"):
        raise ValueError(f"score must be 'probability' or 'logit', got {score!r}")
    try:
        fill_arr = np.broadcast_to(np.asarray(fill, dtype=np.float32), xb.shape)
    except ValueError:
        raise ValueError(f"fill of shape {np.shape(fill)} does not broadcast to x's shape "
                         f"{xb.shape}; use a number or an array shaped like x") from None
    n, positions, channels = len(xb), int(np.prod(xb.shape[1:-1])), xb.shape[-1]
    steps = min(positions, 100) if steps is None else int(steps)
    if not 1 <= steps <= positions:
        raise ValueError(f"steps must be between 1 and the number of positions ({positions}), "
                         f"got {steps}")
    t = resolve_targets(net, xb, target, batch_size=batch_size)[0]
    order = _order(attr, seed)
    counts = np.round(np.linspace(0, positions, steps + 1)).astype(int)
    # rank[i, p] = position p's place in example i's order; p is "changed" at step k if rank < count
    rank = np.empty_like(order)
    rank[np.arange(n)[:, None], order] = np.arange(positions)[None]
    src = xb.reshape(n, positions, channels)
    other = fill_arr.reshape(n, positions, channels)
    if kind == "insertion":
        src, other = other, src
    scores = np.empty((n, steps + 1), dtype=np.float64)
    per_chunk = max(1, batch_size // (steps + 1))
    for s in range(0, n, per_chunk):
        sl = slice(s, s + per_chunk)
        changed = rank[sl][None] < counts[:, None, None]  # (steps+1, m, positions)
        imgs = np.where(changed[..., None], other[sl][None], src[sl][None])
        logits = predict_logits(net, imgs.reshape(-1, *xb.shape[1:]), batch_size=batch_size)
        logits = logits.reshape(steps + 1, -1, logits.shape[-1])
        if score == "probability":
            z = logits - logits.max(axis=-1, keepdims=True)
            logits = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
        m = logits.shape[1]
        scores[sl] = logits[:, np.arange(m), t[sl]].T
    return Curve(kind, counts / positions, scores)


def deletion_curve(model, x, attributions, *, target=None, fill=0.0, steps=None,
                   score="probability", seed=0, batch_size=_BATCH) -> Curve:
    """Replace positions by ``fill``, most important first; score the class after each step.

    ``fill`` is a number or an array shaped like ``x`` (e.g. a blurred copy). ``steps``
    (default: every position, at most 100) points from 0% to 100% removed. ``score`` is the
    target class's softmax ``"probability"`` (Petsiuk et al.) or its ``"logit"``. Lower AUC
    is better.

    Usage: ``nb.explain.deletion_curve(model, x, attr, fill=0.0).auc``
    """
    return _curve("deletion", model, x, attributions, target=target, fill=fill, steps=steps,
                  score=score, seed=seed, batch_size=batch_size)


def insertion_curve(model, x, attributions, *, target=None, fill=0.0, steps=None,
                    score="probability", seed=0, batch_size=_BATCH) -> Curve:
    """Start from ``fill`` and put positions of ``x`` back, most important first. Higher AUC
    is better. Petsiuk et al. start from a blurred image: ``fill=make_baseline(x, "blurred")``.

    Usage: ``nb.explain.insertion_curve(model, x, attr, fill=blurred).auc``
    """
    return _curve("insertion", model, x, attributions, target=target, fill=fill, steps=steps,
                  score=score, seed=seed, batch_size=batch_size)


def deletion_insertion(model, x, maps: dict, *, target=None, fill=0.0, insertion_fill=None,
                       steps=None, score="probability", seed=0, random_baseline=True,
                       batch_size=_BATCH) -> dict:
    """Deletion and insertion curves for several maps of the same inputs, plus a random map.

    ``maps`` is ``{name: attributions}``; ``insertion_fill`` defaults to ``fill``. Returns
    ``{name: {"deletion": Curve, "insertion": Curve}}`` with an extra ``"random"`` entry.
    All curves explain the same class (``target``, default the predicted class).

    Usage: ``nb.explain.auc_table(nb.explain.deletion_insertion(model, x, maps))``
    """
    net = logit_model(model)
    xb, _ = as_batch(net, x)
    t = resolve_targets(net, xb, target, batch_size=batch_size)[0]
    maps = dict(maps)
    if random_baseline:
        if "random" in maps:
            raise ValueError("'random' is the name of the random baseline; rename your map or "
                             "pass random_baseline=False")
        maps["random"] = random_attribution(xb, seed=seed)
    ins_fill = fill if insertion_fill is None else insertion_fill
    common = dict(target=t, steps=steps, score=score, seed=seed, batch_size=batch_size)
    return {name: {"deletion": deletion_curve(net, xb, attr, fill=fill, **common),
                   "insertion": insertion_curve(net, xb, attr, fill=ins_fill, **common)}
            for name, attr in maps.items()}


def auc_table(results: dict):
    """Areas under the curves from :func:`deletion_insertion`, one row per map.

    Columns: ``deletion_auc`` (lower is better), ``insertion_auc`` (higher is better) and
    both relative to the random map when it is present.

    Usage: ``nb.explain.auc_table(results).sort_values("deletion_auc")``
    """
    import pandas as pd

    rows = [{"method": name, "deletion_auc": c["deletion"].auc,
             "insertion_auc": c["insertion"].auc} for name, c in results.items()]
    table = pd.DataFrame(rows).set_index("method")
    if "random" in table.index:
        table["deletion_vs_random"] = table.deletion_auc - table.loc["random", "deletion_auc"]
        table["insertion_vs_random"] = table.insertion_auc - table.loc["random", "insertion_auc"]
    return table


# ----------------------------------------------------------------------------- sanity check
def spearman(a, b) -> np.ndarray:
    """Spearman rank correlation of each example's map ``a[i]`` with ``b[i]`` (flattened).

    A constant map has no ranking: its correlation is ``nan``.

    Usage: ``nb.explain.spearman(original, randomised).mean()``
    """
    from scipy.stats import rankdata

    a = np.asarray(a, dtype=np.float64).reshape(len(a), -1)
    b = np.asarray(b, dtype=np.float64).reshape(len(b), -1)
    if a.shape != b.shape:
        raise ValueError(f"maps of shapes {a.shape} and {b.shape} cannot be compared")
    ra, rb = rankdata(a, axis=1), rankdata(b, axis=1)  # average ranks for ties
    ra -= ra.mean(axis=1, keepdims=True)
    rb -= rb.mean(axis=1, keepdims=True)
    denom = np.sqrt((ra ** 2).sum(axis=1) * (rb ** 2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (ra * rb).sum(axis=1) / np.where(denom > 0, denom, 1), np.nan)


def _fresh(initializer, seed):
    """A copy of a Keras initializer with a fixed seed (so re-initialisation is repeatable)."""
    config = initializer.get_config()
    if "seed" in config:
        config["seed"] = int(seed)
    return type(initializer).from_config(config)


def _reinitialise(layer, seed):
    """Draw new weights for ``layer`` from its own initializers (or a matched Gaussian)."""
    rng = np.random.default_rng(seed)
    for i, var in enumerate(layer.weights):
        short = var.name.split("/")[-1].split(":")[0]
        init = getattr(layer, f"{short}_initializer", None)
        shape, dtype = tuple(var.shape), var.dtype
        if init is not None:
            value = np.asarray(_fresh(init, seed * 1000 + i)(shape, dtype=dtype))
        else:
            current = np.asarray(var)
            sd = float(current.std()) or 0.05
            value = rng.normal(0.0, sd, size=shape)
        var.assign(value.astype(np.asarray(var).dtype))


def randomised_copy(model, layers=(), *, seed=0):
    """A clone of ``model`` (same architecture and weights) with ``layers`` re-initialised.

    The caller's model is never touched. Usage: ``nb.explain.randomised_copy(model, ["logits"])``
    """
    import keras

    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    for j, name in enumerate(layers):
        _reinitialise(clone.get_layer(name), seed + j)
    return clone


def _map_fn(label, method, options):
    if callable(method):
        return lambda m, x, t: np.asarray(method(m, x, t), dtype=np.float32)
    if isinstance(method, str):
        return lambda m, x, t: attribute(m, x, method=method, target=t, **options.get(label, {}))
    raise TypeError(f"method {label!r} must be an attribution method name or a callable "
                    f"fn(model, x, target) -> map shaped like x, got {type(method).__name__}")


def randomisation_check(model, x, methods, *, target=None, layers=None, absolute=True, seed=0,
                        options=None, batch_size=_BATCH):
    """Cascading model-parameter randomisation (Adebayo et al. 2018), from the top layer down.

    ``methods`` is a list of method names/callables or ``{label: name_or_callable}``; a
    callable is ``fn(model, x, target) -> map``; ``options`` is ``{label: {option: value}}``.
    ``layers`` (default: every layer with weights) are re-initialised one after another,
    output side first, on a clone -- the caller's model is not modified. The explained class
    stays the *original* model's (``target``, default its prediction).

    Returns a long table, one row per method and step (step 0 = the trained model):
    ``spearman`` (mean rank correlation of the maps with the trained model's maps; high means
    the map did *not* change), ``spearman_sd``, ``input_similarity`` (mean rank correlation of
    the map with the input itself) and ``constant_maps`` (share of maps with no ranking,
    left out of the means). With ``absolute=True`` (Adebayo et al.'s main setting) maps and
    input are compared by magnitude.

    Usage: ``df = nb.explain.randomisation_check(model, x, ["saliency", "grad_cam"])``
    """
    import pandas as pd

    net = logit_model(model)
    xb, _ = as_batch(net, x)
    t = resolve_targets(net, xb, target, batch_size=batch_size)[0]
    if isinstance(methods, dict):
        items = list(methods.items())
    else:
        items = [(m if isinstance(m, str) else getattr(m, "__name__", f"map_{i}"), m)
                 for i, m in enumerate(methods)]
    if not items:
        raise ValueError("give at least one method to check")
    options = options or {}
    fns = [(label, _map_fn(label, m, options)) for label, m in items]
    weighted = [l.name for l in net.layers if l.weights]
    if layers is None:
        layers = weighted[::-1]
    else:
        missing = [name for name in layers if name not in [l.name for l in net.layers]]
        if missing:
            raise ValueError(f"model has no layer(s) {missing}; layers with weights, top "
                             f"first: {weighted[::-1]}")
        layers = list(layers)
    if not layers:
        raise ValueError("the model has no layers with weights to randomise")

    def prep(a):
        a = np.asarray(a, dtype=np.float64)
        return np.abs(a) if absolute else a

    reference_input = prep(xb)
    originals = {label: prep(fn(net, xb, t)) for label, fn in fns}
    rows = []

    def record(step, layer, label, maps):
        rho = spearman(originals[label], maps)
        sim = spearman(maps, reference_input)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-nan slices
            rows.append({"method": label, "step": step, "layer": layer,
                         "spearman": float(np.nanmean(rho)) if np.isfinite(rho).any() else np.nan,
                         "spearman_sd": float(np.nanstd(rho)) if np.isfinite(rho).any() else np.nan,
                         "input_similarity": float(np.nanmean(sim)) if np.isfinite(sim).any()
                         else np.nan,
                         "constant_maps": float(np.mean(~np.isfinite(rho)))})

    for label, _ in fns:
        record(0, "(trained)", label, originals[label])
    clone = randomised_copy(net, (), seed=seed)  # one clone, destroyed a layer at a time
    for step in range(1, len(layers) + 1):
        _reinitialise(clone.get_layer(layers[step - 1]), seed + step - 1)
        for label, fn in fns:
            record(step, layers[step - 1], label, prep(fn(clone, xb, t)))
    return pd.DataFrame(rows)


def randomisation_summary(table, *, threshold=0.5):
    """One row per method: rank correlation with the trained maps once every layer is
    randomised, the maps' similarity to the input, and whether the map *changed*
    (``passes``: final mean Spearman below ``threshold``).

    Usage: ``nb.explain.randomisation_summary(nb.explain.randomisation_check(model, x, ms))``
    """
    import pandas as pd

    last = table[table.step == table.step.max()].set_index("method")
    first = table[table.step == 0].set_index("method")
    out = pd.DataFrame({"spearman_fully_randomised": last.spearman,
                        "input_similarity_trained": first.input_similarity,
                        "input_similarity_randomised": last.input_similarity})
    out["passes"] = out.spearman_fully_randomised.abs() < threshold
    return out
