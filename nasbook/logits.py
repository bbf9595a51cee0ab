"""Classifier plumbing shared by every module that runs a model: logits, batches, targets.

One place for what the search's metrics, attributions, SHAP, LIME, surrogates, the evaluation
of explanations and the widgets all need:

- :func:`logit_model`: the model itself, or a weight-sharing copy that outputs pre-softmax
  scores;
- :func:`predict_logits`: one batched, traced forward pass ``(n, classes)``;
- :func:`resolve_targets`: ``target`` (None/"predicted", an int, one per example, "all") as an
  int array of one layout, ``(k, n)``: ``k`` target vectors for ``n`` examples;
- :func:`as_batch`: an input as a float32 batch, and whether it was one example.

This is a leaf module (it imports only NumPy, Keras and TensorFlow), so the search layer can use
it as well as :mod:`nasbook.explain`.

Usage: ``nb.explain.predict_logits(model, ds.x_val).argmax(1)`` (re-exported by explain)
"""
from __future__ import annotations

import weakref

import numpy as np

__all__ = ["logit_model", "predict_logits", "predict_classes", "resolve_targets",
           "targets_from_logits", "as_batch", "input_shape", "num_outputs", "compiled",
           "submodel", "DEFAULT_BATCH"]

DEFAULT_BATCH = 512
_LOGIT_MODELS = weakref.WeakKeyDictionary()


def submodel(model, layer, which="output", extra_output=False):
    """``keras.Model`` from ``model``'s input to ``layer``'s input or output in *this* model.

    A layer shared by several models has one graph node per use; ``layer.output`` is the first
    one, which may belong to another model, so every node is tried.
    """
    import keras

    nodes = getattr(layer, "_inbound_nodes", []) or [None]
    error = None
    for node in nodes:
        if node is None:
            tensor = getattr(layer, which)
        else:
            tensors = node.output_tensors if which == "output" else node.input_tensors
            tensor = tensors[0] if len(tensors) == 1 else tensors
        outputs = [tensor, model.outputs[0]] if extra_output else tensor
        try:
            return keras.Model(model.inputs, outputs), tensor
        except ValueError as exc:  # not connected to this model's inputs
            error = exc
    raise ValueError(f"could not reach layer {layer.name!r} from the inputs of model "
                     f"{model.name!r}: {error}")


def _is_softmax(activation) -> bool:
    return getattr(activation, "__name__", "") == "softmax"


def logit_model(model):
    """Return ``model`` itself, or a weight-sharing copy that outputs pre-softmax scores.

    A model whose last layer is ``Softmax`` or ``Activation("softmax")`` is cut before that
    layer; a last layer built with ``activation="softmax"`` is replaced by a linear copy of it
    (its weights are re-copied on every call, the rest of the network is shared), so the
    output is the value *before* the softmax. Gradients of probabilities
    saturate (a confident class has gradient near zero everywhere), which is why attributions
    are taken on logits. Other output activations are left as they are.

    Usage: ``logits = nb.explain.logit_model(prob_model)``
    """
    import keras

    if model in _LOGIT_MODELS:
        net, copy, source = _LOGIT_MODELS[model]
        if copy is not None:  # keep the linear copy in step with the (maybe retrained) model
            copy.set_weights(source.get_weights())
        return net
    last = model.layers[-1]
    if isinstance(last, keras.layers.Softmax) or (
            isinstance(last, keras.layers.Activation) and _is_softmax(last.activation)):
        net, _ = submodel(model, last, "input")
        _LOGIT_MODELS[model] = (net, None, None)
        return net
    if _is_softmax(getattr(last, "activation", None)):
        config = dict(last.get_config(), activation="linear", name=f"{last.name}_logits")
        linear = type(last).from_config(config)
        _, before = submodel(model, last, "input")
        outputs = linear(before)
        linear.set_weights(last.get_weights())
        net = keras.Model(model.inputs, outputs, name=f"{model.name}_logits")
        _LOGIT_MODELS[model] = (net, linear, last)
        return net
    return model


def input_shape(model) -> tuple:
    shape = model.input_shape
    if isinstance(shape, list):
        if len(shape) != 1:
            raise ValueError(f"model {model.name!r} has {len(shape)} inputs; attributions need "
                             f"a single-input model")
        shape = shape[0]
    return tuple(shape[1:])


def as_batch(model, x):
    """``x`` as a float32 batch, and whether the caller passed a single example."""
    x = np.asarray(x, dtype=np.float32)
    shape = input_shape(model)

    def fits(s):
        return len(s) == len(shape) and all(a is None or a == b for a, b in zip(shape, s))

    if fits(x.shape[1:]):
        return x, False
    if fits(x.shape):
        return x[None], True
    raise ValueError(f"x has shape {x.shape}, but the model takes inputs of shape "
                     f"{shape}: pass a batch (n, {', '.join(map(str, shape))}) or one example")


