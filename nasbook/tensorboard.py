"""TensorBoard logs of a search: per-epoch scalars and an HParams record per trial.

Usage::

    result = nb.search(ds, space, max_trials=10, run_dir="runs/a")   # tensorboard=True
    server = nb.tensorboard.start("runs/a")    # TensorBoard on 127.0.0.1; server.url
    server.stop()
    # in a terminal: nasbook tensorboard runs/a
    # in a notebook:  %load_ext tensorboard  then  %tensorboard --logdir runs/a/tensorboard

Layout, under ``run_dir/tensorboard`` (one run per trial, so TensorBoard's run selector lists
the trials):

- ``trial_NN/train`` and ``trial_NN/validation``: per-epoch scalars as Keras names them
  (``epoch_loss``, ``epoch_accuracy``; on validation also ``epoch_precision``, ``epoch_recall``,
  ``epoch_f1``, macro averages), step = epoch index;
- ``trial_NN``: the HParams plugin's session record of the trial (its active decisions, and its
  status: success, or failure for a failed trial) and its final metrics (those of its best epoch,
  the model kept): ``val_accuracy``, ``val_loss``, ``val_f1``, ..., ``params``, ``train_time_s``;
- the root: the HParams experiment (every decision with its domain, the metrics), written once.

Each trial writes only its own directory (the experiment record is created once, exclusively),
so parallel workers share a run directory safely.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
from pathlib import Path

__all__ = ["LOG_DIR", "log_dir", "epoch_callback", "write_trial", "write_experiment",
           "hparams_table", "start", "Server"]

LOG_DIR = "tensorboard"
_EXPERIMENT_MARK = ".hparams_experiment"
_METRICS = ("val_accuracy", "val_loss", "val_f1", "val_precision", "val_recall", "accuracy",
            "loss", "params", "train_time_s", "epochs_run")


def log_dir(run_dir, trial_id=None) -> Path:
    """``run_dir/tensorboard`` or, with ``trial_id``, that trial's directory in it."""
    root = Path(run_dir) / LOG_DIR
    return root if trial_id is None else root / f"trial_{trial_id}"


def _warn(what, exc):
    warnings.warn(f"nasbook could not write TensorBoard {what} ({type(exc).__name__}: {exc}); "
                  f"the search goes on without it", RuntimeWarning, stacklevel=3)


# --- the experiment: decisions with their domains, metrics ---------------------------------

def _domain(hp):
    from tensorboard.plugins.hparams import api as hp_api

    kind = type(hp).__name__
    if kind == "Choice" or kind == "Fixed" or kind == "Boolean":
        values = ([False, True] if kind == "Boolean" else
                  [hp.value] if kind == "Fixed" else list(hp.values))
        types = {bool if isinstance(v, bool) else str if isinstance(v, str) else float
                 for v in values}
        if len(types) != 1:
            return None
        return hp_api.Discrete(values)
    if kind == "Int":
        return hp_api.IntInterval(int(hp.min_value), int(hp.max_value))
    if kind == "Float":
        return hp_api.RealInterval(float(hp.min_value), float(hp.max_value))
    return None


