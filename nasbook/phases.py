"""Where a trial's time goes, and how much memory the process holds: the runner's bookkeeping.

The runner (:mod:`nasbook.runner`) times every trial with a :class:`Clock` and writes the
summary into the trial's record (``record["phases"]``, ``record["rss_mb"]``), so every search
has them, distributed ones too; ``SearchResult.phases()`` reads them back as a table. Two
helpers keep trials lean: :func:`released_gradients` (memory TensorFlow would leak per traced
training step) and :func:`frozen_heap` (cheap garbage collection between trials).

The phases, in wall seconds (they add up to ``total_s``):

- ``build_s``: clearing the previous trial's Keras session, seeding, building and compiling
  the model (or loading the parent's model, for a Hyperband continuation), creating its
  optimizer's and metrics' variables;
- ``trace_s``: tracing and first-time set-up of the traced functions: the training step (the
  first training batch minus the median batch), the validation step (the same, over the
  validation batches) and the forward pass of the per-epoch metrics (a one-example warm-up);
- ``fit_s``: the epochs themselves, steady state (the training batches of every epoch, less
  ``trace_s``'s training part);
- ``evaluate_s``: the validation split after each epoch: Keras' loss and accuracy pass, the
  macro precision/recall/F1 of the predictions (less their tracing);
- ``save_s``: writing the trained model (``model.keras``);
- ``other_s``: the rest: keras-tuner's bookkeeping between this trial and the previous one in
  the same process (``tuner_s``: ending the previous trial, proposing this one), Keras' fit
  set-up, the callbacks (early stopping, restoring the best weights), TensorBoard logs
  (``log_s`` holds the HParams record's part), the record's own bookkeeping.

``overhead_fraction`` = (``total_s`` - ``fit_s``) / ``total_s``: the share of a trial not spent
in steady training epochs. ``rss_mb``: the resident memory of the process at the trial's end.

Usage (what the runner does)::

    clock = Clock(tuner_s=seconds_since_the_previous_trial)
    with clock.phase("build"):
        model = build(hp)
    model.fit(..., callbacks=[clock.callback(), ...])   # first in the list
    # the monitor adds phases "trace" (its warm-up) and "metrics"; the runner "save", "log"
    record["phases"], record["rss_mb"] = clock.summary(), rss_mb()
"""
from __future__ import annotations

import contextlib
import os
import time

import numpy as np

__all__ = ["Clock", "rss_mb", "peak_rss_mb", "trial_by_hand", "step_costs", "released_gradients",
           "frozen_heap", "COLUMNS", "PARTS"]

# the phases that add up to total_s, in the order of a trial
PARTS = ("build_s", "trace_s", "fit_s", "evaluate_s", "save_s", "other_s")
# SearchResult.phases()'s columns after trial_id and status
COLUMNS = (*PARTS, "total_s", "overhead_fraction", "rss_mb", "tuner_s", "log_s")


def rss_mb() -> float:
    """The resident set size of this process in MiB (psutil; /proc/self/statm without it)."""
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil is a dependency of the environment
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20
    return psutil.Process().memory_info().rss / 2 ** 20


def peak_rss_mb() -> float:
    """The peak resident memory of this process so far, in MiB: ``resource.getrusage`` on Linux
    (which reports KiB) and macOS (bytes); on Windows, which has no ``resource`` module,
    psutil's ``peak_wset`` (the peak working set)."""
    import sys

    try:
        import resource
    except ImportError:  # Windows
        import psutil

        return psutil.Process().memory_info().peak_wset / 2 ** 20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2 ** 20 if sys.platform == "darwin" else peak / 2 ** 10


