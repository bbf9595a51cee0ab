"""Audit a cheap estimator of architecture quality (a zero-cost proxy, a supernet's scores)
against the benchmark table's truth.

An estimator is a score for every architecture, higher meaning better. The audit asks:

- does it *rank* like the truth? Spearman ρ and Kendall τ with the table's mean test and
  validation accuracy, with bootstrap intervals over architectures;
- does it rank the *good* ones? τ within the true top 10%;
- what would trusting it cost? the true regret of its top-1 pick and of the best of its
  top-10 picks (as if you then trained those 10), beside random search given as many table
  queries (an exact expectation, not a simulation); ties in the scores are broken at
  random, so their regret is an expectation too;
- how good could it be? the **noise ceiling**: τ between the table's own seed-0 and seed-1
  runs. An estimator that beat it would predict one training run better than another
  training run of the same architecture does.

Usage::

    from nasbook.oneshot import audit, proxies
    frame = proxies.compute()
    audit.audit(frame.set_index("arch_id")["naswot"])          # one row of figures
    audit.audit_table({"naswot": ..., "params": ...})          # one row per estimator
    audit.subset_taus(scores, size=13)                         # τ measured on 13 models
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["truth", "as_scores", "correlations", "bootstrap", "top_tau", "expected_best",
           "pick_regret", "random_regret", "noise_ceiling", "subset_taus", "audit",
           "audit_table", "mean_rank", "AuditError"]


class AuditError(ValueError):
    """Scores that do not cover the table's architectures, or a table without seeds."""


def truth(table=None) -> pd.DataFrame:
    """One row per architecture (indexed by ``arch_id``): the decisions, ``test`` and ``val``
    (mean over seeds), each seed's ``test_s<k>`` / ``val_s<k>``, ``train_time_s`` (mean) and
    ``params``. Usage: ``audit.truth(nb.bench.load())``"""
    from nasbook.bench.space import DECISIONS

    if table is None:
        from nasbook.bench.table import load

        table = load()
    rows = table[table["status"] == "completed"] if "status" in table.columns else table
    g = rows.groupby("arch_id")
    out = g[list(DECISIONS)].first() if set(DECISIONS) <= set(rows.columns) else \
        pd.DataFrame(index=g.size().index)
    out["test"] = g["test_accuracy"].mean()
    if "val_accuracy" in rows:
        out["val"] = g["val_accuracy"].mean()
    for seed, part in rows.groupby("seed"):
        s = part.set_index("arch_id")
        out[f"test_s{seed}"] = s["test_accuracy"]
        if "val_accuracy" in s:
            out[f"val_s{seed}"] = s["val_accuracy"]
    for col in ("train_time_s", "params"):
        if col in rows:
            out[col] = g[col].mean()
    return out


def as_scores(scores, index=None, column=None) -> pd.Series:
    """An estimator's scores as a float Series indexed by ``arch_id``.

    Accepts a Series indexed by arch_id, or a DataFrame with an ``arch_id`` column and a
    ``column`` (default ``"score"``, the supernet's ``run.scores`` format). Missing scores
    (NaN) rank below every other architecture. ``index``: the arch_ids it must cover.
    """
    if isinstance(scores, pd.DataFrame):
        column = column or "score"
        if column not in scores.columns:
            raise AuditError(f"the frame has no column {column!r}; pass column=... (it has "
                             f"{list(scores.columns)})")
        frame = scores.set_index("arch_id") if "arch_id" in scores.columns else scores
        scores = frame[column]
    s = pd.Series(scores, dtype=float)
    if index is not None:
        missing = pd.Index(index).difference(s.index)
        if len(missing):
            raise AuditError(f"{len(missing)} architectures have no score (e.g. arch_id "
                             f"{list(missing[:3])}); score all of them")
        s = s.loc[index]
    return s.fillna(-np.inf)


def _kendall(a, b):
    from scipy import stats

    return float(stats.kendalltau(a, b).statistic)


def _spearman(a, b):
    from scipy import stats

    return float(stats.spearmanr(a, b).statistic)