class _Compiled:
    """``tf.function`` versions of one model's forward pass and logit gradients.

    Calling a small Keras model eagerly costs about 20x more than a traced call, so each model
    is traced once (batch dimension left open) and kept while the model lives. The functions
    hold a weak reference to the model, so the cache never keeps a model alive.
    """

    def __init__(self, model):
        import tensorflow as tf

        ref = weakref.ref(model)
        spec = tf.TensorSpec((None, *input_shape(model)), tf.float32)
        tspec = tf.TensorSpec((None,), tf.int32)
        self.name = model.name
        self.probes = {}

        @tf.function(input_signature=[spec], reduce_retracing=True)
        def forward(x):
            return ref()(x, training=False)

        @tf.function(input_signature=[spec, tspec], reduce_retracing=True)
        def grad(x, t):
            with tf.GradientTape() as tape:
                tape.watch(x)
                logits = ref()(x, training=False)
                chosen = tf.gather(logits, t, axis=1, batch_dims=1)
            g = tape.gradient(chosen, x)
            if g is None:
                raise ValueError(f"the output of model {self.name!r} does not depend on its "
                                 f"input through differentiable operations; use "
                                 f"method='occlusion'")
            return g

        self.forward, self.grad = forward, grad
        self._ref, self._spec, self._tspec = ref, spec, tspec

    def probe(self, layer_name):
        """A traced function x, t -> (feature maps of ``layer_name``, their logit gradients)."""
        import tensorflow as tf

        if layer_name not in self.probes:
            model = self._ref()
            sub, _ = submodel(model, model.get_layer(layer_name), "output", extra_output=True)

            @tf.function(input_signature=[self._spec, self._tspec], reduce_retracing=True)
            def run(x, t):
                with tf.GradientTape() as tape:
                    feats, logits = sub(x, training=False)
                    chosen = tf.gather(logits, t, axis=1, batch_dims=1)
                return feats, tape.gradient(chosen, feats)

            self.probes[layer_name] = run
        return self.probes[layer_name]


_CACHE = weakref.WeakKeyDictionary()


class _QuietRetracing:
    """Logging filter: drop TensorFlow's "frequent retracing" warning for *our* functions.

    Each model (and each randomised clone in a sanity check) gets its own traced functions, by
    design; TensorFlow counts them as retracing of one Python function and warns. Other
    functions' warnings pass through.
    """

    def filter(self, record):
        message = record.getMessage()
        return not ("triggered tf.function retracing" in message and "_Compiled" in message)


def _quiet_retracing_warnings():
    import tensorflow as tf

    logger = tf.get_logger()
    if not any(isinstance(f, _QuietRetracing) for f in logger.filters):
        logger.addFilter(_QuietRetracing())


def compiled(model) -> _Compiled:
    entry = _CACHE.get(model)
    if entry is None:
        _quiet_retracing_warnings()
        entry = _CACHE[model] = _Compiled(model)
    return entry


def predict_logits(model, x, *, batch_size=DEFAULT_BATCH) -> np.ndarray:
    """The model's outputs for ``x`` as a NumPy array ``(n, classes)``, in batches.

    Usage: ``nb.explain.predict_logits(model, ds.x_test[:10]).argmax(1)``
    """
    x = np.asarray(x, dtype=np.float32)
    forward = compiled(model).forward
    out = [forward(x[s:s + batch_size]).numpy() for s in range(0, len(x), batch_size)]
    return np.concatenate(out) if out else np.zeros((0, num_outputs(model)), np.float32)


def num_outputs(model) -> int:
    shape = model.output_shape
    if isinstance(shape, list):
        shape = shape[0]
    if len(shape) != 2:
        raise ValueError(f"model output has shape {shape}; attributions need a classifier "
                         f"whose output is (n, classes)")
    return int(shape[-1])


def predict_classes(model, x, *, batch_size=DEFAULT_BATCH) -> np.ndarray:
    """The predicted class of every example of ``x`` (argmax of :func:`predict_logits`)."""
    return predict_logits(model, x, batch_size=batch_size).argmax(axis=1)


def resolve_targets(model, x, target=None, *, batch_size=DEFAULT_BATCH,
                    logits=None) -> np.ndarray:
    """Turn ``target`` into an int array ``(k, n)``: ``k`` target vectors for ``n`` examples.

    ``None``/"predicted" -> the predicted class (k=1); an int -> that class (k=1); a sequence
    of length n -> one class per example (k=1); "all" -> every class (k=classes). Pass
    ``logits`` (``predict_logits(model, x)``) when you have them: no second forward pass.

    Usage: ``nb.explain.resolve_targets(model, x, "all").shape  # (10, n)``
    """
    n, classes = len(x), num_outputs(model)
    if logits is None and (target is None or (isinstance(target, str)
                                              and target == "predicted")):
        logits = predict_logits(model, np.asarray(x, dtype=np.float32), batch_size=batch_size)
    return targets_from_logits(logits, target, n=n, classes=classes)


def targets_from_logits(logits, target=None, *, n=None, classes=None) -> np.ndarray:
    """:func:`resolve_targets` for a model's outputs ``logits`` ``(n, classes)``; ``(k, n)``."""
    if logits is not None:
        n, classes = np.shape(logits)
    if target is None or (isinstance(target, str) and target == "predicted"):
        return np.asarray(logits).argmax(axis=1)[None]
    if isinstance(target, str):
        if target == "all":
            return np.repeat(np.arange(classes)[:, None], n, axis=1)
        raise ValueError(f"target={target!r} is not understood; use None or 'predicted' (the "
                         f"predicted class), 'all', an int in [0, {classes}) or one int per "
                         f"example")
    arr = np.asarray(target)
    if arr.dtype.kind not in "iu" and not (arr.dtype.kind == "f" and np.all(arr == np.round(arr))):
        raise ValueError(f"target must hold class indices (integers), got {arr.dtype}")
    arr = arr.astype(int)
    if arr.ndim == 0:
        arr = np.full(n, int(arr))
    if arr.shape != (n,):
        raise ValueError(f"target has shape {arr.shape}; give one class per example, i.e. "
                         f"shape ({n},), or a single int")
    bad = arr[(arr < 0) | (arr >= classes)]
    if bad.size:
        raise ValueError(f"target class {int(bad[0])} is out of range: the model has {classes} "
                         f"classes, 0..{classes - 1}")
    return arr[None]