def trial_by_hand(build, x, y, x_val, y_val, *, epochs, batch_size=64, seed=0) -> dict:
    """One trial taken apart by hand, in this process, with ``time.perf_counter`` around each
    phase: the lesson version of what :class:`Clock` measures in every trial of a search.

    ``build()`` returns a compiled model. Phases (seconds): ``build_s`` (clearing the Keras
    session, seeding, ``build()``); ``trace_s`` (a first one-epoch fit, less one steady epoch:
    the tracing); ``fit_s`` (``epochs`` further epochs, steady state); ``evaluate_s`` (the
    validation split; its own tracing included); ``save_s`` (``model.keras`` into a temporary
    folder). Returns those, ``total_s``, ``overhead_fraction`` (1 - fit_s / total_s),
    ``params``, and ``peak_rss_mb_before`` / ``peak_rss_mb_after`` (:func:`peak_rss_mb`).
    """
    import tempfile
    from pathlib import Path

    import keras

    out = {"peak_rss_mb_before": peak_rss_mb()}
    t = time.perf_counter()
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    model = build()                                              # build and compile
    out["build_s"] = time.perf_counter() - t
    t = time.perf_counter()
    model.fit(x, y, epochs=1, batch_size=batch_size, verbose=0)  # traces, then one epoch
    first_epoch = time.perf_counter() - t
    t = time.perf_counter()
    model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)   # steady state
    out["fit_s"] = time.perf_counter() - t
    out["trace_s"] = max(first_epoch - out["fit_s"] / epochs, 0.0)    # the first epoch's extra
    t = time.perf_counter()
    model.evaluate(x_val, y_val, verbose=0)
    out["evaluate_s"] = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        model.save(Path(tmp) / "model.keras")
        out["save_s"] = time.perf_counter() - t
    parts = ("build_s", "trace_s", "fit_s", "evaluate_s", "save_s")
    out["total_s"] = sum(out[k] for k in parts)
    out["overhead_fraction"] = 1 - out["fit_s"] / out["total_s"]
    out["params"] = model.count_params()
    out["peak_rss_mb_after"] = peak_rss_mb()
    return out


def step_costs(build, x, y, batch_sizes, *, steps=20, devices=("/CPU:0",), seed=0):
    """The cost of a training step at each batch size on each device, and a line through them.

    For each device and batch size: a fresh ``build()`` (one trace each), one untimed
    ``train_on_batch`` (the trace), then the median of ``steps`` timed ones (robust to other
    programs sharing the machine). ``x``/``y`` are repeated to the largest batch. Returns
    ``(table, fits)``: ``table`` a DataFrame indexed by (device, batch_size) with
    ``ms_per_step`` and ``us_per_example``; ``fits`` ``{device: (step_s, example_s)}``, the
    least-squares line ``step time = step_s + batch size * example_s`` (each clipped at 0; a
    slope at or below 0 means the cost per example was too small to separate from the noise).
    """
    import keras
    import pandas as pd
    import tensorflow as tf

    largest = max(batch_sizes)
    x_big = np.resize(x, (largest, *np.shape(x)[1:]))
    y_big = np.resize(y, largest)
    rows, fits = [], {}
    for device in devices:
        for batch in batch_sizes:
            with tf.device(device):
                keras.utils.set_random_seed(seed)
                model = build()
                xb, yb = x_big[:batch], y_big[:batch]
                model.train_on_batch(xb, yb)            # the first step traces; not timed
                seconds = []
                for _ in range(steps):
                    t = time.perf_counter()
                    model.train_on_batch(xb, yb)
                    seconds.append(time.perf_counter() - t)
            rows.append({"device": device, "batch_size": batch,
                         "ms_per_step": 1e3 * float(np.median(seconds))})
        mine = [r for r in rows if r["device"] == device]
        slope, intercept = np.polyfit([r["batch_size"] for r in mine],
                                      [r["ms_per_step"] / 1e3 for r in mine], 1)
        fits[device] = (max(float(intercept), 0.0), max(float(slope), 0.0))
    table = pd.DataFrame(rows).set_index(["device", "batch_size"])
    table["us_per_example"] = 1e3 * table.ms_per_step / table.index.get_level_values(1)
    return table, fits


@contextlib.contextmanager
def released_gradients():
    """Forget, when the block ends, the gradient functions TensorFlow registered inside it.

    Keras 3's TensorFlow optimizer sums gradients through ``ReplicaContext.all_reduce``, a
    ``tf.custom_gradient``; in a traced function that registers a gradient function under a new
    global name ("CustomGradient-N") that is never removed, and it holds the whole traced
    training graph: 2.6 MB more resident memory per trial (7.7 MB before the runner built the
    optimizer eagerly, when each training step was traced twice). An entry is read only while
    a gradient is being traced, so once the trial's training has been traced it is dead: the
    ones registered inside the block are removed. A TensorFlow without this registry: no-op.

    Usage: ``with released_gradients(): model.fit(...)``
    """
    try:
        from tensorflow.python.framework import ops as tf_ops

        registry = tf_ops._gradient_registry._registry  # noqa: SLF001 - see above
    except (ImportError, AttributeError):  # pragma: no cover - another TensorFlow
        registry = None
    before = set(registry) if isinstance(registry, dict) else None
    try:
        yield
    finally:
        if before is not None:
            for name in [k for k in registry if k not in before]:
                if str(name).startswith("CustomGradient-"):
                    registry.pop(name, None)


