"""Build every branch of a search space the way a keras-tuner Oracle would, before searching.

Building one model from the default hyperparameters (the keras.io habit) proves only that the
default branch builds. A space can still fail on trials the Oracle proposes later, because an
Oracle does not remember a hyperparameter once: after each trial it *merges* what the build
registered (``Oracle.update_space``), so a name declared under several conditions is registered
once per condition, and before each trial ``ensure_active_values`` drops the name as soon as
one of those registrations is inactive: trials that do not activate all of them fail with
``KeyError`` (keras-tuner 1.4). ``check_branches`` reproduces that mechanism without training anything:

1. build from the defaults, and keep the space the build registered (as the Oracle does);
2. for every value of every hyperparameter (parents set so that it is active), fill the values
   exactly as keras-tuner's random oracle fills a trial (only active hyperparameters, in space
   order, then ``ensure_active_values`` as ``Oracle._record_values`` does), build, and merge the
   space the build registered through a real Oracle's ``update_space``;
3. when no new hyperparameter or value appears, build every branch once more against the final
   space: what a late trial of a real search would see.

Usage::

    report = nb.space.check_branches(build_model)     # a build(hp) function or a HyperModel
    report.builds, report.values                      # how many models, which values were built
    # raises SpaceError naming each failing branch and its error
"""
from __future__ import annotations

from dataclasses import dataclass, field

import keras_tuner as kt

from nasbook.space.vocabulary import SpaceError

__all__ = ["BranchReport", "check_branches"]

_MAX_INT_VALUES = 16


@dataclass
class BranchReport:
    """What :func:`check_branches` built: ``builds`` models, ``values`` per hyperparameter."""

    builds: int = 0
    values: dict = field(default_factory=dict)

    def __str__(self):
        parts = ", ".join(f"{name}: {len(vals)}" for name, vals in self.values.items())
        return f"every branch builds: {self.builds} models; values per decision: {parts}"


def _candidates(hp) -> list:
    """The values of one hyperparameter worth building: all of them, or the ends and default."""
    if isinstance(hp, kt.engine.hyperparameters.Choice):
        return list(hp.values)
    if isinstance(hp, kt.engine.hyperparameters.Boolean):
        return [False, True]
    if isinstance(hp, kt.engine.hyperparameters.Fixed):
        return [hp.value]
    if isinstance(hp, kt.engine.hyperparameters.Int):
        step = hp.step or 1
        if hp.sampling in (None, "linear") and (hp.max_value - hp.min_value) // step < _MAX_INT_VALUES:
            return list(range(hp.min_value, hp.max_value + 1, step))
        return sorted({hp.min_value, hp.default, hp.max_value})
    if isinstance(hp, kt.engine.hyperparameters.Float):
        return sorted({hp.min_value, hp.default, hp.max_value})
    return [hp.default]


def _activating(space, target: dict, name: str, value) -> dict:
    """``target`` plus ``name = value``, with the parents of ``name`` set to activate it."""
    wanted = dict(target)
    wanted[name] = value
    pending = [hp for hp in space.space if hp.name == name]
    while pending:
        hp = pending.pop()
        for condition in hp.conditions:
            parent, allowed = getattr(condition, "name", None), getattr(condition, "values", None)
            if parent is None or not allowed:
                continue
            if wanted.get(parent) not in allowed:
                wanted[parent] = allowed[0]
            pending.extend(p for p in space.space if p.name == parent)
    return wanted


def _trial_values(space, wanted: dict):
    """The HyperParameters of a trial, made as keras-tuner's Oracle makes them: values for the
    active names only (``Oracle._random_values``), set on a copy of the space
    (``Oracle.create_trial``), then pruned by ``ensure_active_values`` (``_record_values``),
    which drops a name as soon as one of its registrations is inactive."""
    filled = kt.HyperParameters()
    for hp in space.space:
        filled.merge([hp])
        if filled.is_active(hp):
            filled.values[hp.name] = wanted.get(hp.name, hp.default)
    hps = space.copy()
    hps.values = dict(filled.values)
    hps.ensure_active_values()   # as Oracle._record_values does before the trial is built
    return hps


def check_branches(space_or_build, *, max_builds=400) -> BranchReport:
    """Build every value of every decision, as an Oracle would propose it; raise if any fails.

    ``space_or_build`` is a keras-tuner HyperModel (a nasbook SearchSpace is one) or a
    ``build(hp)`` function. Models are built, never trained. Raises :class:`SpaceError` listing
    each failing branch (its values) and the error it raised.
    """
    build = space_or_build.build if isinstance(space_or_build, kt.HyperModel) else space_or_build
    if not callable(build):
        raise SpaceError(f"check_branches needs a HyperModel or a build(hp) function, "
                         f"got {type(space_or_build).__name__}")
    oracle = kt.oracles.RandomSearchOracle(objective="val_loss", max_trials=1)
    report, failures, branches = BranchReport(), [], []

    def attempt(wanted):
        hps = _trial_values(oracle.hyperparameters, wanted)
        report.builds += 1
        try:
            build(hps)
        except Exception as err:  # a failing branch is what we are looking for
            failures.append((dict(hps.values), f"{type(err).__name__}: {err}"))
            return
        oracle.update_space(hps)   # keras-tuner's own merge, as after every real trial
        for name, value in hps.values.items():
            report.values.setdefault(name, [])
            if value not in report.values[name]:
                report.values[name].append(value)

    attempt({})
    if failures:
        raise SpaceError(f"the default configuration does not build: {failures[0][1]}")
    tried = set()
    while report.builds < max_builds:
        todo = [(hp.name, value) for hp in oracle.hyperparameters.space
                for value in _candidates(hp) if (hp.name, repr(value)) not in tried]
        if not todo:
            break
        for name, value in todo:
            tried.add((name, repr(value)))
            wanted = _activating(oracle.hyperparameters, {}, name, value)
            branches.append(wanted)
            attempt(wanted)
    for wanted in branches:      # the same branches against the final, merged space
        if report.builds >= 2 * max_builds:
            break
        attempt(wanted)
    if failures:
        seen, lines = set(), []
        for values, message in failures:
            key = (repr(sorted(values.items())), message)
            if key not in seen:
                seen.add(key)
                lines.append(f"  {values} -> {message}")
        raise SpaceError(
            f"{len(lines)} branch(es) of the space fail to build, as trials of a real search "
            f"would:\n" + "\n".join(lines[:10]) +
            "\nA name registered under several conditions (e.g. hp.Choice('activation') inside a "
            "per-block conditional_scope) is dropped from every trial that leaves one of them "
            "inactive: declare it once outside the scope, or give each block its own name.")
    return report
