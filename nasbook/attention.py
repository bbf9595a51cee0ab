"""A spatial attention block for 1-D and 2-D feature maps, and how to read its weights out.

``SpatialAttention`` scores every position of a feature map ``h`` (batch, *positions, channels)
with a small convolution, ``s = conv(h)``, and turns the scores into weights:

- ``normalize="softmax"``: ``a = softmax(s)`` over all positions, so the weights of one
  example sum to 1 (a distribution over positions);
- ``normalize="sigmoid"``: ``a = sigmoid(s)``, each weight in (0, 1) on its own (a gate).

It then either gates the map, ``mode="gate"``: ``h * a`` (softmax weights are multiplied by
the number of positions so that uniform attention leaves ``h`` unchanged), keeping the shape,
so it can follow any convolution in a search space; or pools it, ``mode="pool"``:
``sum_p a_p h_p`` (batch, channels), a drop-in replacement for global average pooling.

Usage::

    model = nb.attention.attention_cnn(ds.input_shape, ds.num_classes)
    nb.models.train(model, ds, epochs=10)
    maps = nb.attention.attention_map(model, ds.x_test[:8])   # (8, *input spatial shape)
"""
from __future__ import annotations

import numpy as np

import keras

__all__ = ["SpatialAttention", "attention_cnn", "attention_map", "attention_layer",
           "logits_with_attention"]


@keras.saving.register_keras_serializable(package="nasbook")
class SpatialAttention(keras.layers.Layer):
    """Attention over the positions of a 1-D (length) or 2-D (height, width) feature map.

    ``kernel_size``: receptive field of the scoring convolution; ``normalize``: "softmax"
    (weights sum to 1 per example) or "sigmoid" (independent gates); ``mode``: "gate" (same
    shape out) or "pool" (one vector per example). ``attention_weights(h)`` returns the weights
    (batch, *positions).
    """

    def __init__(self, kernel_size=3, normalize="softmax", mode="pool", **kwargs):
        super().__init__(**kwargs)
        if normalize not in ("softmax", "sigmoid"):
            raise ValueError(f"normalize={normalize!r}: use 'softmax' or 'sigmoid'")
        if mode not in ("gate", "pool"):
            raise ValueError(f"mode={mode!r}: use 'gate' (keep the shape) or 'pool' "
                             f"(one vector per example)")
        self.kernel_size = int(kernel_size)
        self.normalize = normalize
        self.mode = mode

    def build(self, input_shape):
        rank = len(input_shape) - 2
        if rank not in (1, 2):
            raise ValueError(f"SpatialAttention needs (batch, length, channels) or "
                             f"(batch, height, width, channels) inputs, got {input_shape}")
        conv = keras.layers.Conv1D if rank == 1 else keras.layers.Conv2D
        self.score = conv(1, self.kernel_size, padding="same", name="score")
        self.score.build(input_shape)
        self._rank = rank
        super().build(input_shape)

    def attention_weights(self, inputs):
        """Weights (batch, *positions): softmax over positions, or a sigmoid gate each."""
        s = self.score(inputs)[..., 0]                  # (batch, *positions)
        if self.normalize == "sigmoid":
            return keras.ops.sigmoid(s)
        flat = keras.ops.reshape(s, (keras.ops.shape(s)[0], -1))
        return keras.ops.reshape(keras.ops.softmax(flat, axis=-1), keras.ops.shape(s))

    def apply_weights(self, inputs, weights):
        """The block's output for given weights (used to test interventions on attention)."""
        a = weights[..., None]
        if self.mode == "pool":
            axes = tuple(range(1, 1 + self._rank))
            return keras.ops.sum(inputs * a, axis=axes)
        if self.normalize == "softmax":
            positions = 1
            for d in inputs.shape[1:-1]:
                positions *= int(d)
            a = a * positions
        return inputs * a

    def call(self, inputs):
        return self.apply_weights(inputs, self.attention_weights(inputs))

    def compute_output_shape(self, input_shape):
        if self.mode == "pool":
            return (input_shape[0], input_shape[-1])
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(kernel_size=self.kernel_size, normalize=self.normalize, mode=self.mode)
        return config


