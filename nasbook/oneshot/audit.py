"""Audit a cheap estimator of architecture quality (a zero-cost proxy, a supernet's scores)
against the benchmark table's truth.

An estimator is a score for every architecture, higher meaning better. The audit asks:

- does it *rank* like the truth? Spearman ρ and Kendall τ (τ-b, which counts ties) with the
  table's mean test and validation accuracy, with percentile-bootstrap intervals that
  resample *architectures*: they say how much τ depends on which architectures are in the
  space, not how much it changes between runs of the estimator (for that, audit several
  seeds and summarise them with :func:`across_seeds`);
- does it rank the *good* ones? τ within the true top 10%;
- what would trusting it cost? the true regret of its top-1 pick and of its top-10 picks
  (as if you then trained those 10 and kept the one with the best *validation* accuracy,
  scored by its mean test accuracy), beside random search given as many trainings (exact
  expectations, not simulations); ties in the scores or in validation accuracy are broken
  at random, so these regrets are expectations too;
- how good could it be? the **noise ceiling** of the target actually used
  (:func:`noise_ceiling`): τ between the table's seed-0 and seed-1 runs is the ceiling of
  an estimator audited against *one* run; the audit's target is the *mean* of the two
  runs, which is less noisy, so its ceiling is higher (:func:`mean_ceiling`, a
  Spearman–Brown step) and τ(seed 0, seed 1) is only a lower bound of it.

Usage::

    from nasbook.oneshot import audit, proxies
    frame = proxies.compute()
    audit.audit(frame.set_index("arch_id")["naswot"])          # one row of figures
    audit.audit_table({"naswot": ..., "params": ...})          # one row per estimator
    audit.subset_taus(scores, size=13)                         # τ measured on 13 models
    audit.across_seeds(rows)          # rows indexed by (estimator, seed): mean and interval
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["truth", "as_scores", "correlations", "bootstrap", "top_tau", "expected_best",
           "pick_regret", "random_regret", "noise_ceiling", "mean_ceiling", "subset_taus",
           "audit", "audit_table", "across_seeds", "mean_rank", "pair_ensembles", "AuditError"]


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
    """Percentile bootstrap intervals of ρ and τ, resampling architectures with replacement:
    how much the figure depends on which architectures are in the space (the estimator's
    scores are held fixed, so a second run of the estimator can land outside it).

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


def _expected_pick(sure, tied, m, val, test) -> float:
    """Exact E[test of the pick]: the pick is the architecture with the best ``val`` among
    ``sure`` (always trained) and ``m`` drawn uniformly without replacement from ``tied``;
    ties in ``val`` are broken uniformly at random.

    Walk the distinct ``val`` levels from the top. At a level, the sure members there are
    present, and j of its t tied members with probability C(t, j) C(below, m - j) / C(T, m),
    where ``below`` counts the tied members under the level (all tied members above it were
    not drawn, or the walk would have stopped). The pick is uniform among the present ones, so
    by symmetry its expected test is (s·mean_sure + j·mean_tied) / (s + j). A level with a
    sure member ends the walk."""
    from scipy.special import comb

    sure, tied = np.asarray(sure, dtype=int), np.asarray(tied, dtype=int)
    total = len(tied)
    if not 0 <= m <= total or (m == 0 and len(sure) == 0):
        raise AuditError(f"cannot draw {m} of {total} tied architectures")
    levels = np.unique(np.concatenate([val[sure], val[tied]]))[::-1]
    below = total
    expected, mass = 0.0, 0.0
    for level in levels:
        s_here = sure[val[sure] == level]
        t_here = tied[val[tied] == level]
        t, s = len(t_here), len(s_here)
        below -= t
        mean_s = test[s_here].mean() if s else 0.0
        mean_t = test[t_here].mean() if t else 0.0
        for j in range(0, min(t, m) + 1):
            if s + j == 0 or m - j > below:
                continue
            p = comb(t, j, exact=True) * comb(below, m - j, exact=True) / comb(total, m,
                                                                                  exact=True)
            expected += p * (s * mean_s + j * mean_t) / (s + j)
            mass += p
        if s:
            break
    return float(expected / mass) if mass > 0 else float("nan")


def pick_regret(scores, truth_frame=None, *, k=1, select="val") -> float:
    """True regret of trusting the estimator: the best mean test accuracy in the table minus
    the mean test accuracy of the architecture you would keep after training its top ``k``:
    the one with the best ``select`` accuracy among them (``"val"``, the default: what a
    practitioner sees; ``"test"`` is an oracle choice, optimistic, kept for comparison). With
    k = 1 both are the same. Ties in the scores at the cut, and in ``select``, are broken
    uniformly at random; the value is the exact expectation (:func:`_expected_pick`)."""
    t = truth() if truth_frame is None else truth_frame
    if select not in ("val", "test"):
        raise AuditError(f"select is 'val' or 'test', got {select!r}")
    s = as_scores(scores, t.index).to_numpy()
    n = len(s)
    if not 1 <= k <= n:
        raise AuditError(f"cannot pick {k} of {n} architectures")
    test = t["test"].to_numpy(float)
    val = t[select].to_numpy(float)
    cut = np.sort(s)[::-1][k - 1]
    sure, tied = np.flatnonzero(s > cut), np.flatnonzero(s == cut)
    return float(test.max() - _expected_pick(sure, tied, k - len(sure), val, test))