def correlations(scores, truth_frame=None) -> dict:
    """Spearman ρ and Kendall τ (τ-b: ties counted) with mean test and validation accuracy."""
    t = truth() if truth_frame is None else truth_frame
    s = as_scores(scores, t.index).to_numpy()
    return {"spearman_test": _spearman(s, t["test"]), "kendall_test": _kendall(s, t["test"]),
            "spearman_val": _spearman(s, t["val"]), "kendall_val": _kendall(s, t["val"])}


def bootstrap(scores, truth_frame=None, *, target="test", n_boot=1000, level=0.95,
              seed=0) -> dict:
    """Percentile bootstrap intervals of ρ and τ, resampling architectures with replacement.

    Returns ``{"spearman": (low, high), "kendall": (low, high)}``."""
    from scipy import stats

    t = truth() if truth_frame is None else truth_frame
    s = as_scores(scores, t.index).to_numpy()
    y = t[target].to_numpy(float)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(s), size=(n_boot, len(s)))
    rs, ry = stats.rankdata(s[idx], axis=1), stats.rankdata(y[idx], axis=1)
    rs, ry = rs - rs.mean(1, keepdims=True), ry - ry.mean(1, keepdims=True)
    with np.errstate(invalid="ignore"):
        rho = (rs * ry).sum(1) / np.sqrt((rs ** 2).sum(1) * (ry ** 2).sum(1))
    tau = np.array([_kendall(s[i], y[i]) for i in idx])
    q = [(1 - level) / 2, (1 + level) / 2]
    return {"spearman": tuple(np.nanquantile(rho, q)), "kendall": tuple(np.nanquantile(tau, q))}


def top_tau(scores, truth_frame=None, *, top=0.1) -> float:
    """Kendall τ among the true top ``top`` fraction of architectures (by mean test)."""
    t = truth() if truth_frame is None else truth_frame
    k = max(2, math.ceil(top * len(t) - 1e-9))
    best = t["test"].sort_values(ascending=False).index[:k]
    return _kendall(as_scores(scores, t.index).loc[best], t.loc[best, "test"])


def expected_best(values, m) -> float:
    """Exact E[max] of ``m`` values drawn without replacement from ``values``.

    With v sorted ascending, P(max = v_j) = [C(j, m) − C(j−1, m)] / C(n, m).
    Usage: ``expected_best(truth.test, 10)`` is random search's best of 10."""
    v = np.sort(np.asarray(values, dtype=float))
    n = len(v)
    if not 1 <= m <= n:
        raise AuditError(f"cannot draw {m} of {n} values")
    j = np.arange(1, n + 1)
    log_c = lambda a: np.where(a >= m, _log_comb(a, m), -np.inf)  # noqa: E731
    p = np.exp(log_c(j) - _log_comb(n, m)) - np.exp(log_c(j - 1) - _log_comb(n, m))
    return float(np.sum(p * v))


def _log_comb(n, k):
    from scipy.special import gammaln

    n = np.asarray(n, dtype=float)
    return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)


def pick_regret(scores, truth_frame=None, *, k=1) -> float:
    """True regret of trusting the estimator: best mean test accuracy in the table minus the
    best mean test accuracy among its top-``k`` architectures (as if you trained those k).
    Ties at the cut are broken uniformly at random; the value is the exact expectation."""
    t = truth() if truth_frame is None else truth_frame
    s = as_scores(scores, t.index)
    y = t["test"]
    order = s.sort_values(ascending=False)
    cut = order.iloc[k - 1]
    sure = order.index[order > cut]
    tied = order.index[order == cut]
    best_sure = y.loc[sure].max() if len(sure) else -np.inf
    need = k - len(sure)
    tied_vals = np.maximum(y.loc[tied].to_numpy(float), best_sure)
    return float(y.max() - expected_best(tied_vals, need))


def random_regret(truth_frame=None, *, k=1) -> float:
    """Expected true regret of random search that trains ``k`` architectures (exact)."""
    t = truth() if truth_frame is None else truth_frame
    return float(t["test"].max() - expected_best(t["test"], k))