def attention_cnn(input_shape, num_classes, *, filters=(16, 32), kernel_size=3, dense=64,
                  attention_kernel=3, normalize="softmax", seed=0):
    """``nb.models.small_cnn`` with its global average pooling replaced by attention pooling.

    Layers: ``conv_1``, ``pool_1``, ``conv_2``, ..., ``attention`` (SpatialAttention, pool
    mode), ``dense``, ``logits``. Compiled like the other reference models; outputs logits.
    Usage: ``model = attention_cnn((40, 1), 10)``
    """
    from nasbook.models import small_cnn

    attention = SpatialAttention(attention_kernel, normalize=normalize, mode="pool",
                                 name="attention")
    return small_cnn(input_shape, num_classes, filters=filters, kernel_size=kernel_size,
                     dense=dense, seed=seed, global_pool=attention, name="attention_cnn")


def _features(model, att):
    """A model from the network's input to the attention block's input."""
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    return keras.Model(inputs, att.input)


def attention_layer(model, name=None) -> SpatialAttention:
    """The model's SpatialAttention layer (by ``name``, or the only one there is)."""
    if name is not None:
        layer = model.get_layer(name)
        if not isinstance(layer, SpatialAttention):
            raise ValueError(f"layer {name!r} is a {type(layer).__name__}, not SpatialAttention")
        return layer
    found = [layer for layer in model.layers if isinstance(layer, SpatialAttention)]
    if len(found) != 1:
        raise ValueError(f"model {model.name!r} has {len(found)} SpatialAttention layers; "
                         f"name the one you want with layer=...")
    return found[0]


def _upsample(maps, target, normalize):
    """Nearest-neighbour upsampling by whole factors from (n, *positions) to (n, *target)."""
    factors = []
    for have, want in zip(maps.shape[1:], target):
        if want % have:
            raise ValueError(f"attention map of spatial shape {maps.shape[1:]} does not divide "
                             f"the input's {tuple(target)}; use upsample=False")
        factors.append(want // have)
    out = maps
    for axis, f in enumerate(factors, start=1):
        out = np.repeat(out, f, axis=axis)
    if normalize == "softmax":  # keep one example's weights summing to 1
        out = out / float(np.prod(factors))
    return out


def attention_map(model, x, *, layer=None, upsample=True, batch_size=256) -> np.ndarray:
    """The attention weights ``model`` puts on each position for inputs ``x``.

    Returns (n, *input spatial shape) when ``upsample`` (nearest-neighbour, softmax maps still
    sum to 1 per example) so the map can be drawn over the input, else the block's own
    resolution (n, *feature-map positions).
    Usage: ``maps = attention_map(model, ds.x_test[:8])``
    """
    att = attention_layer(model, layer)
    x = np.asarray(x, dtype=np.float32)
    features = _features(model, att)
    maps = []
    for i in range(0, len(x), batch_size):
        h = features(x[i:i + batch_size], training=False)
        maps.append(np.asarray(att.attention_weights(h)))
    maps = np.concatenate(maps, axis=0)
    if upsample:
        maps = _upsample(maps, x.shape[1:-1], att.normalize)
    return maps


def logits_with_attention(model, x, weights, *, layer=None) -> np.ndarray:
    """The logits when the attention block uses ``weights`` (n, *feature positions) instead of
    its own: the tool for intervention tests (permuted, uniform or adversarial attention).

    The model must run the attention layer once, on a single path to the logits (as
    :func:`attention_cnn` does). Usage: ``logits_with_attention(model, x, np.roll(a, 1, 1))``
    """
    att = attention_layer(model, layer)
    x = np.asarray(x, dtype=np.float32)
    h = _features(model, att)(x, training=False)
    out = att.apply_weights(h, keras.ops.convert_to_tensor(np.asarray(weights, dtype="float32")))
    after = model.layers[model.layers.index(att) + 1:]
    for layer_ in after:
        out = layer_(out, training=False)
    return np.asarray(out)
