"""The trial monitor's log hygiene: Keras' per-model retracing warning is silenced during a
trial, and only that warning (a real TensorFlow log line, provoked by training new models)."""
import logging
import os
import subprocess
import sys

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


# TensorFlow warns at most twice per traced Python function and process, so the provocation
# runs in a fresh process each time (earlier tests of a suite may have used up the two).
PROVOKE = """
import contextlib, logging, sys
import numpy as np, keras, tensorflow as tf
from nasbook.monitor import quiet_trainer_retracing
lines = []
class Capture(logging.Handler):
    def emit(self, record):
        lines.append(record.getMessage())
tf.get_logger().addHandler(Capture())
x = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
y = (x[:, 0] > 0).astype("int64")
block = quiet_trainer_retracing if sys.argv[1] == "quiet" else contextlib.nullcontext
with block():
    for _ in range(8):  # like a search: a new model each time, little data
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
        model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(x, y, validation_data=(x, y), epochs=1, batch_size=16, verbose=0)
print(sum("triggered tf.function retracing" in m for m in lines))
"""


def _retracing_lines(mode):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run([sys.executable, "-c", PROVOKE, mode], capture_output=True,
                          text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stdout.strip().splitlines()[-1])


def test_training_new_models_provokes_the_warning_and_the_block_silences_it():
    assert _retracing_lines("plain") > 0, "TensorFlow no longer warns here: filter obsolete?"
    assert _retracing_lines("quiet") == 0


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
