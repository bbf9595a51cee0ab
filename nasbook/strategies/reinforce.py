"""Reinforcement learning: a policy-gradient controller, after Zoph & Le 2017, simplified.

Zoph & Le's controller is a recurrent network that emits one decision after another. Here
the policy is simpler, and we say so: an independent softmax over the values of each
decision, with logits θ_d. An architecture is sampled decision by decision (only decisions
that are active given the earlier ones). After training, its reward R (the objective,
negated when it is minimised) updates every decision d that was used, with the REINFORCE
rule plus an entropy bonus:

    b ← β·b + (1 − β)·R                      (moving-average baseline, starts at the first R)
    θ_d ← θ_d + η · [ (R − b) · (onehot(a_d) − p_d)  +  λ · ∇H(p_d) ]

where p_d = softmax(θ_d), a_d is the value chosen, (onehot − p) is ∇ log p(a_d), and
∇H = −p ⊙ (log p + H) is the gradient of the policy's entropy H, which keeps it from
collapsing too early. The advantage (R − b) is computed before the baseline moves. With
``normalize=True`` (the default) it is divided by a moving standard deviation of past
advantages, so one learning rate works whether rewards differ by 0.01 or by 10.

A converged policy keeps sampling architectures it has already tried. Rather than let
keras-tuner's duplicate check end the search, this oracle resamples (up to
``max_proposal_attempts`` times), then mutates the sample (one decision changed), then
falls back to a random unseen architecture; ``duplicates_skipped`` counts how often.

Usage: ``oracle = ReinforceOracle(objective="val_accuracy", max_trials=40, learning_rate=0.5)``
"""
from __future__ import annotations

import numpy as np

from nasbook.strategies.base import ArchitectureOracle, domain

__all__ = ["ReinforceOracle", "reinforce", "softmax"]


def softmax(logits) -> np.ndarray:
    z = np.asarray(logits, dtype=float)
    e = np.exp(z - z.max())
    return e / e.sum()


