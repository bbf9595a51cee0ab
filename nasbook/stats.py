"""Small statistics shared by the benchmark summaries and the research notebooks: the mean with
its confidence interval, the one verdict function (a goal met, not shown or missed) and the
paired difference of two methods on the same seeds.

Usage::

    from nasbook.stats import mean_ci, verdict, paired_difference
    mean, half = mean_ci([0.61, 0.64, 0.59], level=0.95)   # mean ± half (Student t)
    print(verdict([0.61, 0.64, 0.59], 0.6))                # MET / NOT SHOWN / MISSED, n, bound
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["mean_ci", "grouped_mean_ci", "t_quantile", "verdict", "Verdict", "MET",
           "NOT_SHOWN", "MISSED", "paired_difference", "PairedDifference"]


def t_quantile(level, dof):
    """The two-sided Student-t quantile for confidence ``level`` with ``dof`` degrees of
    freedom (array-friendly; dof below 1 is read as 1)."""
    from scipy import stats

    return stats.t.ppf(0.5 + level / 2, np.maximum(dof, 1))


def mean_ci(values, level=0.95) -> tuple:
    """``(mean, half_width)`` of the Student-t ``level`` interval for the mean of ``values``
    (NaNs dropped): mean ± t(level, n-1) · sd / √n. The half-width is NaN with fewer than two
    values; the mean is NaN with none."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    n = len(v)
    mean = float(v.mean()) if n else math.nan
    if n < 2:
        return mean, math.nan
    return mean, float(t_quantile(level, n - 1) * v.std(ddof=1) / math.sqrt(n))


def grouped_mean_ci(grouped, level=0.95):
    """:func:`mean_ci` of every group of a pandas ``SeriesGroupBy``, as a DataFrame with
    columns n, mean, sd, half_width, low, high (NaN half-width below two values)."""
    out = grouped.agg(["count", "mean", "std"]).rename(columns={"count": "n", "std": "sd"})
    half = t_quantile(level, out["n"] - 1) * out["sd"] / np.sqrt(out["n"])
    out["half_width"] = np.where(out["n"] > 1, half, np.nan)
    out["low"] = out["mean"] - out["half_width"]
    out["high"] = out["mean"] + out["half_width"]
    return out


# --- verdicts: a goal met, not shown or missed, computed from per-seed figures ---------------

MET, NOT_SHOWN, MISSED = "met", "not shown", "missed"
_BETTER = ("higher", "lower")


@dataclass(frozen=True)
class Verdict:
    """What per-seed (or per-run) figures say about a goal. ``word`` is :data:`MET` (the
    one-sided ``level`` bound clears the goal strictly: a tie does not), :data:`NOT_SHOWN`
    (the mean does, the bound does not, or n < 2 so there is no bound) or :data:`MISSED` (the
    mean does not). ``gap`` is how far the mean is on the good side of the goal (negative:
    short of it); ``bound`` is the one-sided bound on the side that must clear (the lower one
    when higher is better)."""

    word: str
    what: str
    goal: float
    better: str
    n: int
    mean: float
    sd: float
    bound: float
    level: float
    gap: float

    @property
    def met(self) -> bool:
        return self.word == MET

    def __str__(self) -> str:
        sign = ">=" if self.better == "higher" else "<="
        side = "lower" if self.better == "higher" else "upper"
        head = f"{self.what}: " if self.what else ""
        bound = (f"one-sided {self.level:.0%} {side} bound {self.bound:.5g}"
                 if np.isfinite(self.bound) else "no interval with n = 1")
        spread = f", sd {self.sd:.3g}" if np.isfinite(self.sd) else ""
        return (f"{head}{self.word.upper()} (goal {sign} {self.goal:.4g}; mean {self.mean:.5g}"
                f"{spread}, n = {self.n}, {bound}; gap {self.gap:+.3g})")


