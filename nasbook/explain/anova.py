"""Exact functional ANOVA on a full-factorial table: the ground truth of decision importance.

When every combination of decisions has been trained (the tabular benchmark), the score
splits exactly into a mean, one main effect per decision and interaction terms. A decision's
importance is the share of the score's variance its main effect carries; a pair's is the share
its two-way interaction carries. Nothing is estimated: these are group means of the table::

    truth = nb.explain.functional_anova(nb.bench.load(), score="test_accuracy")
    nb.explain.main_effects(nb.bench.load())        # decision -> share of variance

The fANOVA and PED-ANOVA *estimates* of :mod:`nasbook.explain.search` can be checked
against these numbers.

With one training run per architecture, training noise is part of every term (mostly of the
interactions, which have most of the degrees of freedom). With a second seed the share that
noise alone produces is measurable: :func:`noise_floor` is the ANOVA of the seed-to-seed
difference, read on the same scale as :func:`variance_shares` of one run::

    one = table[table.seed == 0]
    nb.explain.variance_shares(one, score="ig_deletion_auc")   # decisions, pairs, rest
    nb.explain.noise_floor(table, score="ig_deletion_auc")     # what noise alone gives each
"""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from nasbook.trials import decision_columns

__all__ = ["functional_anova", "main_effects", "variance_shares", "noise_floor",
           "AnovaError"]


class AnovaError(ValueError):
    """A table that is not full-factorial, or lacks the columns asked for."""


def _cell_means(table, score, decisions):
    if decisions is None:  # the table's trials format, or the convention of nasbook.trials
        decisions = [d for d in decision_columns(table, score) if d != "status"]
        if not decisions:
            raise AnovaError("name the decision columns: decisions=[...] (the table has no "
                             "decisions in its attrs and no column that could be one)")
    decisions = list(decisions)
    missing = [c for c in [*decisions, score] if c not in table.columns]
    if missing:
        raise AnovaError(f"the table lacks the columns {missing}; it has {list(table.columns)}")
    rows = table[table["status"] == "completed"] if "status" in table.columns else table
    rows = rows[np.isfinite(pd.to_numeric(rows[score], errors="coerce"))]
    cells = rows.groupby(decisions)[score].mean()  # mean over seeds, per architecture
    levels = [rows[d].unique() for d in decisions]
    expected = int(np.prod([len(v) for v in levels]))
    if len(cells) != expected:
        raise AnovaError(f"functional ANOVA by group means needs every combination of "
                         f"{decisions} once: the table has {len(cells)} of {expected}. "
                         f"Use the full benchmark table, or estimate importance from trials "
                         f"with nb.explain.importance().")
    return cells.reset_index(), decisions


def functional_anova(table, *, score="test_accuracy", decisions=None) -> pd.DataFrame:
    """Main effects and pairwise interactions as shares of the total variance.

    ``table`` has one row per (architecture, seed) run; runs of the same architecture are
    averaged first, and every decision value is weighted equally (the uniform distribution
    over the space). Returns a DataFrame with columns ``term`` ("kernel" or "filters × kernel"),
    ``a``, ``b`` (None for a main effect), ``order`` (1 or 2) and ``fraction``, largest first.
    Usage: ``nb.explain.functional_anova(nb.bench.load())``.
    """
    cells, decisions = _cell_means(table, score, decisions)
    y = cells[score].to_numpy(float)
    mu, total = y.mean(), y.var()
    if total == 0:
        raise AnovaError(f"{score} is constant over the table: there is no variance to split")
    main = {d: cells.groupby(d)[score].transform("mean").to_numpy() - mu for d in decisions}
    rows = [{"term": d, "a": d, "b": None, "order": 1,
             "fraction": float(np.mean(main[d] ** 2) / total)} for d in decisions]
    for a, b in itertools.combinations(decisions, 2):
        pair = cells.groupby([a, b])[score].transform("mean").to_numpy() - mu
        inter = pair - main[a] - main[b]
        rows.append({"term": f"{a} × {b}", "a": a, "b": b, "order": 2,
                     "fraction": float(np.mean(inter ** 2) / total)})
    frame = pd.DataFrame(rows).sort_values("fraction", ascending=False, kind="stable")
    return frame.reset_index(drop=True)


