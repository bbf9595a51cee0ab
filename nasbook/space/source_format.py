"""The source text's dictionary format, turned into a :class:`SearchSpace`.

The source text writes a search space as::

    search_space = {
        "layers": [
            {"type": "Conv2D", "parameters": {"filters": [32, 64, 128], "kernel_size": [3, 5]}},
            {"type": "MaxPooling2D", "parameters": {"pool_size": [2]}},
            {"type": "Dense", "parameters": {"units": [64, 128, 256]}},
        ],
        "activation_functions": ["relu", "sigmoid", "tanh"],
        "connections": ["full", "sparse", "residual"],
        "regularization_methods": {"dropout": [0.2, 0.5], "weight_decay": [0.0001, 0.001]},
    }
    space = nb.space.from_dict(search_space, (8, 8, 1), 10)

How we read it (the source text leaves these open):

- ``layers`` is the architecture, built in order, every listed layer once (the source text's
  ``random.choice(layers)`` would pick a single layer, not an architecture). A list gives the
  choices of a parameter; a single value fixes it. Optional per layer: ``"repeat": [1, 2, 3]``
  stacks the layer that many times (a layer-count decision; each copy has its own values).
- A Flatten is added before the first Dense layer, and before the output layer if needed.
  The output layer (``num_classes`` logits) is added for you.
- Convolutions use ``padding="same"`` unless a layer says ``"padding": "valid"``; pooling
  uses Keras' default ``"valid"`` (so too many pooling layers shrink the input to nothing,
  which validation reports).
- ``connections``: ``"full"`` = plain layers, ``"residual"`` = skip connections around each
  Conv/Dense layer (1x1 projection when widths differ), ``"sparse"`` = depthwise-separable
  convolutions (SeparableConv1D/2D).
- ``weight_decay`` is an L2 penalty ``l2 * sum(w**2)`` added to the loss (Keras' ``L2``); its
  gradient is ``2 * l2 * w``. With SGD that is weight decay of ``2 * l2 * lr`` per step; with
  Adam it is not the same as decoupled weight decay (AdamW).
- Optional keys the source text does not have: ``"optimizers": ["adam", "sgd", "adagrad"]``
  and ``"learning_rates": [0.001, 0.01]`` (default: Adam at 0.001).

Spellings are forgiving (``"conv2d"``, ``"Adam"``, ``"regularisation_methods"``); names that do
not exist (``"Pooling2D"``) raise :class:`SpaceError` saying what to write instead.
"""
from __future__ import annotations

import difflib

from nasbook.space import vocabulary as vocab
from nasbook.space.core import Decision, Layer, Ref, SearchSpace, Stage
from nasbook.space.vocabulary import SpaceError

__all__ = ["from_dict"]

_TOP = {
    "layers": "layers", "layer": "layers", "architecture": "layers",
    "activation_functions": "activation", "activation_function": "activation",
    "activations": "activation", "activation": "activation",
    "connections": "connection", "connection": "connection",
    "connection_types": "connection", "connection_patterns": "connection",
    "regularization_methods": "regularization", "regularisation_methods": "regularization",
    "regularization": "regularization", "regularisation": "regularization",
    "regularizations": "regularization", "regularizers": "regularization",
    "optimizers": "optimizer", "optimizer": "optimizer",
    "learning_rates": "learning_rate", "learning_rate": "learning_rate", "lr": "learning_rate",
}
_REGULARIZATION = {
    "dropout": "dropout", "dropout_rate": "dropout", "dropout_rates": "dropout",
    "weight_decay": "l2", "l2": "l2", "l2_regularization": "l2", "l2_regularisation": "l2",
    "l2_weight_decay": "l2",
}
# kind -> {accepted spelling: canonical parameter}
_PARAMS = {
    "conv": {"filters": "filters", "num_filters": "filters", "n_filters": "filters",
             "kernel_size": "kernel", "kernel": "kernel", "kernel_sizes": "kernel",
             "padding": "padding"},
    "pool": {"pool_size": "pool_size", "pool": "pool_size", "size": "pool_size",
             "padding": "padding"},
    "dense": {"units": "units", "neurons": "units", "num_units": "units",
              "n_units": "units", "hidden_units": "units"},
    "dropout": {"rate": "rate", "dropout": "rate", "p": "rate"},
    "flatten": {}, "global_pool": {},
}
_REQUIRED = {"conv": ("filters", "kernel"), "dense": ("units",), "dropout": ("rate",)}
_DEFAULTS = {"padding": {"conv": "same", "pool": "valid"}, "pool_size": 2}