class ReinforceOracle(ArchitectureOracle):
    """REINFORCE over independent per-decision softmax policies; see the module docstring.

    Args:
        learning_rate: η, the step size on the logits.
        normalize: divide the advantage by its moving standard deviation.
        baseline_decay: β, the moving-average factor of the baseline (0 <= β < 1).
        entropy_weight: λ, the entropy bonus.
        Other arguments as :class:`~nasbook.strategies.base.ArchitectureOracle`.
    """

    def __init__(self, objective=None, max_trials=None, *, learning_rate=0.3,
                 baseline_decay=0.8, entropy_weight=0.01, normalize=True, **kwargs):
        if not learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {learning_rate!r}")
        if not 0.0 <= baseline_decay < 1.0:
            raise ValueError(f"baseline_decay must be in [0, 1), got {baseline_decay!r}")
        if entropy_weight < 0:
            raise ValueError(f"entropy_weight must be >= 0, got {entropy_weight!r}")
        super().__init__(objective=objective, max_trials=max_trials, **kwargs)
        self.learning_rate = float(learning_rate)
        self.baseline_decay = float(baseline_decay)
        self.entropy_weight = float(entropy_weight)
        self.normalize = bool(normalize)
        self.variance = 0.0    # moving mean of squared advantages
        self.logits = {}       # decision name -> list of logits, one per value in domain()
        self.baseline = None
        self.updates = 0       # trials learned from
        self.policy_history = []  # after each update: {decision: probabilities}

    # --- the policy ----------------------------------------------------------------------

    def _logits_for(self, hp) -> np.ndarray:
        n = len(domain(hp))
        if hp.name not in self.logits or len(self.logits[hp.name]) != n:
            self.logits[hp.name] = [0.0] * n
        return np.asarray(self.logits[hp.name])

    def probabilities(self) -> dict:
        """``{decision: {value: probability}}`` of the current policy."""
        return {hp.name: dict(zip(domain(hp), softmax(self._logits_for(hp))))
                for hp in self.decisions()}

    def _sample(self, hp):
        p = softmax(self._logits_for(hp))
        return domain(hp)[int(self._rng.choice(len(p), p=p))]

    def sample_values(self) -> dict:
        return self.complete({}, self._sample)

    def _mutated_sample(self) -> dict:
        values = self.sample_values()
        mutable = [hp for hp in self.decisions() if hp.name in values and len(domain(hp)) > 1]
        if mutable:
            hp = mutable[int(self._rng.integers(len(mutable)))]
            options = [v for v in domain(hp) if v != values[hp.name]]
            values[hp.name] = options[int(self._rng.integers(len(options)))]
        return self.complete(values, self._sample)

    def populate_space(self, trial_id):
        seen = self.seen_keys()
        for _ in range(self.max_proposal_attempts):
            values = self.sample_values()
            if self.key(values) not in seen:
                return self._response(values)
            self.duplicates_skipped += 1
        return self._response(self.propose_unique(self._mutated_sample))

    # --- learning --------------------------------------------------------------------------

    def score_trial(self, trial):
        super().score_trial(trial)
        reward = self.reward(trial)
        if reward == reward:  # NaN rewards (failed or diverged trials) teach nothing
            self.learn(dict(trial.hyperparameters.values), reward)

    def learn(self, values: dict, reward: float) -> None:
        """One REINFORCE update from one architecture and its reward."""
        if self.baseline is None:
            self.baseline = reward
        advantage = reward - self.baseline
        signal = advantage
        if self.normalize and self.variance > 0:
            signal = advantage / np.sqrt(self.variance)
        for hp in self.decisions():
            if hp.name not in values or values[hp.name] not in domain(hp):
                continue
            theta = self._logits_for(hp)
            p = softmax(theta)
            chosen = np.zeros_like(p)
            chosen[domain(hp).index(values[hp.name])] = 1.0
            entropy = -(p * np.log(p)).sum()
            grad_entropy = -p * (np.log(p) + entropy)
            theta = theta + self.learning_rate * (signal * (chosen - p)
                                                  + self.entropy_weight * grad_entropy)
            self.logits[hp.name] = theta.tolist()
        decay = self.baseline_decay
        self.variance = decay * self.variance + (1 - decay) * advantage ** 2
        self.baseline = decay * self.baseline + (1 - decay) * reward
        self.updates += 1
        self.policy_history.append({name: {str(k): float(v) for k, v in probs.items()}
                                    for name, probs in self.probabilities().items()})

    # --- state ---------------------------------------------------------------------------

    def get_state(self):
        state = super().get_state()
        state["reinforce"] = {"logits": self.logits, "baseline": self.baseline,
                              "variance": self.variance,
                              "updates": self.updates, "policy_history": self.policy_history}
        return state

    def set_state(self, state):
        super().set_state(state)
        r = state["reinforce"]
        self.logits = {k: list(v) for k, v in r["logits"].items()}
        self.baseline, self.updates = r["baseline"], r["updates"]
        self.variance = r["variance"]
        self.policy_history = r["policy_history"]


def reinforce(objective="val_accuracy", max_trials=10, seed=None, learning_rate=0.3,
              baseline_decay=0.8, entropy_weight=0.01, normalize=True, architecture_key=None):
    """Registry factory: ``nb.strategies.get("reinforce", learning_rate=0.5)``."""
    from nasbook.strategies import make_objective

    return ReinforceOracle(objective=make_objective(objective), max_trials=max_trials,
                           seed=seed, learning_rate=learning_rate,
                           baseline_decay=baseline_decay, entropy_weight=entropy_weight,
                           normalize=normalize, architecture_key=architecture_key)


def _register():
    from nasbook.strategies import register

    register("reinforce", reinforce,
             "REINFORCE (after Zoph & Le 2017): a softmax policy per decision")


_register()
