"""Regularized (aging) evolution, after Real et al. 2019 ("Regularized Evolution for Image
Classifier Architecture Search").

1. Fill a population with ``population_size`` random architectures.
2. Repeat: sample ``sample_size`` members at random (a tournament), take the best as the
   parent, copy it and change exactly one decision (a mutation) to make the child; train
   the child and add it to the population; remove the *oldest* member (not the worst).

Removing the oldest is the "regularisation": an architecture survives only by having
descendants that keep scoring well, so one lucky training run cannot dominate forever.
The population is therefore always the ``population_size`` most recently finished trials,
which is how this oracle rebuilds it after a resume. Mutations change only decisions that
are active in the parent, so they always change the model that is built.

Optional uniform crossover (``crossover_rate > 0``): with that probability the child first
takes each decision from one of two tournament winners at random, then is mutated.

Usage: ``oracle = EvolutionOracle(objective="val_accuracy", max_trials=40,
population_size=10, sample_size=3, seed=0)``
"""
from __future__ import annotations

from nasbook.strategies.base import ArchitectureOracle, domain

__all__ = ["EvolutionOracle", "evolution"]


class EvolutionOracle(ArchitectureOracle):
    """Aging evolution; see the module docstring.

    Args:
        population_size: P, the number of living architectures.
        sample_size: S, the tournament size (1 <= S <= P); larger S is greedier.
        crossover_rate: probability of uniform crossover before mutation (0 = off).
        Other arguments as :class:`~nasbook.strategies.base.ArchitectureOracle`.
    """

    def __init__(self, objective=None, max_trials=None, *, population_size=10, sample_size=3,
                 crossover_rate=0.0, **kwargs):
        if not isinstance(population_size, int) or population_size < 2:
            raise ValueError(f"population_size must be an integer >= 2, got {population_size!r}")
        if not isinstance(sample_size, int) or not 1 <= sample_size <= population_size:
            raise ValueError(f"sample_size must be an integer between 1 and population_size "
                             f"({population_size}), got {sample_size!r}")
        if not 0.0 <= crossover_rate <= 1.0:
            raise ValueError(f"crossover_rate must be in [0, 1], got {crossover_rate!r}")
        super().__init__(objective=objective, max_trials=max_trials, **kwargs)
        self.population_size = population_size
        self.sample_size = sample_size
        self.crossover_rate = float(crossover_rate)
        self.lineage = {}  # child trial id -> parent trial id(s), for the lesson's plots

    def population(self) -> list:
        """The living members, oldest first: the last P successfully finished trials."""
        finished = [t for t in self._trials_in_order() if self.reward(t) == self.reward(t)]
        return finished[-self.population_size:]

    def populate_space(self, trial_id):
        population = self.population()
        started = len(self.trials)  # includes running trials (parallel search)
        if started < self.population_size or len(population) < self.sample_size:
            values = self.propose_unique(self.random_values)
            return self._response(values)
        return self._breed(trial_id, population)

    def _breed(self, trial_id, pool):
        """The response for a child of tournament winners from ``pool`` (crossover at
        ``crossover_rate``, then mutation), redrawn until unseen; its parents go to
        ``lineage``. Subclasses choose the pool and the tournament (``_tournament``)."""
        parents = {}

        def child():
            first = self._tournament(pool)
            values = dict(first.hyperparameters.values)
            parents["ids"] = [first.trial_id]
            if self.crossover_rate and self._rng.random() < self.crossover_rate:
                second = self._tournament(pool)
                values = self.crossover(values, dict(second.hyperparameters.values))
                parents["ids"].append(second.trial_id)
            return self.mutate(values)

        values = self.propose_unique(child)
        if values is not None:
            self.lineage[trial_id] = parents.get("ids", [])
        return self._response(values)

    def _tournament(self, population):
        picks = self._rng.choice(len(population), size=self.sample_size, replace=False)
        return max((population[i] for i in sorted(picks)), key=self.reward)

    def mutate(self, values: dict) -> dict:
        """Change exactly one active decision to another of its values (decisions with a
        single value are never picked). Decisions that become active are filled at random."""
        mutable = [hp for hp in self.decisions() if hp.name in values and len(domain(hp)) > 1]
        if not mutable:
            return dict(values)
        hp = mutable[int(self._rng.integers(len(mutable)))]
        options = [v for v in domain(hp) if v != values[hp.name]]
        new = dict(values)
        new[hp.name] = self._choose(hp, options)
        return self.complete(new, self._choose)

    def _choose(self, hp, values=None):
        """A value of ``hp`` among ``values`` (default its whole domain), uniformly; the
        transfer strategy overrides it with a prior."""
        values = domain(hp) if values is None else values
        return values[int(self._rng.integers(len(values)))]

    def crossover(self, a: dict, b: dict) -> dict:
        """Uniform crossover: each decision from ``a`` or ``b`` with probability 1/2."""
        mixed = {}
        for name in sorted(set(a) | set(b)):
            sources = [v for v in (a.get(name), b.get(name)) if v is not None]
            mixed[name] = sources[int(self._rng.integers(len(sources)))]
        return self.complete(mixed, self._choose)

    def get_state(self):
        state = super().get_state()
        state["evolution"] = {"lineage": self.lineage}
        return state

    def set_state(self, state):
        super().set_state(state)
        self.lineage = state.get("evolution", {}).get("lineage", {})


def evolution(objective="val_accuracy", max_trials=10, seed=None, population_size=10,
              sample_size=3, crossover_rate=0.0, architecture_key=None):
    """Registry factory: ``nb.strategies.get("evolution", population_size=8, sample_size=3)``."""
    from nasbook.strategies import make_objective

    return EvolutionOracle(objective=make_objective(objective), max_trials=max_trials,
                           seed=seed, population_size=population_size, sample_size=sample_size,
                           crossover_rate=crossover_rate, architecture_key=architecture_key)


def _register():
    from nasbook.strategies import register

    register("evolution", evolution,
             "aging evolution (Real et al. 2019): mutate the best of a sample, oldest dies")


_register()
