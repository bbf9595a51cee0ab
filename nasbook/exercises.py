"""Check functions for the exercises: each calls your function on generated inputs, compares
it with the package's reference (itself checked against Keras and scikit-learn), and tells
you whether it is right or, if not, on which step or case and by how much it differs.

Usage::

    import nasbook as nb

    def my_adam(w, g, m, v, t, learning_rate, beta_1, beta_2, epsilon):
        ...
        return w, m, v

    verdict = nb.exercises.check_adam_step(my_adam)   # prints the verdict
    verdict.passed, verdict.step, verdict.difference

Every check prints one verdict and returns it as a :class:`Verdict` (truthy when right).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nasbook import metrics, optim

__all__ = ["Verdict", "check_adam_step", "check_sgd_momentum_step", "check_f1",
           "check_confusion_matrix", "check_dense_forward", "CLAIM_VERDICTS", "claims_quiz",
           "check_claim_verdicts", "check_gpu_days", "check_naswot",
           "check_kendall_tau"]


@dataclass
class Verdict:
    """The outcome of a check. ``case`` and ``step`` say where it first went wrong;
    ``difference`` is the largest absolute difference there."""

    passed: bool
    message: str
    case: str | None = None
    step: int | None = None
    difference: float | None = None

    def __bool__(self):
        return self.passed

    def __str__(self):
        return self.message


def _verdict(passed, message, quiet, **where):
    verdict = Verdict(passed, ("✅ right: " if passed else "❌ not yet: ") + message, **where)
    if not quiet:
        print(verdict.message)
    return verdict


def _call(fn, *args, **kwargs):
    """Call the student's function; turn an exception into a message."""
    try:
        return fn(*args, **kwargs), None
    except NotImplementedError:
        return None, "your function raises NotImplementedError: fill in its body first"
    except Exception as exc:  # noqa: BLE001 - any error is reported to the student
        return None, f"your function raised {type(exc).__name__}: {exc}"


def _gradients(rng, steps, size):
    """Gradients of varied size and sign, never close to zero (so relative checks are fair)."""
    return rng.choice([-1.0, 1.0], size=(steps, size)) * rng.uniform(0.1, 2.0, (steps, size))


def _as_array(x, label, shape):
    try:
        a = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        return None, f"{label} should be an array of numbers, got {type(x).__name__}"
    if a.shape != shape:
        return None, f"{label} has shape {a.shape}, expected {shape}"
    return a, None


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
        got, err = _call(fn, y.copy(), pred.copy())
        if err:
            return _verdict(False, f"case '{case}': {err}", quiet, case=case)
        try:
            got = float(got)
        except (TypeError, ValueError):
            return _verdict(False, f"case '{case}': return one number, got "
                            f"{type(got).__name__}", quiet, case=case)
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

def dense_sigmoid(x, kernel, bias):
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
        ref = dense_sigmoid(x, kernel, bias)
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


def _fmt(hp):
    return ", ".join(f"{k}={v:g}" for k, v in hp.items())


def _fmt_arr(a):
    return np.array2string(np.asarray(a)[:3], precision=6, separator=", ") + (
        "..." if np.asarray(a).size > 3 else "")


# --- claims and costs (notebook 14) -------------------------------------------------------------

CLAIM_VERDICTS = ("true", "false", "unverifiable", "outdated")

# Three claims of the source text, the verdict notebook 14 reaches, and a hint that points at the
# evidence without giving the verdict away.
_QUIZ = {
    "gpt3_found_by_nas": (
        "§6.2: OpenAI's GPT-3 found its network structure by neural architecture search.",
        "false",
        "read how Brown et al. 2020 (arXiv:2005.14165) describe GPT-3's model and "
        "architecture: where did it come from?"),
    "nasnet_imagenet": (
        "§6.1: Google's NASNet achieved excellent results on ImageNet image classification.",
        "true",
        "NASNet's abstract (Zoph et al. 2018, arXiv:1707.07012) reports its ImageNet top-1 "
        "accuracy against the best human-designed models of the time."),
    "keras_tensorflow_theano": (
        "§7.2.3: Keras is compatible with TensorFlow and Theano.",
        "outdated",
        "it was right once: which backends does today's Keras accept? Try "
        "keras.config.backend() and the Keras 2.3.0 release notes."),
}


def claims_quiz() -> dict:
    """The quiz of notebook 14: ``{claim_id: statement}``. Answer with a verdict from
    :data:`CLAIM_VERDICTS` for each id and pass the dict to :func:`check_claim_verdicts`."""
    return {key: statement for key, (statement, _, _) in _QUIZ.items()}


def check_claim_verdicts(answers, quiet=False) -> Verdict:
    """Check ``answers``, a dict ``{claim_id: verdict}`` for every claim of :func:`claims_quiz`,
    each verdict one of :data:`CLAIM_VERDICTS` (case and surrounding spaces ignored), or a
    function of no arguments that returns that dict (a student copy's stub raises
    NotImplementedError, which answers "not yet")."""
    if callable(answers):
        answers, err = _call(answers)
        if err:
            return _verdict(False, err, quiet)
    if not isinstance(answers, dict):
        return _verdict(False, f"answers should be a dict {{claim_id: verdict}}, got "
                        f"{type(answers).__name__}", quiet)
    missing = [key for key in _QUIZ if key not in answers]
    if missing:
        return _verdict(False, f"no verdict for {missing}; answer every id of claims_quiz()",
                        quiet, case=missing[0])
    unknown = [key for key in answers if key not in _QUIZ]
    if unknown:
        return _verdict(False, f"unknown claim ids {unknown}; the ids are {list(_QUIZ)}", quiet,
                        case=unknown[0])
    for key in _QUIZ:
        if str(answers[key]).strip().lower() not in CLAIM_VERDICTS:
            return _verdict(False, f"claim '{key}': {answers[key]!r} is not a verdict; use one of "
                            f"{CLAIM_VERDICTS}", quiet, case=key)
    for key, (_, truth, hint) in _QUIZ.items():
        given = str(answers[key]).strip().lower()
        if given != truth:
            return _verdict(False, f"claim '{key}': not '{given}'. Hint: {hint}", quiet, case=key)
    return _verdict(True, f"all {len(_QUIZ)} verdicts agree with the evidence.", quiet)


def _gpu_day_cases():
    # (label, number of GPUs, wall-clock hours, GPU-days)
    return [("NAS-RL: 800 GPUs for 28 days", 800, 28 * 24, 22400.0),
            ("GDAS: 1 GPU for 4 hours", 1, 4, 4 / 24),
            ("one GPU for one day", 1, 24, 1.0),
            ("16 GPUs for half a day", 16, 12, 8.0),
            ("no GPUs at all", 0, 10, 0.0)]


def check_gpu_days(fn, quiet=False) -> Verdict:
    """Check ``fn(n_gpus, hours) -> GPU-days``: the compute of a search that ran ``n_gpus`` GPUs
    in parallel for ``hours`` of wall-clock time, in GPU-days (one GPU busy for 24 hours)."""
    for case, gpus, hours, ref in _gpu_day_cases():
        got, err = _call(fn, gpus, hours)
        if err:
            return _verdict(False, f"case '{case}': {err}", quiet, case=case)
        try:
            got = float(got)
        except (TypeError, ValueError):
            return _verdict(False, f"case '{case}': return one number, got "
                            f"{type(got).__name__}", quiet, case=case)
        diff = abs(got - ref)
        if not diff <= 1e-9 * max(1.0, abs(ref)):
            hint = ""
            if np.isclose(got, gpus * hours):
                hint = " That is GPU-hours: a GPU-day is 24 GPU-hours."
            elif np.isclose(got, hours / 24) and gpus != 1:
                hint = " Multiply by the number of GPUs: they all ran at once."
            elif np.isclose(got, gpus * hours * 24):
                hint = " Divide the hours by 24, do not multiply."
            return _verdict(False, f"case '{case}': you said {got:g} GPU-days, the answer is "
                            f"{ref:g}.{hint}", quiet, case=case, difference=diff)
    return _verdict(True, f"your GPU-days are right in all {len(_gpu_day_cases())} cases.",
                    quiet, difference=0.0)


