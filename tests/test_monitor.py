"""The trial monitor's log hygiene: Keras' per-model retracing warning is silenced during a
trial, and only that warning (a real TensorFlow log line, provoked by training new models)."""
import logging

import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from nasbook.monitor import quiet_trainer_retracing  # noqa: E402


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def _fit_new_models(n=8):
    x = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    for _ in range(n):  # like a search: a new model each time, little data
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
        model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(x, y, validation_data=(x, y), epochs=1, batch_size=16, verbose=0)


def _retracing_lines(block):
    logger = tf.get_logger()
    capture = _Capture()
    logger.addHandler(capture)
    try:
        with block():
            _fit_new_models()
    finally:
        logger.removeHandler(capture)
    return [m for m in capture.messages if "triggered tf.function retracing" in m]


def test_training_new_models_provokes_the_warning_and_the_block_silences_it():
    import contextlib

    assert _retracing_lines(contextlib.nullcontext), \
        "TensorFlow no longer warns here; the filter may be obsolete"
    assert _retracing_lines(quiet_trainer_retracing) == []


def test_other_warnings_pass_and_the_filter_is_removed_after_the_block():
    logger = tf.get_logger()
    capture = _Capture()
    logger.addHandler(capture)
    try:
        with quiet_trainer_retracing():
            logger.warning("5 out of the last 6 calls to <function mine at 0x1> triggered "
                           "tf.function retracing.")
            logger.warning("something else")
        logger.warning("6 out of the last 7 calls to <function TensorFlowTrainer.x> "
                       "triggered tf.function retracing.")
    finally:
        logger.removeHandler(capture)
    assert any("function mine" in m for m in capture.messages)
    assert "something else" in capture.messages
    assert any("TensorFlowTrainer" in m for m in capture.messages)
