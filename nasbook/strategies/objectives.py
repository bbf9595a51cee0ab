"""Scalarised objectives: one score made of several recorded metrics, e.g. accuracy plus a
faithfulness score computed on each trained model.

A :class:`Weighted` objective is a ``keras_tuner.Objective`` (so every strategy can optimise
it) named ``"weighted"`` by default, always maximised: its value is
``sum(weight * metric)``, so give a metric to minimise a negative weight.

Usage::

    objective = nb.strategies.weighted({"val_accuracy": 1.0, "faithfulness": 0.5})
    nb.search(ds, space, "evolution", objective=objective,
              trial_metrics={"faithfulness": my_score})      # my_score(model, ds) -> float
    nb.bench.simulate("evolution", 100, objective=nb.strategies.weighted(
        {"val_accuracy": 1.0, "log10_params": -0.05}), table=table)

In ``nb.search`` the best epoch of each trial is chosen by ``select_epoch_by`` (a metric
Keras logs every epoch, by default the first such term, else ``val_loss``); the weighted
value is computed once, after training, from that epoch's metrics and the trial metrics.
"""
from __future__ import annotations

import difflib
import math
import time

import keras_tuner as kt

__all__ = ["Weighted", "weighted", "ObjectiveError", "trial_metrics_of", "objective_value"]


class ObjectiveError(KeyError):
    """A weighted objective asked for a metric that the trial did not record."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


class Weighted(kt.Objective):
    """``sum(weight * metrics[name])``, maximised. See the module docstring.

    Args:
        weights: ``{metric name: weight}``, at least one non-zero weight.
        name: the name the score is recorded under (not one of the metrics).
        select_epoch_by: the per-epoch metric (and its direction, from
            ``nb.strategies.OBJECTIVES``) that picks a trial's best epoch in ``nb.search``.
    """

    def __init__(self, weights, name="weighted", select_epoch_by=None):
        from nasbook.strategies import OBJECTIVES

        if not isinstance(weights, dict) or not weights:
            raise ValueError(f"weights must be a non-empty dict {{metric: weight}}, e.g. "
                             f"{{'val_accuracy': 1.0, 'faithfulness': 0.5}}; got {weights!r}")
        clean = {}
        for metric, w in weights.items():
            if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w):
                raise ValueError(f"the weight of {metric!r} must be a finite number, got {w!r}")
            clean[str(metric)] = float(w)
        if not any(clean.values()):
            raise ValueError("every weight is zero; give at least one metric a weight")
        if str(name) in clean:
            raise ValueError(f"name {name!r} is one of the weighted metrics; pick another name")
        if select_epoch_by is None:
            select_epoch_by = next((m for m in clean if m in OBJECTIVES), "val_loss")
        if select_epoch_by not in OBJECTIVES:
            raise ValueError(f"select_epoch_by must be a metric Keras logs every epoch "
                             f"({', '.join(OBJECTIVES)}), got {select_epoch_by!r}")
        super().__init__(str(name), "max")
        self.weights = clean
        self.select_epoch_by = select_epoch_by

    @property
    def epoch_objective(self) -> kt.Objective:
        """The per-epoch metric that picks the best epoch, as an Objective."""
        from nasbook.strategies import OBJECTIVES

        return kt.Objective(self.select_epoch_by, OBJECTIVES[self.select_epoch_by])

    def value(self, metrics: dict) -> float:
        """The weighted sum of ``metrics`` (a dict of recorded values); an
        :class:`ObjectiveError` names a missing metric and the recorded ones."""
        total = 0.0
        for metric, w in self.weights.items():
            if metric not in metrics or metrics[metric] is None:
                close = difflib.get_close_matches(metric, [str(k) for k in metrics], n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ObjectiveError(
                    f"the weighted objective uses {metric!r}, which this trial did not record."
                    f"{hint} Recorded: {', '.join(sorted(map(str, metrics)))}. Add it with "
                    f"trial_metrics={{{metric!r}: fn}} (nb.search) or as a table column "
                    f"(nb.bench.simulate).")
            total += w * float(metrics[metric])
        return total

    def describe(self) -> dict:
        """A JSON-able description (what the run directory's manifest records)."""
        return {"name": self.name, "direction": "max", "weights": dict(self.weights),
                "select_epoch_by": self.select_epoch_by}

    def __repr__(self):
        terms = " + ".join(f"{w:g}*{m}" for m, w in self.weights.items())
        return f"Weighted({self.name} = {terms})"


def weighted(weights, name="weighted", select_epoch_by=None) -> Weighted:
    """A scalarised objective: ``weighted({"val_accuracy": 1.0, "faithfulness": 0.5})``."""
    return Weighted(weights, name=name, select_epoch_by=select_epoch_by)


def trial_metrics_of(trial_metrics: dict, model, dataset) -> tuple:
    """``({name: fn(model, dataset)}, {name: seconds it took})`` for every function of
    ``trial_metrics``; a ValueError names a function that raised or returned no finite
    number. Usage (what nb.search's runner does after training a trial):
    ``values, seconds = trial_metrics_of({"size": lambda m, d: m.count_params()}, model, ds)``
    """
    values, times = {}, {}
    for name, fn in trial_metrics.items():
        t0 = time.perf_counter()
        try:
            value = float(fn(model, dataset))
        except Exception as exc:
            raise ValueError(f"trial metric {name!r} raised {type(exc).__name__}: {exc}") from exc
        times[name] = time.perf_counter() - t0
        if not math.isfinite(value):
            raise ValueError(f"trial metric {name!r} returned {value}, not a finite number")
        values[name] = value
    return values, times


def objective_value(objective, metrics: dict) -> float:
    """A trial's score from its recorded ``metrics``: the objective's metric, or a weighted
    objective's sum (then also recorded in ``metrics`` under the objective's name)."""
    if not hasattr(objective, "value"):
        return float(metrics[objective.name])
    metrics[objective.name] = float(objective.value(metrics))
    return metrics[objective.name]
