"""Search strategies by name. Each strategy is a keras-tuner ``Oracle``: the object that
proposes the next configuration and learns from the scores of the finished ones.

Usage::

    import nasbook as nb
    nb.strategies.available()                      # ['bayesian', 'hyperband', 'random', ...]
    oracle = nb.strategies.get("random", objective="val_accuracy", max_trials=10, seed=0)

Every strategy accepts ``objective``, ``max_trials`` and ``seed``; the others take their own
options (``nb.strategies.options("bayesian")`` lists them). A module in this package adds a
strategy with :func:`register` when it is imported; all of them are imported on first use.

Seeds: ``seed=None`` picks a random seed; every integer, 0 included, gives a fixed sequence of
configurations. keras-tuner on its own treats ``seed=0`` as "no seed", and draws its k-th random
value from a generator seeded with ``seed + k``, so searches with consecutive seeds read one
random stream at offsets one apart and are not independent (measured in notebook 02). The
factories here therefore pass ``1 + seed * SEED_SPACING`` to keras-tuner.
"""
from __future__ import annotations

import difflib
import importlib
import inspect
import pkgutil
from dataclasses import dataclass
from typing import Callable

__all__ = ["StrategyError", "available", "get", "register", "options", "describe",
           "make_objective", "OBJECTIVES", "weighted", "Weighted", "ObjectiveError"]


class StrategyError(ValueError):
    """An unknown strategy name, or an option the strategy does not take."""


@dataclass(frozen=True)
class _Entry:
    name: str
    factory: Callable
    summary: str


_REGISTRY: dict[str, _Entry] = {}
_LOADED = False

# Objectives a search can optimise: what Keras logs while training, plus the macro-averaged
# precision/recall/F1 that nasbook.search computes on the validation split after every epoch.
OBJECTIVES = {
    "val_accuracy": "max", "val_loss": "min", "val_precision": "max", "val_recall": "max",
    "val_f1": "max", "accuracy": "max", "loss": "min",
}


