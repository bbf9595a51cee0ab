"""Exact functional ANOVA on a full-factorial table: the ground truth of decision importance.

When every combination of decisions has been trained (the tabular benchmark), the score
splits exactly into a mean, one main effect per decision and interaction terms. A decision's
importance is the share of the score's variance its main effect carries; a pair's is the share
its two-way interaction carries. Nothing is estimated: these are group means of the table::

    truth = nb.explain.functional_anova(nb.bench.load(), score="test_accuracy")
    nb.explain.main_effects(nb.bench.load())        # decision -> share of variance

The fANOVA and PED-ANOVA *estimates* of :mod:`nasbook.explain.search` can be checked
against these numbers.
"""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from nasbook.trials import decision_columns

__all__ = ["functional_anova", "main_effects", "AnovaError"]


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