# --- exercises for notebooks 06, 07, 08, 09, 10, 14 ---
# Each reference below is private to its check (Keras, scikit-learn, SciPy, or a computation
# by a different route than the one the exercise asks for), so no public nasbook function
# answers an exercise.

__all__ += ["check_conv1d_params", "check_conv1d_output_length", "check_integrated_gradients",
            "check_input_gradient", "check_shapley_values", "check_lime_fit",
            "check_attention_pooling", "check_js_divergence", "check_main_effect_share",
            "check_interaction_share"]


def _one_number(got, case, quiet):
    """``(float, None)`` or ``(None, Verdict)`` when ``got`` is not one number."""
    try:
        return float(got), None
    except (TypeError, ValueError):
        return None, _verdict(False, f"case '{case}': return one number, got "
                              f"{type(got).__name__}", quiet, case=case)


def _conv_cases():
    # (label, kernel_size, in_channels, filters, use_bias)
    return [("kernel 3, 1 -> 16 channels", 3, 1, 16, True),
            ("kernel 5, 16 -> 32 channels", 5, 16, 32, True),
            ("kernel 1 (a pointwise convolution)", 1, 32, 8, True),
            ("no bias", 3, 8, 4, False)]


def check_conv1d_params(fn, quiet=False) -> Verdict:
    """Check ``fn(kernel_size, in_channels, filters, use_bias) -> int``: the trainable
    parameters of a ``keras.layers.Conv1D`` with that many filters, applied to a signal with
    ``in_channels`` channels (compared with Keras' own count)."""
    import keras

    for case, k, c, f, bias in _conv_cases():
        layer = keras.layers.Conv1D(f, k, use_bias=bias)
        layer.build((None, 40, c))
        ref = layer.count_params()
        got, err = _call(fn, k, c, f, bias)
        if err:
            return _verdict(False, f"case '{case}': {err}", quiet, case=case)
        got, bad = _one_number(got, case, quiet)
        if bad:
            return bad
        if got != ref:
            hint = ""
            if got == k * f + (f if bias else 0):
                hint = " Each filter spans every input channel: kernel_size * in_channels weights."
            elif bias and got == k * c * f:
                hint = " Add one bias per filter."
            elif not bias and got == k * c * f + f:
                hint = " With use_bias=False there is no bias."
            elif got == k * c * f + (c if bias else 0):
                hint = " There is one bias per filter (output channel), not per input channel."
            return _verdict(False, f"case '{case}': you said {got:g} parameters, Keras counts "
                            f"{ref}.{hint}", quiet, case=case, difference=abs(got - ref))
    return _verdict(True, f"your parameter counts match Keras' in all {len(_conv_cases())} "
                    f"cases.", quiet, difference=0.0)


def _length_cases():
    # (label, layer kind, input length, kernel/pool size, strides, padding)
    return [("convolution, valid, stride 1", "conv", 40, 3, 1, "valid"),
            ("convolution, same, stride 1", "conv", 40, 5, 1, "same"),
            ("convolution, valid, stride 2", "conv", 40, 5, 2, "valid"),
            ("convolution, same, stride 3", "conv", 40, 3, 3, "same"),
            ("max pooling 2, valid", "pool", 39, 2, 2, "valid"),
            ("max pooling 3 stride 2, same", "pool", 39, 3, 2, "same")]


def check_conv1d_output_length(fn, quiet=False) -> Verdict:
    """Check ``fn(length, size, strides, padding) -> int``: the output length of a Conv1D (or
    MaxPooling1D: the same rule) with kernel (pool) ``size``, ``strides`` and ``padding``
    "valid" or "same" on a signal of ``length`` positions (compared with Keras)."""
    import keras

    for case, kind, n, size, s, pad in _length_cases():
        layer = (keras.layers.Conv1D(4, size, strides=s, padding=pad) if kind == "conv"
                 else keras.layers.MaxPooling1D(size, strides=s, padding=pad))
        ref = layer.compute_output_shape((None, n, 2))[1]
        got, err = _call(fn, n, size, s, pad)
        if err:
            return _verdict(False, f"case '{case}': {err}", quiet, case=case)
        got, bad = _one_number(got, case, quiet)
        if bad:
            return bad
        if got != ref:
            hint = ""
            if pad == "valid" and got == (n - size) / s + 1:
                hint = " Lengths are whole numbers: round (n - size) / strides down, then add 1."
            elif pad == "same" and got == n and s > 1:
                hint = " 'same' keeps the length only at stride 1: it is ceil(length / strides)."
            elif pad == "valid" and got == n - size:
                hint = " Count the positions: a kernel as long as the signal still gives 1."
            return _verdict(False, f"case '{case}' (length {n}, size {size}, strides {s}, "
                            f"padding '{pad}'): you said {got:g}, Keras gives {ref}.{hint}",
                            quiet, case=case, difference=abs(got - ref))
    return _verdict(True, f"your output lengths match Keras' in all {len(_length_cases())} "
                    f"cases.", quiet, difference=0.0)


class _TinyNet:
    """A private two-layer network f(x) = sigmoid(v . tanh(W x + b) + c) and its gradient."""

    def __init__(self, seed, d=5, h=4):
        rng = np.random.default_rng(seed)
        self.W, self.b = rng.normal(size=(h, d)), rng.normal(size=h) * 0.5
        self.v, self.c = rng.normal(size=h) * 1.5, float(rng.normal())

    def __call__(self, x):
        return float(1.0 / (1.0 + np.exp(-(self.v @ np.tanh(self.W @ x + self.b) + self.c))))

    def gradient(self, x):
        hidden = np.tanh(self.W @ x + self.b)
        out = self(x)
        return out * (1 - out) * (self.W.T @ (self.v * (1 - hidden ** 2)))


def _ig_exact(net, x, baseline, nodes=64):
    """Integrated gradients by Gauss-Legendre quadrature (a different rule than a student's)."""
    t, w = np.polynomial.legendre.leggauss(nodes)
    alphas, weights = (t + 1) / 2, w / 2
    avg = sum(wi * net.gradient(baseline + a * (x - baseline)) for a, wi in zip(alphas, weights))
    return (x - baseline) * avg


