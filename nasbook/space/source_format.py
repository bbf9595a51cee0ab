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

The source text's own listings load as printed (§3.3.1's dict, §5.2's list of layers): every
name that is not Keras' is mapped and the mapping is printed as a note (``space.notes`` keeps
them; ``verbose=False`` silences the printing):

- ``"stride"`` -> ``strides`` (only Keras' default is accepted: 1 for a convolution, the pool
  size for pooling; this space downsamples by pooling);
- ``"Pooling2D"`` / ``"Pooling1D"`` -> ``MaxPooling2D`` / ``MaxPooling1D``; ``"FullyConnected"``
  -> ``Dense``;
- activation names in any case (``"ReLU"`` -> ``relu``); a standalone activation layer
  (``{"type": "ReLU"}``) or a per-layer ``"activation"`` is folded into the space's one
  ``activation`` decision, applied inside every Conv/Dense layer;
- a last Dense layer with ``num_classes`` units and ``"Softmax"`` is the output layer, which the
  space adds itself (logits; the softmax lives in the loss);
- a tuple such as ``"kernel_size": (3, 3)`` is one Keras value (a square kernel 3), a list is a
  list of choices;
- a missing ``filters`` / ``kernel_size`` / ``units`` gets a stated default (32 / 3 / 128), and
  ``"regularization_methods": ["Dropout"]`` (names without values) gets rate 0.5 (weight decay
  1e-4);
- a list instead of a dict (§5.2's ``search_space = [...]``) is read as ``{"layers": [...]}``,
  and the Flatten added before its first Dense layer is noted (the listing builds none).

``strict=True`` turns every such mapping into a :class:`SpaceError` instead. Spellings are
forgiving either way (``"conv2d"``, ``"Adam"``, ``"regularisation_methods"``); names that mean
nothing (``"BatchNorm"``, ``"Dens"``) raise :class:`SpaceError` with a did-you-mean.
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
             "padding": "padding", "strides": "strides"},
    "pool": {"pool_size": "pool_size", "pool": "pool_size", "size": "pool_size",
             "padding": "padding", "strides": "strides"},
    "dense": {"units": "units", "neurons": "units", "num_units": "units",
              "n_units": "units", "hidden_units": "units"},
    "dropout": {"rate": "rate", "dropout": "rate", "p": "rate"},
    "flatten": {}, "global_pool": {},
}
_REQUIRED = {"conv": ("filters", "kernel"), "dense": ("units",), "dropout": ("rate",)}
_DEFAULTS = {"padding": {"conv": "same", "pool": "valid"}, "pool_size": 2}
# A missing required value, when not strict: (default, why that value)
_MISSING = {"filters": (32, "the first width of the source text's §5.2 listing"),
            "kernel": (3, "the kernel size every listing of the source text uses"),
            "units": (128, "the hidden width of the source text's §5.2 listing")}
# Parameters whose value is one Keras shape when given as a tuple, e.g. kernel_size=(3, 3).
_SHAPES = ("kernel", "pool_size", "strides")
# Names the source text uses that Keras does not have -> (Keras name, why)
_SOURCE_LAYERS = {
    "pooling2d": ("MaxPooling2D", "Keras has no 'Pooling2D'; a pooling layer is max or average, "
                                  "and max is the usual choice (write 'AveragePooling2D' for "
                                  "the mean)"),
    "pooling1d": ("MaxPooling1D", "Keras has no 'Pooling1D'; a pooling layer is max or average, "
                                  "and max is the usual choice (write 'AveragePooling1D' for "
                                  "the mean)"),
    "fullyconnected": ("Dense", "Keras calls a fully connected layer 'Dense'"),
    "fully_connected": ("Dense", "Keras calls a fully connected layer 'Dense'"),
}
_SOURCE_PARAMS = {"stride": "strides"}
# Activation layers: {"type": "ReLU"} is an activation, folded into the activation decision.
_ACTIVATION_LAYERS = {"relu": "relu", "softmax": "softmax", "sigmoid": "sigmoid",
                      "tanh": "tanh", "elu": "elu", "leakyrelu": "leaky_relu",
                      "leaky_relu": "leaky_relu"}
_REG_DEFAULTS = {"dropout": 0.5, "l2": 1e-4}


