"""Small reference models for the lessons. They output logits (no softmax), so gradients
and attributions are taken on the logits; use :func:`probabilities` for class probabilities.

Usage::

    ds = nb.load_dataset("digits")
    model = nb.models.small_cnn(ds.input_shape, ds.num_classes)
    nb.models.train(model, ds, epochs=10)
"""
from __future__ import annotations

import numpy as np

__all__ = ["small_cnn", "small_mlp", "train", "probabilities", "compile_classifier"]


def _layers_for(input_shape):
    import keras

    if len(input_shape) == 2:
        return keras.layers.Conv1D, keras.layers.MaxPooling1D, keras.layers.GlobalAveragePooling1D
    if len(input_shape) == 3:
        return keras.layers.Conv2D, keras.layers.MaxPooling2D, keras.layers.GlobalAveragePooling2D
    raise ValueError(f"input_shape {input_shape} is neither (length, channels) nor "
                     f"(height, width, channels)")


def small_cnn(input_shape, num_classes, *, filters=(16, 32), kernel_size=3, dense=64,
              seed=0, global_pool=None, name="small_cnn"):
    """A two-block CNN for 1-D (length, channels) or 2-D (height, width, channels) inputs.

    Convolutions are named ``conv_1``, ``conv_2``, ...; the output layer ``logits``.
    ``global_pool`` replaces the global average pooling by another layer (e.g. attention).
    """
    import keras

    conv, pool, gap = _layers_for(tuple(input_shape))
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=tuple(input_shape), name="input")
    h = inputs
    for i, f in enumerate(filters, start=1):
        h = conv(f, kernel_size, padding="same", activation="relu", name=f"conv_{i}")(h)
        if i < len(filters):
            h = pool(2, padding="same", name=f"pool_{i}")(h)
    h = (global_pool if global_pool is not None else gap(name="global_pool"))(h)
    h = keras.layers.Dense(dense, activation="relu", name="dense")(h)
    outputs = keras.layers.Dense(num_classes, name="logits")(h)
    return compile_classifier(keras.Model(inputs, outputs, name=name))


def small_mlp(input_shape, num_classes, *, units=(64,), seed=0):
    """A flatten-then-dense network; the output layer is named ``logits``."""
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=tuple(input_shape), name="input")
    h = keras.layers.Flatten(name="flatten")(inputs)
    for i, u in enumerate(units, start=1):
        h = keras.layers.Dense(u, activation="relu", name=f"dense_{i}")(h)
    outputs = keras.layers.Dense(num_classes, name="logits")(h)
    return compile_classifier(keras.Model(inputs, outputs, name="small_mlp"))


def compile_classifier(model, *, learning_rate=1e-3):
    """Compile a logits model with Adam and sparse cross-entropy (keyword arguments, Keras 3)."""
    import keras

    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def train(model, ds, *, epochs=10, batch_size=64, seed=0, verbose=0):
    """Fit on ``ds``'s train split, validating on its val split; returns the History."""
    import keras

    keras.utils.set_random_seed(seed)
    return model.fit(ds.x_train, ds.y_train, validation_data=(ds.x_val, ds.y_val),
                     epochs=epochs, batch_size=batch_size, verbose=verbose)


def probabilities(model, x, batch_size=256) -> np.ndarray:
    """Softmax of the model's logits, as a NumPy array (n, classes)."""
    logits = np.asarray(model.predict(x, batch_size=batch_size, verbose=0))
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