def check_integrated_gradients(fn, quiet=False) -> Verdict:
    """Check ``fn(f, grad_f, x, baseline, steps) -> attributions`` (shape of ``x``): integrated
    gradients of a function ``f`` (R^d -> R, whose gradient ``grad_f`` is given) from
    ``baseline`` to ``x``, with a Riemann sum of ``steps`` points along the straight path.

    Checked two ways on small private networks: completeness (the attributions add up to
    f(x) - f(baseline)) and closeness to a hidden high-accuracy computation of the integral
    (within 1 % of the largest attribution at steps=300; left, right, midpoint or
    trapezoid Riemann sums all pass)."""
    rng = np.random.default_rng(7)
    cases = {"zero baseline": 0, "a random baseline": 1, "x close to the baseline": 2}
    for case, seed in cases.items():
        net = _TinyNet(seed + 11)
        x = rng.normal(size=5) * 1.5
        baseline = np.zeros(5) if seed == 0 else rng.normal(size=5)
        if seed == 2:
            x = baseline + 0.2 * rng.normal(size=5)
        ref = _ig_exact(net, x, baseline)
        got, err = _call(fn, net, net.gradient, x.copy(), baseline.copy(), 300)
        if err is None:
            got, err = _as_array(got, "the attributions", (5,))
        if err:
            return _verdict(False, f"case '{case}': {err}", quiet, case=case)
        gap = float(got.sum() - (net(x) - net(baseline)))
        diff = float(np.max(np.abs(got - ref)))
        scale = float(np.max(np.abs(ref)))
        if diff > 1e-2 * scale + 1e-9:
            hint = ""
            if np.allclose(got, net.gradient(x) * (x - baseline), rtol=1e-6):
                hint = (" That is gradient × (x - baseline) at x alone: average the gradient "
                        "over points along the path first.")
            elif np.allclose(got * (x - baseline), ref, rtol=1e-2, atol=1e-6) or np.allclose(
                    got, ref / np.where(x == baseline, 1, x - baseline), rtol=1e-2):
                hint = " Multiply the averaged gradient by (x - baseline)."
            elif np.allclose(got, ref * 300, rtol=1e-2):
                hint = " Average the gradients (divide the sum by steps)."
            return _verdict(False, f"case '{case}': completeness gap {gap:.3g} (sum of yours "
                            f"{got.sum():.6g}, f(x) - f(baseline) = "
                            f"{net(x) - net(baseline):.6g}); yours differ from the integral by "
                            f"up to {diff:.3g}.{hint}", quiet, case=case, difference=diff)
    return _verdict(True, f"your integrated gradients add up to f(x) - f(baseline) and match "
                    f"the integral in all {len(cases)} cases.", quiet, difference=0.0)


def check_input_gradient(fn, quiet=False) -> Verdict:
    """Check ``fn(kernel, bias, x, target) -> gradient``: the saliency of a linear softmax
    classifier p = softmax(x @ kernel + bias), that is the gradient of the target class's
    probability p[target] with respect to the input ``x`` (shape (d,); kernel (d, k) as Keras
    stores it). Compared with central finite differences."""
    rng = np.random.default_rng(8)

    def prob(kernel, bias, x, target):
        z = x @ kernel + bias
        z = np.exp(z - z.max())
        return (z / z.sum())[target]

    cases = {"3 classes, target 0": (4, 3, 0), "5 classes, target 3": (6, 5, 3),
             "2 classes, target 1": (3, 2, 1)}
    for case, (d, k, target) in cases.items():
        kernel, bias, x = rng.normal(size=(d, k)), rng.normal(size=k), rng.normal(size=d)
        h = 1e-6
        ref = np.array([(prob(kernel, bias, x + h * e, target)
                         - prob(kernel, bias, x - h * e, target)) / (2 * h) for e in np.eye(d)])
        got, err = _call(fn, kernel.copy(), bias.copy(), x.copy(), target)
        if err is None:
            got, err = _as_array(got, "the gradient", (d,))
        if err:
            return _verdict(False, f"case '{case}': {err}", quiet, case=case)
        diff = float(np.max(np.abs(got - ref)))
        if diff > 1e-6:
            hint = ""
            if np.allclose(got, kernel[:, target]):
                hint = (" That is the gradient of the logit: the probability's gradient is "
                        "p_t * (kernel[:, t] - kernel @ p).")
            elif np.allclose(got, -ref, atol=1e-6):
                hint = " The sign is flipped."
            return _verdict(False, f"case '{case}': your gradient differs from finite "
                            f"differences by up to {diff:.3g}.{hint}", quiet, case=case,
                            difference=diff)
    return _verdict(True, f"your input gradient matches finite differences in all {len(cases)} "
                    f"cases.", quiet, difference=0.0)


def _shapley_cases():
    return {
        "additive f = 2 x0 - x1 + 0.5 x2": lambda z: 2 * z[0] - z[1] + 0.5 * z[2],
        "interaction f = x0 * x1 + x2": lambda z: z[0] * z[1] + z[2],
        "f = max(x0, x1, x2)": lambda z: max(z[0], z[1], z[2]),
        "f = x0 * x1 * x2 + x1 ** 2": lambda z: z[0] * z[1] * z[2] + z[1] ** 2,
    }


def _shapley_by_orders(f, x, baseline):
    """Shapley values as the mean marginal contribution over all 3! orders (private)."""
    from itertools import permutations

    orders = list(permutations(range(len(x))))
    phi = np.zeros(len(x))
    for order in orders:
        z = baseline.copy()
        before = f(z)
        for i in order:
            z[i] = x[i]
            after = f(z)
            phi[i] += after - before
            before = after
    return phi / len(orders)


def check_shapley_values(fn, quiet=False) -> Verdict:
    """Check ``fn(f, x, baseline) -> phi`` (shape (3,)): the exact Shapley values of the
    three features of ``x`` for the function ``f`` (it takes one array of 3 numbers), where a
    coalition S is worth f(z) with z_i = x_i for i in S and z_i = baseline_i otherwise.
    Compared with a hidden computation and with efficiency: sum(phi) = f(x) - f(baseline)."""
    x, baseline = np.array([1.0, 2.0, -1.5]), np.array([0.5, -1.0, 0.0])
    for case, f in _shapley_cases().items():
        ref = _shapley_by_orders(f, x, baseline)
        got, err = _call(fn, f, x.copy(), baseline.copy())
        if err is None:
            got, err = _as_array(got, "phi", (3,))
        if err:
            return _verdict(False, f"case '{case}': {err}", quiet, case=case)
        diff = float(np.max(np.abs(got - ref)))
        if diff > 1e-9:
            gap = float(got.sum() - (f(x) - f(baseline)))
            hint = ""
            alone = np.array([f(np.where(np.arange(3) == i, x, baseline)) - f(baseline)
                              for i in range(3)])
            left_out = np.array([f(x) - f(np.where(np.arange(3) == i, baseline, x))
                                 for i in range(3)])
            if np.allclose(got, alone):
                hint = (" You measured each feature added to the empty coalition only; average "
                        "its contribution over all coalitions, weighted |S|!(n-|S|-1)!/n!.")
            elif np.allclose(got, left_out):
                hint = (" You measured each feature removed from the full coalition only; "
                        "average over all coalitions.")
            elif abs(gap) > 1e-9:
                hint = " Efficiency fails: the weights over coalitions must sum to 1."
            return _verdict(False, f"case '{case}': phi differs by up to {diff:.3g} (yours "
                            f"{_fmt_arr(got)}, reference {_fmt_arr(ref)}; sum(phi) - "
                            f"(f(x) - f(baseline)) = {gap:.3g}).{hint}", quiet, case=case,
                            difference=diff)
    return _verdict(True, f"your Shapley values are exact in all {len(_shapley_cases())} cases.",
                    quiet, difference=0.0)


