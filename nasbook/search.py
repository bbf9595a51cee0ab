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

Parallel and distributed: ``workers=N`` (N > 1) trains N trials at a time in N local worker
processes; this process serves the strategy's Oracle with keras-tuner's gRPC chief on 127.0.0.1
(:mod:`nasbook.distributed`). ``listen="host:port"`` also serves workers started elsewhere with
``nasbook worker`` (``workers=0``: only those); there is no authentication, so keep it on a
private network. The run directory has the same format as with ``workers=1`` (this process);
the *search* is the same only for a strategy whose proposals ignore results (random search):
evolution, Bayesian optimisation, Hyperband and the others propose trials while other trials
still run, so they see fewer results than one process would and may propose differently.
``worker_threads`` sets each local worker's TensorFlow threads (default: ``cores // workers``
intra-op threads, at least 1, and 1 inter-op thread, so that N workers do not each start a
thread per core, unless this process's environment sets ``TF_NUM_INTRAOP_THREADS`` /
``TF_NUM_INTEROP_THREADS``; an int or ``(intra_op, inter_op)`` overrides, ``(0, 0)`` is
TensorFlow's own default); with several GPUs each local worker gets one (``CUDA_VISIBLE_DEVICES``) and memory
growth (``TF_FORCE_GPU_ALLOW_GROWTH``): :func:`nasbook.distributed.worker_env`.

Several objectives: ``trial_metrics={"faithfulness": fn}`` computes ``fn(model, dataset) ->
float`` on every trained model (at its best epoch) and records it beside Keras' metrics (in the
trial record, ``SearchResult.trials`` with its cost in seconds as ``faithfulness_time_s``, and
the metrics the strategy sees). ``objective=nb.strategies.weighted({"val_accuracy": 1.0,
"faithfulness": 0.5})`` optimises a weighted sum of recorded metrics (its best epoch is picked by
``val_accuracy``); ``strategy="nsga2", objectives=[("val_accuracy", "max"), ("faithfulness",
"max")]`` keeps a Pareto front instead. A metric name nothing records is refused before training.
Both run in this process only (not with ``workers``/``listen``).

TensorBoard: ``tensorboard=True`` writes per-epoch scalars and an HParams record per trial under
``run_dir/tensorboard`` (:mod:`nasbook.tensorboard`); ``nasbook tensorboard RUN_DIR`` shows them.

Where the code lives: this module is the algorithm (check -> strategy -> run directory -> loop ->
result); :mod:`nasbook.runner` trains one trial and holds the keras-tuner glue,
:mod:`nasbook.progress` draws the bar, :mod:`nasbook.rundir` owns the files.

