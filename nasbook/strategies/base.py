"""What the hand-written strategies share, and a driver that runs any Oracle without training.

Each strategy is a ``keras_tuner.Oracle``: it proposes hyperparameter values in
``populate_space`` and learns from finished trials. :class:`ArchitectureOracle` adds what
NAS needs on top: the discrete domain of every decision, only the *active* decisions of a
configuration (a layer that is not built has no width), duplicates recognised by the
architecture actually built, a seeded generator that is saved with the oracle (so a
resumed search continues the same sequence), and rewards in "higher is better" units.

Usage (simulated, no training)::

    from nasbook.strategies.base import drive
    history = drive(oracle, lambda values: my_score(values), n_trials=50)
"""
from __future__ import annotations

import math
import tempfile

import keras_tuner as kt
import numpy as np
from keras_tuner.src.engine import trial as trial_module

from nasbook.space.identity import architecture_key

__all__ = ["ArchitectureOracle", "domain", "drive"]

RUNNING = trial_module.TrialStatus.RUNNING
IDLE = trial_module.TrialStatus.IDLE
STOPPED = trial_module.TrialStatus.STOPPED
COMPLETED = trial_module.TrialStatus.COMPLETED


def domain(hp) -> list:
    """The finite list of values a decision can take, in their natural order.

    ``Choice`` keeps its order; ``Int``/``Float`` with a step are enumerated; a ``Float``
    without a step is discretised by keras-tuner into ten values; ``Boolean`` is
    ``[False, True]``; ``Fixed`` is its one value.
    """
    if isinstance(hp, kt.engine.hyperparameters.Choice):
        return list(hp.values)
    if isinstance(hp, kt.engine.hyperparameters.Boolean):
        return [False, True]
    return sorted(set(hp.values))


class ArchitectureOracle(kt.Oracle):
    """Base class of the hand-written strategies (greedy, evolution, reinforce).

    Args:
        objective: what to optimise, e.g. ``"val_accuracy"`` or a ``kt.Objective``.
        max_trials: how many trials to run at most.
        hyperparameters: a ``kt.HyperParameters`` declaring the space; a Tuner fills it in
            from the hypermodel when omitted.
        seed: fixes the sequence of proposals (given the same scores).
        architecture_key: ``values -> str`` naming the architecture actually built; two
            configurations with the same key are the same model and are not trained twice.
            nasbook's ``SearchSpace.architecture_key`` is the right choice; the default
            compares the active values
            (:func:`nasbook.space.identity.architecture_key`, the one definition).
        max_proposal_attempts: how often to redraw a proposal that is a duplicate before
            falling back to a random, unseen configuration.
    """

    def __init__(self, objective=None, max_trials=None, hyperparameters=None, seed=None,
                 architecture_key=None, max_proposal_attempts=50, **kwargs):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
            raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
        # keras-tuner reads seed=0 as "no seed"; our own generator takes every integer
        super().__init__(objective=objective, max_trials=max_trials,
                         hyperparameters=hyperparameters,
                         seed=None if seed is None else seed + 1, **kwargs)
        self._rng = np.random.default_rng(self.seed if seed is None else seed)
        self._architecture_key = architecture_key or _default_key
        self.max_proposal_attempts = int(max_proposal_attempts)
        self.duplicates_skipped = 0

    # --- the space ---------------------------------------------------------------------

    def decisions(self) -> list:
        """The declared hyperparameters, in declaration order."""
        return list(self.hyperparameters.space)

    def complete(self, partial: dict, choose) -> dict:
        """A full configuration: ``partial``'s values where active and valid, ``choose(hp)``
        for every other active decision; inactive decisions are left out."""
        space = self.hyperparameters.space
        if not any(hp.conditions for hp in space):  # every decision active: no bookkeeping
            out = {}
            for hp in space:
                value = partial.get(hp.name, _MISSING)
                if value is _MISSING or value not in domain(hp):
                    value = choose(hp)
                out[hp.name] = value
            return out
        hps = kt.HyperParameters()
        for hp in self.hyperparameters.space:
            hps.merge([hp])
            if hps.is_active(hp):
                value = partial.get(hp.name, _MISSING)
                if value is _MISSING or value not in domain(hp):
                    value = choose(hp)
                hps.values[hp.name] = value
        return dict(hps.values)

    def random_values(self) -> dict:
        """A configuration drawn uniformly, decision by decision, from the oracle's generator."""
        return self.complete({}, self._uniform)

    def _uniform(self, hp):
        values = domain(hp)
        return values[int(self._rng.integers(len(values)))]

    def key(self, values: dict) -> str:
        return self._architecture_key(values)

    # --- bookkeeping ---------------------------------------------------------------------

    def _trials_in_order(self, statuses=(COMPLETED,)):
        return [self.trials[t] for t in self.end_order if self.trials[t].status in statuses]

    def seen_keys(self) -> set:
        """Architectures already proposed (running, finished or failed)."""
        return {self.key(t.hyperparameters.values) for t in self.trials.values()}

    def reward(self, trial) -> float:
        """The trial's score as 'higher is better' (negated when the objective is minimised)."""
        score = trial.score
        if score is None or not math.isfinite(score):
            return float("nan")
        return float(score) if self.objective.direction == "max" else -float(score)

    def propose_unique(self, propose) -> dict | None:
        """Call ``propose()`` until it gives an unseen architecture; after
        ``max_proposal_attempts`` duplicates fall back to random values; ``None`` if even
        those are all taken (the space is exhausted)."""
        seen = self.seen_keys()
        for _ in range(self.max_proposal_attempts):
            values = propose()
            if self.key(values) not in seen:
                return values
            self.duplicates_skipped += 1
        for _ in range(self.max_proposal_attempts):
            values = self.random_values()
            if self.key(values) not in seen:
                return values
        return None

    def _response(self, values):
        if values is None:
            return {"status": STOPPED, "values": None}
        return {"status": RUNNING, "values": values}

    # --- state: saved in oracle.json after every trial -----------------------------------

    def get_state(self):
        state = super().get_state()
        state["nasbook_rng"] = self._rng.bit_generator.state
        state["nasbook_duplicates_skipped"] = self.duplicates_skipped
        return state

    def set_state(self, state):
        super().set_state(state)
        if "nasbook_rng" in state:
            self._rng.bit_generator.state = state["nasbook_rng"]
        self.duplicates_skipped = state.get("nasbook_duplicates_skipped", 0)


