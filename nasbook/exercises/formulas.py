"""Checks for notebooks 03 and 04: optimiser steps, metrics, the dense forward pass."""

from __future__ import annotations

import numpy as np

from nasbook.exercises._base import (Verdict, _as_array, _call, _fmt, _fmt_arr, _gradients,
                                     _number_answer, _verdict)

from nasbook import metrics, optim

__all__ = ["check_adam_step", "check_sgd_momentum_step", "check_f1", "check_confusion_matrix", "check_dense_forward"]


# --- optimisers --------------------------------------------------------------------------------

ADAM_SETTINGS = [
    {"learning_rate": 0.01, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
    {"learning_rate": 0.05, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-6},
]


def check_adam_step(fn, steps=30, quiet=False) -> Verdict:
    """Check ``fn(w, g, m, v, t, learning_rate, beta_1, beta_2, epsilon) -> (w, m, v)``,
    one Adam step with ``t`` counting from 1 and ``m``, ``v`` starting at zeros.

    At every step your function gets the reference's w, m, v (so one slip is reported at
    the step where it happens, not smeared over later steps). m and v must match to
    round-off; the update of w to 1e-4 relative (the paper's and Keras' placements of
    epsilon both pass).
    """
    rng = np.random.default_rng(0)
    for setting_no, hp in enumerate(ADAM_SETTINGS):
        w = rng.normal(size=4)
        grads = _gradients(rng, steps, 4)
        state = None
        for t, g in enumerate(grads, start=1):
            m0 = np.zeros(4) if state is None else state["m"]
            v0 = np.zeros(4) if state is None else state["v"]
            w_ref, state = optim.adam(w, g, state, **hp)
            where = f"setting {setting_no + 1} ({_fmt(hp)}), step t={t}"
            out, err = _call(fn, w.copy(), g.copy(), m0.copy(), v0.copy(), t, **hp)
            if err is None and (not isinstance(out, (tuple, list)) or len(out) != 3):
                err = "your function should return three things: (w, m, v)"
            if err:
                return _verdict(False, f"{where}: {err}", quiet, case=where, step=t)
            for name, got, ref in zip("wmv", out, (w_ref, state["m"], state["v"])):
                got, err = _as_array(got, f"the returned {name}", (4,))
                if err:
                    return _verdict(False, f"{where}: {err}", quiet, case=where, step=t)
                diff = float(np.max(np.abs(got - ref)))
                if name == "w":
                    ok = np.allclose(got - w, ref - w, rtol=1e-4, atol=1e-12)
                else:
                    ok = np.allclose(got, ref, rtol=1e-9, atol=1e-15)
                if not ok:
                    hint = _adam_hint(name, got, ref, w, t, hp)
                    return _verdict(False, f"{where}: {name} differs from the reference by up "
                                    f"to {diff:.3g} (yours {_fmt_arr(got)}, reference "
                                    f"{_fmt_arr(ref)}).{hint}", quiet, case=where, step=t,
                                    difference=diff)
            w = w_ref
    return _verdict(True, f"your Adam step matches Keras' Adam for {steps} steps in each of "
                    f"{len(ADAM_SETTINGS)} settings.", quiet, difference=0.0)


def _adam_hint(name, got, ref, w, t, hp):
    if not np.all(np.isfinite(got)):
        return " Not finite: does t count from 1 (so 1 - beta**t is never 0)?"
    if name == "w":
        ratio = np.median((got - w) / (ref - w))
        uncorrected = (1 - hp["beta_1"] ** t) / np.sqrt(1 - hp["beta_2"] ** t)
        if abs(ratio - uncorrected) < 1e-3 * uncorrected:
            return (f" Your step is {ratio:.3g} times the right one, exactly "
                    f"(1 - beta_1^t) / sqrt(1 - beta_2^t): the bias correction "
                    f"m_hat = m / (1 - beta_1^t), v_hat = v / (1 - beta_2^t) is missing.")
        if abs(ratio + 1) < 1e-6:
            return " Your step has the wrong sign: w moves against the gradient, w - ..."
        return f" Your step is {ratio:.3g} times the right one."
    if name == "v":
        return " Is v an average of squared gradients, beta_2 * v + (1 - beta_2) * g**2?"
    return " Is m an average of gradients, beta_1 * m + (1 - beta_1) * g?"


def check_sgd_momentum_step(fn, nesterov=False, steps=40, quiet=False) -> Verdict:
    """Check ``fn(w, g, velocity, learning_rate, momentum) -> (w, velocity)``, one step of
    SGD with momentum (``nesterov=True``: your function is called with ``nesterov=True`` too).

    Your function keeps its own velocity (it starts as zeros), so either common convention
    passes: Keras' m <- mu m - lr g; w <- w + m, or v <- mu v + g; w <- w - lr v. Only w
    is compared, to round-off, after every step.
    """
    rng = np.random.default_rng(1)
    name = "Nesterov momentum" if nesterov else "momentum"
    for setting_no, hp in enumerate([{"learning_rate": 0.01, "momentum": 0.9},
                                     {"learning_rate": 0.1, "momentum": 0.5}]):
        w_ref = rng.normal(size=5)
        w, velocity, state = w_ref.copy(), np.zeros(5), None
        extra = {"nesterov": True} if nesterov else {}
        for t, g in enumerate(_gradients(rng, steps, 5), start=1):
            where = f"setting {setting_no + 1} ({_fmt(hp)}), step {t}"
            w_ref, state = optim.sgd(w_ref, g, state, nesterov=nesterov, **hp)
            out, err = _call(fn, w.copy(), g.copy(), velocity, **hp, **extra)
            if err is None and (not isinstance(out, (tuple, list)) or len(out) != 2):
                err = "your function should return two things: (w, velocity)"
            if err:
                return _verdict(False, f"{where}: {err}", quiet, case=where, step=t)
            w, err = _as_array(out[0], "the returned w", (5,))
            if err:
                return _verdict(False, f"{where}: {err}", quiet, case=where, step=t)
            velocity = out[1]
            diff = float(np.max(np.abs(w - w_ref)))
            if not np.allclose(w, w_ref, rtol=1e-9, atol=1e-12):
                hint = ""
                if t == 1:
                    hint = " The first step from zero velocity should equal plain SGD's"
                    hint += (" plus the look-ahead: w - lr*g*(1 + momentum)." if nesterov
                             else ": w - lr * g.")
                elif nesterov and t > 1:
                    hint = " Did you apply the look-ahead (w + mu * m - lr * g)?"
                return _verdict(False, f"{where}: w differs from the reference by {diff:.3g} "
                                f"(yours {_fmt_arr(w)}, reference {_fmt_arr(w_ref)}).{hint}",
                                quiet, case=where, step=t, difference=diff)
    return _verdict(True, f"your {name} step matches Keras' SGD for {steps} steps in each of "
                    f"2 settings.", quiet, difference=0.0)


# --- metrics ----------------------------------------------------------------------------------

def _metric_cases():
    rng = np.random.default_rng(2)
    y = rng.choice(4, 120, p=[0.55, 0.25, 0.15, 0.05])
    pred = np.where(rng.random(120) < 0.3, rng.integers(0, 4, 120), y)
    pred_never3 = np.where(pred == 3, 2, pred)
    return {
        "random, 4 imbalanced classes": (y, pred),
        "class 3 is never predicted": (y, pred_never3),
        "two classes": (y % 2, pred % 2),
        "all one class, all right": (np.zeros(9, int), np.zeros(9, int)),
        "perfect predictions": (y, y.copy()),
    }


def check_f1(fn, average="macro", quiet=False) -> Verdict:
    """Check ``fn(y_true, y_pred) -> float``, the F1 score with ``average`` ("macro",
    "micro", "weighted" or "binary" with class 1 positive) over the labels present in
    either array, counting 0/0 as 0 like scikit-learn's ``zero_division=0``."""
    for case, (y, pred) in _metric_cases().items():
        if average == "binary" and max(y.max(), pred.max()) > 1:
            y, pred = (y == 1).astype(int), (pred == 1).astype(int)
        ref = metrics.f1(y, pred, average=average)
        got, bad = _number_answer(fn, (y.copy(), pred.copy()), case, quiet)
        if bad is not None:
            return bad
        diff = abs(got - ref) if np.isfinite(got) else float("inf")
        if not diff <= 1e-9:
            hint = ""
            if not np.isfinite(got):
                hint = (" A class with no predictions makes precision 0/0; count it as 0 "
                        "(zero_division=0).")
            elif average == "macro" and abs(got - _f1_of_means(y, pred)) < 1e-9:
                hint = (" Macro F1 is the mean of the per-class F1 scores, not the F1 of the "
                        "mean precision and mean recall.")
            return _verdict(False, f"case '{case}': your {average} F1 is {got:.6g}, the "
                            f"reference {ref:.6g} (off by {diff:.3g}).{hint}", quiet,
                            case=case, difference=diff)
    return _verdict(True, f"your {average} F1 matches on all {len(_metric_cases())} cases.",
                    quiet, difference=0.0)


def _f1_of_means(y, pred):
    p = metrics.precision(y, pred, average="macro")
    r = metrics.recall(y, pred, average="macro")
    return 2 * p * r / (p + r) if p + r else 0.0


def check_confusion_matrix(fn, quiet=False) -> Verdict:
    """Check ``fn(y_true, y_pred, num_classes) -> (num_classes, num_classes) array`` of
    counts, rows the true classes and columns the predicted ones."""
    for case, (y, pred) in _metric_cases().items():
        k = 4
        ref = metrics.confusion_matrix(y, pred, num_classes=k)
        got, err = _call(fn, y.copy(), pred.copy(), k)
        if err is None:
            got, err = _as_array(got, "the returned matrix", (k, k))
        if err:
            return _verdict(False, f"case '{case}': {err}", quiet, case=case)
        if not np.array_equal(got, ref):
            diff = float(np.max(np.abs(got - ref)))
            i, j = np.argwhere(got != ref)[0]
            hint = (" Rows and columns are swapped: rows are true classes, columns "
                    "predictions." if np.array_equal(got.T, ref) else "")
            return _verdict(False, f"case '{case}': cell [true {i}, predicted {j}] is "
                            f"{got[i, j]:g}, should be {ref[i, j]} ({int((got != ref).sum())}"
                            f" cells differ).{hint}", quiet, case=case, difference=diff)
    return _verdict(True, f"your confusion matrix matches on all {len(_metric_cases())} cases.",
                    quiet, difference=0.0)


# --- the forward pass --------------------------------------------------------------------------

def _dense_sigmoid(x, kernel, bias):
    """Reference: sigmoid(x @ kernel + bias), a Keras Dense layer with sigmoid activation."""
    return 1.0 / (1.0 + np.exp(-(np.asarray(x) @ kernel + bias)))


def check_dense_forward(fn, quiet=False) -> Verdict:
    """Check ``fn(x, kernel, bias) -> sigmoid(x @ kernel + bias)`` for a batch ``x`` of shape
    (n, inputs), a ``kernel`` (inputs, units) as Keras stores it (that is W transposed in the
    formula sigma(W x + b)) and a ``bias`` (units,)."""
    rng = np.random.default_rng(3)
    for case, (n, d, u) in {"one example": (1, 3, 2), "a batch": (8, 5, 3),
                            "one unit": (4, 6, 1)}.items():
        x, kernel, bias = rng.normal(size=(n, d)), rng.normal(size=(d, u)), rng.normal(size=u)
        ref = _dense_sigmoid(x, kernel, bias)
        got, err = _call(fn, x.copy(), kernel.copy(), bias.copy())
        if err is None:
            got, err = _as_array(got, "the output", (n, u))
        if err:
            return _verdict(False, f"case '{case}': {err}", quiet, case=case)
        diff = float(np.max(np.abs(got - ref)))
        if diff > 1e-9:
            hint = (" That is the pre-activation Wx + b: apply the sigmoid."
                    if np.allclose(got, x @ kernel + bias) else "")
            return _verdict(False, f"case '{case}': output differs by up to {diff:.3g}.{hint}",
                            quiet, case=case, difference=diff)
    return _verdict(True, "your forward pass matches sigmoid(x @ kernel + bias) in 3 cases.",
                    quiet, difference=0.0)


