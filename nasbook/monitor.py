"""What runs during a trial's epochs: the per-epoch callback and a Ctrl-C that sticks.

- :class:`Interrupt`: Ctrl-C handling that survives Keras' garbage collection between trials;
- :func:`make_monitor`: the Keras callback every trial trains with: validation
  precision/recall/F1 added to each epoch's logs (:func:`classification_metrics`), every
  epoch's logs kept, a NaN/inf loss stops the trial (and says when), progress reported, the
  metrics' time counted in the trial's :class:`nasbook.phases.Clock`;
- :func:`quiet_trainer_retracing`: no "triggered tf.function retracing" log line for Keras'
  own training/validation functions while a trial trains (every trial is a new model).

The runner (:mod:`nasbook.runner`) uses both; they live here to keep it short.

Usage (what the runner does)::

    monitor = make_monitor()(ds.x_val, ds.y_val, num_classes, on_epoch, clock)
    model.fit(..., callbacks=[clock.callback(), monitor, ...]); monitor.history
"""
from __future__ import annotations

import contextlib
import math

import numpy as np

from nasbook import phases
from nasbook.logits import predict_classes

__all__ = ["Interrupt", "make_monitor", "classification_metrics", "quiet_trainer_retracing"]


# --- the trainer's retracing log line ---------------------------------------------------------

class _TrainerRetracing:
    """Logging filter: drop TensorFlow's "frequent retracing" warning for Keras' trainer
    functions (``multi_step_on_iterator``, ``one_step_on_data``, ...).

    Every trial builds a new model, so Keras traces new training and validation functions for
    it, by design (their cost is measured: the ``trace_s`` phase of :mod:`nasbook.phases`).
    TensorFlow counts the traces of one Python function across all models and warns once a
    search has trained a few models on little data. Other functions' warnings pass through."""

    def filter(self, record):
        message = record.getMessage()
        return not ("triggered tf.function retracing" in message
                    and "TensorFlowTrainer" in message)


@contextlib.contextmanager
def quiet_trainer_retracing():
    """Filter the trainer's retracing warning out of TensorFlow's logger inside the block.

    Usage: ``with quiet_trainer_retracing(): model.fit(...)``
    """
    import tensorflow as tf

    logger = tf.get_logger()
    quiet = _TrainerRetracing()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


# --- the per-trial callback -----------------------------------------------------------------

def classification_metrics(y_true, y_pred, num_classes) -> dict:
    """Accuracy and macro-averaged precision, recall and F1 (scikit-learn)."""
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    labels = list(range(num_classes))
    p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, labels=labels,
                                                 average="macro", zero_division=0)
    return {"accuracy": float(accuracy_score(y_true, y_pred)), "precision": float(p),
            "recall": float(r), "f1": float(f)}


def make_monitor():
    import keras

    class TrialMonitor(keras.callbacks.Callback):
        """Adds val_precision/val_recall/val_f1 to the logs each epoch, keeps every epoch's
        logs, stops a trial whose loss is NaN/inf (and says when), reports progress."""

        def __init__(self, x_val, y_val, num_classes, on_epoch=None, clock=None):
            super().__init__()
            self.x_val, self.y_val, self.num_classes = x_val, y_val, num_classes
            self.on_epoch = on_epoch
            self.clock = clock or phases.Clock()
            self.history = []
            self.nan_reason = None
            self.epoch = 0

        def on_train_begin(self, logs=None):
            with self.clock.phase("trace"):  # trace the metrics' forward pass on one example
                predict_classes(self.model, self.x_val[:1])

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            Interrupt.check()
            loss = (logs or {}).get("loss")
            if loss is not None and not math.isfinite(float(loss)):
                self.nan_reason = (f"training loss became {float(loss)} at epoch "
                                   f"{self.epoch + 1}, batch {batch + 1} (diverged: try a "
                                   f"smaller learning rate)")
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            Interrupt.check()
            logs = logs if logs is not None else {}
            for key in ("loss", "val_loss"):
                if key in logs and not math.isfinite(float(logs[key])) and not self.nan_reason:
                    self.nan_reason = (f"{key} became {float(logs[key])} at epoch {epoch + 1} "
                                       f"(diverged: try a smaller learning rate)")
                    self.model.stop_training = True
            if self.nan_reason:
                return
            with self.clock.phase("metrics"):
                pred = predict_classes(self.model, self.x_val, batch_size=1024)
                m = classification_metrics(self.y_val, pred, self.num_classes)
            logs["val_precision"] = m["precision"]
            logs["val_recall"] = m["recall"]
            logs["val_f1"] = m["f1"]
            row = {"epoch": int(epoch)}
            row.update({k: float(v) for k, v in logs.items()
                        if np.ndim(v) == 0 and k != "learning_rate"})
            self.history.append(row)
            if self.on_epoch is not None:
                self.on_epoch(epoch, row)

    return TrialMonitor


# --- Ctrl-C ---------------------------------------------------------------------------------

class Interrupt:
    """Make Ctrl-C stick. A KeyboardInterrupt that lands in a garbage-collector callback (Keras
    clears its session between trials) is printed and swallowed by Python; so the handler also
    raises a flag, which the search checks after every batch, epoch and trial."""

    flag = False

    @classmethod
    def handler(cls, signum, frame):
        cls.flag = True
        raise KeyboardInterrupt

    @classmethod
    def check(cls):
        if cls.flag:
            raise KeyboardInterrupt

    @classmethod
    @contextlib.contextmanager
    def installed(cls):
        import signal
        import threading

        cls.flag = False
        ours = (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler)
        if ours:
            signal.signal(signal.SIGINT, cls.handler)
        try:
            yield
        finally:
            if ours:
                signal.signal(signal.SIGINT, signal.default_int_handler)
            cls.flag = False