def write_experiment(run_dir, hyperparameters, objective_name="val_accuracy") -> bool:
    """Write the HParams experiment (each decision and its domain; the metrics) once per run
    directory; returns False if it was already there. ``hyperparameters``: keras-tuner's."""
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hp_api

    root = log_dir(run_dir)
    root.mkdir(parents=True, exist_ok=True)
    try:  # exclusive: one writer even with several workers
        fd = os.open(root / _EXPERIMENT_MARK, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return False
    os.close(fd)
    hparams, names = [], set()
    for hp in hyperparameters.space:
        if hp.name in names or hp.name.startswith("tuner/"):
            continue
        names.add(hp.name)
        hparams.append(hp_api.HParam(hp.name, _domain(hp)))
    metrics = [hp_api.Metric(m, display_name=m) for m in
               [objective_name] + [m for m in _METRICS if m != objective_name]]
    writer = tf.summary.create_file_writer(str(root))
    with writer.as_default():
        hp_api.hparams_config(hparams=hparams, metrics=metrics)
    writer.close()
    return True


# --- per epoch ------------------------------------------------------------------------------

def epoch_callback(run_dir, trial):
    """A Keras callback writing each epoch's logs to ``trial_NN/train`` and
    ``trial_NN/validation`` (put it after the callback that adds val_f1 & co. to the logs)."""
    import keras
    import tensorflow as tf

    base = log_dir(run_dir, trial.trial_id)

    class EpochScalars(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            try:
                write_experiment(run_dir, trial.hyperparameters)
            except Exception as exc:  # logs are a convenience; never fail a trial for them
                _warn("the HParams experiment", exc)
            self.writers = {split: tf.summary.create_file_writer(str(base / split))
                            for split in ("train", "validation")}

        def on_epoch_end(self, epoch, logs=None):
            for key, value in (logs or {}).items():
                try:
                    value = float(value)
                except (TypeError, ValueError):
                    continue
                if key == "learning_rate":
                    continue
                split = "validation" if key.startswith("val_") else "train"
                name = key[4:] if split == "validation" else key
                with self.writers[split].as_default():
                    tf.summary.scalar(f"epoch_{name}", value, step=epoch)

        def on_train_end(self, logs=None):
            for writer in self.writers.values():
                writer.close()

    return EpochScalars()


# --- per trial: the HParams session -----------------------------------------------------------

def _hparam_value(value):
    import numpy as np

    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value) if isinstance(value, (float, np.floating)) else int(value)
    if isinstance(value, str):
        return value
    return None


def write_trial(run_dir, record) -> None:
    """Write a finished trial's HParams session (decisions, status, final metrics) from its
    nasbook record (``trial_NN/nasbook_trial.json``)."""
    try:
        _write_trial(run_dir, record)
    except Exception as exc:
        _warn(f"the HParams record of trial {record.get('trial_id')}", exc)


def _write_trial(run_dir, record):
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hp_api
    from tensorboard.plugins.hparams import api_pb2
    from tensorboard.plugins.hparams import summary as hp_summary

    decisions = record.get("active_values")
    if decisions is None:
        decisions = {k: v for k, v in (record.get("values") or {}).items()
                     if not str(k).startswith("tuner/")}
    hparams = {k: _hparam_value(v) for k, v in decisions.items()}
    hparams = {k: v for k, v in hparams.items() if v is not None}
    writer = tf.summary.create_file_writer(str(log_dir(run_dir, record["trial_id"])))
    step = int(record.get("best_epoch") or 0)
    ok = record.get("status") in ("completed", "duplicate")
    with writer.as_default():
        hp_api.hparams(hparams, trial_id=f"trial_{record['trial_id']}",
                       start_time_secs=int(record.get("started_at") or time.time()))
        if ok:
            values = dict(record.get("metrics") or {})
            values.update({k: record[k] for k in ("params", "train_time_s", "epochs_run")
                           if isinstance(record.get(k), (int, float))})
            for key, value in values.items():
                if isinstance(value, (int, float)):
                    tf.summary.scalar(key, float(value), step=step)
        status = api_pb2.Status.STATUS_SUCCESS if ok else api_pb2.Status.STATUS_FAILURE
        end = hp_summary.session_end_pb(status, end_time_secs=int(record.get("ended_at")
                                                                  or time.time()))
        tf.summary.experimental.write_raw_pb(end.SerializeToString(), step=step)
    writer.close()


# --- reading it back -------------------------------------------------------------------------

def hparams_table(run_dir):
    """The HParams dashboard's table, read from the event files with TensorBoard's own reader
    (``EventAccumulator``): one row per trial directory, indexed by its run name (``trial_00``),
    with its status (``success`` / ``failure``), its decisions and its final metrics.

    Usage: ``nb.tensorboard.hparams_table("runs/demo")`` (a pandas DataFrame).
    """
    import pandas as pd
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2
    from tensorboard.util import tensor_util

    root = log_dir(run_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} does not exist: no TensorBoard logs in {run_dir} (was "
                                f"it searched with tensorboard=False, or is it not a run "
                                f"directory?)")
    rows = {}
    for trial_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        acc = EventAccumulator(str(trial_dir), size_guidance={"tensors": 0})
        acc.Reload()
        try:
            content = acc.PluginTagToContent("hparams")
        except KeyError:  # no HParams record in this directory
            content = {}
        if "_hparams_/session_start_info" not in content:
            continue  # a trial still running (or killed) has no session record yet
        start_info = plugin_data_pb2.HParamsPluginData.FromString(
            content["_hparams_/session_start_info"]).session_start_info
        row = {}
        end = content.get("_hparams_/session_end_info")
        if end is not None:
            status = plugin_data_pb2.HParamsPluginData.FromString(end).session_end_info.status
            row["status"] = {api_pb2.Status.STATUS_SUCCESS: "success",
                             api_pb2.Status.STATUS_FAILURE: "failure"}.get(status, "unknown")
        else:
            row["status"] = "running"
        for key, value in sorted(start_info.hparams.items()):
            row[key] = getattr(value, value.WhichOneof("kind"))
        for tag in acc.Tags().get("tensors", []):
            if tag.startswith("_hparams_/"):
                continue
            events = acc.Tensors(tag)
            if events:
                row[tag] = float(tensor_util.make_ndarray(events[-1].tensor_proto))
        rows[trial_dir.name] = row
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "run"
    return frame


# --- the server -------------------------------------------------------------------------------

def _free_port(host) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class Server:
    """A running TensorBoard: ``url``, ``stop()``; a context manager."""

    def __init__(self, proc, url, logdir):
        self.proc, self.url, self.logdir = proc, url, logdir

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def __repr__(self):
        return f"Server({self.url}, logdir={self.logdir})"


def start(run_dir, port=0, host="127.0.0.1", wait=120.0) -> Server:
    """Start TensorBoard on ``run_dir/tensorboard`` (a subprocess bound to ``host``, 127.0.0.1
    by default; ``port=0`` picks a free one); return once it answers, with its URL."""
    root = log_dir(run_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} does not exist: no TensorBoard logs in {run_dir} (was "
                                f"it searched with tensorboard=False, or is it not a run "
                                f"directory?)")
    port = int(port) or _free_port(host)
    with socket.socket() as sock:
        if sock.connect_ex((host, port)) == 0:
            raise OSError(f"port {port} on {host} is in use; choose another with --port, or 0 "
                          f"for any free port")
    cmd = [sys.executable, "-m", "tensorboard.main", "--logdir", str(root), "--host", host,
           "--port", str(port), "--reload_interval", "5"]
    err_file = tempfile.TemporaryFile()  # a file, not a pipe: a long-lived server never blocks
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err_file,
                            stdin=subprocess.DEVNULL)
    url = f"http://{host}:{port}/"
    deadline = time.monotonic() + wait
    while True:
        if proc.poll() is not None:
            err_file.seek(0)
            err = err_file.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"TensorBoard exited with code {proc.returncode}:\n{err}")
        try:
            with urllib.request.urlopen(url + "data/plugins_listing", timeout=2):
                break
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                raise TimeoutError(f"TensorBoard did not answer at {url} within {wait:.0f} s")
            time.sleep(0.5)
    return Server(proc, url, root)
