"""A faithfulness measure against its no-information null, when its baseline tracks the score.

A deletion AUC read "against random" (``ig_deletion_vs_random`` = IG's AUC - the random
order's, or the ratio) inherits the random order's AUC, and that AUC measures the model's
confidence: across the benchmark space it correlates about +0.98 with accuracy. So the
correlation of the *difference* with accuracy is about -rho(accuracy, random AUC) whatever IG
does; an IG AUC unrelated to accuracy gives nearly the same figure. Two readings take that out:

- :func:`permutation_null`: the method's AUCs shuffled among the architectures (no information
  about which model they came from), the same difference or ratio formed with each model's own
  random AUC, and the correlation with the score recomputed. The observed correlation minus the
  null's mean (``excess``) is what the method's AUC adds beyond no information;
- :func:`partial_spearman`: the rank correlation of the method's raw AUC with the score, given
  the random order's AUC (residuals of a linear fit on the ranks). Zero when the AUC relates to
  the score only through what the random AUC measures.

:func:`against_null` runs both on every training seed of a table, with percentile-bootstrap
intervals over architectures; :func:`null_verdicts` judges them with :func:`nasbook.stats.verdict`,
one figure per training seed (the unit that replicates; the bootstrap is over architectures).

Usage::

    frame = nb.explain.against_null(nb.bench.load_explanations(), method="ig", curve="deletion")
    for v in nb.explain.null_verdicts(frame, method="ig", curve="deletion"): print(v)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from nasbook.stats import verdict

__all__ = ["partial_spearman", "permutation_null", "NullResult", "against_null",
           "null_verdicts", "residual_given", "FORMS", "better_of"]

FORMS = ("difference", "ratio")


def better_of(curve) -> str:
    """``"lower"`` for a deletion curve (a faithful map makes it fall fast), ``"higher"`` for
    insertion."""
    if curve not in ("deletion", "insertion"):
        raise ValueError(f"curve is 'deletion' or 'insertion', got {curve!r}")
    return "lower" if curve == "deletion" else "higher"


def _ranks(a):
    """Ranks along the last axis, centred."""
    r = stats.rankdata(a, axis=-1)
    return r - r.mean(axis=-1, keepdims=True)


def _corr(a, b):
    """Pearson along the last axis of centred arrays (NaN where one is constant)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return (a * b).sum(-1) / np.sqrt((a ** 2).sum(-1) * (b ** 2).sum(-1))


def _residual(y, given):
    """``y`` (..., n) minus its least-squares fit on ``given`` (..., n, k) and a constant."""
    ones = np.ones(given.shape[:-1] + (1,))
    design = np.concatenate([ones, given], axis=-1)
    coef = np.linalg.lstsq(design, y, rcond=None)[0] if y.ndim == 1 else \
        np.stack([np.linalg.lstsq(d, v, rcond=None)[0] for d, v in zip(design, y)])
    return y - np.einsum("...nk,...k->...n", design, coef)


def partial_spearman(x, y, given) -> float:
    """Spearman's partial correlation of ``x`` and ``y`` given ``given`` (one covariate, shape
    ``(n,)``, or several, ``(n, k)``): the Pearson correlation of the ranks of ``x`` and ``y``
    after each is regressed linearly on the ranks of the covariates.

    Usage: ``partial_spearman(table.test_accuracy, table.ig_deletion_auc,
    table.random_deletion_auc)``"""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    g = np.asarray(given, dtype=float)
    g = g[:, None] if g.ndim == 1 else g
    if not len(x) == len(y) == len(g):
        raise ValueError(f"x, y and given need one value per architecture each, got "
                         f"{len(x)}, {len(y)} and {len(g)}")
    rg = np.column_stack([stats.rankdata(c) for c in g.T])
    rx = _residual(stats.rankdata(x), rg)
    ry = _residual(stats.rankdata(y), rg)
    return float(_corr(rx - rx.mean(), ry - ry.mean()))


