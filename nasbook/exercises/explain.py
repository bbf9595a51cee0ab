"""Checks for notebooks 06-09: layer arithmetic, attributions, Shapley values, LIME, attention."""

from __future__ import annotations

import numpy as np

from nasbook.exercises._base import (Verdict, _as_array, _call, _fmt_arr, _number_answer,
                                     _one_number, _verdict)

__all__ = ["check_conv1d_params", "check_conv1d_output_length", "check_integrated_gradients", "check_input_gradient", "check_shapley_values", "check_lime_fit", "check_attention_pooling", "check_js_divergence"]


# --- exercises for notebooks 06, 07, 08, 09, 10, 14 ---
# Each reference below is private to its check (Keras, scikit-learn, SciPy, or a computation
# by a different route than the one the exercise asks for), so no public nasbook function
# answers an exercise.



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
        got, bad = _number_answer(fn, (k, c, f, bias), case, quiet)
        if bad is not None:
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
        got, bad = _number_answer(fn, (n, size, s, pad), case, quiet)
        if bad is not None:
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
            got, bad = _number_answer(fn, (p.copy(), q.copy()), case, quiet)
        if bad is not None:
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