def verdict(values, goal, *, better="higher", level=0.95, what="") -> Verdict:
    """The verdict on ``goal`` of the figures ``values`` (one per seed or run, NaNs dropped),
    from the one-sided Student-t bound of their mean: met only when the bound clears the goal.

    Usage::

        v = verdict([0.670, 0.671, 0.605], 0.6, what="uniform weight sharing, Kendall tau")
        print(v)        # ...: NOT SHOWN (goal >= 0.6; mean 0.649, n = 3, ... bound 0.585 ...)
        v.word, v.bound, v.gap
    """
    if better not in _BETTER:
        raise ValueError(f"better must be 'higher' or 'lower', got {better!r}")
    if not 0.5 < level < 1:
        raise ValueError(f"level is a confidence between 0.5 and 1, got {level!r}")
    v = np.asarray(values, dtype=float).ravel()
    v = v[~np.isnan(v)]
    n = len(v)
    if n == 0:
        raise ValueError(f"no figures to judge{' for ' + what if what else ''} (all NaN or none)")
    mean = float(v.mean())
    sd = float(v.std(ddof=1)) if n > 1 else math.nan
    sign = 1.0 if better == "higher" else -1.0
    if n > 1:
        # one-sided bound at `level` = one end of the two-sided interval at 2*level - 1
        bound = mean - sign * float(t_quantile(2 * level - 1, n - 1)) * sd / math.sqrt(n)
    else:
        bound = math.nan
    gap = sign * (mean - goal)
    if gap < 0:
        word = MISSED
    elif np.isfinite(bound) and sign * (bound - goal) > 0:   # a tie with the goal does not clear
        word = MET
    else:
        word = NOT_SHOWN
    return Verdict(word, what, float(goal), better, n, mean, sd, bound, level, gap)


@dataclass(frozen=True)
class PairedDifference:
    """The mean of ``a - b`` over paired figures (the same seeds), with the paired Student-t
    interval and p-value and a bootstrap interval over the pairs."""

    n: int
    mean: float
    low: float
    high: float
    p_value: float
    boot_low: float
    boot_high: float
    level: float
    what: str = ""

    def __str__(self) -> str:
        head = f"{self.what}: " if self.what else ""
        return (f"{head}difference {self.mean:+.4g} (n = {self.n} pairs, paired t "
                f"{self.level:.0%} interval [{self.low:+.4g}, {self.high:+.4g}], p = "
                f"{self.p_value:.3g}; bootstrap [{self.boot_low:+.4g}, {self.boot_high:+.4g}])")


def paired_difference(a, b, *, level=0.95, n_boot=10_000, seed=0, what="") -> PairedDifference:
    """``a - b`` paired element by element (e.g. two estimators on the same seeds): the paired
    t interval and two-sided p-value, and a percentile bootstrap interval that resamples the
    pairs. Pairs with a NaN are dropped; fewer than two pairs give NaN intervals.

    Usage::

        d = paired_difference(tau_enas, tau_uniform, what="ENAS - uniform, Kendall tau")
        print(d); verdict(np.subtract(tau_enas, tau_uniform), 0.0)   # "beats" = met
    """
    from scipy import stats

    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    if a.shape != b.shape:
        raise ValueError(f"paired figures need equal lengths, got {len(a)} and {len(b)}")
    d = a - b
    d = d[~np.isnan(d)]
    n = len(d)
    if n == 0:
        raise ValueError("no complete pairs to compare")
    mean = float(d.mean())
    if n < 2:
        return PairedDifference(n, mean, *(math.nan,) * 5, level, what)
    half = float(t_quantile(level, n - 1)) * d.std(ddof=1) / math.sqrt(n)
    p = float(stats.ttest_1samp(d, 0.0).pvalue) if d.std() > 0 else (1.0 if mean == 0 else 0.0)
    rng = np.random.default_rng(seed)
    boots = d[rng.integers(0, n, size=(n_boot, n))].mean(axis=1)
    lo, hi = np.quantile(boots, [(1 - level) / 2, (1 + level) / 2])
    return PairedDifference(n, mean, mean - half, mean + half, p, float(lo), float(hi), level,
                            what)
