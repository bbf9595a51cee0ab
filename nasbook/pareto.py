"""Pareto dominance for several objectives: the front, non-dominated sorting, crowding
distance and the exact hypervolume. Pure numpy; used by the NSGA-II strategy
(:mod:`nasbook.strategies.nsga2`) and the benchmark's multi-objective tools
(:mod:`nasbook.bench.pareto`).

Points are rows of an ``(n, m)`` array, one column per objective; ``directions`` says for
each column whether higher (``"max"``) or lower (``"min"``) is better. Point a *dominates*
point b when a is at least as good in every objective and strictly better in one.

Usage::

    from nasbook.pareto import pareto_mask, hypervolume
    pts = [[0.90, 5000], [0.85, 1000], [0.80, 3000]]          # accuracy, parameters
    pareto_mask(pts, ["max", "min"])                          # [True, True, False]
    hypervolume(pts, reference=[0.5, 10000], directions=["max", "min"])
"""
from __future__ import annotations

import numpy as np

__all__ = ["minimised", "pareto_mask", "non_dominated_sort", "crowding_distance",
           "hypervolume", "check_directions"]


def check_directions(directions, m=None) -> list:
    """``directions`` as a list of "max"/"min" (one per objective), or a ValueError."""
    if isinstance(directions, str):
        directions = [directions]
    out = [str(d).lower() for d in directions]
    bad = [d for d in out if d not in ("max", "min")]
    if bad:
        raise ValueError(f"each direction must be 'max' or 'min', got {bad}")
    if m is not None and len(out) != m:
        raise ValueError(f"{len(out)} directions for {m} objectives; give one per objective")
    return out


def minimised(points, directions) -> np.ndarray:
    """The points as an ``(n, m)`` float array in which lower is better in every column
    (columns to maximise are negated)."""
    p = np.asarray(points, dtype=float)
    if p.ndim == 1:
        p = p[None, :] if p.size else p.reshape(0, len(check_directions(directions)))
    if p.ndim != 2:
        raise ValueError(f"points must be a 2-D array (n points x m objectives), got shape "
                         f"{p.shape}")
    d = check_directions(directions, p.shape[1])
    if np.isnan(p).any():
        raise ValueError("points contain NaN; drop failed evaluations before comparing them")
    sign = np.array([-1.0 if x == "max" else 1.0 for x in d])
    return p * sign


def _dominated_by(q: np.ndarray) -> np.ndarray:
    """``D[i, j]``: point j dominates point i (in minimised coordinates)."""
    le = (q[None, :, :] <= q[:, None, :]).all(axis=2)
    lt = (q[None, :, :] < q[:, None, :]).any(axis=2)
    return le & lt


def pareto_mask(points, directions) -> np.ndarray:
    """Boolean array: True for the points no other point dominates (the Pareto front).
    Equal points are all kept (none dominates another)."""
    q = minimised(points, directions)
    if len(q) == 0:
        return np.zeros(0, dtype=bool)
    return ~_dominated_by(q).any(axis=1)


def non_dominated_sort(points, directions) -> np.ndarray:
    """The front number of every point (0 = the Pareto front, 1 = the front once front 0 is
    removed, ...), as in NSGA-II (Deb et al. 2002)."""
    q = minimised(points, directions)
    dom = _dominated_by(q)
    rank = np.full(len(q), -1, dtype=int)
    left = np.ones(len(q), dtype=bool)
    level = 0
    while left.any():
        front = left & ~(dom[:, left].any(axis=1))
        rank[front] = level
        left &= ~front
        level += 1
    return rank


def crowding_distance(points, directions) -> np.ndarray:
    """NSGA-II's crowding distance of each point within its set (call it on one front):
    the sum over objectives of the gap between its two neighbours, divided by that
    objective's range; the two extreme points of every objective get ``inf``."""
    q = minimised(points, directions)
    n, m = q.shape
    dist = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for j in range(m):
        order = np.argsort(q[:, j], kind="stable")
        col = q[order, j]
        span = col[-1] - col[0]
        dist[order[0]] = dist[order[-1]] = np.inf
        if span > 0:
            dist[order[1:-1]] += (col[2:] - col[:-2]) / span
    return dist


def hypervolume(points, reference, directions) -> float:
    """The exact hypervolume: the volume of the region dominated by at least one point and
    bounded by ``reference`` (a point worse than every point of interest in every
    objective). Points not strictly better than the reference in every objective add
    nothing. Exact in any dimension (slicing along the last objective; fast for 2-D and the
    few hundred points of a benchmark front).

    Usage: ``hypervolume([[1, 3], [2, 1]], reference=[4, 4], directions=["min", "min"])``
    is 7.0 (the union of the boxes [1, 4]x[3, 4] and [2, 4]x[1, 4]: 3 + 6 - 2).
    """
    d = check_directions(directions)
    q = minimised(points, d).reshape(-1, len(d))
    r = minimised(np.asarray(reference, dtype=float)[None, :], d)[0]
    q = q[(q < r).all(axis=1)]
    if len(q) == 0:
        return 0.0
    return float(_hv(q[pareto_mask(q, ["min"] * len(d))], r))


def _hv(q: np.ndarray, r: np.ndarray) -> float:
    """Hypervolume of non-dominated minimised points ``q`` (all < r) against ``r``."""
    m = q.shape[1]
    if m == 1:
        return float(r[0] - q[:, 0].min())
    if m == 2:
        order = np.argsort(q[:, 0], kind="stable")
        x, y = q[order, 0], q[order, 1]      # on a 2-D front y falls as x grows
        upper = np.concatenate([[r[1]], y[:-1]])
        return float(np.sum((r[0] - x) * (upper - y)))
    order = np.argsort(q[:, -1], kind="stable")
    q = q[order]
    total = 0.0
    for i in range(len(q)):
        top = q[i + 1, -1] if i + 1 < len(q) else r[-1]
        height = top - q[i, -1]
        if height <= 0:
            continue
        base = q[: i + 1, :-1]
        total += height * _hv(base[pareto_mask(base, ["min"] * (m - 1))], r[:-1])
    return total