def residual_given(table, column, given) -> pd.Series:
    """``column`` minus its least-squares linear fit on the columns ``given`` (and a constant),
    fitted within each training seed of ``table`` (a column ``seed``; one fit if there is
    none): what the measure says beyond what its baseline predicts, in the measure's units.
    Its ANOVA says which decisions move the measure *beyond* the baseline.

    Usage: ``table["ig_deletion_beyond_random"] = residual_given(table, "ig_deletion_auc",
    ["random_deletion_auc"])``"""
    given = [given] if isinstance(given, str) else list(given)
    missing = [c for c in [column, *given] if c not in table.columns]
    if missing:
        raise ValueError(f"the table lacks the columns {missing}")
    out = pd.Series(np.nan, index=table.index, name=f"{column}_beyond")
    groups = table.groupby("seed") if "seed" in table.columns else [(None, table)]
    for _, t in groups:
        y = t[column].to_numpy(float)
        out.loc[t.index] = _residual(y, t[given].to_numpy(float))
    return out


def _form(auc, baseline, form):
    if form == "difference":
        return auc - baseline
    if form == "ratio":
        return auc / baseline
    raise ValueError(f"form is one of {FORMS}, got {form!r}")


@dataclass(frozen=True)
class NullResult:
    """The observed Spearman correlation of a baseline-relative measure with a score beside its
    permutation null: ``null_mean`` and the ``level`` range of the null's correlations,
    ``excess`` = observed - null mean, and ``p_value``, the two-sided share of null
    correlations at least as far from the null's mean as the observed one (with the +1 of a
    permutation test)."""

    form: str
    observed: float
    null_mean: float
    null_low: float
    null_high: float
    excess: float
    p_value: float
    n_perm: int


def permutation_null(score, auc, baseline, *, form="difference", n_perm=1000, level=0.95,
                     seed=0) -> NullResult:
    """The no-information null of ``rho(score, form(auc, baseline))``: ``auc`` shuffled among
    the architectures ``n_perm`` times, each time the same difference (``auc - baseline``) or
    ratio (``auc / baseline``) formed with every architecture's own ``baseline``.

    Usage: ``permutation_null(t.test_accuracy, t.ig_deletion_auc, t.random_deletion_auc)``"""
    score, auc = np.asarray(score, dtype=float), np.asarray(auc, dtype=float)
    baseline = np.asarray(baseline, dtype=float)
    rs = _ranks(score)
    observed = float(_corr(rs, _ranks(_form(auc, baseline, form))))
    rng = np.random.default_rng(seed)
    shuffled = rng.permuted(np.broadcast_to(auc, (n_perm, len(auc))), axis=1)
    null = _corr(rs[None, :], _ranks(_form(shuffled, baseline[None, :], form)))
    mean = float(null.mean())
    low, high = np.quantile(null, [(1 - level) / 2, (1 + level) / 2])
    far = np.abs(null - mean) >= abs(observed - mean)
    return NullResult(form, observed, mean, float(low), float(high), observed - mean,
                      float((far.sum() + 1) / (n_perm + 1)), n_perm)


def _boot_excess(score, auc, baseline, form, idx, n_null, rng):
    """Observed - null mean of each bootstrap resample ``idx`` (b, n) of the architectures."""
    s, a, q = score[idx], auc[idx], baseline[idx]
    rs = _ranks(s)
    observed = _corr(rs, _ranks(_form(a, q, form)))
    null = np.zeros(len(idx))
    for _ in range(n_null):
        null += _corr(rs, _ranks(_form(rng.permuted(a, axis=1), q, form)))
    return observed - null / n_null


def _boot_partial(score, auc, given, idx):
    """The partial Spearman of each bootstrap resample ``idx`` (b, n)."""
    rx, ry = stats.rankdata(score[idx], axis=1), stats.rankdata(auc[idx], axis=1)
    rg = np.stack([stats.rankdata(given[idx][..., j], axis=1) for j in range(given.shape[1])],
                  axis=-1)
    ex, ey = _residual(rx, rg), _residual(ry, rg)
    return _corr(ex - ex.mean(1, keepdims=True), ey - ey.mean(1, keepdims=True))