class _Notes(list):
    """The mappings made while reading; in strict mode each one is an error instead."""

    def __init__(self, strict):
        super().__init__()
        self.strict = strict

    def map(self, note, error):
        """A name mapped to Keras': a note, or in strict mode the ``error``."""
        if self.strict:
            raise SpaceError(error)
        self.add(note)

    def add(self, note):
        """Information only (nothing was renamed): kept unless strict, where it goes unsaid."""
        if not self.strict and note not in self:
            self.append(note)


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


def _choices(value, what, shape=False):
    """A list of choices from a list (choices) or a single value (fixed).

    With ``shape=True`` a tuple is one Keras value such as ``(3, 3)``, not a list of choices.
    """
    if shape and isinstance(value, tuple):
        return [value]
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


def _activation(name, notes, where):
    """A Keras activation name; a spelling that is not Keras' own is a note."""
    canon = vocab.activation(name)
    if isinstance(name, str) and name != canon:
        notes.add(f"activation {name!r} {where} -> {canon!r} (Keras' activation names are lower "
                  f"case; keras.activations.get({name!r}) raises)")
    return canon


def from_dict(source, input_shape, num_classes, *, strict=False, verbose=True) -> SearchSpace:
    """A :class:`SearchSpace` from the source text's dict (or §5.2's list) format (module docs).

    Names that are not Keras' are mapped and printed as notes (kept in ``space.notes``);
    ``strict=True`` raises instead, ``verbose=False`` keeps the notes without printing them.

    Usage: ``space = nb.space.from_dict(search_space, ds.input_shape, ds.num_classes)``
    """
    notes = _Notes(strict)
    listed = isinstance(source, (list, tuple))
    if listed:
        notes.map("a list of layers (the §5.2 format) is read as {'layers': [...]}: the layers "
                  "of one architecture, in order",
                  "a search space dict is expected, got a list; write {'layers': [...]} "
                  "(or call from_dict(..., strict=False))")
        source = {"layers": list(source)}
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

    entries = [_entry(i, e, notes) for i, e in enumerate(layers, start=1)]
    entries = _drop_output_layer(entries, num_classes, notes)
    decisions, stages, layer_acts = [], [], {}
    spatial = rank > 0
    for i, ltype, params, act in entries:
        if act is not None:
            layer_acts.setdefault(act, i)
        if ltype is None:   # an activation layer, folded into the activation decision
            continue
        kind = vocab.LAYER_TYPES[ltype][0]
        if kind == "dense" and spatial and listed:   # a listing that says what it builds
            notes.add(f"a Flatten is inserted before layer {i} ({ltype}): a Dense layer on a "
                      f"{rank + 2}-D tensor would act on its last axis only")
        if kind in ("dense", "flatten", "global_pool"):
            spatial = False
        stage, new = _stage(i, ltype, params, input_shape, rank, notes)
        stages.append(stage)
        decisions.extend(new)

    activation = _activations(parts, layer_acts, notes)
    connection = [vocab.connection(c) for c in _choices(parts.get("connection", ["full"]),
                                                        "'connections'")]
    connection = list(dict.fromkeys(connection))
    regs = _regularization(parts.get("regularization", {}), notes)
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
    space = SearchSpace(input_shape, num_classes, stages, decisions, name="source_text")
    space.notes = list(notes)
    if verbose:
        for note in notes:
            print("note:", note)
    return space


