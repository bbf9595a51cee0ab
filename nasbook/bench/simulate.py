"""Simulated search: the same Oracle classes as a real search, answered from the table.

Each proposed architecture is scored by looking it up (the mean over seeds, or one seed's
run) instead of training, so a strategy can be run hundreds of times in seconds. Regret is
measured on test accuracy of the architecture the search would pick by validation accuracy.

Usage::

    history = nb.bench.simulate("evolution", budget=100, seed=0, population_size=10)
    history.test_of_best_so_far.iloc[-1]
"""
from __future__ import annotations

import keras_tuner as kt
import numpy as np
import pandas as pd

from nasbook.bench.space import DECISIONS, bench_space

__all__ = ["simulate", "lookup_table"]


def lookup_table(table, *, run_seed=None) -> pd.DataFrame:
    """One row per architecture: mean (or one seed's) validation and test accuracy."""
    rows = table[table["status"] == "completed"] if "status" in table else table
    if run_seed is not None:
        rows = rows[rows["seed"] == run_seed]
        if rows.empty:
            raise ValueError(f"the table has no runs with seed {run_seed}")
    return rows.groupby(list(DECISIONS))[["val_accuracy", "test_accuracy"]].mean()


def simulate(strategy, budget, seed=0, *, table=None, run_seed=None, **options):
    """Run ``strategy`` (a registry name) for ``budget`` evaluations against the table.

    Returns a DataFrame, one row per evaluation: the decisions, ``val_accuracy`` (what the
    strategy saw), ``test_accuracy``, ``best_val_so_far`` and ``test_of_best_so_far`` (the
    test accuracy of the architecture with the best validation accuracy so far).
    """
    from nasbook import strategies
    from nasbook.bench.table import load
    from nasbook.strategies.base import drive

    if strategy == "hyperband":
        raise ValueError("hyperband is multi-fidelity: it needs per-epoch answers, which "
                         "simulate() does not provide yet; use another strategy")
    scores = lookup_table(load() if table is None else table, run_seed=run_seed)
    index = {key: (v, t) for key, v, t in zip(scores.index, scores["val_accuracy"],
                                              scores["test_accuracy"])}
    names = list(DECISIONS)

    def evaluate(values):
        key = tuple(values[n] for n in names)
        if key not in index:
            raise KeyError(f"architecture {dict(zip(names, key))} is not in the table")
        return index[key][0]

    oracle = strategies.get(strategy, objective=kt.Objective("val_accuracy", "max"),
                            max_trials=budget, seed=seed, **options)
    hp = kt.HyperParameters()
    bench_space().declare(hp)
    oracle.hyperparameters = hp
    history = drive(oracle, evaluate, budget, persist=False)
    rows = []
    best_val, best_test = -np.inf, np.nan
    for step, h in enumerate(history, start=1):
        key = tuple(h["values"].get(n) for n in names)
        val, test = index.get(key, (np.nan, np.nan))
        if val > best_val:
            best_val, best_test = val, test
        rows.append({"evaluation": step, **dict(zip(names, key)), "val_accuracy": val,
                     "test_accuracy": test, "best_val_so_far": best_val,
                     "test_of_best_so_far": best_test})
    return pd.DataFrame(rows)