def check_lime_fit(fn, quiet=False) -> Verdict:
    """Check ``fn(masks, outputs, distances, kernel_width) -> (intercept, coefficients)``:
    LIME's local surrogate, a linear model of ``outputs`` (n,) on the binary ``masks`` (n, d)
    fitted by least squares weighted with the paper's exponential kernel
    pi(z) = exp(-distance**2 / kernel_width**2), without regularisation. Compared with
    scikit-learn's LinearRegression with those sample weights."""
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(9)
    for case, (n, d, width) in {"4 segments": (200, 4, 0.25), "6 segments": (300, 6, 0.5),
                                "a narrow kernel": (400, 3, 0.15)}.items():
        masks = (rng.random((n, d)) < 0.5).astype(float)
        distances = 1 - masks.mean(axis=1)
        outputs = masks @ rng.normal(size=d) + 0.8 * masks[:, 0] * masks[:, 1] \
            + 0.1 * rng.normal(size=n)
        weights = np.exp(-distances ** 2 / width ** 2)
        ref = LinearRegression().fit(masks, outputs, sample_weight=weights)
        got, err = _call(fn, masks.copy(), outputs.copy(), distances.copy(), width)
        if err is None and (not isinstance(got, (tuple, list)) or len(got) != 2):
            err = "your function should return two things: (intercept, coefficients)"
        if err is None:
            coef, err = _as_array(got[1], "the coefficients", (d,))
        if err is None:
            intercept, bad = _one_number(got[0], case, True)
            err = bad.message.split(": ", 2)[-1] if bad else None
        if err:
            return _verdict(False, f"case '{case}': {err}", quiet, case=case)
        diff = float(max(np.max(np.abs(coef - ref.coef_)), abs(intercept - ref.intercept_)))
        if diff > 1e-6:
            hint = ""
            plain = LinearRegression().fit(masks, outputs)
            lime_pkg = LinearRegression().fit(masks, outputs, sample_weight=np.sqrt(weights))
            if np.allclose(coef, plain.coef_, atol=1e-6):
                hint = " That is the unweighted fit: weight each sample by the kernel."
            elif np.allclose(coef, lime_pkg.coef_, atol=1e-6):
                hint = (" Those weights are sqrt(exp(-d**2 / w**2)), the lime package's kernel;"
                        " this exercise uses the paper's exp(-d**2 / w**2).")
            return _verdict(False, f"case '{case}': intercept or coefficients differ by up to "
                            f"{diff:.3g} (yours {_fmt_arr(coef)}, reference "
                            f"{_fmt_arr(ref.coef_)}).{hint}", quiet, case=case, difference=diff)
    return _verdict(True, "your weighted fit matches scikit-learn's in all 3 cases.", quiet,
                    difference=0.0)


def check_attention_pooling(fn, quiet=False) -> Verdict:
    """Check ``fn(features, scores) -> pooled``: softmax attention pooling of a feature map
    ``features`` (n, length, channels) with one score per position ``scores`` (n, length):
    weights a = softmax(scores) over the positions of each example, pooled (n, channels) =
    sum over positions of a * features. Compared with SciPy's softmax; one case has scores
    in the thousands, where an unstable softmax overflows."""
    from scipy.special import softmax

    rng = np.random.default_rng(10)
    cases = {"one example": (1, 6, 3, 1.0), "a batch": (4, 10, 5, 2.0),
             "large scores": (3, 8, 2, 1000.0)}
    for case, (n, length, c, scale) in cases.items():
        features, scores = rng.normal(size=(n, length, c)), rng.normal(size=(n, length)) * scale
        ref = np.einsum("nl,nlc->nc", softmax(scores, axis=1), features)
        with np.errstate(all="ignore"):
            got, err = _call(fn, features.copy(), scores.copy())
        if err is None:
            got, err = _as_array(got, "the pooled features", (n, c))
        if err:
            return _verdict(False, f"case '{case}': {err}", quiet, case=case)
        diff = float(np.max(np.abs(got - ref))) if np.all(np.isfinite(got)) else float("inf")
        if not diff <= 1e-9:
            hint = ""
            if not np.all(np.isfinite(got)):
                hint = " Not finite: subtract each row's largest score before exp()."
            elif np.allclose(got, features.mean(axis=1)):
                hint = " That is plain average pooling: weight by softmax(scores)."
            elif np.allclose(got, np.einsum("nl,nlc->nc", softmax(scores, axis=0),
                                                      features)):
                hint = " Softmax over the batch axis: normalise over the positions (axis 1)."
            elif np.allclose(got, np.einsum("nl,nlc->nc", scores, features)):
                hint = " The scores are used as weights directly: apply softmax first."
            return _verdict(False, f"case '{case}': pooled features differ by up to "
                            f"{diff:.3g}.{hint}", quiet, case=case, difference=diff)
    return _verdict(True, f"your attention pooling matches in all {len(cases)} cases.", quiet,
                    difference=0.0)


def check_js_divergence(fn, quiet=False) -> Verdict:
    """Check ``fn(p, q) -> float``: the Jensen-Shannon divergence (natural log) between two
    attention distributions ``p`` and ``q`` (1-D, non-negative, each summing to 1, zeros
    allowed): JS = KL(p || m) / 2 + KL(q || m) / 2 with m = (p + q) / 2. Compared with
    SciPy's ``jensenshannon`` (which returns the square root)."""
    from scipy.spatial.distance import jensenshannon

    rng = np.random.default_rng(12)
    p1, q1 = rng.dirichlet(np.ones(8)), rng.dirichlet(np.ones(8))
    one_hot = np.eye(5)[1]
    cases = {"two random distributions": (p1, q1), "identical": (p1, p1.copy()),
             "with zeros": (np.array([0.5, 0.5, 0, 0]), np.array([0.25, 0, 0.5, 0.25])),
             "disjoint supports": (one_hot, np.eye(5)[3]),
             "peaked against uniform": (one_hot, np.full(5, 0.2))}
    for case, (p, q) in cases.items():
        ref = float(jensenshannon(p, q) ** 2)
        with np.errstate(all="ignore"):
            got, err = _call(fn, p.copy(), q.copy())
        if err:
            return _verdict(False, f"case '{case}': {err}", quiet, case=case)
        got, bad = _one_number(got, case, quiet)
        if bad:
            return bad
        diff = abs(got - ref) if np.isfinite(got) else float("inf")
        if not diff <= 1e-9:
            hint = ""
            if not np.isfinite(got):
                hint = " A zero probability contributes 0 * log(0 / m) = 0 to KL: skip those terms."
            elif np.isclose(got, np.sqrt(ref)):
                hint = " That is the Jensen-Shannon distance (the square root): square it."
            elif np.isclose(got, ref / np.log(2)):
                hint = " That is in bits (log base 2): use the natural log."
            return _verdict(False, f"case '{case}': you said {got:.6g}, the reference is "
                            f"{ref:.6g}.{hint}", quiet, case=case, difference=diff)
    return _verdict(True, f"your Jensen-Shannon divergence matches SciPy's in all {len(cases)} "
                    f"cases.", quiet, difference=0.0)


def _factorial_table(seed, replicates=2):
    """A synthetic full-factorial table: 3 decisions, additive effects, one interaction, noise."""
    import itertools

    import pandas as pd

    rng = np.random.default_rng(seed)
    levels = {"blocks": [1, 2, 3], "filters": [16, 32], "kernel": [3, 5, 7, 9]}
    effect = {"blocks": rng.normal(size=3) * 0.03, "filters": rng.normal(size=2) * 0.02,
              "kernel": rng.normal(size=4) * 0.01}
    inter = rng.normal(size=(3, 4)) * 0.01
    rows = []
    for combo in itertools.product(*(range(len(v)) for v in levels.values())):
        for rep in range(replicates):
            b, f, k = combo
            score = (0.8 + effect["blocks"][b] + effect["filters"][f] + effect["kernel"][k]
                     + inter[b, k] + rng.normal() * 0.005)
            rows.append({"blocks": levels["blocks"][b], "filters": levels["filters"][f],
                         "kernel": levels["kernel"][k], "seed": rep, "score": score})
    return pd.DataFrame(rows).sample(frac=1.0, random_state=seed).reset_index(drop=True)


