"""Shift augmentation for 1-D signals: a Keras layer that rolls each example during training.

MNIST-1D's examples are made by padding a digit template, **shifting it circularly**, scaling
and adding noise (Greydanus 2020; ``mnist1d.transform.translate`` is ``np.roll``), so rolling a
40-sample signal by a few samples makes another plausible example of the same digit. A space
offers it as a training decision, ``shift`` (the largest roll in samples; 0 = no augmentation)::

    space = nb.space.preset("cnn", ds.input_shape, ds.num_classes, shift=[0, 10, 20])

The layer sits right after the input. While training (``training=True``) it rolls each example
by its own random integer in ``[-max_shift, max_shift]`` (circularly: what leaves one end comes
back at the other); at inference it is the identity, so validation, test and every explanation
see the data unchanged. The shape is kept and labels are untouched.

Usage::

    layer = RandomShift1D(10, seed=0)
    y = layer(x, training=True)      # x: (batch, length, channels)
"""
from __future__ import annotations

import keras

__all__ = ["RandomShift1D", "roll_examples"]


def roll_examples(x, shifts):
    """Roll example ``i`` of ``x`` (batch, length, channels) by ``shifts[i]`` samples along the
    length, circularly (a positive shift moves the signal right, like ``np.roll``).

    Usage: ``roll_examples(x, keras.ops.convert_to_tensor([1, -2]))``
    """
    ops = keras.ops
    length = ops.shape(x)[1]
    positions = ops.arange(length, dtype="int32")
    index = ops.mod(positions[None, :] - ops.cast(shifts, "int32")[:, None], length)
    return ops.take_along_axis(x, index[:, :, None], axis=1) if len(x.shape) == 3 else \
        ops.take_along_axis(x, index, axis=1)


@keras.saving.register_keras_serializable(package="nasbook")
class RandomShift1D(keras.layers.Layer):
    """Training-time augmentation: roll each 1-D example by a random integer in
    ``[-max_shift, max_shift]`` samples (circularly); the identity at inference.

    ``seed`` makes the sequence of shifts reproducible (Keras' ``SeedGenerator``).
    Usage: ``h = RandomShift1D(10, seed=0)(inputs)``
    """

    def __init__(self, max_shift, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(max_shift, bool) or not isinstance(max_shift, int) or max_shift < 0:
            raise ValueError(f"max_shift is a number of samples and must be an integer >= 0, "
                             f"got {max_shift!r}")
        self.max_shift = int(max_shift)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def call(self, inputs, training=None):
        if not training or self.max_shift == 0:
            return inputs
        shifts = keras.random.randint((keras.ops.shape(inputs)[0],), -self.max_shift,
                                      self.max_shift + 1, seed=self.seed_generator)
        return roll_examples(inputs, shifts)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "max_shift": self.max_shift, "seed": self.seed}
