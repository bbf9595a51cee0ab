"""One trial of a search, and the keras-tuner glue around it.

``nb.search`` (:mod:`nasbook.search`) runs the loop; this module trains what the loop asks for:

- :class:`SpaceView`: what the search needs from a space (a nasbook SearchSpace, any
  ``keras_tuner.HyperModel`` or a build function), and :func:`check_space`, which builds its
  default model once before keras-tuner sees it;
- :class:`Runner`: trains one trial (early stopping at the best epoch, per-epoch history and
  validation precision/recall/F1, NaN detection: :mod:`nasbook.monitor`), computes the search's
  ``trial_metrics`` on the trained model and a scalarised (weighted) objective, recognises
  duplicates by :func:`nasbook.space.identity.architecture_key`, writes the trial's record with
  where its time went and the process's memory after it (:mod:`nasbook.phases`) and **hands it
  back** (``runner.last_record``), so the loop keeps the best score in memory;
- lean trials (measured by ``benchmarks/trial_overhead.py``): the optimizer's and metrics'
  variables are created before training, so the training step is traced once, not twice; the
  validation split is scored in one batch per epoch; the gradient functions TensorFlow leaks
  per traced training step are released after each trial (flat memory);
- :func:`make_tuner`: a keras-tuner Tuner whose ``run_trial`` is the runner's (it tells the
  runner how long keras-tuner took between two trials);
- :func:`keras_tuner_patched`, :class:`Interrupt`: atomic keras-tuner state files, a quiet
  keras-tuner, and a Ctrl-C that sticks.

Usage (what ``nb.search`` does)::

    view = SpaceView(space); check_space(view, ds)
    runner = Runner(view, ds, objective, epochs, patience, batch_size, seed, run_dir)
    tuner = make_tuner(runner, oracle, view, run_dir)
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import time
from pathlib import Path

import numpy as np

from nasbook import phases, rundir
from nasbook import tensorboard as tb
from nasbook.monitor import (Interrupt, classification_metrics, make_monitor,  # noqa: F401
                             quiet_trainer_retracing)
from nasbook.rundir import MODEL_FILE, RECORD, SearchError
from nasbook.space.identity import architecture_key
from nasbook.strategies.objectives import objective_value, trial_metrics_of

__all__ = ["SpaceView", "check_space", "Runner", "make_tuner", "keras_tuner_patched",
           "Interrupt", "classification_metrics", "TUNER_KEYS"]

# keras-tuner's Hyperband adds these bookkeeping values to a trial; they are not decisions.
TUNER_KEYS = ("tuner/epochs", "tuner/initial_epoch", "tuner/bracket", "tuner/round",
              "tuner/trial_id")


# The validation split is scored after every epoch in batches this large: one step of the
# traced validation function instead of many (the metrics do not depend on the batch size).
_VAL_BATCH = 1024


class _TrialFailed(Exception):
    """Raised inside a trial to record it as failed with a short reason."""


@contextlib.contextmanager
def keras_tuner_patched():
    """keras-tuner writes its state files in place; make those writes atomic while we search,
    so a search killed mid-write (kill -9) can still be resumed. Also keep it from printing
    the traceback of each failed trial (nasbook records the reason instead), and freeze the
    heap as it is (:func:`nasbook.phases.frozen_heap`: cheap garbage collection per trial)."""
    from keras_tuner.src import config as kt_config
    from keras_tuner.src import utils as kt_utils

    original, debug = kt_utils.save_json, kt_config.DEBUG

    def save_json(path, obj):
        text = json.dumps(obj)
        path = str(path)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        return text

    kt_utils.save_json = save_json
    kt_config.DEBUG = False  # else it prints the traceback of every failed trial
    try:
        with phases.frozen_heap():
            yield
    finally:
        kt_utils.save_json, kt_config.DEBUG = original, debug


# --- the space adapter: works for nasbook SearchSpaces and plain keras-tuner HyperModels --------

class SpaceView:
    """What search needs from a space, with fallbacks for a plain keras_tuner.HyperModel."""

    def __init__(self, space):
        import keras_tuner

        if isinstance(space, keras_tuner.HyperModel):
            self.hypermodel = space
        elif callable(space):
            self.hypermodel = _FunctionHyperModel(space)
        else:
            raise SearchError(f"space must be a nasbook SearchSpace (nb.space.preset(...)), a "
                              f"keras_tuner.HyperModel or a build function hp -> model; got "
                              f"{type(space).__name__}")
        self.space = space

    def active_values(self, values: dict) -> dict:
        if hasattr(self.space, "active_values"):
            return dict(self.space.active_values(values))
        return dict(values)

    def architecture_key(self, values: dict) -> str:
        if hasattr(self.space, "architecture_key"):
            return str(self.space.architecture_key(values))
        return architecture_key(self.active_values(values))


def _make_function_hypermodel():
    import keras_tuner

    class FunctionHyperModel(keras_tuner.HyperModel):
        def __init__(self, fn):
            super().__init__(name=getattr(fn, "__name__", "build"))
            self.fn = fn

        def build(self, hp):
            return self.fn(hp)

    return FunctionHyperModel


def _FunctionHyperModel(fn):  # noqa: N802 - a factory that looks like the class it makes
    return _make_function_hypermodel()(fn)


def check_space(view: SpaceView, ds) -> None:
    """Validate the space and build its default model once, before keras-tuner sees it
    (keras-tuner's Tuner constructor builds the space and does not catch a failure)."""
    import keras
    import keras_tuner

    space = view.space
    num_classes = rundir.num_classes(ds)
    shape = getattr(space, "input_shape", None)
    if shape is not None and tuple(shape) != tuple(ds.x_train.shape[1:]):
        raise SearchError(f"the space was made for input shape {tuple(shape)}, but the dataset's "
                          f"examples have shape {tuple(ds.x_train.shape[1:])}; make the space "
                          f"with ds.input_shape, e.g. nb.space.preset('cnn', ds.input_shape, "
                          f"ds.num_classes)")
    n = getattr(space, "num_classes", None)
    if n is not None and int(n) != num_classes:
        raise SearchError(f"the space was made for {n} classes, but the dataset has "
                          f"{num_classes}; make the space with ds.num_classes")
    if hasattr(space, "validate"):
        space.validate()  # raises nasbook.space.SpaceError naming the fix
    try:
        model = view.hypermodel.build(keras_tuner.HyperParameters())
    except Exception as exc:
        raise SearchError(f"the space's default configuration does not build "
                          f"({type(exc).__name__}: {exc}); fix the space before searching "
                          f"(keras-tuner would crash while setting up)") from exc
    if not isinstance(model, keras.Model):
        raise SearchError(f"the space's build(hp) must return a keras.Model, got "
                          f"{type(model).__name__}")
    out = model.outputs[0].shape if getattr(model, "outputs", None) else None
    if out is not None and out[-1] != num_classes:
        raise SearchError(f"the space's models output {out[-1]} values, but the dataset has "
                          f"{num_classes} classes")
    if not getattr(model, "compiled", getattr(model, "optimizer", None) is not None):
        raise SearchError("the space's build(hp) must return a compiled model (compile it with "
                          "a loss, an optimizer and metrics=['accuracy'])")
    del model  # the first trial clears the Keras session


# --- the runner -----------------------------------------------------------------------------

class Runner:
    """Trains one trial: the keras-tuner Tuner subclass delegates ``run_trial`` here."""

    def __init__(self, view, ds, objective, epochs, patience, batch_size, seed, run_dir,
                 progress=None, records=None, tensorboard=False, trial_metrics=None):
        self.tensorboard = tensorboard  # write TensorBoard logs per trial (nasbook/tensorboard)
        # {name: fn(model, dataset) -> float}, computed once per trained trial at its best epoch
        self.trial_metrics = dict(trial_metrics or {})
        # the per-epoch metric that picks the best epoch (a weighted objective names its own)
        self.monitor = getattr(objective, "epoch_objective", objective)
        self.view = view
        self.ds = ds
        self.num_classes = rundir.num_classes(ds)
        self.objective = objective
        self.epochs = epochs
        self.patience = patience
        self.batch_size = batch_size
        self.seed = seed
        self.run_dir = Path(run_dir)
        self.progress = progress
        # {trial_id: record}: read once here, then kept up to date as trials end
        self.records = dict(rundir.records(self.run_dir) if records is None else records)
        self.last_record = None  # the record of the trial that ended last
        self.seen = {}  # architecture key -> trial id of a completed trial
        for rec in self.records.values():
            if rec.get("status") == "completed" and not rec.get("continues"):
                self.seen.setdefault(rec.get("architecture"), rec["trial_id"])

    def run_trial(self, tuner, trial, tuner_s=0.0):
        """Train (or reuse, or fail) one trial; its record ends up in ``self.last_record``.
        ``tuner_s``: seconds since the previous trial in this process ended (its record's
        phases count them as keras-tuner's bookkeeping, :mod:`nasbook.phases`)."""
        self.last_record = None
        self.clock = phases.Clock(tuner_s)
        values = {k: v for k, v in trial.hyperparameters.values.items()}
        decisions = {k: v for k, v in values.items() if k not in TUNER_KEYS}
        trial_dir = Path(tuner.get_trial_dir(trial.trial_id))
        path = trial_dir / RECORD
        old = rundir.read_json(path)
        if (old and old.get("status") in ("completed", "duplicate")
                and old.get("values") == rundir.jsonable(values)):
            # Finished before an interruption hit keras-tuner's own bookkeeping: reuse it.
            self.records[old["trial_id"]] = self.last_record = old
            return self._metrics_for_oracle(old)

        started = time.time()
        record = {"format": rundir.FORMAT_VERSION, "trial_id": trial.trial_id,
                  "number": int(trial.trial_id), "status": "running", "started_at": started,
                  "values": values, "objective": self.objective.name,
                  "direction": self.objective.direction}
        try:
            active = self.view.active_values(decisions)
            record["active_values"] = active
            record["architecture"] = self.view.architecture_key(decisions)
        except Exception as exc:
            return self._fail(path, record, f"the space rejected this configuration "
                                            f"({type(exc).__name__}: {exc})")

        parent = values.get("tuner/trial_id")
        if parent is None and record["architecture"] in self.seen:
            return self._duplicate(path, record, self.seen[record["architecture"]])
        try:
            metrics = self._train(tuner, trial, values, record, trial_dir, parent)
        except Exception as exc:  # any error inside a trial fails that trial only ...
            if Interrupt.flag:  # ... unless it is how Ctrl-C surfaced: the trial is re-run
                raise KeyboardInterrupt from exc
            reason = str(exc) if isinstance(exc, _TrialFailed) else f"{type(exc).__name__}: {exc}"
            return self._fail(path, record, reason)
        if parent is None:
            self.seen.setdefault(record["architecture"], trial.trial_id)
        return metrics

    # -- the three outcomes --

    def _train(self, tuner, trial, values, record, trial_dir, parent):
        import keras

        clock = self.clock
        epochs, initial_epoch = self.epochs, 0
        if "tuner/epochs" in values:  # Hyperband sets the epochs of each trial
            epochs = int(values["tuner/epochs"])
            initial_epoch = int(values.get("tuner/initial_epoch", 0))
        with clock.phase("build"):
            model = self._build(trial, parent, record)

        def on_epoch(epoch, row):
            if self.progress is not None:
                self.progress(trial.trial_id, epoch + 1, epochs)

        monitor = make_monitor()(self.ds.x_val, self.ds.y_val, self.num_classes, on_epoch,
                                  clock)
        stopper = keras.callbacks.EarlyStopping(
            monitor=self.monitor.name, mode=self.monitor.direction,
            patience=self.patience if self.patience else epochs, restore_best_weights=True)
        extra = [tb.epoch_callback(self.run_dir, trial)] if self.tensorboard else []
        t0 = time.perf_counter()
        with phases.released_gradients(), quiet_trainer_retracing():  # see their docstrings
            model.fit(self.ds.x_train, self.ds.y_train, validation_data=(self.ds.x_val,
                      self.ds.y_val), epochs=epochs, initial_epoch=initial_epoch,
                      batch_size=self.batch_size, validation_batch_size=_VAL_BATCH, verbose=0,
                      callbacks=[clock.callback(), monitor, stopper, *extra])
        record["train_time_s"] = time.perf_counter() - t0
        record["history"] = monitor.history
        if monitor.nan_reason:
            raise _TrialFailed(monitor.nan_reason)
        if not monitor.history:
            raise _TrialFailed("training ran no epoch")
        by_epoch = {row["epoch"]: row for row in monitor.history}
        best_epoch = stopper.best_epoch if stopper.best_epoch in by_epoch else None
        if best_epoch is None:  # objective never improved on -inf/inf: it was never finite
            raise _TrialFailed(f"the objective {self.monitor.name} was never a finite number")
        best = by_epoch[best_epoch]
        if self.monitor.name not in best:
            raise _TrialFailed(f"the objective {self.monitor.name!r} is not among the "
                               f"logged metrics {sorted(best)}")
        record["best_epoch"] = int(best_epoch)
        record["epochs_run"] = len(monitor.history)
        record["stopped_early"] = bool(stopper.stopped_epoch > 0)
        record["metrics"] = {k: v for k, v in best.items() if k != "epoch"}
        try:  # the search's trial_metrics on the trained model; a weighted objective's value
            values, times = trial_metrics_of(self.trial_metrics, model, self.ds)
            record["metrics"].update(values)
            record["score"] = objective_value(self.objective, record["metrics"])
        except (ValueError, KeyError) as exc:
            raise _TrialFailed(str(exc)) from exc
        if times:
            record["trial_metrics_time_s"] = times
        with clock.phase("save"):
            tmp = trial_dir / f"partial-{os.getpid()}.keras"
            model.save(tmp)
            os.replace(tmp, trial_dir / MODEL_FILE)
        record["model_file"] = MODEL_FILE
        record["status"] = "completed"
        self._finish(trial_dir / RECORD, record)
        return self._metrics_for_oracle(record)

    def _build(self, trial, parent, record):
        """The trial's compiled model: built from its decisions, or the parent's model loaded
        (Hyperband), after clearing the previous trial's Keras session and seeding."""
        import keras

        keras.backend.clear_session()  # free the previous trial's models (and collect garbage)
        keras.utils.set_random_seed((self.seed * 100_003 + int(trial.trial_id)) % (2 ** 31))
        try:
            if parent is not None:  # Hyperband: continue training the parent trial's model
                import nasbook.space.augment  # noqa: F401 (registers RandomShift1D)

                model = keras.saving.load_model(self._model_path(parent), safe_mode=True)
                record["continues"] = parent
            else:
                model = self.view.hypermodel.build(trial.hyperparameters)
        except Exception as exc:
            raise _TrialFailed(f"the model did not build ({type(exc).__name__}: {exc})") from exc
        if not isinstance(model, keras.Model):
            raise _TrialFailed(f"build(hp) returned {type(model).__name__}, not a keras.Model")
        record["params"] = int(model.count_params())
        _build_state(model, self.ds.x_train[:1], self.ds.y_train[:1])
        return model

    def _duplicate(self, path, record, original_id):
        original = self.records.get(original_id) or {}
        record.update(status="duplicate", duplicate_of=original_id,
                      metrics=original.get("metrics", {}), score=original.get("score"),
                      params=original.get("params"), best_epoch=original.get("best_epoch"),
                      epochs_run=0, train_time_s=0.0, history=[])
        self._finish(path, record)
        return self._metrics_for_oracle(record)

    def _fail(self, path, record, reason):
        import keras_tuner

        record.update(status="failed", failure_reason=reason, score=None)
        self._finish(path, record)
        raise keras_tuner.errors.FailedTrialError(reason)

    def _finish(self, path, record):
        record["ended_at"] = time.time()
        record["duration_s"] = record["ended_at"] - record["started_at"]
        clock = getattr(self, "clock", None) or phases.Clock()
        if self.tensorboard:  # the trial's HParams record
            with clock.phase("log"):
                tb.write_trial(self.run_dir, record)
        record["phases"], record["rss_mb"] = clock.summary(), round(phases.rss_mb(), 1)
        rundir.write_json(path, record)
        self.records[record["trial_id"]] = self.last_record = record

    def _metrics_for_oracle(self, record) -> dict:
        metrics = {k: float(v) for k, v in (record.get("metrics") or {}).items()
                   if isinstance(v, (int, float)) and math.isfinite(v)}
        if isinstance(record.get("params"), int):   # a model-size objective (nsga2)
            metrics.setdefault("params", float(record["params"]))
        if self.objective.name not in metrics:
            metrics[self.objective.name] = float(record["score"])
        return metrics

    def _model_path(self, trial_id) -> Path:
        rec = self.records.get(trial_id) or {}
        if rec.get("status") == "duplicate":
            trial_id = rec["duplicate_of"]
        return self.run_dir / f"trial_{trial_id}" / MODEL_FILE


def _build_state(model, x, y):
    """Create the optimizer's, the loss's and the compiled metrics' variables now, eagerly, on
    one example. Keras 3 on TensorFlow (no distribution strategy) otherwise creates them while
    tracing the first training step, and a tf.function that creates variables is traced twice:
    this halves the tracing of every trial (benchmarks/trial_overhead.py). Public Keras calls
    only; a model they do not suit trains as before."""
    try:
        try:  # a stand-in prediction: the variables depend on shapes only
            y_pred = np.zeros((len(x), *tuple(model.output_shape)[1:]), np.float32)
        except Exception:  # noqa: BLE001 - no static output shape: run the model
            y_pred = model(x, training=False)
        model.compute_loss(x=x, y=y, y_pred=y_pred, training=False)
        model.compute_metrics(x, y, y_pred)
        model.reset_metrics()
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
    except Exception:  # noqa: BLE001 - an optimisation only: fit builds what is missing
        pass


def make_tuner(runner, oracle, view, run_dir: Path):
    """A keras-tuner Tuner on ``oracle`` whose trials are trained by ``runner``, kept in
    ``run_dir`` (keras-tuner's project directory); keras-tuner's "Reloading" line is hidden."""
    import io

    import keras_tuner

    class NasTuner(keras_tuner.Tuner):
        """A keras-tuner Tuner whose trials are trained by nasbook's runner."""

        def __init__(self, runner, **kwargs):
            self.runner = runner
            self.trial_ended = None  # perf_counter() when the previous trial's run ended
            super().__init__(**kwargs)

        def run_trial(self, trial, *args, **kwargs):
            now = time.perf_counter()
            between = 0.0 if self.trial_ended is None else now - self.trial_ended
            try:
                return self.runner.run_trial(self, trial, tuner_s=between)
            finally:
                self.trial_ended = time.perf_counter()

    with contextlib.redirect_stdout(io.StringIO()):  # "Reloading Tuner from ..."
        tuner = NasTuner(runner, oracle=oracle, hypermodel=view.hypermodel,
                         directory=str(run_dir.parent), project_name=run_dir.name,
                         overwrite=False)
    _requeue_orphans(tuner.oracle)
    return tuner


def _requeue_orphans(oracle):
    """Send back for retry every reloaded trial still RUNNING that the Oracle forgot.

    keras-tuner 1.4 writes a new trial's ``trial.json`` (status RUNNING) before it saves
    ``oracle.json``, and on reload retries only the trials ``oracle.json`` lists as ongoing. A
    search killed between those two writes leaves a trial that counts toward ``max_trials``
    but would never run; it is run again, from its start, like any interrupted trial.
    """
    import keras_tuner

    if not isinstance(oracle, keras_tuner.Oracle):   # a distributed worker's client
        return
    queued = set(oracle._retry_queue) | {t.trial_id for t in oracle.ongoing_trials.values()}
    for trial_id, trial in oracle.trials.items():
        if trial.status == keras_tuner.engine.trial.TrialStatus.RUNNING and trial_id not in queued:
            oracle._retry_queue.append(trial_id)