def _r2_one_hot(table, columns, score="score"):
    """R² of a least-squares fit of the score on one-hot codes of ``columns`` (scikit-learn)."""
    import pandas as pd
    from sklearn.linear_model import LinearRegression

    design = pd.get_dummies(table[list(columns)].astype(str)).to_numpy(float)
    return LinearRegression().fit(design, table[score]).score(design, table[score])


def _architecture_means(table, score="score"):
    """One row per architecture: the mean score over its seeds (private)."""
    decisions = [c for c in table.columns if c not in ("seed", score)]
    return table.groupby(decisions)[score].mean().reset_index()


def _share_cases():
    return {"seed 0, decision 'blocks'": (0, "blocks"),
            "seed 0, decision 'kernel'": (0, "kernel"),
            "seed 1, decision 'filters'": (1, "filters"),
            "seed 2, decision 'kernel'": (2, "kernel")}


def check_main_effect_share(fn, quiet=False) -> Verdict:
    """Check ``fn(table, decision) -> float``: the fANOVA main effect of one decision, as a
    share of the variance, in a full-factorial table (a DataFrame with one column per decision,
    a ``"seed"`` column and a ``"score"`` column; every architecture was run with two seeds).
    As in notebook 10: average each architecture's seeds first; then the share is the variance
    of the group means over the decision's values (around the grand mean, each value weighted
    equally) divided by the variance of the architectures' scores (both with ddof=0).
    Compared with a hidden computation by a different route on synthetic tables."""
    for case, (seed, decision) in _share_cases().items():
        table = _factorial_table(seed)
        cells = _architecture_means(table)
        ref = _r2_one_hot(cells, [decision])
        got, err = _call(fn, table.copy(), decision)
        if err:
            return _verdict(False, f"case '{case}': {err}", quiet, case=case)
        got, bad = _one_number(got, case, quiet)
        if bad:
            return bad
        diff = abs(got - ref) if np.isfinite(got) else float("inf")
        if not diff <= 1e-9:
            y = cells["score"]
            means = cells.groupby(decision)["score"].mean()
            hint = ""
            if np.isclose(got, _r2_one_hot(table, [decision]), rtol=1e-6):
                hint = (" You used every run: average each architecture's seeds first (the "
                        "seed-to-seed noise is not a decision's effect).")
            elif np.isclose(got, ref * y.var(ddof=0), rtol=1e-6):
                hint = " That is the main effect's variance: divide by the total variance."
            elif np.isclose(got, means.var(ddof=1) / y.var(ddof=0), rtol=1e-6) or np.isclose(
                    got, means.var(ddof=1) / y.var(ddof=1), rtol=1e-6) or np.isclose(
                    got, means.var(ddof=0) / y.var(ddof=1), rtol=1e-6):
                hint = " Use ddof=0 for both variances (a population variance over the levels)."
            elif np.isclose(got, 1 - ref, rtol=1e-6):
                hint = " That is the share left over: the within-group part."
            return _verdict(False, f"case '{case}': you said {got:.6g}, the main effect's share "
                            f"is {ref:.6g}.{hint}", quiet, case=case, difference=diff)
    return _verdict(True, f"your main-effect shares match in all {len(_share_cases())} cases.",
                    quiet, difference=0.0)


def check_interaction_share(fn, quiet=False) -> Verdict:
    """Check ``fn(table, a, b) -> float``: the fANOVA pairwise interaction of decisions ``a``
    and ``b`` in the tables of :func:`check_main_effect_share` (average each architecture's
    seeds first): the variance of the (a, b) group means after removing both main effects
    (pair mean - mean of a's value - mean of b's value + grand mean, over the architectures)
    divided by the variance of the architectures' scores (ddof=0)."""
    pairs = {"seed 0, blocks x kernel": (0, "blocks", "kernel"),
             "seed 1, blocks x filters": (1, "blocks", "filters"),
             "seed 3, filters x kernel": (3, "filters", "kernel")}
    for case, (seed, a, b) in pairs.items():
        table = _factorial_table(seed)
        cells = _architecture_means(table)
        pair = cells.assign(cell=cells[a].astype(str) + "|" + cells[b].astype(str))
        both = _r2_one_hot(pair, ["cell"])
        ref = both - _r2_one_hot(cells, [a]) - _r2_one_hot(cells, [b])
        got, err = _call(fn, table.copy(), a, b)
        if err:
            return _verdict(False, f"case '{case}': {err}", quiet, case=case)
        got, bad = _one_number(got, case, quiet)
        if bad:
            return bad
        diff = abs(got - ref) if np.isfinite(got) else float("inf")
        if not diff <= 1e-9:
            hint = ""
            rows = table.assign(cell=table[a].astype(str) + "|" + table[b].astype(str))
            row_ref = (_r2_one_hot(rows, ["cell"]) - _r2_one_hot(table, [a])
                       - _r2_one_hot(table, [b]))
            if np.isclose(got, both, rtol=1e-6):
                hint = (" That is the share of the cell means with both main effects still in: "
                        "subtract each level's mean of a and of b, add the grand mean.")
            elif np.isclose(got, ref * cells["score"].var(ddof=0), rtol=1e-6):
                hint = " That is the interaction's variance: divide by the total variance."
            elif np.isclose(got, row_ref, rtol=1e-6):
                hint = " You used every run: average each architecture's seeds first."
            return _verdict(False, f"case '{case}': you said {got:.6g}, the interaction's share "
                            f"is {ref:.6g}.{hint}", quiet, case=case, difference=diff)
    return _verdict(True, f"your interaction shares match in all {len(pairs)} cases.", quiet,
                    difference=0.0)


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
        got, err = _call(fn, codes.astype(int).copy())
        if err:
            return _verdict(False, f"case '{case}': {err}", quiet, case=case)
        try:
            got = float(got)
        except (TypeError, ValueError):
            return _verdict(False, f"case '{case}': return one number, got "
                            f"{type(got).__name__}", quiet, case=case)
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
        got, err = _call(fn, a.copy(), b.copy())
        if err:
            return _verdict(False, f"case '{case}': {err}", quiet, case=case)
        try:
            got = float(got)
        except (TypeError, ValueError):
            return _verdict(False, f"case '{case}': return one number, got "
                            f"{type(got).__name__}", quiet, case=case)
        diff = abs(got - ref) if np.isfinite(got) else float("inf")
        if not diff <= 1e-9:
            n = len(a)
            hint = (" Divide by the number of pairs, n (n - 1) / 2, not n^2."
                    if np.isclose(got * n * n, ref * n * (n - 1) / 2) else "")
            return _verdict(False, f"case '{case}': your τ is {got:.6g}, SciPy's {ref:.6g} "
                            f"(off by {diff:.3g}).{hint}", quiet, case=case, difference=diff)
    return _verdict(True, f"your Kendall τ matches SciPy on all {len(cases)} cases.", quiet,
                    difference=0.0)


# --- exercises for notebooks 00, 01, 02, 03, 04, 05 ---------------------------------------------
# Each reference below is private to its check (Keras where Keras has the answer, else a few lines
# written here), so no public nasbook function does what an exercise asks.

__all__ += ["check_dense_param_count", "check_architecture_count",
            "check_separable_conv_params", "check_conv_output_length",
            "check_aging_mutation", "check_aging_selection", "check_aging_replacement",
            "check_should_stop", "check_early_stopping_epochs"]