def noise_ceiling(table=None, *, score="test_accuracy", seeds=(0, 1)) -> dict:
    """How well one training run ranks another of the same architectures: Kendall τ and
    Spearman ρ between the table's seed ``seeds[0]`` and ``seeds[1]`` runs.

    Needs only the columns ``arch_id``, ``seed`` and ``score``."""
    if table is None:
        from nasbook.bench.table import load

        table = load()
    wide = table.pivot_table(index="arch_id", columns="seed", values=score)
    missing = [s for s in seeds if s not in wide.columns]
    if missing:
        raise AuditError(f"the table has no runs with seed {missing}; it has "
                         f"{list(wide.columns)}")
    wide = wide[list(seeds)].dropna()
    a, b = wide[seeds[0]].to_numpy(), wide[seeds[1]].to_numpy()
    return {"kendall": _kendall(a, b), "spearman": _spearman(a, b), "n": len(wide)}


def subset_taus(scores, truth_frame=None, *, size=13, n=1000, seed=0) -> np.ndarray:
    """Kendall τ with mean test accuracy, measured on ``n`` random subsets of ``size``
    architectures: how much a τ published on a dozen models can differ from the truth."""
    t = truth() if truth_frame is None else truth_frame
    s = as_scores(scores, t.index).to_numpy()
    y = t["test"].to_numpy(float)
    rng = np.random.default_rng(seed)
    return np.array([_kendall(s[i], y[i]) for i in
                     (rng.choice(len(s), size=size, replace=False) for _ in range(n))])


def audit(scores, table=None, *, n_boot=1000, level=0.95, seed=0, top=0.1,
          truth_frame=None) -> pd.Series:
    """Every figure of the audit for one estimator, as a Series: spearman/kendall with test
    and val (and their ``_low``/``_high`` bootstrap bounds for test), ``kendall_top`` (τ in
    the true top ``top``), ``regret_top1``/``regret_top10`` beside ``random_top1``/
    ``random_top10``, ``top1_percentile`` (share of architectures truly better than its top
    pick, tie-averaged) and ``noise_ceiling`` (τ between the table's two seeds).
    Usage: ``audit.audit(scores)``"""
    if truth_frame is None:
        if table is None:
            from nasbook.bench.table import load

            table = load()
        truth_frame = truth(table)
    t = truth_frame
    out = correlations(scores, t)
    boot = bootstrap(scores, t, n_boot=n_boot, level=level, seed=seed)
    out["spearman_test_low"], out["spearman_test_high"] = boot["spearman"]
    out["kendall_test_low"], out["kendall_test_high"] = boot["kendall"]
    out["kendall_top"] = top_tau(scores, t, top=top)
    out["regret_top1"] = pick_regret(scores, t, k=1)
    out["random_top1"] = random_regret(t, k=1)
    out["regret_top10"] = pick_regret(scores, t, k=10)
    out["random_top10"] = random_regret(t, k=10)
    s = as_scores(scores, t.index)
    picks = s.index[s == s.max()]
    out["top1_percentile"] = float(np.mean([(t["test"] > t.loc[p, "test"]).mean()
                                            for p in picks]))
    if table is not None:
        out["noise_ceiling"] = noise_ceiling(table)["kendall"]
    return pd.Series(out)


def audit_table(estimators: dict, table=None, *, wall_time_s=None, truth_frame=None,
                **options) -> pd.DataFrame:
    """:func:`audit` for each ``{name: scores}``; one row per estimator, plus a
    ``wall_time_s`` column when given (``{name: seconds}``). ``truth_frame``: audit on these
    architectures only (rows of :func:`truth`), e.g. a random subset.
    Usage: ``audit.audit_table({"naswot": s1, "params": s2}, n_boot=200)``"""
    if table is None:
        from nasbook.bench.table import load

        table = load()
    t = truth(table) if truth_frame is None else truth_frame
    rows = {name: audit(s, table, truth_frame=t, **options) for name, s in estimators.items()}
    frame = pd.DataFrame(rows).T
    frame.index.name = "estimator"
    if wall_time_s is not None:
        frame["wall_time_s"] = pd.Series(wall_time_s, dtype=float)
    return frame


def mean_rank(frame, columns) -> pd.Series:
    """An ensemble: each architecture's mean rank over ``columns`` (higher = better).
    Usage: ``mean_rank(proxy_frame.set_index("arch_id"), ["synflow", "naswot"])``"""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise AuditError(f"no columns {missing}; the frame has {list(frame.columns)}")
    return frame[list(columns)].fillna(-np.inf).rank().mean(axis=1).rename("mean_rank")