def main_effects(table, *, score="test_accuracy", decisions=None) -> pd.Series:
    """Each decision's main-effect share of the variance (the ground-truth importance).

    Usage: ``nb.explain.main_effects(nb.bench.load(), score="val_accuracy")``
    """
    anova = functional_anova(table, score=score, decisions=decisions)
    first = anova[anova["order"] == 1]
    return pd.Series(first["fraction"].to_numpy(), index=pd.Index(first["a"], name="decision"),
                     name="truth")


def variance_shares(table, *, score="test_accuracy", decisions=None) -> pd.Series:
    """The exact ANOVA in three parts: each decision's main-effect share (in the order of
    ``decisions``), ``pairs`` (all two-way interactions together) and ``rest`` (everything
    else: interactions of three or more decisions, and in a table of one run per architecture
    the part of its training noise the lower terms do not take). The entries sum to 1.

    Usage: ``nb.explain.variance_shares(table[table.seed == 0], score="ig_deletion_auc")``
    """
    _, names = _cell_means(table, score, decisions)
    anova = functional_anova(table, score=score, decisions=names)
    main = anova[anova.order == 1].set_index("a").fraction
    shares = main.reindex(names).fillna(0.0).rename_axis(None)
    shares["pairs"] = anova[anova.order == 2].fraction.sum()
    shares["rest"] = 1.0 - shares.sum()
    shares.name = score
    return shares


def noise_floor(table, *, score="test_accuracy", decisions=None, seeds=(0, 1)) -> pd.Series:
    """The shares of :func:`variance_shares` that training noise alone produces in a table of
    one run per architecture (seed ``seeds[0]``), measured with a second run (``seeds[1]``).

    ``d = (run_a - run_b) / sqrt(2)`` has, architecture by architecture, the variance of one
    run's training noise and no architecture effect at all; its exact ANOVA splits that noise
    over the same terms. Each share of ``d`` times ``var(d) / var(run_a)`` is the part of one
    run's variance that the noise alone puts in that term (in expectation, for noise that is
    independent between the two seeds). The entries sum to the noise share of one run's
    variance, also returned as ``attrs["noise_share"]``. Read a term of
    ``variance_shares(run_a)`` against its floor: a share no larger than its floor could be
    noise alone.

    Usage: ``nb.explain.noise_floor(table, score="ig_deletion_auc")``
    """
    if "seed" not in table.columns:
        raise AnovaError("the noise floor needs two runs per architecture: a 'seed' column")
    seeds = list(seeds)
    have = set(table["seed"].unique())
    if len(seeds) != 2 or not set(seeds) <= have:
        raise AnovaError(f"the noise floor compares two seeds; asked for {seeds}, the table "
                         f"has {sorted(have)}")
    a, b = (table[table["seed"] == s] for s in seeds)
    cells_a, decisions = _cell_means(a, score, decisions)
    cells_b, _ = _cell_means(b, score, decisions)
    both = cells_a.merge(cells_b, on=decisions, suffixes=("_a", "_b"))
    d = (both[f"{score}_a"] - both[f"{score}_b"]) / np.sqrt(2.0)
    if float(d.var()) == 0.0:
        raise AnovaError(f"the two seeds give the same {score} everywhere: no noise to split")
    noise = both[decisions].assign(noise=d)
    shares = variance_shares(noise, score="noise", decisions=decisions)
    scale = float(d.var(ddof=0) / both[f"{score}_a"].var(ddof=0))
    floor = shares * scale
    floor.name = score
    floor.attrs["noise_share"] = scale
    return floor
