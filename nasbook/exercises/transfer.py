"""Checks for notebook 15: how much of one task's top-k is another's, the regret on task B of
task A's pick, and the accuracy-latency Pareto front."""

from __future__ import annotations

import numpy as np

from nasbook.exercises._base import Verdict, _call, _number_answer, _verdict

__all__ = ["check_top_overlap", "check_pick_regret", "check_latency_front"]


def _scores(rng, n):
    """Distinct scores (no ties: a top-k is then one set)."""
    return rng.permutation(np.linspace(0.2, 0.95, n)) + rng.uniform(0, 1e-4, n)


# --- A's top k among B's top k (notebook 15, section 2) ----------------------------------------

def _top_overlap(a, b, k):
    top_a = set(np.argsort(-np.asarray(a))[:k])
    top_b = set(np.argsort(-np.asarray(b))[:k])
    return len(top_a & top_b) / k


def _overlap_cases():
    rng = np.random.default_rng(15)
    a = _scores(rng, 50)
    best = a >= np.sort(a)[-10]
    agree_at_top = a.copy()                    # the same best ten, the rest reshuffled
    agree_at_top[~best] = rng.uniform(0.0, 0.1, int((~best).sum()))
    return {"a table against itself, k=5": (a, a.copy(), 5),
            "the best agree, the rest do not, k=6": (a, agree_at_top, 6),
            "reversed order, k=10": (a, -a, 10),
            "noisy copy, k=8": (a, a + rng.normal(0, 0.05, 50), 8),
            "unrelated, k=12": (a, _scores(rng, 50), 12),
            "k=1": (a, a + rng.normal(0, 0.02, 50), 1)}


def check_top_overlap(fn, quiet=False) -> Verdict:
    """Check ``fn(scores_a, scores_b, k) -> float``: the fraction of task A's ``k`` best
    architectures (by ``scores_a``, higher is better, one entry per architecture) that are also
    among task B's ``k`` best (by ``scores_b``)."""
    for case, (a, b, k) in _overlap_cases().items():
        ref = _top_overlap(a, b, k)
        got, bad = _number_answer(fn, (a.copy(), b.copy(), k), case, quiet)
        if bad is not None:
            return bad
        if not abs(got - ref) <= 1e-9:
            hint = ""
            if abs(got - ref * k) <= 1e-9 and k > 1:
                hint = " That is the count of shared architectures: divide by k."
            elif abs(got - _top_overlap(-np.asarray(a), -np.asarray(b), k)) <= 1e-9:
                hint = " That compares the k *worst*: higher scores are better."
            return _verdict(False, f"case '{case}': your overlap is {got:.4g}, the reference "
                            f"{ref:.4g}.{hint}", quiet, case=case, difference=abs(got - ref))
    return _verdict(True, f"your top-k overlap matches on all {len(_overlap_cases())} cases.",
                    quiet, difference=0.0)


# --- the regret on B of A's pick (notebook 15, section 2) -------------------------------------

def _pick_regret(val_a, test_b):
    test_b = np.asarray(test_b, dtype=float)
    return float(test_b.max() - test_b[int(np.argmax(val_a))])


def _regret_cases():
    rng = np.random.default_rng(151)
    a = _scores(rng, 40)
    return {"A's pick is B's best": (a, a + 0.01),
            "A's pick is B's worst": (a, -a),
            "noisy copy": (a, a + rng.normal(0, 0.05, 40)),
            "unrelated tasks": (a, _scores(rng, 40))}


def check_pick_regret(fn, quiet=False) -> Verdict:
    """Check ``fn(val_a, test_b) -> float``: the regret on task B of the architecture task A's
    validation accuracy picks: B's best test accuracy minus B's test accuracy of A's pick (one
    entry per architecture in both arrays)."""
    cases = _regret_cases()
    for case, (val_a, test_b) in cases.items():
        ref = _pick_regret(val_a, test_b)
        got, bad = _number_answer(fn, (val_a.copy(), test_b.copy()), case, quiet)
        if bad is not None:
            return bad
        if not abs(got - ref) <= 1e-9:
            hint = ""
            if abs(got + ref) <= 1e-9:
                hint = " The sign is reversed: regret is best minus picked, never negative."
            elif abs(got - _pick_regret(test_b, test_b)) <= 1e-9:
                hint = " B picked its own best: A's validation accuracy must choose."
            return _verdict(False, f"case '{case}': your regret is {got:.4g}, the reference "
                            f"{ref:.4g}.{hint}", quiet, case=case, difference=abs(got - ref))
    return _verdict(True, f"your regret matches on all {len(cases)} cases.", quiet,
                    difference=0.0)


# --- the accuracy-latency front (notebook 15, section 5) ---------------------------------------

def _front(accuracy, latency):
    from nasbook.pareto import pareto_mask

    points = np.column_stack([accuracy, latency])
    return sorted(int(i) for i in np.flatnonzero(pareto_mask(points, ["max", "min"])))


def _front_cases():
    rng = np.random.default_rng(152)
    acc, lat = rng.uniform(0.3, 0.95, 60), rng.uniform(0.1, 3.0, 60)
    best = int(np.argmax(acc))                # the most accurate is on the front ...
    tied_acc, tied_lat = acc.copy(), lat.copy()
    other = (best + 1) % len(acc)             # ... and so is its twin with the same figures
    tied_acc[other], tied_lat[other] = acc[best], lat[best]
    return {"three points": ([0.9, 0.8, 0.85], [2.0, 1.0, 3.0]),
            "one point dominates all": ([0.9, 0.5, 0.6], [0.1, 0.5, 0.4]),
            "60 random architectures": (acc, lat),
            "a tie in both objectives": (tied_acc, tied_lat),
            "equal accuracy, one faster": ([0.8, 0.8, 0.7], [1.0, 0.5, 0.2])}


def check_latency_front(fn, quiet=False) -> Verdict:
    """Check ``fn(accuracy, latency) -> list of indices``: the architectures on the Pareto front
    of higher accuracy and lower latency (none other is at least as good in both and better in
    one; two with equal figures are both on it), in any order."""
    cases = _front_cases()
    for case, (acc, lat) in cases.items():
        ref = _front(acc, lat)
        got, err = _call(fn, np.array(acc, dtype=float), np.array(lat, dtype=float))
        if err:
            return _verdict(False, f"case '{case}': {err}", quiet, case=case)
        try:
            mine = sorted(int(i) for i in got)
        except (TypeError, ValueError):
            return _verdict(False, f"case '{case}': return a list of indices, got "
                            f"{type(got).__name__}", quiet, case=case)
        if mine != ref:
            extra, lost = sorted(set(mine) - set(ref)), sorted(set(ref) - set(mine))
            hint = ""
            if extra:
                i = extra[0]
                hint = (f" Index {i} (accuracy {acc[i]:.3g}, latency {lat[i]:.3g} ms) is "
                        f"dominated.")
            elif lost:
                i = lost[0]
                hint = (f" Index {i} (accuracy {acc[i]:.3g}, latency {lat[i]:.3g} ms) is on "
                        f"the front: nothing is at least as accurate and as fast, and better "
                        f"in one.")
            return _verdict(False, f"case '{case}': your front has {len(mine)} points, the "
                            f"reference {len(ref)}.{hint}", quiet, case=case,
                            difference=float(len(extra) + len(lost)))
    return _verdict(True, f"your front matches on all {len(cases)} cases.", quiet,
                    difference=0.0)