_MISSING = object()


def _default_key(values: dict) -> str:
    """Without a space, the values keras-tuner holds are the active ones (sorted by name)."""
    return architecture_key({k: values[k] for k in sorted(values)})


def drive(oracle, evaluate, n_trials=None, *, directory=None, persist=True,
          tuner_id="simulated"):
    """Run ``oracle`` against a scoring function instead of training: the simulated search.

    ``evaluate(values) -> float`` scores a configuration in the objective's own units (or
    raises, which records a failed trial); it may instead return a dict of several metrics
    (``{name: value}``, the objective's among them), all of which the oracle receives, as a
    multi-objective oracle needs. Returns a list of dicts ``{"trial", "values", "score",
    "status"}`` (plus ``"metrics"`` when ``evaluate`` returns a dict) in the order the trials
    ended. The oracle keeps its normal files in
    ``directory`` (a temporary one by default), so it can be reloaded like a real search;
    ``persist=False`` skips those writes, which makes a simulation many times faster.
    """
    if directory is None:
        directory = tempfile.mkdtemp(prefix="nasbook-sim-")
    oracle._set_project_dir(directory, "simulated")
    oracle.verbose = 0  # no per-trial tables: a simulation runs hundreds of trials
    if not persist:     # this oracle instance only: no oracle.json / trial.json writes
        oracle.save = lambda *args, **kwargs: None
        oracle._save_trial = lambda *args, **kwargs: None
    name = oracle.objective.name
    history = []
    while n_trials is None or len(history) < n_trials:
        trial = oracle.create_trial(tuner_id)
        if trial.status == STOPPED:
            break
        if trial.status != RUNNING:
            raise RuntimeError(f"oracle returned status {trial.status!r} with nothing running; "
                               f"a simulated search runs one trial at a time")
        metrics = None
        try:
            answer = evaluate(dict(trial.hyperparameters.values))
            if isinstance(answer, dict):
                metrics = {str(k): float(v) for k, v in answer.items()}
                if name not in metrics:
                    raise KeyError(f"evaluate returned metrics {sorted(metrics)} without the "
                                   f"objective {name!r}")
                score = metrics[name]
            else:
                score = float(answer)
            oracle.update_trial(trial.trial_id, metrics or {name: score})
            trial.status = COMPLETED
        except Exception as exc:  # a failed evaluation is a failed trial, not a crash
            score, trial.status = float("nan"), trial_module.TrialStatus.FAILED
            trial.message = f"{type(exc).__name__}: {exc}"
        oracle.end_trial(trial)
        oracle.save()  # end_trial saves before it forgets the trial was running; save again
        history.append({"trial": trial.trial_id, "values": dict(trial.hyperparameters.values),
                        "score": score, "status": trial.status})
        if metrics is not None:
            history[-1]["metrics"] = metrics
    return history