def _number(got, case, quiet):
    """``(float, None)`` or ``(None, Verdict)`` when ``got`` is not one number."""
    try:
        return float(got), None
    except (TypeError, ValueError):
        return None, _verdict(False, f"case '{case}': return one number, got "
                              f"{type(got).__name__}", quiet, case=case)


def _count_cases(fn, cases, reference, hints, what, quiet):
    """Shared loop of the counting checks: ``cases`` maps a label to the arguments."""
    for case, args in cases.items():
        ref = reference(*args)
        got, err = _call(fn, *args)
        if err:
            return _verdict(False, f"case '{case}': {err}", quiet, case=case)
        got, bad = _number(got, case, quiet)
        if bad:
            return bad
        if got != ref:
            hint = next((text for alt, text in hints if alt(*args) == got), "")
            return _verdict(False, f"case '{case}': you said {got:g}, the answer is {ref:g}."
                            + (f" {hint}" if hint else ""), quiet, case=case,
                            difference=abs(got - ref))
    return _verdict(True, f"your {what} is right in all {len(cases)} cases.", quiet,
                    difference=0.0)


# notebook 00 ----------------------------------------------------------------------------------

def check_dense_param_count(fn, quiet=False) -> Verdict:
    """Check ``fn(n_inputs, units) -> int``: the trainable parameters of a stack of Keras
    ``Dense`` layers with ``units[i]`` units each (biases on), fed ``n_inputs`` features.
    The reference is Keras' own ``count_params()``."""
    import keras

    def keras_count(n_inputs, units):
        model = keras.Sequential([keras.Input((n_inputs,))]
                                 + [keras.layers.Dense(u) for u in units])
        return model.count_params()

    cases = {"one layer, 64 inputs -> 10": (64, [10]),
             "an MLP for digits, 64 -> 32 -> 10": (64, [32, 10]),
             "three layers, 40 -> 128 -> 64 -> 10": (40, [128, 64, 10]),
             "a single unit": (3, [1])}
    hints = [(lambda n, u: sum(a * b for a, b in zip([n, *u], u)),
              "That counts the weights only: each unit also has a bias."),
             (lambda n, u: sum((a + 1) * (b + 1) for a, b in zip([n, *u], u)),
              "Biases belong to the units of a layer (one each), not to its inputs too."),
             (lambda n, u: n * u[0] + u[0],
              "That is the first layer only: add every layer's weights and biases.")]
    return _count_cases(fn, cases, keras_count, hints, "parameter count", quiet)


def check_architecture_count(fn, quiet=False) -> Verdict:
    """Check ``fn(max_blocks, per_block, shared) -> int``: how many distinct networks a space
    builds when it picks 1 to ``max_blocks`` blocks, each block it uses has ``per_block``
    settings (e.g. filters x kernel sizes), unused blocks' settings do not matter, and the
    other decisions (activation, learning rate...) give ``shared`` combinations."""
    def reference(max_blocks, per_block, shared):
        total = 0
        for blocks in range(1, max_blocks + 1):
            total += per_block ** blocks
        return shared * total

    cases = {"the tour's model: up to 3 blocks, 3 x 2 per block, 2 x 2 x 2 shared": (3, 6, 8),
             "one block only": (1, 5, 3),
             "up to 4 blocks, 2 settings each, nothing shared": (4, 2, 1),
             "up to 2 blocks, 9 per block, 6 shared": (2, 9, 6)}
    hints = [(lambda b, p, s: s * b * p ** b,
              "That counts the settings of unused blocks: a 1-block network ignores blocks 2 "
              "and 3, so add the counts for 1, 2, ... blocks instead."),
             (lambda b, p, s: s * p ** b,
              "That is only the networks with all blocks; add those with fewer."),
             (lambda b, p, s: sum(p ** k for k in range(1, b + 1)),
              "Multiply by the shared decisions' combinations."),
             (lambda b, p, s: s * sum(p ** k for k in range(0, b + 1)),
              "A network has at least one block: start the sum at 1 block.")]
    return _count_cases(fn, cases, reference, hints, "architecture count", quiet)


# notebook 01 ----------------------------------------------------------------------------------

def check_separable_conv_params(fn, quiet=False) -> Verdict:
    """Check ``fn(k, c_in, c_out) -> int``: the parameters of a Keras
    ``SeparableConv2D(c_out, k)`` (k x k kernel, depth multiplier 1, bias on) on ``c_in``
    input channels, against Keras' ``count_params()``."""
    import keras

    def keras_count(k, c_in, c_out):
        layer = keras.layers.SeparableConv2D(c_out, k)
        layer.build((None, 2 * k, 2 * k, c_in))
        return layer.count_params()

    cases = {"3x3, 16 -> 32": (3, 16, 32), "1x1, 8 -> 8": (1, 8, 8),
             "5x5, 3 -> 64": (5, 3, 64), "3x3, 64 -> 1": (3, 64, 1)}
    hints = [(lambda k, i, o: k * k * i * o + o,
              "That is an ordinary Conv2D: a separable one filters each input channel on its "
              "own (k*k*c_in), then mixes channels with a 1x1 convolution (c_in*c_out)."),
             (lambda k, i, o: k * k * i + i * o,
              "Weights right; add the biases (one per output channel)."),
             (lambda k, i, o: k * k * i + i * o + o + i,
              "Only the pointwise step has a bias in Keras (use_bias adds c_out numbers)."),
             (lambda k, i, o: k * k * i * o + i * o + o,
              "The depthwise step has one k x k filter per input channel: k*k*c_in, "
              "not times c_out.")]
    return _count_cases(fn, cases, keras_count, hints, "SeparableConv2D count", quiet)


def check_conv_output_length(fn, quiet=False) -> Verdict:
    """Check ``fn(length, kernel_size, strides, padding) -> int``: the output length of a
    Keras ``Conv1D`` (or ``MaxPooling1D``) with ``padding`` "valid" or "same", against Keras'
    ``compute_output_shape``. Returns 0 when nothing fits (Keras: a non-positive length)."""
    import keras

    def keras_length(length, kernel_size, strides, padding):
        layer = keras.layers.Conv1D(1, kernel_size, strides=strides, padding=padding)
        return max(0, int(layer.compute_output_shape((None, length, 1))[1]))

    cases = {"valid, stride 1": (40, 5, 1, "valid"), "valid, stride 2": (40, 5, 2, "valid"),
             "valid, stride 3, does not divide": (41, 4, 3, "valid"),
             "same, stride 1": (40, 5, 1, "same"), "same, stride 2, odd length": (41, 3, 2, "same"),
             "same, stride 3": (40, 7, 3, "same"), "kernel as long as the input": (8, 8, 1, "valid"),
             "a pooling window 2, stride 2 (MaxPooling1D(2))": (13, 2, 2, "valid")}
    hints = [(lambda n, k, s, p: n - k + 1 if p == "valid" else n,
              "That ignores the stride: the window moves `strides` steps at a time."),
             (lambda n, k, s, p: n // s if p == "same" else None,
              "'same' rounds up: ceil(length / strides)."),
             (lambda n, k, s, p: (n - k) // s + 1 if p == "same" else None,
              "'same' pads the input so that only the stride shrinks it: ceil(length / strides)."),
             (lambda n, k, s, p: (n - k) / s + 1 if p == "valid" else None,
              "Round down: a window that does not fit entirely is dropped.")]
    return _count_cases(fn, cases, keras_length, hints, "output length", quiet)


# notebook 02: aging evolution ------------------------------------------------------------------

