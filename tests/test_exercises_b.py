"""Checks of notebooks 06-10 and 14: each passes a right answer written here independently,
fails a typical wrong one naming where and why, and says "not yet" on NotImplementedError."""
import math
from itertools import combinations

import numpy as np
import pytest

from nasbook import exercises as ex
from nasbook.exercises import anova as explain_checks


def todo(*args, **kwargs):
    raise NotImplementedError


def assert_not_yet_on_todo(check):
    verdict = check(todo, quiet=True)
    assert not verdict and "not yet" in verdict.message and "NotImplementedError" in verdict.message


# --- 06 ---------------------------------------------------------------------------------------

def conv_params(kernel_size, in_channels, filters, use_bias):
    return kernel_size * in_channels * filters + (filters if use_bias else 0)


def output_length(length, size, strides, padding):
    if padding == "same":
        return math.ceil(length / strides)
    return (length - size) // strides + 1


def test_conv1d_params(capsys):
    assert ex.check_conv1d_params(conv_params)
    assert "right" in capsys.readouterr().out
    verdict = ex.check_conv1d_params(lambda k, c, f, b: k * f + (f if b else 0), quiet=True)
    assert not verdict and verdict.case == "kernel 5, 16 -> 32 channels"
    assert "every input channel" in verdict.message and "Keras counts 2592" in verdict.message
    verdict = ex.check_conv1d_params(lambda k, c, f, b: k * c * f + f, quiet=True)
    assert verdict.case == "no bias" and "no bias" in verdict.message
    assert_not_yet_on_todo(ex.check_conv1d_params)


