"""Simulated search: the same Oracle classes as a real search, answered from the table.

Each proposed architecture is scored by looking it up (the mean over seeds, or one seed's
run) instead of training, so a strategy can be run hundreds of times in seconds. Regret is
measured on test accuracy of the architecture the search would pick by validation accuracy.
Hyperband is multi-fidelity: it asks for a number of epochs, and is answered from the
per-epoch validation curve; every history counts its cost in epochs.

Usage::

    history = nb.bench.simulate("evolution", budget=100, seed=0, population_size=10)
    history.test_of_best_so_far.iloc[-1]
    nb.bench.simulate("hyperband", budget=300, seed=0).cumulative_epochs.iloc[-1]
"""
from __future__ import annotations

import keras_tuner as kt
import numpy as np
import pandas as pd

from nasbook.bench.space import DECISIONS, RECIPE, bench_space
from nasbook.trials import tag

__all__ = ["simulate", "lookup_table", "curve_columns", "architecture_curves"]

MULTI_FIDELITY = ("hyperband",)


def curve_columns(table) -> list:
    """The per-epoch validation accuracy columns (``val_accuracy_e01`` ...), in epoch order."""
    columns = [c for c in table.columns if str(c).startswith("val_accuracy_e")
               and str(c)[len("val_accuracy_e"):].isdigit()]
    return sorted(columns, key=lambda c: int(c[len("val_accuracy_e"):]))


def architecture_curves(table, config, metric="val_accuracy") -> list:
    """The recorded per-epoch ``metric`` curves (``<metric>_e01`` ...) of one architecture,
    one array per run (seed) of ``table``; ``config`` is ``{decision: value}`` (decisions it
    leaves out match any value). Empty when the table has no such curves.

    Usage: ``nb.bench.architecture_curves(nb.bench.load(), {**DEFAULTS, "kernel": 5})``
    """
    from nasbook.labels import same

    prefix = f"{metric}_e"
    columns = sorted(c for c in table.columns if str(c).startswith(prefix)
                     and str(c)[len(prefix):].isdigit())
    if not columns:
        return []
    mask = np.ones(len(table), dtype=bool)
    for d, v in config.items():
        if d in table.columns:
            mask &= np.array([same(t, v) for t in table[d]])
    return [np.asarray(r, dtype=float) for r in table.loc[mask, columns].to_numpy()]


def lookup_table(table, *, run_seed=None, columns=()) -> pd.DataFrame:
    """One row per architecture: mean (or one seed's) validation and test accuracy, the
    per-epoch validation accuracy curve when the table has one, and the mean of every other
    numeric column named in ``columns`` (e.g. ``params``, or a faithfulness score)."""
    rows = table[table["status"] == "completed"] if "status" in table else table
    if run_seed is not None:
        rows = rows[rows["seed"] == run_seed]
        if rows.empty:
            raise ValueError(f"the table has no runs with seed {run_seed}")
    missing = [c for c in columns if c not in rows.columns]
    if missing:
        raise ValueError(f"the table has no column(s) {missing}; its numeric columns are "
                         f"{sorted(rows.select_dtypes('number').columns)}")
    base = ["val_accuracy", "test_accuracy", *curve_columns(rows)]
    extra = [c for c in dict.fromkeys(columns) if c not in base]
    return rows.groupby(list(DECISIONS))[base + extra].mean()


def _cost(values, full_epochs):
    """(fidelity, epochs trained) of one trial. A Hyperband trial that continues an earlier
    one (``tuner/trial_id``) resumes from its checkpoint, so it trains only the new epochs."""
    epochs = int(values.get("tuner/epochs", full_epochs))
    if "tuner/trial_id" in values:
        return epochs, epochs - int(values.get("tuner/initial_epoch", 0))
    return epochs, epochs


def _objective_and_metrics(objective, metrics, options):
    """The oracle's objective and the table columns every trial reports besides
    ``val_accuracy`` (``metrics``, a multi-objective strategy's ``objectives`` and the
    terms of a scalarised objective)."""
    if objective is None:
        objective = kt.Objective("val_accuracy", "max")
    if not isinstance(objective, kt.Objective):
        raise ValueError(f"objective must be None (val_accuracy) or a keras_tuner.Objective "
                         f"such as nb.strategies.weighted({{...}}), got {objective!r}")
    if isinstance(metrics, str):
        metrics = [metrics]
    names = list(metrics)
    for pair in options.get("objectives") or ():
        names.append(pair[0] if not isinstance(pair, str) else pair)
    names += list(getattr(objective, "weights", {}))
    if objective.name not in ("val_accuracy", *names) and not hasattr(objective, "value"):
        names.append(objective.name)
    return objective, [n for n in dict.fromkeys(names) if n != "val_accuracy"]


