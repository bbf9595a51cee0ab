"""Checks for notebook 11: the NASWOT score, Kendall's tau and the best of an estimator's top k
kept by validation accuracy."""

from __future__ import annotations

import numpy as np

from nasbook.exercises._base import Verdict, _number_answer, _verdict

__all__ = ["check_naswot", "check_kendall_tau", "check_best_of_k"]


# --- zero-cost proxies and rank correlation (notebook 11) ----------------------------------------

def _naswot_from_codes(codes):
    """Reference NASWOT score from binary activation codes (batch, units): log|det K| with
    K[i, j] = units - Hamming(codes[i], codes[j]) (Mellor et al. 2021, arXiv 2006.04647)."""
    c = np.asarray(codes).astype(bool)
    hamming = (c[:, None, :] != c[None, :, :]).sum(axis=-1)
    return float(np.linalg.slogdet((c.shape[1] - hamming).astype(float))[1])


def _code_cases():
    rng = np.random.default_rng(11)
    base = rng.random((6, 40)) < 0.5
    return {"6 examples, 40 units": base,
            "sparse codes (few units on)": rng.random((8, 60)) < 0.15,
            "one example": rng.random((1, 12)) < 0.5,
            "16 examples, 200 units": rng.random((16, 200)) < 0.5}


def check_naswot(fn, quiet=False) -> Verdict:
    """Check ``fn(codes) -> float``: the NASWOT score log|det K_H| of a (batch, units) array
    of 0/1 activation codes, K_H[i, j] = units - Hamming distance of examples i and j."""
    for case, codes in _code_cases().items():
        ref = _naswot_from_codes(codes)
        got, bad = _number_answer(fn, (codes.astype(int).copy(),), case, quiet)
        if bad is not None:
            return bad
        diff = abs(got - ref) if np.isfinite(got) else float("inf")
        if not diff <= 1e-6 * max(1.0, abs(ref)):
            c = codes.astype(float)
            hint = ""
            k = c @ c.T + (1 - c) @ (1 - c).T
            if np.isclose(got, np.linalg.det(k)):
                hint = " That is det K itself: NASWOT is its logarithm (use slogdet)."
            elif np.isclose(got, np.linalg.slogdet(c @ c.T + 1e-300 * np.eye(len(c)))[1]):
                hint = (" K counts agreements in both directions: units on in both examples "
                        "AND units off in both (c c^T + (1-c)(1-c)^T).")
            return _verdict(False, f"case '{case}': your score is {got:.6g}, the reference "
                            f"{ref:.6g} (off by {diff:.3g}).{hint}", quiet, case=case,
                            difference=diff)
    return _verdict(True, f"your NASWOT score matches on all {len(_code_cases())} cases.",
                    quiet, difference=0.0)


def check_kendall_tau(fn, quiet=False) -> Verdict:
    """Check ``fn(a, b) -> float``: Kendall's τ of two score arrays without ties,
    (concordant pairs - discordant pairs) / (n (n - 1) / 2), against SciPy."""
    from scipy import stats

    rng = np.random.default_rng(5)
    x = rng.permutation(30).astype(float)
    cases = {"same order": (x, 2 * x + 1), "reversed": (x, -x),
             "random": (x, rng.permutation(30).astype(float)),
             "noisy copy": (x, x + rng.normal(0, 8, 30)),
             "three items": (np.array([1.0, 2, 3]), np.array([1.0, 3, 2]))}
    for case, (a, b) in cases.items():
        ref = float(stats.kendalltau(a, b).statistic)
        got, bad = _number_answer(fn, (a.copy(), b.copy()), case, quiet)
        if bad is not None:
            return bad
        diff = abs(got - ref) if np.isfinite(got) else float("inf")
        if not diff <= 1e-9:
            n = len(a)
            hint = (" Divide by the number of pairs, n (n - 1) / 2, not n^2."
                    if np.isclose(got * n * n, ref * n * (n - 1) / 2) else "")
            return _verdict(False, f"case '{case}': your τ is {got:.6g}, SciPy's {ref:.6g} "
                            f"(off by {diff:.3g}).{hint}", quiet, case=case, difference=diff)
    return _verdict(True, f"your Kendall τ matches SciPy on all {len(cases)} cases.", quiet,
                    difference=0.0)


def _best_of_k(scores, val, test, k):
    top = np.argsort(-np.asarray(scores, dtype=float), kind="stable")[:k]
    return float(np.asarray(test, dtype=float)[top[np.argmax(np.asarray(val)[top])]])


def check_best_of_k(fn, quiet=False) -> Verdict:
    """Check ``fn(scores, val, test, k) -> float``: train the ``k`` architectures an estimator
    scores highest, keep the one with the best validation accuracy, and return its test
    accuracy (arrays without ties, one entry per architecture)."""
    rng = np.random.default_rng(22)
    test = rng.permutation(np.linspace(0.3, 0.95, 40))
    val = test + rng.normal(0, 0.05, 40)          # validation: close to test, not equal
    cases = {"a perfect estimator, k = 1": (test.copy(), 1),
             "a perfect estimator, k = 10": (test.copy(), 10),
             "a noisy estimator, k = 5": (test + rng.normal(0, 0.2, 40), 5),
             "a reversed estimator, k = 3": (-test, 3),
             "k = every architecture": (rng.normal(size=40), 40)}
    for case, (scores, k) in cases.items():
        ref = _best_of_k(scores, val, test, k)
        got, bad = _number_answer(fn, (scores.copy(), val.copy(), test.copy(), k), case, quiet)
        if bad is not None:
            return bad
        if not abs(got - ref) <= 1e-12:
            top = np.argsort(-scores)[:k]
            hint = ""
            if np.isclose(got, test[top].max()) and not np.isclose(ref, test[top].max()):
                hint = (" That is the best *test* accuracy of the k: an oracle choice nobody can "
                        "make. Keep the best by validation, then read its test accuracy.")
            elif np.isclose(got, val[top].max()):
                hint = " That is a validation accuracy: return the kept one's test accuracy."
            elif np.isclose(got, _best_of_k(-scores, val, test, k)):
                hint = " Higher scores are better: take the k largest, not the k smallest."
            return _verdict(False, f"case '{case}': you returned {got:.6g}, the reference "
                            f"{ref:.6g}.{hint}", quiet, case=case, difference=abs(got - ref))
    return _verdict(True, f"your best-of-k pick matches on all {len(cases)} cases.", quiet,
                    difference=0.0)