def against_null(table, *, method="ig", curve="deletion", score="test_accuracy",
                 given=None, n_perm=1000, n_boot=1000, n_null=20, level=0.95,
                 seed=0) -> pd.DataFrame:
    """Every training seed of ``table`` (columns ``seed``, ``score``, ``<method>_<curve>_auc``
    and ``random_<curve>_auc``): one row per seed with

    - ``rho_raw``, ``rho_difference``, ``rho_ratio``: Spearman of the score with the raw AUC
      and its two baseline-relative forms;
    - per form, the permutation null's mean and ``level`` range, the ``excess`` (observed - null
      mean), its permutation p-value and a percentile-bootstrap interval of the excess over
      architectures (each resample's null from ``n_null`` shuffles);
    - ``partial``: :func:`partial_spearman` of the score and the raw AUC given ``given``
      (default: the random order's AUC of the same curve), with its bootstrap interval.

    Usage: ``nb.explain.against_null(nb.bench.load_explanations(), method="ig")``"""
    auc_col, base_col = f"{method}_{curve}_auc", f"random_{curve}_auc"
    given = [base_col] if given is None else list(given)
    missing = [c for c in ["seed", score, auc_col, *given] if c not in table.columns]
    if missing:
        raise ValueError(f"the table lacks the columns {missing}; pass the explanation-quality "
                         f"table (nb.bench.load_explanations())")
    rows = []
    q = [(1 - level) / 2, (1 + level) / 2]
    for s in sorted(table.seed.unique()):
        t = table[table.seed == s]
        sc, auc = t[score].to_numpy(float), t[auc_col].to_numpy(float)
        base, cov = t[base_col].to_numpy(float), t[given].to_numpy(float)
        rng = np.random.default_rng(seed)
        idx = rng.integers(0, len(t), size=(n_boot, len(t)))
        row = {"seed": int(s), "n": len(t),
               "rho_raw": float(stats.spearmanr(sc, auc).statistic)}
        for form in FORMS:
            null = permutation_null(sc, auc, base, form=form, n_perm=n_perm, level=level,
                                    seed=seed)
            boots = _boot_excess(sc, auc, base, form, idx, n_null, rng)
            low, high = np.nanquantile(boots, q)
            row.update({f"rho_{form}": null.observed, f"null_{form}": null.null_mean,
                        f"null_{form}_low": null.null_low, f"null_{form}_high": null.null_high,
                        f"excess_{form}": null.excess, f"excess_{form}_low": float(low),
                        f"excess_{form}_high": float(high), f"p_{form}": null.p_value})
        boots = _boot_partial(sc, auc, cov, idx)
        low, high = np.nanquantile(boots, q)
        row.update({"partial": partial_spearman(sc, auc, cov), "partial_low": float(low),
                    "partial_high": float(high)})
        rows.append(row)
    out = pd.DataFrame(rows).set_index("seed")
    out.attrs.update(method=method, curve=curve, score=score, given=given, level=level)
    return out


def null_verdicts(frame, *, method=None, curve=None, level=0.95) -> list:
    """:func:`nasbook.stats.verdict` on "more accurate models explain better, beyond no
    information" from :func:`against_null`'s rows, one figure per training seed: for each form
    the excess signed by the curve's direction (goal > 0), and the partial correlation signed
    the same way (goal > 0); last, the opposite claim from the partial (more accurate, less
    faithful given the baseline). With one seed no verdict is "met" (no interval)."""
    method = method or frame.attrs.get("method", "ig")
    curve = curve or frame.attrs.get("curve", "deletion")
    sign = 1.0 if better_of(curve) == "higher" else -1.0
    name = f"{method} {curve}"
    out = [verdict(sign * frame[f"excess_{form}"].to_numpy(), 0.0, level=level,
                   what=f"more accurate, more faithful by {name} ({form} form) beyond its "
                        f"permutation null (signed excess, one per training seed)")
           for form in FORMS]
    given = " and ".join(frame.attrs.get("given", [f"random_{curve}_auc"]))
    out.append(verdict(sign * frame["partial"].to_numpy(), 0.0, level=level,
                       what=f"more accurate, more faithful by {name} given {given} (signed "
                            f"partial Spearman, one per training seed)"))
    out.append(verdict(-sign * frame["partial"].to_numpy(), 0.0, level=level,
                       what=f"the opposite: more accurate, LESS faithful by {name} given "
                            f"{given} (partial Spearman signed the other way)"))
    return out