def simulate(strategy, budget, seed=0, *, table=None, run_seed=None, objective=None,
             metrics=(), **options):
    """Run ``strategy`` (a registry name) for ``budget`` evaluations against the table.

    Returns a DataFrame, one row per evaluation: the decisions, ``epochs`` (the fidelity the
    strategy asked for), ``cost_epochs`` (epochs trained for it) and ``cumulative_epochs``,
    ``val_accuracy`` (what the strategy saw), ``test_accuracy``, ``best_val_so_far`` and
    ``test_of_best_so_far`` (the test accuracy of the architecture with the best validation
    accuracy so far). ``attrs`` hold the trials format (:mod:`nasbook.trials`): the decisions,
    their domains, objective ``val_accuracy`` and direction ``max``.

    Single-fidelity strategies train every architecture for the full recipe (the table's
    number of epochs, :data:`RECIPE` ``["epochs"]`` = 15), and see its final validation
    accuracy. ``"hyperband"`` sees the validation accuracy after ``tuner/epochs`` epochs and
    pays ``tuner/epochs - tuner/initial_epoch`` epochs for a trial that continues an earlier
    one (as a real Tuner resumes from the checkpoint; the table's curve stands for
    uninterrupted training), ``tuner/epochs`` otherwise. Its defaults here: ``max_epochs`` =
    the table's epoch count, and no limit on Hyperband iterations, so ``budget`` decides
    (the search stops earlier once it can draw no unseen architecture). The architecture it
    picks is the one with the best validation accuracy seen at any fidelity, and its
    ``test_accuracy`` is always the table's test accuracy after full training.

    Several objectives: ``metrics`` names further table columns (their mean over seeds)
    that every trial reports to the oracle and that the history records; the columns named
    by a multi-objective strategy's ``objectives`` option (``"nsga2"``) are added to them.
    ``objective`` (default ``val_accuracy``, maximised) may be a scalarised objective
    (``nb.strategies.weighted({...})``) of table columns; its value is then reported too, in a
    column of its name. ``best_val_so_far`` and ``test_of_best_so_far`` always follow the
    validation accuracy.
    """
    from nasbook import strategies
    from nasbook.bench.table import load
    from nasbook.strategies.base import drive

    name = str(strategy).strip().lower()
    table = load() if table is None else table
    objective, extra = _objective_and_metrics(objective, metrics, options)
    scores = lookup_table(table, run_seed=run_seed, columns=extra)
    curves = curve_columns(scores)
    full_epochs = len(curves) or RECIPE["epochs"]
    if name in MULTI_FIDELITY:
        if not curves:
            raise ValueError(f"{name} is multi-fidelity: it reads the per-epoch validation "
                             f"accuracy (val_accuracy_e01 ...), which this table lacks; use a "
                             f"table with per-epoch curves or a single-fidelity strategy")
        options.setdefault("max_epochs", full_epochs)
        options.setdefault("hyperband_iterations", None)
        if options["max_epochs"] > full_epochs:
            raise ValueError(f"max_epochs={options['max_epochs']} but the table's curves "
                             f"stop at epoch {full_epochs}; pass max_epochs <= {full_epochs}")
    names = list(DECISIONS)
    val = scores["val_accuracy"].to_numpy()
    test = scores["test_accuracy"].to_numpy()
    curve = scores[curves].to_numpy() if curves else None
    index = {key: i for i, key in enumerate(scores.index)}
    extra_values = scores[extra].to_numpy() if extra else None

    def evaluate(values):
        key = tuple(values[n] for n in names)   # tuner/* keys are not decisions: ignored
        if key not in index:
            raise KeyError(f"architecture {dict(zip(names, key))} is not in the table")
        if "tuner/epochs" in values:
            return curve[index[key], int(values["tuner/epochs"]) - 1]
        if not extra:
            return val[index[key]]
        out = {"val_accuracy": val[index[key]], **dict(zip(extra, extra_values[index[key]]))}
        if objective.name not in out:
            out[objective.name] = objective.value(out)
        return out

    oracle = strategies.get(name, objective=objective, max_trials=budget, seed=seed,
                            **options)
    hp = kt.HyperParameters()
    bench_space().declare(hp)
    oracle.hyperparameters = hp
    history = drive(oracle, evaluate, budget, persist=False)
    rows = []
    best_val, best_test, spent = -np.inf, np.nan, 0
    for step, h in enumerate(history, start=1):
        key = tuple(h["values"].get(n) for n in names)
        i = index.get(key)
        seen = h["score"] if i is not None else np.nan
        final_test = test[i] if i is not None else np.nan
        reported = h.get("metrics", {})
        seen = reported.get("val_accuracy", seen)
        if seen > best_val:
            best_val, best_test = seen, final_test
        epochs, cost = _cost(h["values"], full_epochs)
        spent += cost
        rows.append({"evaluation": step, **dict(zip(names, key)), "epochs": epochs,
                     "cost_epochs": cost, "cumulative_epochs": spent, "val_accuracy": seen,
                     "test_accuracy": final_test, "best_val_so_far": best_val,
                     "test_of_best_so_far": best_test,
                     **{c: reported.get(c, np.nan) for c in extra},
                     **({objective.name: h["score"]} if objective.name != "val_accuracy"
                        else {})})
    return tag(pd.DataFrame(rows), decisions=names, domains=DECISIONS, objective="val_accuracy",
               direction="max")
