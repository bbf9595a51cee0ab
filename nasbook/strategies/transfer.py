"""Transfer from another task into a search: aging evolution that starts from task A's best
architectures (a warm start) and draws its random architectures and mutations from a sampling
prior fitted on task A's scores (a small meta-learned strategy).

The prior is fitted from the main effects of A's table (the first-order terms of its exact
functional ANOVA): for each decision, value ``v`` is drawn with probability proportional to
``exp(effect(v) / temperature)``, where ``effect(v)`` is A's mean score at ``v`` minus A's mean
score, mixed with the uniform distribution at weight ``floor`` so no value is ever ruled out.
A decision that did not matter on A gets a near-uniform prior; one that did is drawn mostly
at its best values. Neither the warm start nor the prior reads task B: everything B costs is
still paid in trials (a seeded architecture is trained on B like any other).

Usage::

    prior = fit_prior(table_a, decisions=["n_blocks", "kernel"], score="val_accuracy")
    oracle = nb.strategies.get("transfer", warm_start=[{"n_blocks": 3, "kernel": 5}],
                               prior=prior, max_trials=50, seed=0)
    # nb.bench.transfer_options(table_a, k=10) builds both from a benchmark table
"""
from __future__ import annotations

import math

import numpy as np

from nasbook.strategies.base import domain
from nasbook.strategies.evolution import EvolutionOracle

__all__ = ["TransferOracle", "transfer", "fit_prior"]


def fit_prior(table, decisions, score="val_accuracy", *, temperature=0.05,
              floor=0.1) -> dict:
    """``{decision: {value: probability}}`` from a table of scored architectures (one row per
    run; runs of one architecture are averaged first, so every architecture weighs the same):
    ``(1 - floor) * softmax(effect / temperature) + floor * uniform``, ``effect`` being each
    value's main effect (mean score at the value minus the mean). ``temperature`` is in the
    score's units (0.05 = five points of accuracy); larger is flatter.

    Usage: ``fit_prior(nb.bench.load(), list(nb.bench.DECISIONS), "val_accuracy")``
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be positive (in the score's units), got "
                         f"{temperature!r}")
    if not 0 <= floor <= 1:
        raise ValueError(f"floor is a probability mass in [0, 1], got {floor!r}")
    decisions = list(decisions)
    missing = [c for c in [*decisions, score] if c not in table.columns]
    if missing:
        raise ValueError(f"the table lacks the columns {missing}; it has {list(table.columns)}")
    cells = table.groupby(decisions)[score].mean().reset_index()
    mu = float(cells[score].mean())
    prior = {}
    for d in decisions:
        effect = cells.groupby(d)[score].mean() - mu
        z = (effect - effect.max()) / temperature
        soft = np.exp(z.to_numpy(float))
        p = (1 - floor) * soft / soft.sum() + floor / len(soft)
        prior[d] = {_native(v): float(q) for v, q in zip(effect.index, p)}
    return prior


def _native(value):
    """A numpy scalar as the Python value keras-tuner and JSON expect."""
    return value.item() if isinstance(value, np.generic) else value


class TransferOracle(EvolutionOracle):
    """Aging evolution with a warm start and a sampling prior; see the module docstring.

    Args:
        warm_start: configurations (``{decision: value}``) proposed first, in order (trial
            i is the i-th), before any random one; values missing or outside the space are
            drawn from the prior; one already proposed is replaced by what evolution would
            propose.
            They join the population like any trial and age out of it like any trial.
        prior: ``{decision: {value: weight}}`` (:func:`fit_prior`); the random members of the
            first population, the random fallbacks and the new value of a mutation are drawn
            from it (a mutation: among the other values, by their weights). A decision it
            leaves out, or whose weights are all zero, is drawn uniformly. ``None``: uniform
            (with no ``warm_start`` this is plain aging evolution).
        Other arguments as :class:`~nasbook.strategies.evolution.EvolutionOracle`.
    """

    def __init__(self, objective=None, max_trials=None, *, warm_start=(), prior=None,
                 **kwargs):
        super().__init__(objective=objective, max_trials=max_trials, **kwargs)
        if isinstance(warm_start, dict):
            raise ValueError("warm_start is a list of configurations, e.g. [{'kernel': 5}]; "
                             "wrap a single one in a list")
        self.warm_start = [dict(c) for c in (warm_start or ())]
        self.prior = {str(d): {v: float(w) for v, w in dict(ws).items()}
                      for d, ws in (prior or {}).items()}
        for d, ws in self.prior.items():
            bad = [w for w in ws.values() if not (w >= 0 and math.isfinite(w))]
            if bad:
                raise ValueError(f"prior weights are non-negative numbers; {d!r} has {bad}")

    def _weights(self, hp, values):
        """The prior's weights of ``values`` of decision ``hp``, or ``None`` where it says
        nothing (values matched by equality or by their text, so a prior read back from JSON
        still matches)."""
        table = self.prior.get(hp.name)
        if not table:
            return None
        w = np.array([next((q for k, q in table.items() if _same(k, v)), 0.0)
                      for v in values])
        return w if w.sum() > 0 else None

    def _choose(self, hp, values=None):
        """A value of ``hp`` (among ``values``, default its whole domain) drawn by the prior;
        where it says nothing, uniformly, with the same draws as plain aging evolution."""
        values = domain(hp) if values is None else values
        w = self._weights(hp, values)
        if w is None:
            return values[int(self._rng.integers(len(values)))]
        return values[int(self._rng.choice(len(values), p=w / w.sum()))]

    def random_values(self) -> dict:
        """A configuration drawn from the prior, decision by decision."""
        return self.complete({}, self._choose)

    def populate_space(self, trial_id):
        started = len(self.trials)
        if started < len(self.warm_start):   # trial i of the first k is warm_start[i]
            values = self.complete(self.warm_start[started], self._choose)
            if self.key(values) not in self.seen_keys():
                return self._response(values)
        return super().populate_space(trial_id)   # a repeat: what evolution would propose


def _same(a, b):
    try:
        return a == b or str(a) == str(b)
    except Exception:  # noqa: BLE001 - incomparable values are different values
        return False


def transfer(objective="val_accuracy", max_trials=10, seed=None, warm_start=(), prior=None,
             population_size=10, sample_size=3, crossover_rate=0.0, architecture_key=None):
    """Registry factory: ``nb.strategies.get("transfer", warm_start=[...], prior={...})``."""
    from nasbook.strategies import make_objective

    return TransferOracle(objective=make_objective(objective), max_trials=max_trials,
                          seed=seed, warm_start=warm_start, prior=prior,
                          population_size=population_size, sample_size=sample_size,
                          crossover_rate=crossover_rate, architecture_key=architecture_key)


def _register():
    from nasbook.strategies import register

    register("transfer", transfer,
             "aging evolution warm-started with another task's best architectures and drawing "
             "from a prior fitted on that task's main effects")


_register()
