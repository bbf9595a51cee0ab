"""Run a NAS search in one call: stop conditions, progress, failure policy, resume.

Usage::

    import nasbook as nb
    ds = nb.load_dataset("mnist1d")
    space = nb.space.preset("cnn", ds.input_shape, ds.num_classes)
    result = nb.search(ds, space, strategy="random", max_trials=10, epochs=5,
                       time_budget=300, run_dir="runs/cnn_random")
    result.trials            # one row per trial (a SearchResult, read from run_dir)

What happens, and where it is written (``run_dir`` is keras-tuner's project directory):

- ``run_dir/manifest.json``: what was asked (dataset, space, strategy, budgets, seed) and one
  entry per call ("session") with its stop reason.
- ``run_dir/oracle.json``, ``trial_NN/trial.json``: keras-tuner's own state (the strategy).
- ``trial_NN/nasbook_trial.json``: our record of the trial: the decisions, the decisions that
  shaped the model (``space.active_values``), the architecture key, status and failure reason,
  the metrics at the best epoch (accuracy, loss, macro precision/recall/F1 on the validation
  split), the per-epoch history, parameter count, training time.
- ``trial_NN/model.keras``: the trained model at its best epoch (load it with
  ``SearchResult.best_model()``, which uses Keras' safe mode).

Stop conditions, checked between trials: ``max_trials`` (every trial the strategy started,
failed and duplicate ones included), ``time_budget`` (seconds of this call: no new trial starts
once it is spent, so a search can overrun it by at most one trial), ``target`` (stop once the
best objective reaches it), and the strategy itself running out of configurations.

Resume: call ``search`` again with the same ``run_dir``; finished trials are read back, never
retrained; a trial that was interrupted (Ctrl-C, kill -9) is run again from its start with the
same configuration. ``overwrite=True`` deletes the run directory and starts afresh.

Failure policy: a trial whose model does not build, whose loss becomes NaN or infinite, or that
raises, is recorded as ``failed`` with its reason and the search goes on; after
``max_consecutive_failures`` failed trials in a row the search stops with a SearchError (the
finished trials stay on disk).

Duplicates: a trial whose active decisions equal those of a finished trial builds the same model
and trains it the same way, so it is not retrained: it is recorded as ``duplicate`` and reuses
that trial's score (the strategy still sees a score for what it proposed; it costs no training
and has no model file of its own).

keras-tuner pitfalls handled here: trials run with our own ``run_trial`` (TensorBoard logs are
our own: nasbook/tensorboard.py), keras-tuner stays silent (its display clears notebook cells;
the progress bar is ours), per-epoch history is recorded by a callback (keras-tuner keeps only
the best epoch), models are saved as ``.keras`` and loaded in safe mode (no
``get_best_models()``), trials are identified by the decisions actually built, time/target stops
are checked between trials by our loop, the space is validated and its default model built before
the Tuner exists (its constructor does not catch build errors), and the Keras session is cleared
before every trial.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import shutil
import sys
import time
import types
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

__all__ = ["search", "SearchError", "MANIFEST", "RECORD", "MODEL_FILE"]

MANIFEST = "manifest.json"
RECORD = "nasbook_trial.json"
MODEL_FILE = "model.keras"
KILLED = "killed or crashed (never ended)"
FORMAT_VERSION = 1

# keras-tuner's Hyperband adds these bookkeeping values to a trial; they are not decisions.
_TUNER_KEYS = ("tuner/epochs", "tuner/initial_epoch", "tuner/bracket", "tuner/round",
               "tuner/trial_id")


class SearchError(RuntimeError):
    """The search cannot start or cannot go on: a bad argument, a space whose default model does
    not build, a run directory holding a different search, or too many failed trials in a row."""


class _TrialFailed(Exception):
    """Raised inside a trial to record it as failed with a short reason."""


# --- small helpers ---------------------------------------------------------------------------

def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def write_json(path, obj) -> None:
    """Write JSON atomically (temporary file, then rename), so kill -9 never leaves half a file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as f:
        json.dump(_jsonable(obj), f, indent=1, allow_nan=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_json(path):
    """The JSON object in ``path``, or None if it is missing or unreadable."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


@contextlib.contextmanager
def _keras_tuner_patched():
    """keras-tuner writes its state files in place; make those writes atomic while we search,
    so a search killed mid-write (kill -9) can still be resumed. Also keep it from printing
    the traceback of each failed trial (nasbook records the reason instead)."""
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
        yield
    finally:
        kt_utils.save_json, kt_config.DEBUG = original, debug


def _fmt_seconds(s) -> str:
    s = max(0, int(round(s)))
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def config_key(active_values: dict) -> str:
    """A short stable id of a configuration (its active decisions)."""
    text = json.dumps(_jsonable(active_values), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _dataset_signature(ds) -> dict:
    h = hashlib.sha256()
    for arr in (ds.x_train, ds.y_train, ds.x_val, ds.y_val):
        h.update(np.ascontiguousarray(arr).tobytes())
    return {"name": getattr(ds, "name", "custom"), "input_shape": list(ds.x_train.shape[1:]),
            "num_classes": int(_num_classes(ds)), "n_train": int(len(ds.y_train)),
            "n_val": int(len(ds.y_val)), "fingerprint": h.hexdigest()[:16]}


def _num_classes(ds) -> int:
    n = getattr(ds, "num_classes", None)
    return int(n) if n is not None else int(max(ds.y_train.max(), ds.y_val.max()) + 1)


def _space_signature(space) -> dict:
    info = {"class": type(space).__name__}
    if hasattr(space, "decisions"):
        info["decisions"] = [[name, _jsonable(list(choices))]
                             for name, choices in space.decisions()]
    if hasattr(space, "size"):
        try:
            info["size"] = int(space.size())
        except Exception:  # a size that cannot be counted is not needed to search
            pass
    if hasattr(space, "describe"):
        try:
            info["describe"] = str(space.describe())
        except Exception:
            pass
    return info


# --- the space adapter: works for nasbook SearchSpaces and plain keras-tuner HyperModels --------

class _SpaceView:
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
        return config_key(self.active_values(values))


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


def _check_space(view: _SpaceView, ds) -> None:
    """Validate the space and build its default model once, before keras-tuner sees it
    (keras-tuner's Tuner constructor builds the space and does not catch a failure)."""
    import keras
    import keras_tuner

    space = view.space
    num_classes = _num_classes(ds)
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


# --- the per-trial callback -----------------------------------------------------------------

def _predict_classes(model, x, batch_size=1024) -> np.ndarray:
    out = [np.asarray(model(x[i:i + batch_size], training=False))
           for i in range(0, len(x), batch_size)]
    return np.concatenate(out).argmax(axis=1)


def classification_metrics(y_true, y_pred, num_classes) -> dict:
    """Accuracy and macro-averaged precision, recall and F1 (scikit-learn)."""
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    labels = list(range(num_classes))
    p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, labels=labels,
                                                 average="macro", zero_division=0)
    return {"accuracy": float(accuracy_score(y_true, y_pred)), "precision": float(p),
            "recall": float(r), "f1": float(f)}


def _make_monitor():
    import keras

    class TrialMonitor(keras.callbacks.Callback):
        """Adds val_precision/val_recall/val_f1 to the logs each epoch, keeps every epoch's
        logs, stops a trial whose loss is NaN/inf (and says when), reports progress."""

        def __init__(self, x_val, y_val, num_classes, on_epoch=None):
            super().__init__()
            self.x_val, self.y_val, self.num_classes = x_val, y_val, num_classes
            self.on_epoch = on_epoch
            self.history = []
            self.nan_reason = None
            self.epoch = 0

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            _Interrupt.check()
            loss = (logs or {}).get("loss")
            if loss is not None and not math.isfinite(float(loss)):
                self.nan_reason = (f"training loss became {float(loss)} at epoch "
                                   f"{self.epoch + 1}, batch {batch + 1} (diverged: try a "
                                   f"smaller learning rate)")
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            _Interrupt.check()
            logs = logs if logs is not None else {}
            for key in ("loss", "val_loss"):
                if key in logs and not math.isfinite(float(logs[key])) and not self.nan_reason:
                    self.nan_reason = (f"{key} became {float(logs[key])} at epoch {epoch + 1} "
                                       f"(diverged: try a smaller learning rate)")
                    self.model.stop_training = True
            if self.nan_reason:
                return
            pred = _predict_classes(self.model, self.x_val)
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

class _Interrupt:
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


# --- the runner -----------------------------------------------------------------------------

class _Runner:
    """Trains one trial: the keras-tuner Tuner subclass delegates ``run_trial`` here."""

    def __init__(self, view, ds, objective, epochs, patience, batch_size, seed, run_dir,
                 progress, tensorboard=False):
        self.tensorboard = tensorboard  # [scale15 hook T1] write TensorBoard logs per trial
        self.view = view
        self.ds = ds
        self.num_classes = _num_classes(ds)
        self.objective = objective
        self.epochs = epochs
        self.patience = patience
        self.batch_size = batch_size
        self.seed = seed
        self.run_dir = Path(run_dir)
        self.progress = progress
        self.seen = {}  # config key -> trial id of a completed trial
        for rec in _records(self.run_dir).values():
            if rec.get("status") == "completed" and not rec.get("continues"):
                self.seen.setdefault(rec["config_key"], rec["trial_id"])

    def run_trial(self, tuner, trial):
        values = {k: v for k, v in trial.hyperparameters.values.items()}
        decisions = {k: v for k, v in values.items() if k not in _TUNER_KEYS}
        trial_dir = Path(tuner.get_trial_dir(trial.trial_id))
        path = trial_dir / RECORD
        old = read_json(path)
        if (old and old.get("status") in ("completed", "duplicate")
                and old.get("values") == _jsonable(values)):
            # Finished before an interruption hit keras-tuner's own bookkeeping: reuse it.
            return self._metrics_for_oracle(old)

        started = time.time()
        record = {"format": FORMAT_VERSION, "trial_id": trial.trial_id,
                  "number": int(trial.trial_id), "status": "running", "started_at": started,
                  "values": values, "objective": self.objective.name,
                  "direction": self.objective.direction}
        try:
            active = self.view.active_values(decisions)
            record["active_values"] = active
            record["architecture"] = self.view.architecture_key(decisions)
            record["config_key"] = config_key(active)
        except Exception as exc:
            return self._fail(path, record, f"the space rejected this configuration "
                                            f"({type(exc).__name__}: {exc})")

        parent = values.get("tuner/trial_id")
        if parent is None and record["config_key"] in self.seen:
            return self._duplicate(path, record, self.seen[record["config_key"]])
        try:
            metrics = self._train(tuner, trial, values, record, trial_dir, parent)
        except _TrialFailed as exc:
            return self._fail(path, record, str(exc))
        except Exception as exc:  # any error inside a trial fails that trial only
            return self._fail(path, record, f"{type(exc).__name__}: {exc}")
        if parent is None:
            self.seen.setdefault(record["config_key"], trial.trial_id)
        return metrics

    # -- the three outcomes --

    def _train(self, tuner, trial, values, record, trial_dir, parent):
        import keras

        keras.backend.clear_session()  # free the previous trial's models (and collect garbage)
        number = int(trial.trial_id)
        keras.utils.set_random_seed((self.seed * 100_003 + number) % (2 ** 31))
        epochs, initial_epoch = self.epochs, 0
        if "tuner/epochs" in values:  # Hyperband sets the epochs of each trial
            epochs = int(values["tuner/epochs"])
            initial_epoch = int(values.get("tuner/initial_epoch", 0))
        try:
            if parent is not None:  # Hyperband: continue training the parent trial's model
                model = keras.saving.load_model(self._model_path(parent), safe_mode=True)
                record["continues"] = parent
            else:
                model = self.view.hypermodel.build(trial.hyperparameters)
        except Exception as exc:
            raise _TrialFailed(f"the model did not build ({type(exc).__name__}: {exc})") from exc
        if not isinstance(model, keras.Model):
            raise _TrialFailed(f"build(hp) returned {type(model).__name__}, not a keras.Model")
        record["params"] = int(model.count_params())

        def on_epoch(epoch, row):
            if self.progress is not None:
                self.progress(trial.trial_id, epoch + 1, epochs)

        monitor = _make_monitor()(self.ds.x_val, self.ds.y_val, self.num_classes, on_epoch)
        stopper = keras.callbacks.EarlyStopping(
            monitor=self.objective.name, mode=self.objective.direction,
            patience=self.patience if self.patience else epochs, restore_best_weights=True)
        extra = []  # [scale15 hook T2] per-epoch TensorBoard scalars (nasbook/tensorboard.py)
        if self.tensorboard:
            from nasbook import tensorboard as tb
            extra = [tb.epoch_callback(self.run_dir, trial)]
        t0 = time.perf_counter()
        model.fit(self.ds.x_train, self.ds.y_train, validation_data=(self.ds.x_val,
                  self.ds.y_val), epochs=epochs, initial_epoch=initial_epoch,
                  batch_size=self.batch_size, verbose=0, callbacks=[monitor, stopper, *extra])
        record["train_time_s"] = time.perf_counter() - t0
        record["history"] = monitor.history
        if monitor.nan_reason:
            raise _TrialFailed(monitor.nan_reason)
        if not monitor.history:
            raise _TrialFailed("training ran no epoch")
        by_epoch = {row["epoch"]: row for row in monitor.history}
        best_epoch = stopper.best_epoch if stopper.best_epoch in by_epoch else None
        if best_epoch is None:  # objective never improved on -inf/inf: it was never finite
            raise _TrialFailed(f"the objective {self.objective.name} was never a finite number")
        best = by_epoch[best_epoch]
        if self.objective.name not in best:
            raise _TrialFailed(f"the objective {self.objective.name!r} is not among the "
                               f"logged metrics {sorted(best)}")
        record["best_epoch"] = int(best_epoch)
        record["epochs_run"] = len(monitor.history)
        record["stopped_early"] = bool(stopper.stopped_epoch > 0)
        record["metrics"] = {k: v for k, v in best.items() if k != "epoch"}
        record["score"] = float(best[self.objective.name])
        tmp = trial_dir / f"partial-{os.getpid()}.keras"
        model.save(tmp)
        os.replace(tmp, trial_dir / MODEL_FILE)
        record["model_file"] = MODEL_FILE
        record["status"] = "completed"
        self._finish(trial_dir / RECORD, record)
        return self._metrics_for_oracle(record)

    def _duplicate(self, path, record, original_id):
        original = read_json(self.run_dir / f"trial_{original_id}" / RECORD) or {}
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
        write_json(path, record)
        if self.tensorboard:  # [scale15 hook T3] the trial's HParams record
            from nasbook import tensorboard as tb
            tb.write_trial(self.run_dir, record)

    def _metrics_for_oracle(self, record) -> dict:
        metrics = {k: float(v) for k, v in (record.get("metrics") or {}).items()
                   if isinstance(v, (int, float)) and math.isfinite(v)}
        if self.objective.name not in metrics:
            metrics[self.objective.name] = float(record["score"])
        return metrics

    def _model_path(self, trial_id) -> Path:
        rec = read_json(self.run_dir / f"trial_{trial_id}" / RECORD) or {}
        if rec.get("status") == "duplicate":
            trial_id = rec["duplicate_of"]
        return self.run_dir / f"trial_{trial_id}" / MODEL_FILE


def _make_tuner_class():
    import keras_tuner

    class NasTuner(keras_tuner.Tuner):
        """A keras-tuner Tuner whose trials are trained by nasbook's runner."""

        def __init__(self, runner, **kwargs):
            self.runner = runner
            super().__init__(**kwargs)

        def run_trial(self, trial, *args, **kwargs):
            return self.runner.run_trial(self, trial)

    return NasTuner


def _records(run_dir) -> dict:
    """``{trial_id: record}`` for every nasbook trial record in ``run_dir``."""
    out = {}
    for path in sorted(Path(run_dir).glob(f"trial_*/{RECORD}")):
        rec = read_json(path)
        if rec is not None:
            out[rec["trial_id"]] = rec
    return out


# --- the run directory ----------------------------------------------------------------------

def _prepare_run_dir(run_dir: Path, overwrite: bool, request: dict) -> dict:
    """Create, check or wipe the run directory; return its manifest (not yet written)."""
    manifest_path = run_dir / MANIFEST
    if run_dir.exists() and not run_dir.is_dir():
        raise SearchError(f"run_dir {run_dir} is a file; give a directory")
    if overwrite and run_dir.exists():
        looks_ours = (manifest_path.exists() or (run_dir / "oracle.json").exists()
                      or not any(run_dir.iterdir()))
        if not looks_ours:
            raise SearchError(f"overwrite=True would delete {run_dir}, which is not a search "
                              f"run directory (no {MANIFEST}); choose another run_dir")
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    manifest = read_json(manifest_path)
    if manifest is None:
        if (run_dir / "oracle.json").exists():
            raise SearchError(f"{run_dir} holds a keras-tuner project that nasbook did not "
                              f"write (no {MANIFEST}); use another run_dir or overwrite=True")
        return {"format": FORMAT_VERSION, "created": _now(), **request, "sessions": []}
    for key, label in (("dataset", "dataset"), ("space", "search space"),
                       ("strategy", "strategy"), ("objective", "objective"),
                       ("seed", "seed"), ("batch_size", "batch size")):
        old, new = manifest.get(key), request.get(key)
        if key == "space":
            old = {k: v for k, v in (old or {}).items() if k in ("class", "decisions")}
            new = {k: v for k, v in new.items() if k in ("class", "decisions")}
        if _jsonable(old) != _jsonable(new):
            raise SearchError(f"{run_dir} holds a search with a different {label} "
                              f"(saved: {_short(old)}; now: {_short(new)}). To resume, call "
                              f"search with the same {label}; to start another search use a "
                              f"new run_dir, or overwrite=True to replace this one.")
    manifest.update({k: v for k, v in request.items() if k not in ("space",)})
    for session in manifest.get("sessions", []):
        if session.get("stop_reason") == "running":  # that process never got to say why
            session["stop_reason"] = KILLED
    return manifest


def _short(value, limit=160) -> str:
    text = json.dumps(_jsonable(value), sort_keys=True)
    return text if len(text) <= limit else text[:limit] + "..."


# --- the search -----------------------------------------------------------------------------

def _check_args(max_trials, time_budget, target, epochs, patience, batch_size, seed,
                max_consecutive_failures):
    def positive_int(name, value, allow_none=False):
        if value is None and allow_none:
            return
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise SearchError(f"{name} must be a positive integer"
                              f"{' or None' if allow_none else ''}, got {value!r}")

    positive_int("max_trials", max_trials)
    positive_int("epochs", epochs)
    positive_int("early_stopping_patience", patience, allow_none=True)
    positive_int("batch_size", batch_size)
    positive_int("max_consecutive_failures", max_consecutive_failures)
    if time_budget is not None and (isinstance(time_budget, bool) or
                                    not isinstance(time_budget, (int, float)) or
                                    not time_budget > 0):
        raise SearchError(f"time_budget is in seconds and must be a positive number or None, "
                          f"got {time_budget!r}")
    if target is not None and (isinstance(target, bool) or not isinstance(target, (int, float))
                               or not math.isfinite(target)):
        raise SearchError(f"target must be a number (e.g. 0.9 for val_accuracy) or None, got "
                          f"{target!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SearchError(f"seed must be a non-negative integer, got {seed!r}")


def _check_dataset(ds):
    needed = ("x_train", "y_train", "x_val", "y_val")
    if not all(hasattr(ds, a) for a in needed):
        raise SearchError(f"dataset must be a nasbook Dataset (nb.load_dataset(...) or "
                          f"nb.from_arrays(...)) with {', '.join(needed)}; got "
                          f"{type(ds).__name__}")
    if len(ds.y_val) == 0:
        raise SearchError("the dataset has an empty validation split; the search scores "
                          "every trial on it")


def _best(records: dict, objective):
    scores = [(rec["score"], rec["number"]) for rec in records.values()
              if rec.get("status") in ("completed", "duplicate")
              and isinstance(rec.get("score"), (int, float)) and math.isfinite(rec["score"])]
    if not scores:
        return None
    pick = max if objective.direction == "max" else min
    return pick(s for s, _ in scores)


def search(dataset, space, strategy="random", objective="val_accuracy", *, max_trials=10,
           time_budget=None, target=None, epochs=10, early_stopping_patience=3,
           batch_size=64, run_dir="runs/search", overwrite=False, seed=0,
           max_consecutive_failures=3, progress=True, workers=1, listen=None,
           tensorboard=True, **strategy_options):
    """Search ``space`` on ``dataset`` with a strategy; return a SearchResult read from run_dir.

    Args:
        dataset: a nasbook Dataset; trials train on its train split and are scored on its
            validation split (the test split is never used).
        space: a nasbook SearchSpace, any keras_tuner.HyperModel, or a build function.
        strategy: a name from ``nb.strategies.available()`` or a keras_tuner Oracle.
        objective: "val_accuracy" (default), "val_loss", "val_f1", "val_precision", ...
        max_trials: the number of trials in the run directory when the search ends.
        time_budget: seconds this call may spend; no new trial starts once it is spent.
        target: stop once the best objective reaches this value.
        epochs, early_stopping_patience: per trial; each trial keeps its best epoch.
        run_dir: where everything is written; calling again with it resumes the search.
        overwrite: True deletes run_dir first and starts afresh.
        seed: the same seed gives the same sequence of configurations (and initial weights).
        max_consecutive_failures: failed trials in a row before the search stops.
        progress: show a progress bar (trials done, best so far, time left).
        workers: worker processes that train trials in parallel (1 = in this process). With
            more, this process serves the strategy's Oracle with keras-tuner's gRPC chief on
            127.0.0.1 (see nasbook.distributed); the run directory is the same.
        listen: "host:port" for the chief to also serve workers started elsewhere with
            ``nasbook worker`` (workers=0: only those). No authentication: keep it private.
        tensorboard: write per-epoch scalars and an HParams record per trial under
            ``run_dir/tensorboard`` (``nasbook tensorboard RUN_DIR`` shows them).
        **strategy_options: passed to the strategy, e.g. ``num_initial_points=4``.

    Usage: ``result = nb.search(ds, space, "random", max_trials=10, run_dir="runs/a")``
    """
    import keras_tuner

    from nasbook import strategies
    from nasbook.results import SearchResult

    _check_args(max_trials, time_budget, target, epochs, early_stopping_patience, batch_size,
                seed, max_consecutive_failures)
    _check_dataset(dataset)
    from nasbook import distributed  # [scale15 hook D1] workers / listen checked up front
    distributed.check_args(workers, listen)
    try:
        objective_obj = strategies.make_objective(objective)
    except strategies.StrategyError as exc:
        raise SearchError(str(exc)) from None
    view = _SpaceView(space)
    _check_space(view, dataset)

    # The strategy: a name from the registry, or an Oracle the caller made.
    if isinstance(strategy, keras_tuner.Oracle):
        if strategy_options:
            raise SearchError(f"options {sorted(strategy_options)} are for a strategy given by "
                              f"name; configure your Oracle object directly instead")
        if strategy.objective.name != objective_obj.name:
            raise SearchError(f"the Oracle optimises {strategy.objective.name!r} but "
                              f"objective={objective_obj.name!r}; make them agree")
        oracle, strategy_name = strategy, type(strategy).__name__
        oracle.max_trials = max_trials
    elif isinstance(strategy, str):
        opts = dict(strategy_options)
        try:
            if "max_epochs" in strategies.options(strategy):
                opts.setdefault("max_epochs", epochs)
            if "architecture_key" in strategies.options(strategy):  # dedupe by model built
                opts.setdefault("architecture_key", view.architecture_key)
            oracle = strategies.get(strategy, objective=objective_obj, max_trials=max_trials,
                                    seed=int(seed), **opts)
        except strategies.StrategyError as exc:
            raise SearchError(str(exc)) from None
        strategy_name = strategy.strip().lower()
    else:
        raise SearchError(f"strategy must be a name ({', '.join(strategies.available())}) or a "
                          f"keras_tuner Oracle, got {type(strategy).__name__}")
    # nasbook applies its own failure policy (with reasons); keras-tuner prints nothing.
    oracle.max_consecutive_failed_trials = 10 ** 9
    oracle.max_retries_per_trial = 0
    oracle.verbose = 0

    run_dir = Path(run_dir).expanduser().resolve()
    request = {
        "dataset": _dataset_signature(dataset), "space": _space_signature(view.space),
        "strategy": strategy_name, "strategy_options": _jsonable(strategy_options),
        "objective": {"name": objective_obj.name, "direction": objective_obj.direction},
        "max_trials": max_trials, "time_budget": time_budget, "target": target,
        "epochs": epochs, "early_stopping_patience": early_stopping_patience,
        "batch_size": batch_size, "seed": int(seed),
        "max_consecutive_failures": max_consecutive_failures,
    }
    manifest = _prepare_run_dir(run_dir, overwrite, request)
    session = {"started": _now(), "ended": None, "stop_reason": "running",
               "max_trials": max_trials, "time_budget": time_budget, "target": target,
               "trials_run": 0, "seconds": 0.0}
    manifest["sessions"].append(session)
    write_json(run_dir / MANIFEST, manifest)

    bar = _Progress(progress, max_trials, time_budget, objective_obj)
    runner = _Runner(view, dataset, objective_obj, epochs, early_stopping_patience, batch_size,
                     int(seed), run_dir, bar.epoch, tensorboard=tensorboard)  # [scale15 T1]
    start = time.perf_counter()
    reason = "running"
    failures_in_a_row = []
    with _keras_tuner_patched(), _Interrupt.installed():
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # "Reloading Tuner from ..."
                tuner = _make_tuner_class()(runner, oracle=oracle, hypermodel=view.hypermodel,
                                            directory=str(run_dir.parent),
                                            project_name=run_dir.name, overwrite=False)
        except Exception as exc:
            session.update(ended=_now(), stop_reason=f"could not start: {exc}")
            write_json(run_dir / MANIFEST, manifest)
            raise SearchError(f"keras-tuner could not set up the search in {run_dir} "
                              f"({type(exc).__name__}: {exc})") from exc
        import keras

        records = _records(run_dir)
        done = sum(1 for r in records.values() if r.get("status") != "running")
        bar.start(done, _best(records, objective_obj))
        idle = 0
        start = time.perf_counter()  # the budget counts time spent searching, not setting up
        try:
            tuner.on_search_begin()
            if workers != 1 or listen is not None:  # [scale15 hook D2] trials run in workers
                reason, failures_in_a_row = distributed.serve(
                    tuner, run_dir=run_dir, dataset=dataset, space=view.space,
                    objective=objective_obj, epochs=epochs, patience=early_stopping_patience,
                    batch_size=batch_size, seed=seed, tensorboard=tensorboard,
                    max_trials=max_trials, time_budget=time_budget, target=target,
                    max_consecutive_failures=max_consecutive_failures, workers=workers,
                    listen=listen, session=session, manifest=manifest, bar=bar)
            while workers == 1 and listen is None:  # [scale15 hook D2] was: while True
                _Interrupt.check()
                elapsed = time.perf_counter() - start
                n_started = len(oracle.trials)
                best = _best(_records(run_dir), objective_obj)
                if n_started >= max_trials and not oracle._retry_queue:
                    reason = f"max_trials reached ({max_trials} trials)"
                    break
                if target is not None and best is not None and (
                        best >= target if objective_obj.direction == "max" else best <= target):
                    reason = f"target reached ({objective_obj.name} {best:.4g} vs {target})"
                    break
                if time_budget is not None and elapsed >= time_budget:
                    reason = f"time budget spent ({_fmt_seconds(elapsed)} of " \
                             f"{_fmt_seconds(time_budget)})"
                    break
                trial = oracle.create_trial(tuner.tuner_id)
                if trial.status == keras_tuner.engine.trial.TrialStatus.STOPPED:
                    reason = "the strategy has no more configurations to propose"
                    break
                if trial.status == keras_tuner.engine.trial.TrialStatus.IDLE:
                    idle += 1
                    if idle > 3:
                        reason = "the strategy is waiting for trials that will not finish"
                        break
                    continue
                idle = 0
                bar.trial_begins(trial.trial_id)
                tuner.on_trial_begin(trial)
                tuner._try_run_and_update_trial(trial)
                tuner.on_trial_end(trial)
                _Interrupt.check()
                session["trials_run"] += 1
                session["seconds"] = time.perf_counter() - start
                write_json(run_dir / MANIFEST, manifest)
                rec = read_json(run_dir / f"trial_{trial.trial_id}" / RECORD) or {}
                bar.trial_ends(rec, _best(_records(run_dir), objective_obj),
                               time.perf_counter() - start)
                if rec.get("status") == "failed" or trial.status == "FAILED":
                    failures_in_a_row.append(rec.get("failure_reason")
                                             or _last_line(trial.message))
                else:
                    failures_in_a_row = []
                if len(failures_in_a_row) >= max_consecutive_failures:
                    reason = f"{len(failures_in_a_row)} failed trials in a row"
                    break
            tuner.on_search_end()
        except KeyboardInterrupt:
            reason = "interrupted"
            raise
        except BaseException as exc:
            reason = f"error: {type(exc).__name__}: {exc}"
            raise
        finally:
            bar.close()
            session.update(ended=_now(), stop_reason=reason,
                           seconds=time.perf_counter() - start)
            write_json(run_dir / MANIFEST, manifest)
            if reason == "interrupted":
                n = sum(1 for r in _records(run_dir).values()
                        if r.get("status") in ("completed", "duplicate", "failed"))
                print(f"Search interrupted: {n} finished trials are saved in {run_dir}. Call "
                      f"search again with the same run_dir to resume.", file=sys.stderr)
            keras.backend.clear_session()

    if failures_in_a_row and len(failures_in_a_row) >= max_consecutive_failures:
        listed = "\n".join(f"  - {r}" for r in failures_in_a_row)
        raise SearchError(f"{len(failures_in_a_row)} trials in a row failed, so the search "
                          f"stopped (max_consecutive_failures={max_consecutive_failures}). "
                          f"Reasons:\n{listed}\nThe finished trials are kept in {run_dir}; fix "
                          f"the space (e.g. smaller learning rates) and call search again to "
                          f"resume, or raise max_consecutive_failures.")
    result = SearchResult.load(run_dir)
    if progress:
        print(f"{reason}. {result.summary()}")
    return result


def _last_line(message) -> str:
    lines = [ln for ln in str(message or "").strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "unknown error"


class _Progress:
    """A tqdm.auto bar: a widget in JupyterLab, text in a terminal. Never clears the cell."""

    def __init__(self, enabled, total, time_budget, objective):
        self.enabled, self.total = enabled, total
        self.time_budget, self.objective = time_budget, objective
        self.bar = None
        self.best = None
        self.t0 = time.perf_counter()

    def start(self, done, best):
        self.best = best
        if not self.enabled:
            return
        from tqdm.auto import tqdm

        self.bar = tqdm(total=self.total, initial=min(done, self.total), unit="trial",
                        desc="search", dynamic_ncols=True, leave=True)
        self._postfix()

    def _postfix(self, extra=None):
        if self.bar is None:
            return
        parts = {}
        if self.best is not None:
            parts["best"] = f"{self.best:.4f}"
        if self.time_budget is not None:
            left = self.time_budget - (time.perf_counter() - self.t0)
            parts["left"] = _fmt_seconds(left)
        if extra:
            parts.update(extra)
        self.bar.set_postfix(parts, refresh=True)

    def trial_begins(self, trial_id):
        self._postfix({"trial": trial_id})

    def epoch(self, trial_id, epoch, epochs):
        self._postfix({"trial": trial_id, "epoch": f"{epoch}/{epochs}"})

    def trial_ends(self, record, best, elapsed):
        self.best = best
        if self.bar is not None:
            if self.bar.n < self.total:
                self.bar.update(1)
            status = record.get("status", "?")
            self._postfix({"last": status})

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class _CallableModule(types.ModuleType):
    """Lets ``nb.search(...)`` call :func:`search` while ``nb.search.SearchError`` still works."""

    def __call__(self, *args, **kwargs):
        return search(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
