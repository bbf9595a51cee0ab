"""Ready-made search spaces: ``mlp``, ``cnn`` and ``residual_cnn``, for 1-D and 2-D inputs.

Usage::

    space = nb.space.preset("cnn", (40, 1), 10)                 # mnist1d
    space = nb.space.preset("residual_cnn", (8, 8, 1), 10, filters=[8, 16])   # digits, smaller

Every preset uses padding='same' convolutions and pooling (pooling halves the size, rounding
up, so it never drops below one pixel) and offers, per block, only kernel sizes that fit the
input that block sees; blocks that would get no kernel are dropped from ``n_blocks``.
Overrides replace a decision's choices: ``filters``, ``kernel``, ``units`` (every copy),
``n_blocks``, ``n_dense``, ``pooling``, ``activation``, ``connection``, ``dropout``, ``l2``,
``optimizer``, ``learning_rate``; ``defaults={"n_blocks": 2}`` changes defaults.

``shift=[0, 10, 20]`` (1-D inputs only) adds a training decision: the largest random circular
shift, in samples, applied to each training example (:mod:`nasbook.space.augment`; 0 = none).
Presets have no shift decision unless you ask for one.
"""
from __future__ import annotations

import difflib
import math

from nasbook.space import vocabulary as vocab
from nasbook.space.core import Decision, Layer, Ref, SearchSpace, SpaceError, Stage

__all__ = ["preset", "PRESETS"]

_COMMON = {
    "activation": ["relu", "tanh", "sigmoid", "elu", "gelu"],
    "dropout": [0.0, 0.2, 0.5],
    "l2": [0.0, 1e-4, 1e-3],
    "optimizer": ["adam", "sgd", "adagrad"],
    "learning_rate": [1e-3, 3e-3, 1e-2],
}

PRESETS = {
    "mlp": dict(_COMMON, n_blocks=[0], n_dense=[1, 2, 3], units=[32, 64, 128, 256],
                connection=["full", "residual"],
                defaults={"n_dense": 2, "units": 128}),
    "cnn": dict(_COMMON, n_blocks=[1, 2, 3], filters=[16, 32, 64], kernel=[3, 5, 7],
                pooling=["max", "average"], n_dense=[0, 1], units=[32, 64, 128],
                connection=["full", "sparse"],
                defaults={"n_blocks": 2, "filters": 32, "kernel": 5, "n_dense": 1,
                          "units": 64}),
    "residual_cnn": dict(_COMMON, n_blocks=[1, 2, 3, 4], filters=[16, 32, 64],
                         kernel=[3, 5, 7], pooling=["max", "average"], n_dense=[0, 1],
                         units=[32, 64, 128], connection=["residual", "full", "sparse"],
                         defaults={"n_blocks": 3, "filters": 32, "kernel": 3, "n_dense": 1,
                                   "units": 64}),
}
_DOCS = {
    "mlp": "Flatten -> n_dense Dense layers -> logits",
    "cnn": "n_blocks x (Conv -> pooling) -> n_dense Dense layers -> logits",
    "residual_cnn": "n_blocks x (Conv with a skip connection -> pooling) -> Dense -> logits",
}
_FLOATS = {"dropout", "l2", "learning_rate"}