def test_conv1d_output_length():
    assert ex.check_conv1d_output_length(output_length, quiet=True)
    verdict = ex.check_conv1d_output_length(
        lambda n, k, s, p: n if p == "same" else (n - k) // s + 1, quiet=True)
    assert not verdict and verdict.case == "convolution, same, stride 3"
    assert "ceil(length / strides)" in verdict.message and "Keras gives 14" in verdict.message
    verdict = ex.check_conv1d_output_length(
        lambda n, k, s, p: math.ceil(n / s) if p == "same" else (n - k) / s + 1, quiet=True)
    assert verdict.case == "convolution, valid, stride 2" and "round" in verdict.message
    assert_not_yet_on_todo(ex.check_conv1d_output_length)


# --- 07 ---------------------------------------------------------------------------------------

def integrated_gradients(f, grad_f, x, baseline, steps):
    alphas = (np.arange(steps) + 0.5) / steps          # midpoint rule
    grads = np.array([grad_f(baseline + a * (x - baseline)) for a in alphas])
    return (x - baseline) * grads.mean(axis=0)


def test_integrated_gradients():
    assert ex.check_integrated_gradients(integrated_gradients, quiet=True)
    # the left Riemann sum passes too at 300 steps
    left = lambda f, g, x, b, n: (x - b) * np.mean([g(b + a * (x - b))            # noqa: E731
                                                     for a in np.arange(n) / n], axis=0)
    assert ex.check_integrated_gradients(left, quiet=True)
    verdict = ex.check_integrated_gradients(lambda f, g, x, b, n: g(x) * (x - b), quiet=True)
    assert not verdict and verdict.case == "zero baseline"
    assert "gradient × (x - baseline) at x alone" in verdict.message
    assert "completeness gap" in verdict.message
    verdict = ex.check_integrated_gradients(
        lambda f, g, x, b, n: integrated_gradients(f, g, x, b, n) / (x - b), quiet=True)
    assert "Multiply the averaged gradient by (x - baseline)" in verdict.message
    assert_not_yet_on_todo(ex.check_integrated_gradients)


def input_gradient(kernel, bias, x, target):
    z = x @ kernel + bias
    p = np.exp(z - z.max())
    p /= p.sum()
    return p[target] * (kernel[:, target] - kernel @ p)


def test_input_gradient():
    assert ex.check_input_gradient(input_gradient, quiet=True)
    verdict = ex.check_input_gradient(lambda W, b, x, t: W[:, t], quiet=True)
    assert not verdict and verdict.case == "3 classes, target 0" and "logit" in verdict.message
    verdict = ex.check_input_gradient(lambda W, b, x, t: -input_gradient(W, b, x, t), quiet=True)
    assert "sign is flipped" in verdict.message
    assert_not_yet_on_todo(ex.check_input_gradient)


# --- 08 ---------------------------------------------------------------------------------------

def shapley(f, x, baseline):
    """The subset formula (the check's reference averages over orders instead)."""
    n = len(x)
    phi = np.zeros(n)
    for i in range(n):
        others = [j for j in range(n) if j != i]
        for size in range(n):
            for subset in combinations(others, size):
                weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
                z = baseline.copy()
                z[list(subset)] = x[list(subset)]
                without = f(z)
                z[i] = x[i]
                phi[i] += weight * (f(z) - without)
    return phi


def test_shapley_values():
    assert ex.check_shapley_values(shapley, quiet=True)
    alone = lambda f, x, b: np.array([f(np.where(np.arange(3) == i, x, b)) - f(b)  # noqa: E731
                                      for i in range(3)])
    verdict = ex.check_shapley_values(alone, quiet=True)
    # additive functions have Shapley values = the solo contributions: the first case passes
    assert not verdict and verdict.case == "interaction f = x0 * x1 + x2"
    assert "empty coalition" in verdict.message
    verdict = ex.check_shapley_values(lambda f, x, b: shapley(f, x, b) * 0.9, quiet=True)
    assert verdict.case.startswith("additive") and "Efficiency fails" in verdict.message
    assert_not_yet_on_todo(ex.check_shapley_values)


def lime_fit(masks, outputs, distances, kernel_width):
    w = np.exp(-distances ** 2 / kernel_width ** 2)
    design = np.column_stack([np.ones(len(masks)), masks]) * np.sqrt(w)[:, None]
    beta = np.linalg.lstsq(design, outputs * np.sqrt(w), rcond=None)[0]
    return beta[0], beta[1:]


def test_lime_fit():
    assert ex.check_lime_fit(lime_fit, quiet=True)
    verdict = ex.check_lime_fit(lambda m, y, d, w: lime_fit(m, y, d * 0, 1.0), quiet=True)
    assert not verdict and verdict.case == "4 segments" and "unweighted" in verdict.message
    verdict = ex.check_lime_fit(lambda m, y, d, w: lime_fit(m, y, d, w * np.sqrt(2)), quiet=True)
    assert "lime package's kernel" in verdict.message
    verdict = ex.check_lime_fit(lambda m, y, d, w: lime_fit(m, y, d, w)[1], quiet=True)
    assert "two things" in verdict.message
    assert_not_yet_on_todo(ex.check_lime_fit)


# --- 09 ---------------------------------------------------------------------------------------

def attention_pool(features, scores):
    a = np.exp(scores - scores.max(axis=1, keepdims=True))
    a /= a.sum(axis=1, keepdims=True)
    return (a[:, :, None] * features).sum(axis=1)


def test_attention_pooling():
    assert ex.check_attention_pooling(attention_pool, quiet=True)

    def unstable(features, scores):
        a = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
        return (a[:, :, None] * features).sum(axis=1)

    verdict = ex.check_attention_pooling(unstable, quiet=True)
    assert not verdict and verdict.case == "large scores" and "largest score" in verdict.message
    verdict = ex.check_attention_pooling(lambda f, s: f.mean(axis=1), quiet=True)
    assert verdict.case == "one example" and "average pooling" in verdict.message
    over_batch = lambda f, s: np.einsum("nl,nlc->nc", np.exp(s) / np.exp(s).sum(axis=0),  # noqa
                                        f)
    verdict = ex.check_attention_pooling(over_batch, quiet=True)
    assert verdict.case == "one example" and "batch axis" in verdict.message
    assert_not_yet_on_todo(ex.check_attention_pooling)


def js(p, q):
    m = (p + q) / 2
    kl = lambda a, b: float(np.sum(a[a > 0] * np.log(a[a > 0] / b[a > 0])))  # noqa: E731
    return kl(p, m) / 2 + kl(q, m) / 2


def test_js_divergence():
    assert ex.check_js_divergence(js, quiet=True)
    assert ex.check_js_divergence(js, quiet=True).difference == 0.0
    verdict = ex.check_js_divergence(lambda p, q: np.sqrt(js(p, q)), quiet=True)
    assert not verdict and verdict.case == "two random distributions"
    assert "square it" in verdict.message
    verdict = ex.check_js_divergence(lambda p, q: js(p, q) / np.log(2), quiet=True)
    assert "bits" in verdict.message

    def naive(p, q):
        m = (p + q) / 2
        return float(np.sum(p * np.log(p / m)) / 2 + np.sum(q * np.log(q / m)) / 2)

    verdict = ex.check_js_divergence(naive, quiet=True)
    assert verdict.case == "with zeros" and "0 * log(0 / m) = 0" in verdict.message
    assert_not_yet_on_todo(ex.check_js_divergence)


# --- 10 ---------------------------------------------------------------------------------------

def architecture_means(table):
    return table.groupby(["blocks", "filters", "kernel"], as_index=False)["score"].mean()


def main_share(table, decision, average_seeds=True):
    cells = architecture_means(table) if average_seeds else table
    y = cells["score"]
    means = cells.groupby(decision)["score"].transform("mean")   # each row's group mean
    return float(((means - y.mean()) ** 2).mean() / y.var(ddof=0))


def interaction_share(table, a, b):
    cells = architecture_means(table)
    y = cells["score"]
    pair = cells.groupby([a, b])["score"].transform("mean")
    ma = cells.groupby(a)["score"].transform("mean")
    mb = cells.groupby(b)["score"].transform("mean")
    return float(((pair - ma - mb + y.mean()) ** 2).mean() / y.var(ddof=0))


def test_main_effect_share():
    assert ex.check_main_effect_share(main_share, quiet=True)
    verdict = ex.check_main_effect_share(
        lambda t, d: architecture_means(t).groupby(d)["score"].mean().var(ddof=1)
        / architecture_means(t)["score"].var(ddof=1), quiet=True)
    assert not verdict and verdict.case == "seed 0, decision 'blocks'"
    assert "ddof=0" in verdict.message
    verdict = ex.check_main_effect_share(
        lambda t, d: main_share(t, d) * architecture_means(t)["score"].var(ddof=0), quiet=True)
    assert "divide by the total variance" in verdict.message
    verdict = ex.check_main_effect_share(lambda t, d: main_share(t, d, average_seeds=False),
                                         quiet=True)
    assert not verdict and "average each architecture's seeds first" in verdict.message
    assert_not_yet_on_todo(ex.check_main_effect_share)


def test_main_effect_share_sees_the_planted_effects():
    table = explain_checks._factorial_table(0)
    shares = {d: main_share(table, d) for d in ("blocks", "filters", "kernel")}
    rest = 1 - sum(shares.values())
    assert all(0 < s < 1 for s in shares.values()) and rest > 0    # interaction + noise remain
    # the planted blocks x kernel interaction is larger than the ones not planted
    assert interaction_share(table, "blocks", "kernel") > interaction_share(table, "blocks",
                                                                            "filters")
    assert len(table) == 3 * 2 * 4 * 2


def test_interaction_share():
    assert ex.check_interaction_share(interaction_share, quiet=True)
    def pair_share(t, a, b):
        cells = architecture_means(t)
        return main_share(cells.assign(c=cells[a].astype(str) + cells[b].astype(str)), "c",
                          average_seeds=False)

    verdict = ex.check_interaction_share(pair_share, quiet=True)
    assert not verdict and verdict.case == "seed 0, blocks x kernel"
    assert "main effects still in" in verdict.message
    assert_not_yet_on_todo(ex.check_interaction_share)


# --- 14: the claims check takes a function too ---------------------------------------------------

def test_claim_verdicts_accepts_a_function():
    answers = {"gpt3_found_by_nas": "false", "nasnet_imagenet": "true",
               "keras_tensorflow_theano": "outdated"}
    assert ex.check_claim_verdicts(lambda: answers, quiet=True)
    assert ex.check_claim_verdicts(answers, quiet=True)
    verdict = ex.check_claim_verdicts(lambda: {**answers, "nasnet_imagenet": "false"}, quiet=True)
    assert not verdict and verdict.case == "nasnet_imagenet"
    verdict = ex.check_claim_verdicts(todo, quiet=True)
    assert not verdict and "NotImplementedError" in verdict.message


def test_every_new_check_is_exported():
    for name in ("check_conv1d_params", "check_conv1d_output_length",
                 "check_integrated_gradients", "check_input_gradient", "check_shapley_values",
                 "check_lime_fit", "check_attention_pooling", "check_js_divergence",
                 "check_main_effect_share", "check_interaction_share"):
        assert name in ex.__all__ and callable(getattr(ex, name))