_TOY_SPACE = {"blocks": [1, 2, 3], "filters": [8, 16, 32, 64], "kernel": [3, 5],
              "activation": ["relu"], "residual": [False, True]}


def _toy_population(rng, size):
    archs = [{k: v[int(rng.integers(len(v)))] for k, v in _TOY_SPACE.items()}
             for _ in range(size)]
    return [{"arch": a, "accuracy": round(float(rng.uniform(0.5, 0.95)), 4)} for a in archs]


def check_aging_mutation(fn, calls=40, quiet=False) -> Verdict:
    """Check ``fn(arch, space, rng) -> child``, aging evolution's mutation: a NEW dict equal to
    ``arch`` except for one decision, chosen among those with more than one option (in the
    order of ``space``) by ``names[rng.integers(len(names))]``, set to another of its options
    ``others[rng.integers(len(others))]`` (``others``: its options in order, the current value
    left out). ``arch`` itself must not change. Compared with a hidden reference that is given
    a generator with the same seed, over ``calls`` calls in a row."""
    def reference(arch, space, rng):
        names = [name for name, options in space.items() if len(options) > 1]
        name = names[int(rng.integers(len(names)))]
        others = [o for o in space[name] if o != arch[name]]
        child = dict(arch)
        child[name] = others[int(rng.integers(len(others)))]
        return child

    for seed in (0, 1):
        rng_you, rng_ref = np.random.default_rng(seed), np.random.default_rng(seed)
        arch = {k: v[0] for k, v in _TOY_SPACE.items()}
        for call in range(1, calls + 1):
            where = f"seed {seed}, call {call} (parent {arch})"
            before = dict(arch)
            ref = reference(arch, _TOY_SPACE, rng_ref)
            got, err = _call(fn, arch, {k: list(v) for k, v in _TOY_SPACE.items()}, rng_you)
            if err is None and not isinstance(got, dict):
                err = f"return the child as a dict, got {type(got).__name__}"
            if err:
                return _verdict(False, f"{where}: {err}", quiet, case=where, step=call)
            if arch != before:
                return _verdict(False, f"{where}: you changed the parent in place; copy it "
                                f"first (dict(arch)): the parent stays in the population.",
                                quiet, case=where, step=call)
            if got != ref:
                changed = [k for k in _TOY_SPACE if got.get(k) != arch[k]]
                if set(got) != set(arch):
                    problem = (f"the child has keys {sorted(got)}, the parent "
                               f"{sorted(arch)}: change a value, keep the keys.")
                elif len(changed) != 1:
                    problem = (f"the child differs from its parent in {len(changed)} decisions "
                               f"{changed}; a mutation changes exactly one.")
                elif got[changed[0]] not in _TOY_SPACE[changed[0]]:
                    problem = f"{changed[0]}={got[changed[0]]!r} is not one of its options."
                elif len(_TOY_SPACE[changed[0]]) == 1:
                    problem = f"{changed[0]} has one option only; leave it out of the draw."
                else:
                    problem = (f"a valid mutation, but not the draws of the reference "
                               f"({ref}): pick the decision with names[rng.integers("
                               f"len(names))] (names: decisions with more than one option, "
                               f"in the order of space), then the value with others["
                               f"rng.integers(len(others))], two draws per call.")
                return _verdict(False, f"{where}: you returned {got}. {problem}", quiet,
                                case=where, step=call)
            arch = ref
    return _verdict(True, f"your mutation matches the reference draw for draw over {calls} "
                    f"calls with each of 2 seeds.", quiet)


def check_aging_selection(fn, quiet=False) -> Verdict:
    """Check ``fn(population, sample_size, rng) -> int``, aging evolution's parent selection:
    draw ``sample_size`` distinct members with ``rng.choice(len(population),
    size=sample_size, replace=False)`` and return the index (in ``population``) of the one with
    the highest ``"accuracy"``. ``population`` is a list of ``{"arch": dict, "accuracy":
    float}``, oldest first. Compared with a hidden reference given the same seed."""
    def reference(population, sample_size, rng):
        picks = rng.choice(len(population), size=sample_size, replace=False)
        return int(max(picks, key=lambda i: population[i]["accuracy"]))

    for seed, (size, sample) in enumerate([(10, 3), (8, 1), (8, 8), (20, 5), (6, 2)]):
        case = f"population {size}, sample_size {sample}, seed {seed}"
        rng_pop = np.random.default_rng(100 + seed)
        population = _toy_population(rng_pop, size)
        rng_you, rng_ref = np.random.default_rng(seed), np.random.default_rng(seed)
        for call in range(1, 6):
            where = f"{case}, call {call}"
            ref = reference(population, sample, rng_ref)
            got, err = _call(fn, [dict(p) for p in population], sample, rng_you)
            if err is None:
                try:
                    got = int(got)
                except (TypeError, ValueError):
                    err = f"return the parent's index (an int), got {type(got).__name__}"
            if err:
                return _verdict(False, f"{where}: {err}", quiet, case=where, step=call)
            if got != ref:
                accs = [p["accuracy"] for p in population]
                if not 0 <= got < size:
                    hint = f"{got} is not an index of the population (0 to {size - 1})."
                elif got == int(np.argmax(accs)) and sample < size:
                    hint = ("that is the best of the whole population, not of the sample: "
                            "draw sample_size members with rng.choice(len(population), "
                            "size=sample_size, replace=False) and take the best of those (a "
                            "tournament).")
                elif got == int(np.argmin(accs)):
                    hint = "that is the worst: take the highest accuracy."
                else:
                    hint = ("draw the sample with rng.choice(len(population), "
                            "size=sample_size, replace=False), one draw per call, and return "
                            "the index of its best member.")
                return _verdict(False, f"{where}: you picked member {got} (accuracy "
                                f"{population[got]['accuracy'] if 0 <= got < size else '?'}), "
                                f"the reference member {ref} (accuracy "
                                f"{population[ref]['accuracy']}); {hint}", quiet,
                                case=where, step=call)
    return _verdict(True, "your tournament picks the reference's parent in all 25 draws.", quiet)


def check_aging_replacement(fn, quiet=False) -> Verdict:
    """Check ``fn(population, child) -> new population``: the aging step. ``population`` is a
    list oldest first; the new list drops the OLDEST member (whatever its accuracy) and ends
    with ``child``. The list passed in must not change."""
    rng = np.random.default_rng(7)
    for size in (5, 1, 10):
        case = f"population of {size}"
        population = _toy_population(rng, size)
        child = _toy_population(rng, 1)[0]
        ref = population[1:] + [child]
        given = list(population)
        got, err = _call(fn, given, child)
        if err is None and not isinstance(got, list):
            err = f"return a list, got {type(got).__name__}"
        if err:
            return _verdict(False, f"case '{case}': {err}", quiet, case=case)
        if given != population:
            return _verdict(False, f"case '{case}': you changed the list passed in; build a "
                            f"new one (population[1:] + ...).", quiet, case=case)
        if got != ref:
            accs = [p["accuracy"] for p in population]
            worst = int(np.argmin(accs))
            if len(got) != size:
                hint = f"it has {len(got)} members; the population keeps its size {size}."
            elif got == population[:worst] + population[worst + 1:] + [child] and worst != 0:
                hint = ("you removed the WORST member: that is plain tournament evolution. "
                        "Aging evolution removes the OLDEST, however good it is.")
            elif got == population[:-1] + [child] or got == [child] + population[:-1]:
                hint = "the oldest member is the FIRST of the list (oldest first)."
            elif got and got[-1] != child:
                hint = "the child goes at the end (it is the youngest)."
            else:
                hint = "drop population[0] and append the child."
            return _verdict(False, f"case '{case}': the new population is not the old one "
                            f"minus its oldest member plus the child: {hint}", quiet, case=case)
    return _verdict(True, "your aging step drops the oldest and appends the child in all 3 "
                    "cases.", quiet)