def _entry(i, entry, notes):
    """(i, Keras layer type or None for an activation layer, raw parameters, activation)."""
    if not isinstance(entry, dict) or "type" not in entry:
        raise SpaceError(f"layer {i} must be a dict like {{'type': 'Conv2D', 'parameters': "
                         f"{{'filters': [32, 64]}}}}, got {entry!r}")
    where = f"(layer {i})"
    name = entry["type"]
    params = entry.get("parameters", entry.get("params", {})) or {}
    if not isinstance(params, dict):
        raise SpaceError(f"'parameters' of layer {i} ({name}) must be a dict")
    params = dict(params)
    inline = {k: v for k, v in entry.items() if _key(k) not in ("type", "parameters", "params")}
    params.update(inline)   # §5.2 writes parameters inline: {"type": "Conv2D", "filters": 32}
    act = None
    act_key = next((k for k in params if _key(k) == "activation"), None)
    if act_key is not None:
        value = params.pop(act_key)
        act = "softmax" if _key(value) == "softmax" else _activation(value, notes, where)
    if isinstance(name, str) and _key(name).replace("_", "") in _ACTIVATION_LAYERS:
        act = _ACTIVATION_LAYERS[_key(name).replace("_", "")]
        if act != "softmax":
            notes.map(f"layer {i} {name!r} is an activation, not a layer with weights: this "
                      f"space applies its one activation decision inside every Conv/Dense "
                      f"layer, so it is folded into that decision ({act!r})",
                      f"layer {i} {name!r} is an activation layer; give the activation in "
                      f"'activation_functions' instead")
        extra = [k for k in params if _key(k) != "repeat"]
        if extra:
            raise SpaceError(f"activation layer {i} ({name}) takes no parameters, got {extra}")
        return i, None, {}, act
    if isinstance(name, str) and _key(name) in _SOURCE_LAYERS and not notes.strict:
        ltype, why = _SOURCE_LAYERS[_key(name)]
        notes.add(f"layer {i} {name!r} -> {ltype!r} ({why})")
    else:
        try:
            ltype = vocab.layer_type(name)
        except SpaceError as err:
            names = {_key(k): k for k in ("FullyConnected", "Pooling2D", "Pooling1D")}
            close = difflib.get_close_matches(_key(name), list(names), n=1, cutoff=0.75)
            if close and not notes.strict:
                raise SpaceError(f"{err} (Did you mean {names[close[0]]!r}, which is read as "
                                 f"{_SOURCE_LAYERS[close[0]][0]!r}?)") from None
            raise
    return i, ltype, params, act


def _drop_output_layer(entries, num_classes, notes):
    """Remove a last Dense(num_classes) + softmax: the space adds its own output layer."""
    if len(entries) > 1 and entries[-1][1] is None and entries[-1][3] == "softmax":
        # {"type": "Dense", ...}, {"type": "Softmax"}: the softmax belongs to the Dense before
        entries.pop()
        j, ltype, params, _ = entries[-1]
        entries[-1] = (j, ltype, params, "softmax")
    if entries and entries[-1][3] == "softmax" and entries[-1][1] == "Dense":
        i, ltype, params, _ = entries[-1]
        units = [v for k, v in params.items() if _key(k) in _PARAMS["dense"]]
        if units in ([num_classes], [[num_classes]]):
            notes.map(f"layer {i} ({ltype}, {num_classes} units, softmax) is the output layer: "
                      f"the space adds it itself ({num_classes} logits; the softmax is part of "
                      f"the loss, SparseCategoricalCrossentropy(from_logits=True))",
                      f"layer {i} is an output layer (Dense({num_classes}) with softmax); the "
                      f"space adds its own output layer, remove it")
            entries = entries[:-1]
    for i, _, _, act in entries:
        if act == "softmax":
            raise SpaceError(f"layer {i} asks for a softmax activation; softmax belongs only to "
                             f"the output layer, which the space adds itself (a last Dense with "
                             f"num_classes={num_classes} units and 'Softmax' is read as that "
                             f"layer). Use e.g. 'relu' for hidden layers")
    return entries


def _activations(parts, layer_acts, notes):
    """The activation decision: 'activation_functions', or the layers' own activations."""
    if "activation" in parts:
        names = _choices(parts["activation"], "'activation_functions'")
        acts = [_activation(a, notes, "in 'activation_functions'") for a in names]
        if len(set(acts)) < len(acts) and not notes.strict:
            notes.add(f"'activation_functions' {names} lists the same activation more than "
                      f"once; the decision keeps each one once: {list(dict.fromkeys(acts))}")
            acts = list(dict.fromkeys(acts))
        for a, i in layer_acts.items():
            if a not in acts:
                raise SpaceError(f"layer {i} asks for activation {a!r}, but "
                                 f"'activation_functions' offers {acts}; this space applies "
                                 f"one activation decision to every hidden layer")
        return acts
    if len(layer_acts) > 1:
        raise SpaceError(f"the layers ask for different activations {list(layer_acts)}; this "
                         f"space applies one activation decision to every hidden layer: give "
                         f"'activation_functions': [...] instead")
    return list(layer_acts) or ["relu"]