def make_objective(objective="val_accuracy"):
    """A ``keras_tuner.Objective`` from a name such as ``"val_accuracy"`` or ``"val_loss"``.

    Usage: ``make_objective("val_f1")`` -> Objective(name="val_f1", direction="max"); a
    scalarised objective (:func:`weighted`) is a ``keras_tuner.Objective`` and passes as is.
    """
    import keras_tuner

    if isinstance(objective, keras_tuner.Objective):
        return objective
    if not isinstance(objective, str):
        raise StrategyError(f"objective must be a name such as 'val_accuracy' or a "
                            f"keras_tuner.Objective, got {objective!r}")
    if objective not in OBJECTIVES:
        close = difflib.get_close_matches(objective, OBJECTIVES, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise StrategyError(f"unknown objective {objective!r}.{hint} Choose one of "
                            f"{', '.join(OBJECTIVES)}, or pass keras_tuner.Objective(name, "
                            f"direction) for a metric your models log themselves.")
    return keras_tuner.Objective(objective, direction=OBJECTIVES[objective])


def register(name: str, factory: Callable, summary: str = "", *, replace: bool = False):
    """Add a strategy: ``factory(**options)`` must return a ``keras_tuner.Oracle``.

    Usage (in ``nasbook/strategies/evolution.py``)::

        register("evolution", EvolutionOracle, "aging evolution: mutate the best of a sample")
    """
    key = str(name).strip().lower()
    if not key.isidentifier():
        raise StrategyError(f"strategy name {name!r} must be a short identifier like "
                            f"'random' or 'evolution'")
    if key in _REGISTRY and not replace and _REGISTRY[key].factory is not factory:
        raise StrategyError(f"a strategy named {key!r} is already registered; pick another "
                            f"name or pass replace=True")
    if not callable(factory):
        raise StrategyError(f"the factory for {key!r} must be callable, got {factory!r}")
    _REGISTRY[key] = _Entry(key, factory, summary)
    return factory


def _load_all():
    """Import every module of this package once, so that their register() calls run."""
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")


def available() -> list:
    """Names of all strategies, sorted.  Usage: ``nb.strategies.available()``"""
    _load_all()
    return sorted(_REGISTRY)


def describe() -> dict:
    """``{name: one-line summary}`` of every strategy."""
    _load_all()
    return {name: _REGISTRY[name].summary for name in sorted(_REGISTRY)}


def _entry(name) -> _Entry:
    _load_all()
    key = str(name).strip().lower()
    if key not in _REGISTRY:
        close = difflib.get_close_matches(key, list(_REGISTRY), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise StrategyError(f"unknown strategy {name!r}.{hint} Available: "
                            f"{', '.join(sorted(_REGISTRY))}.")
    return _REGISTRY[key]


def options(name) -> dict:
    """The options a strategy takes, with their defaults: ``options("bayesian")``."""
    params = inspect.signature(_entry(name).factory).parameters
    return {p.name: (None if p.default is inspect.Parameter.empty else p.default)
            for p in params.values()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def get(name, **opts):
    """A fresh Oracle for strategy ``name``, configured by keyword options.

    Usage: ``get("bayesian", objective="val_loss", max_trials=20, seed=0, num_initial_points=4)``
    """
    entry = _entry(name)
    params = inspect.signature(entry.factory).parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    if not takes_any:
        unknown = sorted(set(opts) - set(params))
        if unknown:
            raise StrategyError(f"strategy {entry.name!r} does not take option(s) "
                                f"{', '.join(map(repr, unknown))}; it takes "
                                f"{', '.join(options(entry.name))}.")
    try:
        oracle = entry.factory(**opts)
    except StrategyError:
        raise
    except (TypeError, ValueError) as exc:
        raise StrategyError(f"strategy {entry.name!r} rejected its options {opts}: "
                            f"{exc}") from exc
    import keras_tuner

    if not isinstance(oracle, keras_tuner.Oracle):
        raise StrategyError(f"the factory of strategy {entry.name!r} returned "
                            f"{type(oracle).__name__}, not a keras_tuner.Oracle")
    return oracle


# --- keras-tuner's own strategies ---------------------------------------------------------

# Far enough apart that two searches' streams (a few draws per decision per trial) never overlap.
SEED_SPACING = 100_003


def _kt_seed(seed):
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise StrategyError(f"seed must be a non-negative integer or None, got {seed!r}")
    # keras-tuner reads seed=0 as "no seed", and consecutive seeds share their random stream
    return 1 + seed * SEED_SPACING


def _check_trials(max_trials):
    if max_trials is not None and (isinstance(max_trials, bool) or
                                   not isinstance(max_trials, int) or max_trials < 1):
        raise StrategyError(f"max_trials must be a positive integer or None, got "
                            f"{max_trials!r}")
    return max_trials


def random(objective="val_accuracy", max_trials=10, seed=None):
    """Random search: every configuration drawn independently and uniformly."""
    import keras_tuner

    return keras_tuner.oracles.RandomSearchOracle(
        objective=make_objective(objective), max_trials=_check_trials(max_trials),
        seed=_kt_seed(seed))


def bayesian(objective="val_accuracy", max_trials=10, seed=None, num_initial_points=None,
             alpha=1e-4, beta=2.6):
    """Bayesian optimisation: a Gaussian process models the score; UCB picks the next."""
    import keras_tuner

    return keras_tuner.oracles.BayesianOptimizationOracle(
        objective=make_objective(objective), max_trials=_check_trials(max_trials),
        seed=_kt_seed(seed), num_initial_points=num_initial_points, alpha=alpha, beta=beta)


def hyperband(objective="val_accuracy", max_trials=None, seed=None, max_epochs=10, factor=3,
              hyperband_iterations=1):
    """Hyperband: many configurations for few epochs, the best continue for more."""
    import keras_tuner

    oracle = keras_tuner.oracles.HyperbandOracle(
        objective=make_objective(objective), max_epochs=max_epochs, factor=factor,
        hyperband_iterations=hyperband_iterations, seed=_kt_seed(seed))
    oracle.max_trials = _check_trials(max_trials)  # keras-tuner's Oracle honours it
    return oracle


register("random", random, "random search (keras-tuner): independent uniform draws")
register("bayesian", bayesian, "Bayesian optimisation (keras-tuner): Gaussian process + UCB")
register("hyperband", hyperband,
         "Hyperband (keras-tuner): successive halving of epochs over brackets")


# Scalarised objectives (several recorded metrics in one score): nasbook/strategies/objectives.py
from nasbook.strategies.objectives import ObjectiveError, Weighted, weighted  # noqa: E402