def _key(word) -> str:
    return str(word).strip().lower().replace("-", "_").replace(" ", "_")


def _lookup(word, table, what, where):
    k = _key(word)
    if k in table:
        return table[k]
    close = difflib.get_close_matches(k, list(table), n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    known = ", ".join(dict.fromkeys(table))
    raise SpaceError(f"unknown {what} {word!r} {where}.{hint} Known: {known}")


def _choices(value, what):
    """A list of choices from a list (choices) or a single value (fixed)."""
    if isinstance(value, (list, tuple, set)):
        value = list(value)
        if not value:
            raise SpaceError(f"{what} has no choices; give at least one value")
        return value
    if isinstance(value, dict):
        raise SpaceError(f"{what} must be a value or a list of values, got a dict")
    return [value]


def _kernel(value, what):
    if isinstance(value, (list, tuple)):
        if len(set(value)) == 1:
            return value[0]
        raise SpaceError(f"{what}: non-square kernel {tuple(value)} is not supported; "
                         f"write one integer such as 3")
    return value


def _floats(values, what):
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise SpaceError(f"{what} value {v!r} is not a number")
        out.append(float(v))
    return out


def from_dict(source: dict, input_shape, num_classes) -> SearchSpace:
    """A :class:`SearchSpace` from the source text's dictionary format (see module docs).

    Usage: ``space = nb.space.from_dict(search_space, ds.input_shape, ds.num_classes)``
    """
    if not isinstance(source, dict):
        raise SpaceError(f"a search space dict is expected, got {type(source).__name__}")
    input_shape = tuple(int(d) for d in input_shape)
    rank = len(input_shape) - 1
    parts = {}
    for k, v in source.items():
        canon = _lookup(k, _TOP, "key", "in the search space")
        if canon in parts:
            raise SpaceError(f"the search space gives {canon!r} twice (as {k!r}); keep one")
        parts[canon] = v
    if "layers" not in parts:
        raise SpaceError("the search space has no 'layers' list; add e.g. "
                         "\"layers\": [{\"type\": \"Dense\", \"parameters\": {\"units\": [64]}}]")
    layers = parts["layers"]
    if not isinstance(layers, (list, tuple)):
        raise SpaceError(f"'layers' must be a list of {{'type': ..., 'parameters': ...}} dicts, "
                         f"got {type(layers).__name__}")

    decisions, stages = [], []
    for i, entry in enumerate(layers, start=1):
        stage, new = _stage(i, entry, input_shape, rank)
        stages.append(stage)
        decisions.extend(new)

    activation = [vocab.activation(a) for a in _choices(parts.get("activation", ["relu"]),
                                                        "'activation_functions'")]
    connection = [vocab.connection(c) for c in _choices(parts.get("connection", ["full"]),
                                                        "'connections'")]
    connection = list(dict.fromkeys(connection))
    reg = parts.get("regularization", {})
    if not isinstance(reg, dict):
        raise SpaceError("'regularization_methods' must be a dict such as "
                         "{'dropout': [0.2, 0.5], 'weight_decay': [0.0001, 0.001]}")
    regs = {}
    for k, v in reg.items():
        canon = _lookup(k, _REGULARIZATION, "regularization method",
                        "in 'regularization_methods'")
        regs[canon] = _floats(_choices(v, f"regularization {k!r}"), f"regularization {k!r}")
    optimizer = [vocab.optimizer(o) for o in _choices(parts.get("optimizer", ["adam"]),
                                                      "'optimizers'")]
    lr = _floats(_choices(parts.get("learning_rate", [1e-3]), "'learning_rates'"),
                 "learning rate")
    decisions += [
        Decision("activation", activation, group="activation"),
        Decision("connection", connection, group="connection"),
        Decision("dropout", regs.get("dropout", [0.0]), group="regularisation"),
        Decision("l2", regs.get("l2", [0.0]), group="regularisation"),
        Decision("optimizer", optimizer, group="optimizer"),
        Decision("learning_rate", lr, group="optimizer"),
    ]
    return SearchSpace(input_shape, num_classes, stages, decisions, name="source_text")


def _stage(i, entry, input_shape, rank):
    where = f"(layer {i})"
    if not isinstance(entry, dict) or "type" not in entry:
        raise SpaceError(f"layer {i} must be a dict like {{'type': 'Conv2D', 'parameters': "
                         f"{{'filters': [32, 64]}}}}, got {entry!r}")
    extra = [k for k in entry if _key(k) not in ("type", "parameters", "params", "repeat")]
    if extra:
        raise SpaceError(f"layer {i} has unknown keys {extra}; a layer has 'type', "
                         f"'parameters' and optionally 'repeat'")
    ltype = vocab.layer_type(entry["type"])
    kind, lrank, pool_type = vocab.LAYER_TYPES[ltype]
    if lrank is not None and lrank != rank:
        shape = {1: "a 1-D signal (length, channels)", 2: "an image (height, width, channels)",
                 0: "a flat vector (features,)"}.get(rank, "an input")
        if rank in (1, 2):
            fix = f"write {ltype.replace(f'{lrank}D', f'{rank}D')!r}"
        else:
            fix = "use Dense layers, or reshape the input to (length, 1)"
        raise SpaceError(f"{ltype} {where} needs {lrank}-D spatial input, but the input shape "
                         f"{input_shape} is {shape}; {fix}")
    params = entry.get("parameters", entry.get("params", {})) or {}
    if not isinstance(params, dict):
        raise SpaceError(f"'parameters' of layer {i} ({ltype}) must be a dict")
    given = {}
    for k, v in params.items():
        canon = _lookup(k, _PARAMS[kind], f"parameter of {ltype}", where) if _PARAMS[kind] \
            else None
        if canon is None:
            raise SpaceError(f"{ltype} {where} takes no parameters, got {list(params)}")
        given[canon] = _choices(v, f"parameter {k!r} of {ltype} {where}")
    for req in _REQUIRED.get(kind, ()):
        if req not in given:
            spelled = {"kernel": "kernel_size"}.get(req, req)
            raise SpaceError(f"{ltype} {where} needs {spelled!r} in its parameters, e.g. "
                             f"{{{spelled!r}: [3, 5]}}")
    if "kernel" in given:
        given["kernel"] = [_kernel(k, f"{ltype} {where}") for k in given["kernel"]]
    if "rate" in given:
        given["rate"] = _floats(given["rate"], f"dropout rate {where}")
    padding = given.pop("padding", [_DEFAULTS["padding"].get(kind, "same")])
    if len(padding) != 1 or _key(padding[0]) not in ("same", "valid"):
        raise SpaceError(f"padding of {ltype} {where} must be 'same' or 'valid' (one value), "
                         f"got {padding}")
    if kind == "pool":
        given.setdefault("pool_size", [_DEFAULTS["pool_size"]])
    repeat = _choices(entry.get("repeat", [1]), f"'repeat' of layer {i}")
    if any(isinstance(r, bool) or not isinstance(r, int) or r < 0 for r in repeat):
        raise SpaceError(f"'repeat' of layer {i} must list non-negative integers, got {repeat}")
    repeat = list(dict.fromkeys(repeat))
    decisions = []
    if len(repeat) > 1:
        decisions.append(Decision(f"repeat_{i}", repeat))
    copies = []
    for j in range(1, max(repeat) + 1):
        suffix = f"_{i}" if max(repeat) == 1 else f"_{i}_{j}"
        lp = {"padding": _key(padding[0])} if kind in ("conv", "pool") else {}
        if pool_type:
            lp["pool_type"] = pool_type
        for p, values in given.items():
            name = p + suffix
            decisions.append(Decision(name, values))
            lp[p] = Ref(name)
        label = f"{ltype} (layer {i}" + (f", copy {j})" if max(repeat) > 1 else ")")
        copies.append([Layer(kind, lp, label=label)])
    count = Ref(f"repeat_{i}") if len(repeat) > 1 else repeat[0]
    return Stage(copies=copies, count=count, label=ltype), decisions