def _regularization(reg, notes):
    if isinstance(reg, (list, tuple)) and not notes.strict:
        regs = {}
        for name in reg:
            canon = _lookup(name, _REGULARIZATION, "regularization method",
                            "in 'regularization_methods'")
            value = _REG_DEFAULTS[canon]
            notes.add(f"'regularization_methods' names {name!r} without a value; using "
                      f"{canon}={value} (write {{{name!r}: [...]}} to choose)")
            regs[canon] = [value]
        return regs
    if not isinstance(reg, dict):
        raise SpaceError("'regularization_methods' must be a dict such as "
                         "{'dropout': [0.2, 0.5], 'weight_decay': [0.0001, 0.001]}")
    regs = {}
    for k, v in reg.items():
        canon = _lookup(k, _REGULARIZATION, "regularization method",
                        "in 'regularization_methods'")
        regs[canon] = _floats(_choices(v, f"regularization {k!r}"), f"regularization {k!r}")
    return regs


def _square(values, what):
    return [_kernel(v, what) for v in values]


def _stage(i, ltype, params, input_shape, rank, notes):
    where = f"(layer {i})"
    extra = [k for k in params if _key(k) == "repeat"]
    repeat = params.pop(extra[0]) if extra else [1]
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
    given, spelled_as = {}, {}
    for k, v in params.items():
        if not _PARAMS[kind]:
            raise SpaceError(f"{ltype} {where} takes no parameters, got {list(params)}")
        if _key(k) in _SOURCE_PARAMS:
            canon_name = _SOURCE_PARAMS[_key(k)]
            if notes.strict:
                raise SpaceError(f"unknown parameter of {ltype} {k!r} {where}. Did you mean "
                                 f"{canon_name!r}?")
            spelled_as[canon_name] = k
            k = canon_name
        canon = _lookup(k, _PARAMS[kind], f"parameter of {ltype}", where)
        given[canon] = _choices(v, f"parameter {k!r} of {ltype} {where}",
                                shape=canon in _SHAPES)
    for req in _REQUIRED.get(kind, ()):
        if req not in given:
            spelled = {"kernel": "kernel_size"}.get(req, req)
            if req in _MISSING:
                value, why = _MISSING[req]
                notes.map(f"{ltype} {where} gives no {spelled!r} (Keras requires it); using "
                          f"{value}, {why} (write {{{spelled!r}: [...]}} to choose)",
                          f"{ltype} {where} needs {spelled!r} in its parameters, e.g. "
                          f"{{{spelled!r}: [3, 5]}}")
                given[req] = [value]
            else:
                raise SpaceError(f"{ltype} {where} needs {spelled!r} in its parameters, e.g. "
                                 f"{{{spelled!r}: [3, 5]}}")
    for p in _SHAPES:
        if p in given:
            given[p] = _square(given[p], f"{ltype} {where}")
    if "rate" in given:
        given["rate"] = _floats(given["rate"], f"dropout rate {where}")
    padding = given.pop("padding", [_DEFAULTS["padding"].get(kind, "same")])
    if len(padding) != 1 or _key(padding[0]) not in ("same", "valid"):
        raise SpaceError(f"padding of {ltype} {where} must be 'same' or 'valid' (one value), "
                         f"got {padding}")
    if kind == "pool":
        given.setdefault("pool_size", [_DEFAULTS["pool_size"]])
    if "strides" in given:
        strides = given.pop("strides")
        default = [1] if kind == "conv" else given["pool_size"]
        if strides != default:
            raise SpaceError(f"strides {strides} of {ltype} {where} are not supported: this "
                             f"space keeps Keras' default (1 for a convolution, the pool size "
                             f"for pooling, here {default}) and downsamples by pooling; remove "
                             f"'strides'")
        if "strides" in spelled_as:
            notes.add(f"{spelled_as['strides']!r} of {ltype} {where} -> 'strides' (the Keras "
                      f"argument); {strides[0]} is Keras' default there, nothing to change")
    repeat = _choices(repeat, f"'repeat' of layer {i}")
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