# notebook 05: stop rules -----------------------------------------------------------------------

def _stop_cases():
    def h(scores, seconds=10.0):
        return [{"score": s, "elapsed_s": seconds * (i + 1)} for i, s in enumerate(scores)]

    # label: (history, max_trials, time_budget, target, patience)
    return {
        "empty history, every limit on": ([], 5, 60.0, 0.9, 2),
        "no limit at all": (h([0.5, 0.6, 0.55]), None, None, None, None),
        "max_trials reached exactly": (h([0.5, 0.6, 0.7]), 3, None, None, None),
        "one trial short of max_trials": (h([0.5, 0.6]), 3, None, None, None),
        "target reached by an earlier trial": (h([0.5, 0.91, 0.7]), None, None, 0.9, None),
        "target reached exactly": (h([0.5, 0.9]), None, None, 0.9, None),
        "time budget spent": (h([0.5, 0.6, 0.7], 25.0), None, 60.0, None, None),
        "time budget not yet spent": (h([0.5, 0.6], 25.0), None, 60.0, None, None),
        "patience: 2 trials without improvement": (h([0.5, 0.8, 0.7, 0.75]), None, None, None, 2),
        "patience: 1 trial since the best": (h([0.5, 0.8, 0.7]), None, None, None, 2),
        "patience: a tie is no improvement": (h([0.5, 0.8, 0.8, 0.8]), None, None, None, 2),
        "patience: the last trial is the best": (h([0.5, 0.6, 0.7, 0.8]), None, None, None, 1),
        "max_trials and target both hold": (h([0.5, 0.95]), 2, None, 0.9, None),
        "target and time both hold": (h([0.5, 0.95], 40.0), None, 60.0, 0.9, None),
        "time and patience both hold": (h([0.8, 0.5, 0.6], 30.0), None, 60.0, None, 2),
        "everything off but a loose max_trials": (h([0.1] * 4), 10, None, None, None),
    }


def check_should_stop(fn, quiet=False) -> Verdict:
    """Check ``fn(history, max_trials, time_budget, target, patience) -> reason or None``, the
    stop rule asked before each new trial. ``history`` is a list of finished trials,
    ``{"score": accuracy, "elapsed_s": seconds since the search started when it ended}``;
    a limit of None is off. Return the first rule that holds, in this order: ``"max_trials"``
    (that many trials done), ``"target"`` (the best score >= target), ``"time_budget"`` (the
    last trial ended at or after time_budget seconds), ``"patience"`` (``patience`` trials or
    more since the best one; only a strictly higher score is an improvement); else None."""
    def reference(history, max_trials, time_budget, target, patience):
        if not history:
            return None
        scores = [t["score"] for t in history]
        best_at = max(range(len(scores)), key=lambda i: (scores[i], -i))
        checks = [("max_trials", max_trials is not None and len(history) >= max_trials),
                  ("target", target is not None and scores[best_at] >= target),
                  ("time_budget", time_budget is not None
                   and history[-1]["elapsed_s"] >= time_budget),
                  ("patience", patience is not None
                   and len(history) - 1 - best_at >= patience)]
        return next((name for name, holds in checks if holds), None)

    for case, args in _stop_cases().items():
        ref = reference(*args)
        history = [dict(t) for t in args[0]]
        got, err = _call(fn, history, *args[1:])
        if err:
            return _verdict(False, f"case '{case}': {err}", quiet, case=case)
        if got != ref:
            hint = ""
            if ref is not None and got is not None and case.endswith("both hold"):
                hint = (" Both rules hold: return the first in the order max_trials, target, "
                        "time_budget, patience.")
            elif "patience" in case:
                hint = (" Count the trials AFTER the best one (the best is the first trial with "
                        "the highest score; a tie does not improve it) and stop when there are "
                        "patience or more.")
            elif "exactly" in case:
                hint = " Reaching the limit exactly counts (>=)."
            elif "empty" in case:
                hint = " With no trial done, nothing has been reached: continue (None)."
            return _verdict(False, f"case '{case}': you said {got!r}, the answer is {ref!r}."
                            + hint, quiet, case=case)
    return _verdict(True, f"your stop rule gives the right answer in all {len(_stop_cases())} "
                    f"scripted histories.", quiet)


def check_early_stopping_epochs(fn, quiet=False) -> Verdict:
    """Check ``fn(val_losses, patience, min_delta) -> int``: how many epochs Keras'
    ``EarlyStopping(monitor="val_loss", patience=patience, min_delta=min_delta)`` lets run
    when the validation losses would be ``val_losses`` (all of them if it never stops). The
    reference is the Keras callback itself, driven with those losses."""
    import keras

    class _Model:  # what the callback needs of a model: a stop_training flag
        stop_training = False

    def keras_epochs(losses, patience, min_delta):
        callback = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience,
                                                 min_delta=min_delta)
        model = _Model()
        callback.set_model(model)
        callback.on_train_begin()
        for epoch, loss in enumerate(losses):
            callback.on_epoch_end(epoch, {"val_loss": float(loss)})
            if model.stop_training:
                return epoch + 1
        return len(losses)

    cases = {"improves every epoch": ([1.0, 0.8, 0.6, 0.5, 0.4], 2, 0.0),
             "stalls after epoch 2": ([1.0, 0.7, 0.75, 0.72, 0.71, 0.5], 2, 0.0),
             "patience 1": ([0.9, 0.8, 0.85, 0.7], 1, 0.0),
             "an equal loss is no improvement": ([0.5, 0.5, 0.5, 0.4], 2, 0.0),
             "a late improvement resets the wait": ([1.0, 0.9, 0.95, 0.8, 0.85, 0.86, 0.87],
                                                    2, 0.0),
             "min_delta: small gains do not count": ([1.0, 0.9, 0.89, 0.88, 0.87, 0.5], 3, 0.05),
             "min_delta: a big gain counts": ([1.0, 0.9, 0.89, 0.8, 0.79, 0.78, 0.77], 2, 0.05),
             "patience longer than the run": ([1.0, 1.1, 1.2], 5, 0.0)}
    for case, (losses, patience, min_delta) in cases.items():
        ref = keras_epochs(losses, patience, min_delta)
        got, err = _call(fn, list(losses), patience, min_delta)
        if err:
            return _verdict(False, f"case '{case}': {err}", quiet, case=case)
        got, bad = _number(got, case, quiet)
        if bad:
            return bad
        if got != ref:
            hint = ""
            if got == ref + 1 or got == ref - 1:
                hint = (" Off by one: epochs count from 1, and training stops at the end of "
                        "the epoch where `patience` epochs in a row have not improved.")
            if "min_delta" in case:
                hint += (" An improvement must beat the best loss so far by MORE than "
                         "min_delta (loss < best - min_delta); the best only moves then.")
            elif "equal" in case:
                hint += " An equal loss is not an improvement."
            return _verdict(False, f"case '{case}' (losses {losses}, patience {patience}, "
                            f"min_delta {min_delta:g}): you said {got:g} epochs, Keras trains "
                            f"{ref}.{hint}", quiet, case=case, difference=abs(got - ref))
    return _verdict(True, f"your epoch counts match Keras' EarlyStopping in all {len(cases)} "
                    f"cases.", quiet)