def random_regret(truth_frame=None, *, k=1, select="val") -> float:
    """Expected true regret of random search that trains ``k`` architectures and keeps the
    one with the best ``select`` accuracy (exact; see :func:`pick_regret`)."""
    t = truth() if truth_frame is None else truth_frame
    return pick_regret(pd.Series(0.0, index=t.index), t, k=k, select=select)


def noise_ceiling(table=None, *, score="test_accuracy", seeds=(0, 1)) -> dict:
    """The noise ceilings of the audit, from the table's own repeated runs.

    - ``kendall`` / ``spearman``: τ and ρ between the runs of seed ``seeds[0]`` and
      ``seeds[1]``: the ceiling of an estimator audited against **one** held-out run, and a
      *lower bound* of the ceiling against the mean of the runs;
    - ``kendall_mean``: the ceiling against the **mean** of the ``len(seeds)`` runs (the
      audit's target): the expected τ of a noise-free estimator, :func:`mean_ceiling`;
    - ``kendall_fresh``: what a further, independent training run would reach against that
      mean (one run is not independent of a mean it is part of: it shares its noise);
    - ``n``: architectures, ``runs``: seeds in the mean.

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
    one = _kendall(a, b)
    derived = mean_ceiling(one, runs=len(seeds)) if one > 0 else \
        {"oracle": math.nan, "fresh_run": math.nan}   # runs that disagree: no ceiling
    return {"kendall": one, "spearman": _spearman(a, b), "n": len(wide), "runs": len(seeds),
            "kendall_mean": derived["oracle"], "kendall_fresh": derived["fresh_run"]}


def mean_ceiling(tau_one, runs=2) -> dict:
    """The noise ceiling of a target that averages ``runs`` training runs, from ``tau_one``,
    Kendall's τ between two single runs (a Spearman–Brown step in the Gaussian model).

    Model: run r of an architecture scores μ + ε_r, the ε independent with one variance, μ
    and ε jointly Gaussian. Then two runs correlate ρ₁ = sin(π τ₁ / 2) (Greiner's relation
    τ = (2/π) arcsin ρ); the mean of k runs has reliability ρ_k = k ρ₁ / (1 + (k − 1) ρ₁)
    (Spearman–Brown), so a noise-free estimator (μ itself) correlates √ρ_k with it and a
    further independent run √(ρ₁ ρ_k). Returns ``{"oracle": τ, "fresh_run": τ, "rho_one",
    "reliability"}``, each τ = (2/π) arcsin(correlation). With k = 1 the oracle's ceiling is
    √ρ₁ and a fresh run's is τ₁ itself. Usage: ``mean_ceiling(0.919)["oracle"]`` (≈ 0.959)"""
    if not -1 <= tau_one <= 1 or runs < 1:
        raise AuditError(f"need -1 <= tau_one <= 1 and runs >= 1, got {tau_one!r}, {runs!r}")
    rho = math.sin(math.pi * tau_one / 2)
    if rho <= 0:
        raise AuditError(f"tau between two runs is {tau_one:.3f}: the runs do not agree, so "
                         f"there is no ceiling to derive")
    reliability = runs * rho / (1 + (runs - 1) * rho)
    to_tau = lambda r: 2 / math.pi * math.asin(min(1.0, r))  # noqa: E731
    return {"oracle": to_tau(math.sqrt(reliability)),
            "fresh_run": to_tau(math.sqrt(rho * reliability)),
            "rho_one": rho, "reliability": reliability}


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
    the true top ``top``), ``regret_top1``/``regret_top10`` (the best of its top 10 chosen by
    validation accuracy, scored by test) beside ``random_top1``/``random_top10``,
    ``top1_percentile`` (share of architectures truly better than its top pick,
    tie-averaged), ``noise_ceiling`` (τ between the table's two seeds: the one-run ceiling)
    and ``noise_ceiling_mean`` (the ceiling of the two-seed mean the audit ranks against).
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
        ceiling = noise_ceiling(table)
        out["noise_ceiling"] = ceiling["kendall"]
        out["noise_ceiling_mean"] = ceiling["kendall_mean"]
    return pd.Series(out)


def audit_table(estimators: dict, table=None, *, wall_time_s=None, truth_frame=None,
                **options) -> pd.DataFrame:
    """:func:`audit` for each ``{name: scores}``; one row per estimator, plus a
    ``wall_time_s`` column when given (``{name: seconds}``). ``truth_frame``: audit on these
    architectures only (rows of :func:`truth`), e.g. a random subset. A key may be a tuple
    ``(name, seed)``: the index is then a MultiIndex ``(estimator, seed)``, ready for
    :func:`across_seeds`.
    Usage: ``audit.audit_table({"naswot": s1, "params": s2}, n_boot=200)``"""
    if table is None:
        from nasbook.bench.table import load

        table = load()
    t = truth(table) if truth_frame is None else truth_frame
    rows = {name: audit(s, table, truth_frame=t, **options) for name, s in estimators.items()}
    frame = pd.DataFrame(rows).T
    if isinstance(frame.index, pd.MultiIndex):
        frame.index.names = ["estimator", "seed"]
    else:
        frame.index.name = "estimator"
    if wall_time_s is not None:
        frame["wall_time_s"] = pd.Series(wall_time_s, dtype=float).reindex(frame.index)
    return frame.astype(float)


ACROSS = ("kendall_test", "spearman_test", "kendall_top", "regret_top1", "regret_top10",
          "top1_percentile")


def across_seeds(rows, columns=ACROSS, *, level=0.95, order=None) -> pd.DataFrame:
    """What varies between runs of each estimator: ``rows`` from :func:`audit_table` indexed
    by ``(estimator, seed)``; for each column, the mean over seeds with its Student-t
    ``level`` interval over seeds (:func:`nasbook.stats.grouped_mean_ci`): columns
    ``<column>``, ``<column>_sd``, ``<column>_low``, ``<column>_high`` and ``seeds`` (NaN
    interval with one seed). ``order``: the estimators in this order (default: as first met).
    Usage: ``audit.across_seeds(audit.audit_table({(name, seed): s, ...}))``"""
    from nasbook.stats import grouped_mean_ci

    if not isinstance(rows.index, pd.MultiIndex) or rows.index.nlevels != 2:
        raise AuditError("rows need a (estimator, seed) index: audit_table({(name, seed): "
                         "scores, ...})")
    missing = [c for c in columns if c not in rows.columns]
    if missing:
        raise AuditError(f"rows have no columns {missing}; they have {list(rows.columns)}")
    names = list(dict.fromkeys(rows.index.get_level_values(0))) if order is None else \
        list(order)
    out = pd.DataFrame(index=pd.Index(names, name="estimator"))
    for column in columns:
        g = grouped_mean_ci(rows[column].astype(float).groupby(level=0), level=level)
        out["seeds"] = g["n"].reindex(names).astype(int)
        out[column] = g["mean"].reindex(names)
        out[f"{column}_sd"] = g["sd"].reindex(names)
        out[f"{column}_low"] = g["low"].reindex(names)
        out[f"{column}_high"] = g["high"].reindex(names)
    out.attrs["level"] = level
    return out


def mean_rank(frame, columns) -> pd.Series:
    """An ensemble: each architecture's mean rank over ``columns`` (higher = better).
    Usage: ``mean_rank(proxy_frame.set_index("arch_id"), ["synflow", "naswot"])``"""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise AuditError(f"no columns {missing}; the frame has {list(frame.columns)}")
    return frame[list(columns)].fillna(-np.inf).rank().mean(axis=1).rename("mean_rank")


def pair_ensembles(runs, truth_frame=None, *, columns=None) -> pd.DataFrame:
    """Every ensemble of two proxies (:func:`mean_rank` of the pair) on every run, with its
    Kendall τ against the mean validation and the mean test accuracy of the architectures.

    ``runs``: ``{seed: frame}``, each frame indexed by ``arch_id`` with one column per proxy
    (``proxies.compute(...).set_index("arch_id")``); ``columns``: the proxies to pair
    (default: every column of ``proxies.PROXIES`` the first frame has). Returns one row per
    pair and seed: ``pair`` ("a + b"), ``a``, ``b``, ``seed``, ``kendall_val``,
    ``kendall_test``. A pair chosen by ``kendall_test`` is chosen with the truth it is then
    judged on (the winner of a contest: optimistic); choose by ``kendall_val``, on other
    runs than the ones it is judged on. Usage: ``pair_ensembles({1: frame}, truth(table))``"""
    from itertools import combinations

    from nasbook.oneshot.proxies import PROXIES

    t = truth() if truth_frame is None else truth_frame
    first = next(iter(runs.values()))
    columns = [c for c in PROXIES if c in first.columns] if columns is None else list(columns)
    rows = []
    for seed, frame in runs.items():
        for a, b in combinations(columns, 2):
            c = correlations(mean_rank(frame.loc[t.index], [a, b]), t)
            rows.append({"pair": f"{a} + {b}", "a": a, "b": b, "seed": seed,
                         "kendall_val": c["kendall_val"], "kendall_test": c["kendall_test"]})
    return pd.DataFrame(rows)
