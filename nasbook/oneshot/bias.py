"""Why a cheap estimator ranks badly, explained with the tools that explain a search.

Treat an estimator's scores for all architectures as the trials of a search and ask
``nasbook.explain.search`` which decisions drive them; put that beside the exact functional
ANOVA of the table's truth. A decision the estimator weighs far more (or less) than the truth
is where its ranking goes wrong; :func:`preferences` says which *values* it favours.

Scores are replaced by their rank percentile (0 = worst, 1 = best) first: the estimators live
on wildly different scales (synflow spans orders of magnitude), and only their order matters.

Usage::

    from nasbook.oneshot import bias
    bias.importance_beside_truth({"synflow": s1, "naswot": s2})   # decisions x estimators
    bias.preferences({"synflow": s1})                              # favoured values
"""
from __future__ import annotations

import pandas as pd

from nasbook.bench.space import DECISIONS

__all__ = ["as_trials", "importance_beside_truth", "preferences"]

NAMES = list(DECISIONS)


def _truth(table):
    from nasbook.oneshot.audit import truth

    if table is None:
        from nasbook.bench.table import load

        table = load()
    return truth(table)


def as_trials(scores, truth_frame=None, *, table=None) -> pd.DataFrame:
    """An estimator's scores as a search's trials: the six decisions and ``score`` (the rank
    percentile of the estimator's score), one row per architecture.
    Usage: ``xs.importance(bias.as_trials(scores))``"""
    from nasbook.oneshot.audit import as_scores

    from nasbook.bench.space import DECISIONS
    from nasbook.trials import tag

    t = _truth(table) if truth_frame is None else truth_frame
    s = as_scores(scores, t.index)
    frame = t[NAMES].assign(score=s.rank(pct=True).to_numpy()).reset_index(drop=True)
    frame.attrs = {}   # not the table's trials format: these are an estimator's ranks
    return tag(frame, decisions=NAMES, domains=DECISIONS, objective="score", direction="max")


def importance_beside_truth(estimators: dict, table=None, *, method="fanova", seed=0,
                            truth_frame=None) -> pd.DataFrame:
    """Decision importance of each estimator's ranking beside the truth's.

    Columns: ``truth (exact)`` (the functional ANOVA main effects of mean test accuracy,
    :func:`nasbook.explain.main_effects`, renormalised to sum to 1 over the decisions),
    ``truth (<method>)`` (the same estimator run on the truth's ranks: how far the method
    itself is from exact), then one column per estimator. Each column sums to 1.
    ``truth_frame``: the architectures the estimators scored (default all); the exact
    column always uses the whole table.
    Usage: ``importance_beside_truth({"naswot": s}, method="fanova")``"""
    from nasbook.explain import main_effects
    from nasbook.explain import search as xs

    if table is None:
        from nasbook.bench.table import load

        table = load()
    t = _truth(table) if truth_frame is None else truth_frame
    exact = main_effects(table).reindex(NAMES)
    out = pd.DataFrame({"truth (exact)": exact / exact.sum()})
    runs = {f"truth ({method})": t["test"], **estimators}
    for name, scores in runs.items():
        imp = xs.importance(as_trials(scores, t), methods=[method], seed=seed)[method]
        out[name] = imp.reindex(NAMES).fillna(0.0)
    out.index.name = "decision"
    out.attrs.update(method=method)
    return out


def preferences(estimators: dict, table=None, *, truth_frame=None) -> pd.DataFrame:
    """For each decision and value: the mean rank percentile of architectures with that value,
    by the truth (``truth``) and by each estimator (one column each). 0.5 = indifferent;
    a value the estimator rates far above the truth is one it over-values.
    Usage: ``preferences({"synflow": s}).loc["n_blocks"]``"""
    t = _truth(table) if truth_frame is None else truth_frame
    frames = {"truth": as_trials(t["test"], t)}
    frames.update({name: as_trials(s, t) for name, s in estimators.items()})
    cols = {}
    for name, trials in frames.items():
        parts = [trials.groupby(d)["score"].mean().rename_axis("value").to_frame()
                 .assign(decision=d) for d in NAMES]
        both = pd.concat(parts).reset_index().set_index(["decision", "value"])["score"]
        cols[name] = both
    return pd.DataFrame(cols)
