"""Checks for notebook 12: region mass of an attribution map, the Pareto front of two
maximised objectives and NSGA-II's crowding distance."""

from __future__ import annotations

import numpy as np

from nasbook.exercises._base import Verdict, _as_array, _call, _verdict

__all__ = ["check_region_mass", "check_pareto_front", "check_crowding_distance"]


# --- region mass: the share of |attribution| on the ground-truth region (notebook 12) ---------

def _region_mass(attr, mask):
    """Reference: per example, sum of |attr| inside the bool mask over the sum of |attr|."""
    a = np.abs(np.asarray(attr, dtype=float))
    return (a * np.asarray(mask, dtype=bool)).sum(axis=1) / a.sum(axis=1)


def _region_cases():
    rng = np.random.default_rng(12)
    mask = np.zeros((3, 8), dtype=bool)
    mask[0, 2:5] = mask[1, :4] = mask[2, 6:] = True
    attr = np.array([[0, 0, 1, 2, 1, 0, 0, 0],          # all mass inside: 1
                     [1, 1, 1, 1, 1, 1, 1, 1],          # uniform: 4 of 8
                     [1, 0, 0, 0, 0, 0, 0, 3]], float)  # 3 of 4
    signed = rng.normal(size=(6, 40))
    signed_mask = rng.random((6, 40)) < 0.3
    signed_mask[:, 0] = True
    return {"hand-made maps (8 positions)": (attr, mask),
            "signed maps (negative attributions count by size)": (signed, signed_mask),
            "one example": (np.array([[-2.0, 1.0, 1.0]]), np.array([[True, False, False]]))}


def check_region_mass(fn, quiet=False) -> Verdict:
    """Check ``fn(attr, mask) -> (n,)``: per example, the share of ``|attr|`` that lies where
    the bool ``mask`` is True (attributions and mask shaped ``(n, positions)``)."""
    cases = _region_cases()
    for case, (attr, mask) in cases.items():
        ref = _region_mass(attr, mask)
        got, err = _call(fn, attr.copy(), mask.copy())
        if err:
            return _verdict(False, f"case '{case}': {err}", quiet, case=case)
        got, err = _as_array(got, "your result", ref.shape)
        if err:
            return _verdict(False, f"case '{case}': {err} (one share per example)", quiet,
                            case=case)
        diff = float(np.max(np.abs(got - ref))) if np.isfinite(got).all() else float("inf")
        if not diff <= 1e-9:
            hint = ""
            plain = (attr * mask).sum(axis=1) / attr.sum(axis=1)
            if np.allclose(got, plain, equal_nan=True):
                hint = (" You summed the signed attributions: take the absolute value first, "
                        "a large negative attribution is evidence too.")
            elif np.allclose(got, (np.abs(attr) * mask).sum(axis=1)):
                hint = " Divide by each map's total |attribution| to get a share."
            elif np.allclose(got, mask.mean(axis=1)):
                hint = " That is the region's share of the positions, not of the attribution."
            return _verdict(False, f"case '{case}': your shares {np.round(got, 4).tolist()[:4]}"
                            f", the reference {np.round(ref, 4).tolist()[:4]} (off by up to "
                            f"{diff:.3g}).{hint}", quiet, case=case, difference=diff)
    return _verdict(True, f"your region mass matches on all {len(cases)} cases.", quiet,
                    difference=0.0)


# --- the Pareto front of two maximised objectives (notebook 12) ----------------------------

def _pareto_front(points):
    """Reference: True where no other row is >= in every column and > in at least one."""
    p = np.asarray(points, dtype=float)
    keep = np.ones(len(p), dtype=bool)
    for i in range(len(p)):
        for j in range(len(p)):
            if i != j and np.all(p[j] >= p[i]) and np.any(p[j] > p[i]):
                keep[i] = False
                break
    return keep


def _front_cases():
    rng = np.random.default_rng(7)
    return {"three points, one dominated": np.array([[1.0, 3.0], [3.0, 1.0], [0.5, 0.5]]),
            "a tie in one column": np.array([[1.0, 2.0], [1.0, 3.0], [2.0, 1.0]]),
            "identical rows": np.array([[2.0, 2.0], [2.0, 2.0], [1.0, 1.0]]),
            "40 random points": rng.normal(size=(40, 2)),
            "one point": np.array([[0.3, -0.2]])}