def preset(name, input_shape, num_classes, **overrides) -> SearchSpace:
    """A ready-made :class:`SearchSpace`: ``"mlp"``, ``"cnn"`` or ``"residual_cnn"``.

    Works for (length, channels) and (height, width, channels) inputs.
    Usage: ``nb.space.preset("cnn", ds.input_shape, ds.num_classes, n_blocks=[1, 2])``
    """
    key = str(name).strip().lower().replace("-", "_")
    if key not in PRESETS:
        close = difflib.get_close_matches(key, list(PRESETS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise SpaceError(f"unknown preset {name!r}.{hint} Presets: {', '.join(PRESETS)}")
    spec = {k: v for k, v in PRESETS[key].items()}
    shift = overrides.pop("shift", None)
    defaults = dict(spec.pop("defaults"))
    defaults.update(overrides.pop("defaults", None) or {})
    for k, v in overrides.items():
        if k not in spec:
            close = difflib.get_close_matches(k, list(spec), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise SpaceError(f"preset {key!r} has no decision {k!r} to override.{hint} "
                             f"It has: {', '.join(spec)}")
        spec[k] = list(v) if isinstance(v, (list, tuple)) else [v]
        if k in defaults and defaults[k] not in spec[k]:
            defaults.pop(k)
    input_shape = tuple(int(d) for d in input_shape)
    rank = len(input_shape) - 1
    if rank not in (1, 2):
        raise SpaceError(f"presets need (length, channels) or (height, width, channels) "
                         f"inputs, got {input_shape}; reshape flat features to (n, 1)")

    def choices(k):
        values = spec[k]
        if k == "activation":
            values = [vocab.activation(v) for v in values]
        elif k == "connection":
            values = [vocab.connection(v) for v in values]
        elif k == "optimizer":
            values = [vocab.optimizer(v) for v in values]
        elif k in _FLOATS:
            values = [float(v) if isinstance(v, (int, float)) and not isinstance(v, bool)
                      else v for v in values]
        return values

    def decision(name, k, group="layers"):
        values = choices(k)
        d = defaults.get(name, defaults.get(k))
        return Decision(name, values, d if d in values else None, group=group)

    decisions, stages = [], []
    if shift is not None:   # augmentation first: it rolls the raw signal
        shifts = list(shift) if isinstance(shift, (list, tuple)) else [shift]
        decisions.append(Decision("shift", shifts, defaults.get("shift")
                                  if defaults.get("shift") in shifts else None,
                                  group="augmentation",
                                  doc="largest random circular shift in samples (training)"))
        stages.append(Stage(copies=[[Layer("shift", {"max_shift": Ref("shift")},
                                           label="random shift")]], count=1,
                            label="augmentation"))
    n_blocks = [int(n) for n in spec["n_blocks"]]
    if any(n > 0 for n in n_blocks):
        conv_name = "Conv1D" if rank == 1 else "Conv2D"
        kernels, copies, size = [], [], min(input_shape[:-1])
        for j in range(max(n_blocks)):
            fit = [k for k in spec["kernel"] if isinstance(k, int) and k <= size]
            if not fit:
                break
            kernels.append(fit)
            size = math.ceil(size / 2)
        allowed = [n for n in n_blocks if n <= len(kernels)]
        if not allowed:
            raise SpaceError(f"input {input_shape} is too small for kernel sizes "
                             f"{spec['kernel']}; offer smaller kernels")
        if len(allowed) > 1:   # a default too deep for this input becomes the deepest allowed
            wanted = defaults.get("n_blocks", allowed[0])
            default = max([n for n in allowed if n <= wanted] or allowed[:1])
            decisions.append(Decision("n_blocks", allowed, default))
        for j in range(max(allowed)):
            decisions.append(decision(f"filters_{j + 1}", "filters"))
            decisions.append(Decision(f"kernel_{j + 1}", kernels[j],
                                      defaults.get("kernel") if defaults.get("kernel")
                                      in kernels[j] else None))
            copies.append([
                Layer("conv", {"filters": Ref(f"filters_{j + 1}"),
                               "kernel": Ref(f"kernel_{j + 1}"), "padding": "same"},
                      label=f"{conv_name} {j + 1}"),
                Layer("pool", {"pool_type": Ref("pooling"), "pool_size": 2, "padding": "same"},
                      label=f"pooling {j + 1}"),
            ])
        decisions.append(decision("pooling", "pooling"))
        stages.append(_stage(copies, "n_blocks", allowed, "convolution blocks"))
    n_dense = [int(n) for n in spec["n_dense"]]
    if any(n > 0 for n in n_dense):
        if len(n_dense) > 1:
            decisions.append(decision("n_dense", "n_dense"))
        copies = [[Layer("dense", {"units": Ref(f"units_{j + 1}")}, label=f"Dense {j + 1}")]
                  for j in range(max(n_dense))]
        decisions.extend(decision(f"units_{j + 1}", "units") for j in range(max(n_dense)))
        stages.append(_stage(copies, "n_dense", n_dense, "dense layers"))
    for g, group in (("activation", "activation"), ("connection", "connection"),
                     ("dropout", "regularisation"), ("l2", "regularisation"),
                     ("optimizer", "optimizer"), ("learning_rate", "optimizer")):
        decisions.append(decision(g, g, group))
    return SearchSpace(input_shape, num_classes, stages, decisions, name=key)


def _stage(copies, count_name, counts, label):
    count = Ref(count_name) if len(counts) > 1 else counts[0]
    return Stage(copies=copies, count=count, label=label)
