"""Greedy search: coordinate-wise hill climbing over the architecture decisions.

Start from one configuration (the defaults, or a random one). Take the first decision, try
every other value of it with all other decisions fixed, keep the best; move on to the next
decision. A full pass over all decisions that brings no gain means the incumbent is a local
optimum: restart from a random configuration (up to ``restarts`` times), then stop.

It is the simplest strategy that learns from scores, and its weakness is the lesson: a
decision whose benefit only shows together with another (an interaction) is never found,
because greedy only ever changes one decision at a time.

Usage: ``oracle = GreedyOracle(objective="val_accuracy", max_trials=30, seed=0)``
"""
from __future__ import annotations

from nasbook.strategies.base import IDLE, ArchitectureOracle, domain

__all__ = ["GreedyOracle", "greedy"]


class GreedyOracle(ArchitectureOracle):
    """Coordinate-wise hill climbing; see the module docstring.

    Args:
        start: ``"default"`` (each decision's default value) or ``"random"``.
        restarts: how many random restarts after a pass without gain (0 = stop there).
        Other arguments as :class:`~nasbook.strategies.base.ArchitectureOracle`.
    """

    def __init__(self, objective=None, max_trials=None, *, start="default", restarts=3,
                 **kwargs):
        if start not in ("default", "random"):
            raise ValueError(f"start must be 'default' or 'random', got {start!r}")
        if not isinstance(restarts, int) or restarts < 0:
            raise ValueError(f"restarts must be a non-negative integer, got {restarts!r}")
        super().__init__(objective=objective, max_trials=max_trials, **kwargs)
        self.start = start
        self.restarts = restarts
        self.started = False
        self.incumbent = None          # values of the best configuration of this climb
        self.decision_index = 0        # which decision the current step varies
        self.pending = []              # configurations of this step still to propose
        self.step_trials = []          # trial ids proposed in this step
        self.pass_improved = False
        self.restarts_used = 0
        self.path = []                 # (trial id of each new incumbent, its reward)

    # --- proposals -----------------------------------------------------------------------

    def populate_space(self, trial_id):
        if not self.started:                # the very first trial: the starting point
            self.started = True
            values = self._start_values()
            self.step_trials = [trial_id]
            return self._response(values)
        while not self.pending:
            if any(self.trials[t].status == "RUNNING" for t in self.step_trials):
                return {"status": IDLE}      # wait for this step's trials (parallel search)
            if not self._finish_step():
                return self._response(None)  # no pass gained and no restarts left
        values = self.pending.pop(0)
        self.step_trials.append(trial_id)
        return self._response(values)

    def _start_values(self):
        if self.start == "random" or self.restarts_used > 0:
            return self.propose_unique(self.random_values)
        return self.complete({}, lambda hp: hp.default)

    def _finish_step(self) -> bool:
        """Adopt the best of this step, queue the next decision's neighbours.

        Returns False when the search should stop."""
        self._adopt_best_of_step()
        decisions = self.decisions()
        while True:
            if self.decision_index >= len(decisions):      # a full pass is over
                if not self.pass_improved:
                    if self.restarts_used >= self.restarts:
                        return False
                    self.restarts_used += 1
                    values = self._start_values()
                    if values is None:
                        return False
                    self.incumbent, self.decision_index = None, 0
                    self.pending, self.pass_improved = [values], False
                    self.step_trials = []
                    return True
                self.decision_index, self.pass_improved = 0, False
            hp = decisions[self.decision_index]
            self.decision_index += 1
            if hp.name not in self.incumbent:               # inactive in this architecture
                continue
            seen = self.seen_keys()
            neighbours = []
            for value in domain(hp):
                if value == self.incumbent[hp.name]:
                    continue
                candidate = self.complete({**self.incumbent, hp.name: value},
                                          lambda h: h.default)
                key = self.key(candidate)
                if key in seen:
                    self.duplicates_skipped += 1
                    continue
                seen.add(key)
                neighbours.append(candidate)
            if neighbours:
                self.pending, self.step_trials = neighbours, []
                return True

    def _adopt_best_of_step(self):
        best_values, best_reward = None, float("-inf")
        if self.incumbent is not None:
            best_values, best_reward = self.incumbent, self._reward_of(self.incumbent)
        for trial_id in self.step_trials:
            trial = self.trials[trial_id]
            reward = self.reward(trial) if trial.status == "COMPLETED" else float("nan")
            if reward == reward and reward > best_reward:   # NaN never wins
                best_values, best_reward = dict(trial.hyperparameters.values), reward
                if self.incumbent is not None:
                    self.pass_improved = True
                self.path.append((trial_id, reward))
        if best_values is None:  # the starting trial failed: start again elsewhere
            best_values = self.propose_unique(self.random_values) or self.random_values()
        self.incumbent = best_values

    def _reward_of(self, values):
        key = self.key(values)
        rewards = [self.reward(t) for t in self.trials.values()
                   if t.status == "COMPLETED" and self.key(t.hyperparameters.values) == key]
        rewards = [r for r in rewards if r == r]
        return max(rewards) if rewards else float("-inf")

    # --- state ---------------------------------------------------------------------------

    def get_state(self):
        state = super().get_state()
        state["greedy"] = {"started": self.started, "incumbent": self.incumbent, "decision_index": self.decision_index,
                           "pending": self.pending, "step_trials": self.step_trials,
                           "pass_improved": self.pass_improved,
                           "restarts_used": self.restarts_used,
                           "path": [list(p) for p in self.path]}
        return state

    def set_state(self, state):
        super().set_state(state)
        g = state["greedy"]
        self.started = g["started"]
        self.incumbent, self.decision_index = g["incumbent"], g["decision_index"]
        self.pending, self.step_trials = g["pending"], g["step_trials"]
        self.pass_improved, self.restarts_used = g["pass_improved"], g["restarts_used"]
        self.path = [tuple(p) for p in g["path"]]


def greedy(objective="val_accuracy", max_trials=10, seed=None, start="default", restarts=3,
           architecture_key=None):
    """Registry factory: ``nb.strategies.get("greedy", max_trials=20, restarts=1)``."""
    from nasbook.strategies import make_objective

    return GreedyOracle(objective=make_objective(objective), max_trials=max_trials, seed=seed,
                        start=start, restarts=restarts, architecture_key=architecture_key)


def _register():
    from nasbook.strategies import register

    register("greedy", greedy, "greedy: coordinate-wise hill climbing with random restarts")


_register()