def check_pareto_front(fn, quiet=False) -> Verdict:
    """Check ``fn(points) -> (n,) bool``: the non-dominated rows of an ``(n, 2)`` array whose
    columns are both maximised (identical rows do not dominate each other)."""
    cases = _front_cases()
    for case, points in cases.items():
        ref = _pareto_front(points)
        got, err = _call(fn, points.copy())
        if err:
            return _verdict(False, f"case '{case}': {err}", quiet, case=case)
        try:
            got = np.asarray(got)
        except Exception:  # noqa: BLE001 - anything unreadable is reported
            got = None
        if got is None or got.shape != ref.shape or got.dtype != bool:
            what = "nothing readable" if got is None else f"dtype {got.dtype}, shape {got.shape}"
            return _verdict(False, f"case '{case}': return a bool array with one entry per row "
                            f"(shape {ref.shape}), got {what}", quiet, case=case)
        wrong = np.flatnonzero(got != ref)
        if len(wrong):
            i = int(wrong[0])
            hint = ""
            if case == "a tie in one column" and (got & ~ref).any():
                hint = (" A row that is equal in one column and better in the other "
                        "dominates: use >= in both and > in at least one.")
            elif case == "identical rows" and not got[:2].any():
                hint = " Identical rows do not dominate each other: both stay on the front."
            elif np.array_equal(got, ~ref):
                hint = " Your mask is inverted: True should mark the rows on the front."
            return _verdict(False, f"case '{case}': row {i} {points[i].round(4).tolist()} should "
                            f"be {'on' if ref[i] else 'off'} the front ({len(wrong)} rows "
                            f"wrong).{hint}", quiet, case=case, difference=float(len(wrong)))
    return _verdict(True, f"your Pareto front matches on all {len(cases)} cases.", quiet,
                    difference=0.0)


# --- NSGA-II's crowding distance on one front, every column minimised (notebook 12) ----------

def _crowding_distance(points):
    """Reference: per column, sort; the two ends get inf, every other point (next - previous)
    / (max - min); summed over the columns. Two points or fewer: all inf."""
    p = np.asarray(points, dtype=float)
    n = len(p)
    if n <= 2:
        return np.full(n, np.inf)
    out = np.zeros(n)
    for j in range(p.shape[1]):
        order = sorted(range(n), key=lambda i: (p[i, j], i))
        span = p[order[-1], j] - p[order[0], j]
        out[order[0]] = out[order[-1]] = np.inf
        for k in range(1, n - 1):
            if span > 0 and np.isfinite(out[order[k]]):
                out[order[k]] += (p[order[k + 1], j] - p[order[k - 1], j]) / span
    return out


def _crowding_cases():
    rng = np.random.default_rng(12)
    x = np.sort(rng.uniform(size=12))
    return {"three points on a line": np.array([[1.0, 4.0], [2.0, 2.0], [4.0, 1.0]]),
            "five points, uneven gaps": np.array([[0.0, 10.0], [1.0, 6.0], [1.5, 5.0],
                                                  [4.0, 2.0], [8.0, 0.0]]),
            "12 random front points": np.c_[x, 1.0 - np.sqrt(x)],
            "unsorted rows": np.array([[4.0, 1.0], [1.0, 4.0], [2.0, 2.0], [3.0, 1.5]]),
            "two points": np.array([[0.0, 1.0], [1.0, 0.0]])}


def check_crowding_distance(fn, quiet=False) -> Verdict:
    """Check ``fn(points) -> (n,)``: the crowding distance of every point of one front, both
    columns minimised (NSGA-II, Deb et al. 2002): infinite at the two ends of each column,
    otherwise the sum over columns of the neighbours' gap divided by the column's range."""
    cases = _crowding_cases()
    for case, points in cases.items():
        ref = _crowding_distance(points)
        got, err = _call(fn, points.copy())
        if err:
            return _verdict(False, f"case '{case}': {err}", quiet, case=case)
        got, err = _as_array(got, "your result", ref.shape)
        if err:
            return _verdict(False, f"case '{case}': {err} (one distance per point)", quiet,
                            case=case)
        if not np.array_equal(np.isinf(got), np.isinf(ref)):
            hint = (" With two points or fewer every point is an end point: all infinite."
                    if len(points) <= 2 else " The first and last point of *each* column's "
                    "order are ends: infinity, whatever the other column says.")
            return _verdict(False, f"case '{case}': infinite at {np.isinf(got).tolist()}, "
                            f"expected at {np.isinf(ref).tolist()}.{hint}", quiet, case=case)
        finite = np.isfinite(ref)
        diff = float(np.max(np.abs(got[finite] - ref[finite]), initial=0.0))
        if not diff <= 1e-9:
            hint = ""
            raw = _gaps(points)
            if np.allclose(got[finite], raw[finite]):
                hint = (" Divide each column's gap by that column's range (max - min), so the "
                        "two objectives count alike.")
            elif np.allclose(got[finite], ref[finite] / 2):
                hint = " Use the gap between the two neighbours, next minus previous."
            return _verdict(False, f"case '{case}': your distances "
                            f"{np.round(got, 4).tolist()[:5]}, the reference "
                            f"{np.round(ref, 4).tolist()[:5]} (off by up to {diff:.3g}).{hint}",
                            quiet, case=case, difference=diff)
    return _verdict(True, f"your crowding distance matches on all {len(cases)} cases.", quiet,
                    difference=0.0)


def _gaps(p):
    """A typical slip, for the hint: the neighbours' gaps not divided by the range."""
    n = len(p)
    out = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for j in range(p.shape[1]):
        order = np.argsort(p[:, j], kind="stable")
        out[order[0]] = out[order[-1]] = np.inf
        out[order[1:-1]] += p[order[2:], j] - p[order[:-2], j]
    return out