Why ``nb.search`` is a callable module rather than a function re-exported by the package:
Python sets ``nasbook.search`` to the *module* as soon as anything imports
``nasbook.search`` (``from nasbook.search import SearchError`` does), so a function of the same
name on the package would be silently replaced, and which one ``nb.search`` meant would depend
on import order. A callable module is one object that is both: ``nb.search(...)`` runs a search
and ``nb.search.SearchError`` is its error, whatever was imported first.
"""
from __future__ import annotations

import math
import sys
import types
from pathlib import Path

import numpy as np

from nasbook import distributed, rundir
from nasbook.progress import Progress, fmt_seconds
# Old import paths (tests and notebooks use ``from nasbook.search import KILLED, RECORD, ...``).
from nasbook.rundir import (KILLED, MANIFEST, MODEL_FILE, RECORD, SearchError,  # noqa: F401
                            read_json, write_json)
from nasbook.runner import (Interrupt, Runner, SpaceView, check_space,  # noqa: F401
                            classification_metrics, keras_tuner_patched, make_tuner)
from nasbook.space.identity import architecture_key as config_key  # noqa: F401 (old name)

__all__ = ["search", "SearchError", "MANIFEST", "RECORD", "MODEL_FILE"]


def search(dataset, space, strategy="random", objective="val_accuracy", *, max_trials=10,
           time_budget=None, target=None, epochs=10, early_stopping_patience=3,
           batch_size=64, run_dir="runs/search", overwrite=False, seed=0,
           max_consecutive_failures=3, progress=True, workers=1, listen=None,
           worker_threads=None, tensorboard=True, trial_metrics=None, **strategy_options):
    """Search ``space`` on ``dataset`` with a strategy; return a SearchResult read from run_dir.

    Args: ``dataset`` a nasbook Dataset (train split trains, validation split scores);
    ``space`` a SearchSpace, keras_tuner.HyperModel or build function; ``strategy`` a name
    from ``nb.strategies.available()`` or a keras_tuner Oracle; ``objective`` "val_accuracy",
    "val_loss", "val_f1", ...; stop conditions ``max_trials`` (trials in run_dir),
    ``time_budget`` (seconds of this call), ``target`` (best objective reached);
    ``epochs``/``early_stopping_patience``/``batch_size`` per trial; ``run_dir`` (calling
    again resumes; ``overwrite=True`` starts afresh); ``seed`` (same seed, same sequence);
    ``max_consecutive_failures``; ``progress`` (a bar); ``workers`` (processes training
    trials), ``listen`` ("host:port" for ``nasbook worker``s elsewhere), ``worker_threads``
    (TensorFlow threads of each local worker): "Parallel and distributed" above;
    ``tensorboard``, ``trial_metrics``, a weighted ``objective`` (above); ``**strategy_options``.

    Usage: ``result = nb.search(ds, space, "random", max_trials=10, run_dir="runs/a")``
    """
    import keras

    from nasbook.results import SearchResult

    _check_args(max_trials, time_budget, target, epochs, early_stopping_patience, batch_size,
                seed, max_consecutive_failures)
    _check_dataset(dataset)
    distributed.check_args(workers, listen, worker_threads)  # and GPU memory growth if local
    objective, trial_metrics = _objective(objective, trial_metrics, workers, listen)
    view = SpaceView(space)
    check_space(view, dataset)
    oracle, strategy_name = _strategy(strategy, objective, view, max_trials, epochs, seed,
                                      strategy_options, trial_metrics)

    run_dir = Path(run_dir).expanduser().resolve()
    request = {
        "dataset": rundir.dataset_signature(dataset), "space": rundir.space_signature(space),
        "strategy": strategy_name, "strategy_options": rundir.jsonable(strategy_options),
        "objective": _objective_record(objective, trial_metrics),
        "max_trials": max_trials, "time_budget": time_budget, "target": target,
        "epochs": epochs, "early_stopping_patience": early_stopping_patience,
        "batch_size": batch_size, "seed": int(seed),
        "max_consecutive_failures": max_consecutive_failures}
    log = rundir.Session(run_dir, rundir.prepare(run_dir, overwrite, request),
                         max_trials=max_trials, time_budget=time_budget, target=target)
    bar = Progress(progress, max_trials, time_budget, objective)
    runner = Runner(view, dataset, objective, epochs, early_stopping_patience, batch_size,
                    int(seed), run_dir, bar.epoch, tensorboard=tensorboard,
                    trial_metrics=trial_metrics)
    stops = _Stops(max_trials, time_budget, target, max_consecutive_failures, objective)
    serve = _serve(workers, listen, request, dataset, view, tensorboard, worker_threads)
    with keras_tuner_patched(), Interrupt.installed():
        try:
            tuner = make_tuner(runner, oracle, view, run_dir)
        except Exception as exc:
            log.end(f"could not start: {exc}")
            raise SearchError(f"keras-tuner could not set up the search in {run_dir} "
                              f"({type(exc).__name__}: {exc})") from exc
        reason = "running"
        try:
            reason = _loop(tuner, oracle, runner, bar, stops, log, serve)
        except KeyboardInterrupt:
            reason = "interrupted"
            raise
        except BaseException as exc:
            reason = f"error: {type(exc).__name__}: {exc}"
            raise
        finally:
            bar.close()
            log.end(reason)
            if reason == "interrupted":
                _say_interrupted(runner.records, run_dir)
            keras.backend.clear_session()
    stops.raise_if_failed_out(run_dir)
    result = SearchResult.load(run_dir)
    if progress:
        print(f"{reason}. {result.summary()}")
    return result


def _serve(workers, listen, request, dataset, view, tensorboard, worker_threads=None):
    """None for a search in this process; else ``serve(tuner, bar, log, objective)``, which
    hands the trials to worker processes (nasbook.distributed) and returns ``(reason, failures)``."""
    if workers == 1 and listen is None:
        return None
    options = {k: request[k] for k in ("max_trials", "time_budget", "target", "epochs",
                                       "batch_size", "seed", "max_consecutive_failures")}

    def serve(tuner, bar, log, objective):
        return distributed.serve(tuner, run_dir=log.path.parent, dataset=dataset,
                                 space=view.space, objective=objective,
                                 patience=request["early_stopping_patience"],
                                 tensorboard=tensorboard, workers=workers, listen=listen,
                                 log=log, bar=bar, worker_threads=worker_threads, **options)
    return serve


def _loop(tuner, oracle, runner, bar, stops, log, serve=None) -> str:
    """Run trials until a stop condition holds; return why it stopped. The best score is kept
    in memory from the records the runner hands back (no re-reading of the run directory).
    With ``serve`` (see :func:`_serve`) worker processes run the trials instead."""
    import keras_tuner

    TrialStatus = keras_tuner.engine.trial.TrialStatus  # noqa: N806
    best = rundir.best_score(runner.records.values(), stops.objective)
    bar.start(sum(1 for r in runner.records.values() if r.get("status") != "running"), best)
    idle = 0
    log.clock()  # the budget counts time spent searching, not setting up
    tuner.on_search_begin()
    if serve is not None:
        reason, stops.failures = serve(tuner, bar, log, stops.objective)
        tuner.on_search_end()
        return reason
    while True:
        Interrupt.check()
        reason = stops.before_trial(len(oracle.trials), bool(oracle._retry_queue), best,
                                    log.elapsed())
        if reason:
            break
        trial = oracle.create_trial(tuner.tuner_id)
        if trial.status == TrialStatus.STOPPED:
            reason = "the strategy has no more configurations to propose"
            break
        if trial.status == TrialStatus.IDLE:
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
        Interrupt.check()
        log.trial_done()
        record = runner.last_record or {}
        best = rundir.best_score([record], stops.objective, best)
        bar.trial_ends(record, best, log.elapsed())
        reason = stops.after_trial(record, trial)
        if reason:
            break
    tuner.on_search_end()
    return reason


class _Stops:
    """The stop conditions: checked before each trial (max_trials, target, time budget) and
    after it (failed trials in a row)."""

    def __init__(self, max_trials, time_budget, target, max_failures, objective):
        self.max_trials, self.time_budget, self.target = max_trials, time_budget, target
        self.max_failures, self.objective = max_failures, objective
        self.failures = []  # reasons of the failed trials in a row

    def before_trial(self, n_started, retrying, best, elapsed):
        if n_started >= self.max_trials and not retrying:
            return f"max_trials reached ({self.max_trials} trials)"
        if self.target is not None and best is not None and (
                best >= self.target if self.objective.direction == "max"
                else best <= self.target):
            return f"target reached ({self.objective.name} {best:.4g} vs {self.target})"
        if self.time_budget is not None and elapsed >= self.time_budget:
            return (f"time budget spent ({fmt_seconds(elapsed)} of "
                    f"{fmt_seconds(self.time_budget)})")
        return None

    def after_trial(self, record, trial):
        if record.get("status") == "failed" or trial.status == "FAILED":
            self.failures.append(record.get("failure_reason") or rundir.last_line(trial.message))
        else:
            self.failures = []
        if len(self.failures) >= self.max_failures:
            return f"{len(self.failures)} failed trials in a row"
        return None

    def raise_if_failed_out(self, run_dir):
        if self.failures and len(self.failures) >= self.max_failures:
            listed = "\n".join(f"  - {r}" for r in self.failures)
            raise SearchError(
                f"{len(self.failures)} trials in a row failed, so the search stopped "
                f"(max_consecutive_failures={self.max_failures}). Reasons:\n{listed}\nThe "
                f"finished trials are kept in {run_dir}; fix the space (e.g. smaller learning "
                f"rates) and call search again to resume, or raise max_consecutive_failures.")


def _objective(objective, trial_metrics, workers, listen):
    """The objective as a keras_tuner.Objective and ``trial_metrics`` as a dict, checked: the
    terms of a weighted objective must be recorded metrics (Keras' or ``trial_metrics``)."""
    from nasbook import strategies

    try:
        objective = strategies.make_objective(objective)
    except strategies.StrategyError as exc:
        raise SearchError(str(exc)) from None
    trial_metrics = _check_trial_metrics(trial_metrics)
    known = [*strategies.OBJECTIVES, *trial_metrics]
    for metric in getattr(objective, "weights", {}):
        if metric not in known:
            raise SearchError(f"the weighted objective uses {metric!r}, which no trial records;"
                              f" recorded metrics: {', '.join(known)}. Compute it with "
                              f"trial_metrics={{{metric!r}: fn}} (fn(model, dataset) -> float).")
    if objective.name in trial_metrics:
        raise SearchError(f"the objective {objective.name!r} is computed after training, so it "
                          f"cannot pick each trial's best epoch; optimise "
                          f"nb.strategies.weighted({{{objective.name!r}: 1.0}}, "
                          f"select_epoch_by='val_accuracy') instead")
    if (trial_metrics or hasattr(objective, "weights")) and (workers != 1 or listen):
        raise SearchError("trial_metrics and weighted objectives run in this process only "
                          "(worker processes cannot receive the functions); use workers=1 "
                          "without listen")
    return objective, trial_metrics


def _check_trial_metrics(trial_metrics) -> dict:
    """``{name: fn(model, dataset) -> float}``, checked (None -> {})."""
    from nasbook import strategies

    if trial_metrics is None:
        return {}
    if not isinstance(trial_metrics, dict):
        raise SearchError(f"trial_metrics must be a dict {{name: fn(model, dataset) -> "
                          f"float}}, got {type(trial_metrics).__name__}")
    for name, fn in trial_metrics.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise SearchError(f"trial metric names must be identifiers such as 'faithfulness',"
                              f" got {name!r}")
        if name in strategies.OBJECTIVES or name == "params":
            raise SearchError(f"trial metric {name!r} would replace a metric the search "
                              f"already records; give it another name")
        if not callable(fn):
            raise SearchError(f"trial metric {name!r} must be a function (model, dataset) -> "
                              f"float, got {type(fn).__name__}")
    return dict(trial_metrics)


def _objective_record(objective, trial_metrics) -> dict:
    """What the manifest records of the objective (a resumed search must match it)."""
    out = {"name": objective.name, "direction": objective.direction}
    if hasattr(objective, "describe"):
        out = objective.describe()
    if trial_metrics:
        out["trial_metrics"] = sorted(trial_metrics)
    return out


def _strategy(strategy, objective, view, max_trials, epochs, seed, strategy_options,
              trial_metrics=None):
    """The Oracle (a name from the registry, or one the caller made) and the strategy's name;
    nasbook applies its own failure policy (with reasons) and keras-tuner prints nothing."""
    import keras_tuner

    from nasbook import strategies

    if isinstance(strategy, keras_tuner.Oracle):
        if strategy_options:
            raise SearchError(f"options {sorted(strategy_options)} are for a strategy given by "
                              f"name; configure your Oracle object directly instead")
        if strategy.objective.name != objective.name:
            raise SearchError(f"the Oracle optimises {strategy.objective.name!r} but "
                              f"objective={objective.name!r}; make them agree")
        oracle, strategy_name = strategy, type(strategy).__name__
        oracle.max_trials = max_trials
    elif isinstance(strategy, str):
        opts = dict(strategy_options)
        try:
            if "max_epochs" in strategies.options(strategy):
                opts.setdefault("max_epochs", epochs)
            if "architecture_key" in strategies.options(strategy):  # dedupe by model built
                opts.setdefault("architecture_key", view.architecture_key)
            oracle = strategies.get(strategy, objective=objective, max_trials=max_trials,
                                    seed=int(seed), **opts)
        except strategies.StrategyError as exc:
            raise SearchError(str(exc)) from None
        strategy_name = strategy.strip().lower()
    else:
        raise SearchError(f"strategy must be a name ({', '.join(strategies.available())}) or a "
                          f"keras_tuner Oracle, got {type(strategy).__name__}")
    needed = [m for m in getattr(oracle, "metric_names", []) if m not in
              [*strategies.OBJECTIVES, "params", objective.name, *(trial_metrics or {})]]
    if needed:
        raise SearchError(f"strategy {strategy_name!r} optimises {needed}, which no trial "
                          f"records; compute them with trial_metrics={{name: fn}} (fn(model, "
                          f"dataset) -> float) or choose among {', '.join(strategies.OBJECTIVES)}"
                          f", params")
    oracle.max_consecutive_failed_trials = 10 ** 9
    oracle.max_retries_per_trial = 0
    oracle.verbose = 0
    return oracle, strategy_name


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


def _say_interrupted(records, run_dir):
    n = sum(1 for r in records.values() if r.get("status") in ("completed", "duplicate", "failed"))
    print(f"Search interrupted: {n} finished trials are saved in {run_dir}. Call search again "
          f"with the same run_dir to resume.", file=sys.stderr)


class _CallableModule(types.ModuleType):
    """Lets ``nb.search(...)`` call :func:`search` while ``nb.search.SearchError`` still works
    (see the module docstring for why this is a callable module)."""

    def __call__(self, *args, **kwargs):
        return search(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