@contextlib.contextmanager
def frozen_heap():
    """Keep the objects that exist now out of Python's garbage collections until the block
    ends (``gc.freeze``), so that the collection each trial starts with (Keras'
    ``clear_session``, which frees the previous trial's model) scans only what the search
    created: 0.25 CPU seconds per trial over ~410,000 objects (TensorFlow, Keras, a notebook's
    own) become ~0. Objects that exist now and become cyclic garbage meanwhile are collected
    after the block. A no-op if something else froze the heap already.

    Usage: ``with frozen_heap(): run the trials``
    """
    import gc

    if gc.get_freeze_count():
        yield
        return
    gc.collect()  # freeze no garbage
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _first_minus_median(durations) -> float:
    """How much longer the first call took than a typical later one (>= 0)."""
    if len(durations) < 2:
        return 0.0
    return max(0.0, durations[0] - float(np.median(durations[1:])))


class Clock:
    """Per-phase wall seconds of one trial, from its start (the clock's creation).

    ``tuner_s``: seconds between the end of the previous trial in this process and this one's
    start (keras-tuner's bookkeeping); 0 for the first.
    """

    def __init__(self, tuner_s=0.0):
        if not (isinstance(tuner_s, (int, float)) and tuner_s >= 0):
            raise ValueError(f"tuner_s must be a number of seconds >= 0, got {tuner_s!r}")
        self.started = time.perf_counter()
        self.tuner_s = float(tuner_s)
        self.seconds = {}  # phase name -> seconds
        self.train_batches, self.val_batches = [], []  # per-batch seconds, every epoch
        self.epochs = []  # per epoch: seconds of training batches (begin to validation)
        self.validations = []  # per epoch: seconds of Keras' validation pass

    @contextlib.contextmanager
    def phase(self, name):
        """Add the seconds spent in the ``with`` block to phase ``name``."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - t0)

    def add(self, name, seconds):
        self.seconds[name] = self.seconds.get(name, 0.0) + float(seconds)

    def callback(self):
        """A Keras callback timing epochs, batches and validation passes (put it first)."""
        return _make_epoch_timer()(self)

    def summary(self) -> dict:
        """``{build_s, trace_s, fit_s, evaluate_s, save_s, other_s, total_s,
        overhead_fraction, tuner_s, log_s}`` up to now; the parts add up to ``total_s``."""
        s = self.seconds.get
        total = self.tuner_s + time.perf_counter() - self.started
        trace_train = _first_minus_median(self.train_batches)
        trace_val = _first_minus_median(self.val_batches)
        trace = trace_train + trace_val + s("trace", 0.0)
        fit = max(0.0, sum(self.epochs) - trace_train)
        evaluate = max(0.0, sum(self.validations) - trace_val) + s("metrics", 0.0)
        out = {"build_s": s("build", 0.0), "trace_s": trace, "fit_s": fit,
               "evaluate_s": evaluate, "save_s": s("save", 0.0)}
        out["other_s"] = max(0.0, total - sum(out.values()))
        out["total_s"] = total
        out["overhead_fraction"] = (total - fit) / total if total > 0 else float("nan")
        out["tuner_s"] = self.tuner_s
        out["log_s"] = s("log", 0.0)
        return {k: round(float(v), 6) for k, v in out.items()}


def _make_epoch_timer():
    import keras

    class EpochTimer(keras.callbacks.Callback):
        """Times each epoch's training batches and validation pass into a Clock."""

        def __init__(self, clock):
            super().__init__()
            self.clock = clock
            self._epoch = self._batch = self._test = None

        def on_epoch_begin(self, epoch, logs=None):
            self._epoch, self._test = time.perf_counter(), None

        def on_train_batch_begin(self, batch, logs=None):
            self._batch = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self.clock.train_batches.append(time.perf_counter() - self._batch)

        def on_test_begin(self, logs=None):
            self._test = time.perf_counter()
            if self._epoch is not None:  # validation inside fit: the epoch's batches ended
                self.clock.epochs.append(self._test - self._epoch)
                self._epoch = None

        def on_test_batch_begin(self, batch, logs=None):
            self._batch = time.perf_counter()

        def on_test_batch_end(self, batch, logs=None):
            self.clock.val_batches.append(time.perf_counter() - self._batch)

        def on_test_end(self, logs=None):
            self.clock.validations.append(time.perf_counter() - self._test)

        def on_epoch_end(self, epoch, logs=None):
            if self._epoch is not None:  # no validation this epoch
                self.clock.epochs.append(time.perf_counter() - self._epoch)
                self._epoch = None

    return EpochTimer
