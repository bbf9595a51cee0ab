"""NSGA-II-style multi-objective evolution (Deb, Pratap, Agarwal and Meyarivan 2002, "A fast
and elitist multiobjective genetic algorithm: NSGA-II", IEEE Transactions on Evolutionary
Computation 6(2), 182-197, doi:10.1109/4235.996017), one trial at a time.

Each trial reports several metrics (e.g. ``val_accuracy`` and a faithfulness score); the
oracle optimises all of them at once and keeps a *front* of trade-offs rather than one best:

1. The first ``population_size`` trials are random architectures.
2. The population is the best ``population_size`` of all finished trials by NSGA-II's order:
   first by front number (non-dominated sorting), then by crowding distance (larger first,
   so the front stays spread out). Keeping the best of *all* finished trials is NSGA-II's
   elitist (mu + lambda) selection, run steady-state: one child per trial.
3. A parent is picked by binary tournament in that order; the child is the parent with one
   decision changed (as :class:`~nasbook.strategies.evolution.EvolutionOracle` mutates),
   after a uniform crossover with a second parent with probability ``crossover_rate``.

The population is recomputed from the finished trials every time, so a resumed search
continues exactly (the generator is saved with the oracle).

Usage::

    oracle = NSGA2Oracle(objective="val_accuracy", max_trials=60,
                         objectives=[("val_accuracy", "max"), ("params", "min")], seed=0)
    nb.bench.simulate("nsga2", 100, seed=0,
                      objectives=[("val_accuracy", "max"), ("params", "min")])
"""
from __future__ import annotations

import math

import numpy as np

from nasbook.pareto import check_directions, crowding_distance, non_dominated_sort
from nasbook.strategies.evolution import EvolutionOracle

__all__ = ["NSGA2Oracle", "nsga2", "check_objectives"]


def check_objectives(objectives) -> list:
    """``objectives`` as a list of ``(metric name, "max"|"min")`` with at least two entries
    and no repeated name; accepts a dict ``{name: direction}`` too."""
    if isinstance(objectives, dict):
        objectives = list(objectives.items())
    try:
        pairs = [(str(name), direction) for name, direction in objectives]
    except (TypeError, ValueError):
        raise ValueError(f"objectives must be pairs (metric name, 'max' or 'min'), e.g. "
                         f"[('val_accuracy', 'max'), ('params', 'min')]; got "
                         f"{objectives!r}") from None
    directions = check_directions([d for _, d in pairs])
    names = [n for n, _ in pairs]
    if len(pairs) < 2:
        raise ValueError(f"a multi-objective search needs at least two objectives, got "
                         f"{names}; for one objective use 'evolution'")
    if len(set(names)) != len(names):
        raise ValueError(f"objectives repeat a metric: {names}")
    return list(zip(names, directions))


class NSGA2Oracle(EvolutionOracle):
    """NSGA-II selection in our evolution; see the module docstring.

    Args:
        objectives: ``[(metric, "max"|"min"), ...]``, at least two: the metrics every trial
            reports (in a real search: Keras' logged metrics or ``trial_metrics`` of
            ``nb.search``; in a simulation: columns of the table).
        population_size: the number of trials kept as parents (the elite).
        crossover_rate: probability of uniform crossover before mutation.
        Other arguments as :class:`~nasbook.strategies.base.ArchitectureOracle`;
        ``objective`` is what keras-tuner records as each trial's score (and what
        ``nb.search`` shows), it does not steer this oracle.
    """

    def __init__(self, objective=None, max_trials=None, *, objectives, population_size=10,
                 crossover_rate=0.0, **kwargs):
        super().__init__(objective=objective, max_trials=max_trials,
                         population_size=population_size, sample_size=2,
                         crossover_rate=crossover_rate, **kwargs)
        self.objectives = check_objectives(objectives)
        self._points = {}  # trial id -> its objective values (a finished trial's never change)

    @property
    def metric_names(self) -> list:
        """The names of the metrics this oracle needs from every trial."""
        return [name for name, _ in self.objectives]

    def point(self, trial) -> np.ndarray | None:
        """The trial's value of every objective (None if one is missing or not finite)."""
        if trial.trial_id in self._points:
            return self._points[trial.trial_id]
        out = []
        for name in self.metric_names:
            if not trial.metrics.exists(name):
                return None
            value = trial.metrics.get_last_value(name)
            if value is None or not math.isfinite(value):
                return None
            out.append(float(value))
        self._points[trial.trial_id] = np.array(out)
        return self._points[trial.trial_id]

    def ranked(self):
        """``(trials, front number, crowding distance)`` of the finished trials that
        reported every objective, in the order they finished."""
        done = self._trials_in_order()
        points = [(t, self.point(t)) for t in done]
        missing = [t.trial_id for t, p in points if p is None]
        if missing and len(missing) == len(done) and done:
            have = sorted(done[-1].metrics.metrics)
            raise ValueError(f"the finished trials report no value for objectives "
                             f"{self.metric_names}; they report {have}. Name metrics that "
                             f"every trial records (nb.search: objective metrics or "
                             f"trial_metrics; nb.bench.simulate: table columns)")
        kept = [(t, p) for t, p in points if p is not None]
        if not kept:
            return [], np.zeros(0, int), np.zeros(0)
        trials = [t for t, _ in kept]
        pts = np.array([p for _, p in kept])
        directions = [d for _, d in self.objectives]
        rank = non_dominated_sort(pts, directions)
        crowd = np.zeros(len(pts))
        for level in np.unique(rank):
            idx = np.flatnonzero(rank == level)
            crowd[idx] = crowding_distance(pts[idx], directions)
        return trials, rank, crowd

    def population(self) -> list:
        """The elite: the best ``population_size`` finished trials by (front, -crowding),
        each as ``(trial, front, crowding)``."""
        trials, rank, crowd = self.ranked()
        order = sorted(range(len(trials)), key=lambda i: (rank[i], -crowd[i], i))
        return [(trials[i], int(rank[i]), float(crowd[i]))
                for i in order[: self.population_size]]

    def populate_space(self, trial_id):
        started = len(self.trials)
        elite = self.population() if started >= self.population_size else []
        if len(elite) < 2:
            return self._response(self.propose_unique(self.random_values))
        return self._breed(trial_id, elite)

    def _tournament(self, elite):
        """Binary tournament: the lower front wins, then the larger crowding distance."""
        i, j = self._rng.choice(len(elite), size=2, replace=False)
        a, b = elite[int(i)], elite[int(j)]
        return min((a, b), key=lambda e: (e[1], -e[2]))[0]


def nsga2(objective="val_accuracy", max_trials=10, seed=None,
          objectives=(("val_accuracy", "max"), ("params", "min")), population_size=10,
          crossover_rate=0.0, architecture_key=None):
    """Registry factory: ``nb.strategies.get("nsga2", objectives=[("val_accuracy", "max"),
    ("faithfulness", "max")], population_size=10)``."""
    from nasbook.strategies import make_objective

    return NSGA2Oracle(objective=make_objective(objective), max_trials=max_trials, seed=seed,
                       objectives=objectives, population_size=population_size,
                       crossover_rate=crossover_rate, architecture_key=architecture_key)


def _register():
    from nasbook.strategies import register

    register("nsga2", nsga2,
             "NSGA-II (Deb et al. 2002): several objectives, a front by non-dominated "
             "sorting and crowding distance")


_register()
