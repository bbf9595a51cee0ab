"""The words a search space understands: layer types, activations, connections, optimizers.

Every lookup is forgiving about spelling (``"conv2d"`` is ``Conv2D``, ``"Adam"`` is ``adam``)
and strict about meaning: an unknown word raises :class:`SpaceError` naming what to write
instead, from a table of known mistakes and then :mod:`difflib`::

    from nasbook.space.vocabulary import layer_type
    layer_type("Pooling2D")   # SpaceError: ... did you mean 'MaxPooling2D' or 'AveragePooling2D'?
"""
from __future__ import annotations

import difflib


class SpaceError(ValueError):
    """A search-space definition that cannot work; the message says what to write instead."""


# Keras layer name -> (kind, spatial rank or None, pooling type or None)
LAYER_TYPES = {
    "Dense": ("dense", None, None),
    "Conv1D": ("conv", 1, None),
    "Conv2D": ("conv", 2, None),
    "MaxPooling1D": ("pool", 1, "max"),
    "MaxPooling2D": ("pool", 2, "max"),
    "AveragePooling1D": ("pool", 1, "average"),
    "AveragePooling2D": ("pool", 2, "average"),
    "GlobalAveragePooling1D": ("global_pool", 1, "average"),
    "GlobalAveragePooling2D": ("global_pool", 2, "average"),
    "GlobalMaxPooling1D": ("global_pool", 1, "max"),
    "GlobalMaxPooling2D": ("global_pool", 2, "max"),
    "Flatten": ("flatten", None, None),
    "Dropout": ("dropout", None, None),
}

# Other spellings Keras itself accepts for the same layers.
LAYER_ALIASES = {
    "Convolution1D": "Conv1D", "Convolution2D": "Conv2D",
    "MaxPool1D": "MaxPooling1D", "MaxPool2D": "MaxPooling2D",
    "AvgPool1D": "AveragePooling1D", "AvgPool2D": "AveragePooling2D",
    "GlobalAvgPool1D": "GlobalAveragePooling1D", "GlobalAvgPool2D": "GlobalAveragePooling2D",
    "GlobalMaxPool1D": "GlobalMaxPooling1D", "GlobalMaxPool2D": "GlobalMaxPooling2D",
}

# Names people write that Keras does not have, and what to write instead.
LAYER_MISTAKES = {
    "Pooling2D": ("MaxPooling2D", "AveragePooling2D"),
    "Pooling1D": ("MaxPooling1D", "AveragePooling1D"),
    "Pooling": ("MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D"),
    "Pool2D": ("MaxPooling2D", "AveragePooling2D"),
    "Pool1D": ("MaxPooling1D", "AveragePooling1D"),
    "MaxPooling": ("MaxPooling1D", "MaxPooling2D"),
    "AveragePooling": ("AveragePooling1D", "AveragePooling2D"),
    "GlobalPooling2D": ("GlobalAveragePooling2D", "GlobalMaxPooling2D"),
    "GlobalPooling1D": ("GlobalAveragePooling1D", "GlobalMaxPooling1D"),
    "Conv": ("Conv1D", "Conv2D"),
    "Convolution": ("Conv1D", "Conv2D"),
    "Conv3D": ("Conv1D", "Conv2D"),
    "FullyConnected": ("Dense",),
    "FC": ("Dense",),
    "Linear": ("Dense",),
    "Fully_Connected": ("Dense",),
}

LAYER_NOTES = {
    "Pooling2D": "Keras has no 'Pooling2D' layer; a pooling layer is either max or average.",
    "Pooling1D": "Keras has no 'Pooling1D' layer; a pooling layer is either max or average.",
    "Conv3D": "the inputs here are 1-D signals (length, channels) or images "
              "(height, width, channels).",
    "SeparableConv1D": "depthwise-separable convolutions are this space's 'sparse' connection: "
                       "write {'type': 'Conv1D'} and add 'sparse' to 'connections'.",
    "SeparableConv2D": "depthwise-separable convolutions are this space's 'sparse' connection: "
                       "write {'type': 'Conv2D'} and add 'sparse' to 'connections'.",
}
LAYER_MISTAKES["SeparableConv1D"] = ("Conv1D",)
LAYER_MISTAKES["SeparableConv2D"] = ("Conv2D",)

