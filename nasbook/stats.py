"""Small statistics shared by the benchmark summaries: the mean with its confidence interval.

Usage::

    from nasbook.stats import mean_ci
    mean, half = mean_ci([0.61, 0.64, 0.59], level=0.95)   # mean ± half (Student t)
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["mean_ci", "t_quantile"]


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