ACTIVATIONS = ("relu", "sigmoid", "tanh", "elu", "selu", "gelu", "swish", "silu",
               "softplus", "softsign", "leaky_relu", "relu6", "mish", "hard_sigmoid", "linear")
ACTIVATION_MISTAKES = {
    "logistic": "sigmoid", "leakyrelu": "leaky_relu", "lrelu": "leaky_relu",
    "rectifier": "relu", "identity": "linear", "none": "linear", "hardsigmoid": "hard_sigmoid",
}

# 'full': every unit sees every input channel (plain Dense / Conv layers);
# 'residual': y = act(layer(x)) + shortcut(x), shortcut a 1x1 projection when widths differ;
# 'sparse': depthwise-separable convolutions (SeparableConv1D/2D).
CONNECTIONS = ("full", "residual", "sparse")
CONNECTION_ALIASES = {
    "plain": "full", "dense": "full", "fully_connected": "full", "none": "full",
    "skip": "residual", "resnet": "residual", "skip_connection": "residual",
    "separable": "sparse", "depthwise_separable": "sparse", "depthwise": "sparse",
}

OPTIMIZERS = ("adam", "sgd", "adagrad", "rmsprop")
OPTIMIZER_ALIASES = {"stochastic_gradient_descent": "sgd", "ada_grad": "adagrad",
                     "rms_prop": "rmsprop"}


def _key(word) -> str:
    return str(word).strip().lower().replace("-", "_").replace(" ", "_")


def _did_you_mean(options) -> str:
    options = [repr(o) for o in options]
    if not options:
        return ""
    if len(options) == 1:
        return f"did you mean {options[0]}?"
    return f"did you mean {', '.join(options[:-1])} or {options[-1]}?"


def layer_type(name) -> str:
    """The Keras layer name for ``name`` (case-insensitive), or a SpaceError saying what to write.

    Usage: ``layer_type("conv2d") -> "Conv2D"``
    """
    if not isinstance(name, str) or not name.strip():
        raise SpaceError(f"a layer's 'type' must be a Keras layer name such as 'Conv2D', "
                         f"got {name!r}")
    by_key = {_key(n): n for n in LAYER_TYPES}
    by_key.update({_key(a): t for a, t in LAYER_ALIASES.items()})
    if _key(name) in by_key:
        return by_key[_key(name)]
    mistakes = {_key(m): m for m in LAYER_MISTAKES}
    if _key(name) in mistakes:
        wrong = mistakes[_key(name)]
        note = LAYER_NOTES.get(wrong, f"Keras has no {wrong!r} layer.")
        raise SpaceError(f"unknown layer type {name!r}; {_did_you_mean(LAYER_MISTAKES[wrong])} "
                         f"({note})")
    close = difflib.get_close_matches(_key(name), list(by_key), n=2, cutoff=0.6)
    close = list(dict.fromkeys(by_key[c] for c in close))
    hint = f"; {_did_you_mean(close)}" if close else ""
    raise SpaceError(f"unknown layer type {name!r}{hint} Known layer types: "
                     f"{', '.join(LAYER_TYPES)}.")


def _lookup(word, what, known, aliases, mistakes=None):
    key = _key(word) if isinstance(word, str) else None
    if key in known:
        return key
    if key in aliases:
        return aliases[key]
    if mistakes and key in mistakes:
        right = mistakes[key]
        raise SpaceError(f"unknown {what} {word!r}; did you mean {right!r}?")
    close = difflib.get_close_matches(key or "", list(known) + list(aliases), n=2, cutoff=0.6)
    close = list(dict.fromkeys(aliases.get(c, c) for c in close))
    hint = f"; {_did_you_mean(close)}" if close else ""
    raise SpaceError(f"unknown {what} {word!r}{hint} Known: {', '.join(known)}.")


def activation(name) -> str:
    """Canonical Keras activation name: ``activation("ReLU") -> "relu"``."""
    return _lookup(name, "activation", ACTIVATIONS, {}, ACTIVATION_MISTAKES)


def connection(name) -> str:
    """Canonical connection: ``"full"``, ``"residual"`` or ``"sparse"`` (aliases accepted)."""
    return _lookup(name, "connection", CONNECTIONS, CONNECTION_ALIASES)


def optimizer(name) -> str:
    """Canonical optimizer name: ``optimizer("AdaGrad") -> "adagrad"``."""
    return _lookup(name, "optimizer", OPTIMIZERS, OPTIMIZER_ALIASES)
