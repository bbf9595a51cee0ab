"""The check functions pass correct implementations and catch subtly wrong ones, naming where."""
import numpy as np
import pytest
import sklearn.metrics as skm

from nasbook import exercises as ex
from nasbook.exercises import efficient, formulas


# --- Adam -------------------------------------------------------------------------------------

def adam_paper(w, g, m, v, t, learning_rate, beta_1, beta_2, epsilon):
    """Algorithm 1 of Kingma & Ba, written independently of nasbook.optim."""
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g * g
    m_hat, v_hat = m / (1 - beta_1 ** t), v / (1 - beta_2 ** t)
    return w - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon), m, v


def adam_source_text(w, g, m, v, t, learning_rate, beta_1, beta_2, epsilon):
    """The source text's update: no bias correction."""
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g * g
    return w - learning_rate * m / (np.sqrt(v) + epsilon), m, v


def test_adam_paper_form_passes(capsys):
    verdict = ex.check_adam_step(adam_paper)
    assert verdict and verdict.passed and verdict.step is None
    assert "right" in capsys.readouterr().out


def test_adam_without_bias_correction_is_caught_at_step_one(capsys):
    verdict = ex.check_adam_step(adam_source_text)
    assert not verdict
    assert verdict.step == 1 and "step t=1" in verdict.message
    # at t=1 the uncorrected step is (1 - 0.9) / sqrt(1 - 0.999) = 3.16 times too large,
    # and every coordinate of the reference step has size lr = 0.01
    assert verdict.difference == pytest.approx((0.1 / np.sqrt(0.001) - 1) * 0.01, rel=1e-3)
    assert "bias correction" in verdict.message and "3.16" in verdict.message
    assert "not yet" in capsys.readouterr().out


def test_adam_slip_at_a_later_step_is_named():
    def late_slip(w, g, m, v, t, **hp):
        w, m, v = adam_paper(w, g, m, v, t, **hp)
        return (w + 1e-3 if t == 7 else w), m, v

    verdict = ex.check_adam_step(late_slip, quiet=True)
    assert verdict.step == 7 and verdict.difference == pytest.approx(1e-3, rel=1e-4)


def test_adam_wrong_second_moment_and_exceptions():
    def no_square(w, g, m, v, t, learning_rate, beta_1, beta_2, epsilon):
        return adam_paper(w, g, m, v / 1.0, t, learning_rate, beta_1, beta_2, epsilon)[0], \
            beta_1 * m + (1 - beta_1) * g, beta_2 * v + (1 - beta_2) * np.abs(g)

    verdict = ex.check_adam_step(no_square, quiet=True)
    assert not verdict and verdict.step == 1 and "v differs" in verdict.message

    def todo(*args, **kwargs):
        raise NotImplementedError

    assert "NotImplementedError" in ex.check_adam_step(todo, quiet=True).message
    assert "three things" in ex.check_adam_step(lambda *a, **k: 0.0, quiet=True).message


# --- SGD with momentum --------------------------------------------------------------------------

def momentum_keras(w, g, m, learning_rate, momentum, nesterov=False):
    m = momentum * m - learning_rate * g
    return (w + momentum * m - learning_rate * g if nesterov else w + m), m


def momentum_classic(w, g, v, learning_rate, momentum, nesterov=False):
    v = momentum * v + g
    return (w - learning_rate * (g + momentum * v) if nesterov else w - learning_rate * v), v


@pytest.mark.parametrize("fn", [momentum_keras, momentum_classic])
@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_conventions_both_pass(fn, nesterov):
    assert ex.check_sgd_momentum_step(fn, nesterov=nesterov, quiet=True)


def test_momentum_mistakes_are_caught():
    def grad_sign(w, g, m, learning_rate, momentum, **_):
        m = momentum * m + learning_rate * g
        return w + m, m

    verdict = ex.check_sgd_momentum_step(grad_sign, quiet=True)
    assert verdict.step == 1 and "w - lr * g" in verdict.message

    def forgets_velocity(w, g, m, learning_rate, momentum, **_):
        return w - learning_rate * g, m   # plain SGD: right at step 1, wrong from step 2

    verdict = ex.check_sgd_momentum_step(forgets_velocity, quiet=True)
    assert verdict.step == 2 and verdict.difference > 0

    verdict = ex.check_sgd_momentum_step(momentum_keras, nesterov=False, quiet=True)
    assert verdict   # and plain momentum is not Nesterov:
    verdict = ex.check_sgd_momentum_step(
        lambda w, g, m, learning_rate, momentum, nesterov: momentum_keras(
            w, g, m, learning_rate, momentum), nesterov=True, quiet=True)
    assert not verdict and verdict.step == 1


# --- metrics ---------------------------------------------------------------------------------

@pytest.mark.parametrize("average", ["macro", "micro", "weighted", "binary"])
def test_sklearn_f1_passes(average):
    assert ex.check_f1(lambda y, p: skm.f1_score(y, p, average=average, zero_division=0),
                       average=average, quiet=True)


def test_f1_mistakes_are_caught():
    def f1_of_means(y, p):  # the harmonic mean of macro precision and macro recall
        pr = skm.precision_score(y, p, average="macro", zero_division=0)
        rc = skm.recall_score(y, p, average="macro", zero_division=0)
        return 2 * pr * rc / (pr + rc)

    verdict = ex.check_f1(f1_of_means, quiet=True)
    assert not verdict and verdict.case == "random, 4 imbalanced classes"
    assert "mean of the per-class F1" in verdict.message and verdict.difference > 1e-3

    def nan_for_unpredicted(y, p):
        labels = np.union1d(y, p)
        scores = []
        for k in labels:
            tp = np.sum((y == k) & (p == k))
            prec = tp / np.sum(p == k) if np.sum(p == k) else np.nan
            rec = tp / np.sum(y == k)
            scores.append(2 * prec * rec / (prec + rec) if tp else 0 * prec)
        return float(np.mean(scores))

    verdict = ex.check_f1(nan_for_unpredicted, quiet=True)
    assert verdict.case == "class 3 is never predicted" and "zero_division" in verdict.message


def test_confusion_matrix_check():
    assert ex.check_confusion_matrix(
        lambda y, p, k: skm.confusion_matrix(y, p, labels=range(k)), quiet=True)
    verdict = ex.check_confusion_matrix(
        lambda y, p, k: skm.confusion_matrix(p, y, labels=range(k)), quiet=True)
    assert not verdict and "swapped" in verdict.message
    verdict = ex.check_confusion_matrix(   # forgets classes absent from the data
        lambda y, p, k: skm.confusion_matrix(y, p), quiet=True)
    assert not verdict and verdict.case == "two classes" and "shape" in verdict.message


def test_dense_forward_check_against_keras():
    import keras

    layer = keras.layers.Dense(3, activation="sigmoid")
    x = np.random.default_rng(0).normal(size=(4, 5)).astype("float32")
    out = np.asarray(layer(x))
    kernel, bias = (np.asarray(a) for a in layer.get_weights())
    np.testing.assert_allclose(formulas._dense_sigmoid(x, kernel, bias), out, atol=1e-6)
    assert ex.check_dense_forward(formulas._dense_sigmoid, quiet=True)
    verdict = ex.check_dense_forward(lambda x, k, b: x @ k + b, quiet=True)
    assert not verdict and "apply the sigmoid" in verdict.message


# --- claims quiz and GPU-days (notebook 14) ----------------------------------------------------

def test_claims_quiz_right_answers_pass_and_each_wrong_one_is_named(capsys):
    quiz = ex.claims_quiz()
    assert set(quiz) == {"gpt3_found_by_nas", "nasnet_imagenet", "keras_tensorflow_theano"}
    right = {"gpt3_found_by_nas": "false", "nasnet_imagenet": " TRUE ",
             "keras_tensorflow_theano": "outdated"}
    assert ex.check_claim_verdicts(right)
    assert "right" in capsys.readouterr().out
    for key in quiz:
        for wrong in set(ex.CLAIM_VERDICTS) - {right[key].strip().lower()}:
            verdict = ex.check_claim_verdicts({**right, key: wrong}, quiet=True)
            assert not verdict and verdict.case == key and "Hint" in verdict.message
            assert right[key].strip().lower() not in verdict.message.split("Hint")[0]


def test_claims_quiz_rejects_bad_input():
    assert "dict" in ex.check_claim_verdicts(["false"], quiet=True).message
    assert "no verdict" in ex.check_claim_verdicts({"gpt3_found_by_nas": "false"},
                                                   quiet=True).message
    full = {k: "true" for k in ex.claims_quiz()}
    assert "unknown claim" in ex.check_claim_verdicts({**full, "x": "true"}, quiet=True).message
    assert "not a verdict" in ex.check_claim_verdicts({**full, "nasnet_imagenet": "maybe"},
                                                      quiet=True).message


def test_gpu_days_right_and_typical_slips():
    assert ex.check_gpu_days(lambda gpus, hours: gpus * hours / 24, quiet=True)
    hours_only = ex.check_gpu_days(lambda gpus, hours: gpus * hours, quiet=True)
    assert not hours_only and "GPU-hours" in hours_only.message
    assert hours_only.case.startswith("NAS-RL") and hours_only.difference == pytest.approx(
        800 * 672 - 22400)
    no_gpus = ex.check_gpu_days(lambda gpus, hours: hours / 24, quiet=True)
    assert not no_gpus and "number of GPUs" in no_gpus.message
    times = ex.check_gpu_days(lambda gpus, hours: gpus * hours * 24, quiet=True)
    assert not times and "Divide" in times.message
    assert "not a" not in ex.check_gpu_days(lambda g, h: "x", quiet=True).message
    assert "return one number" in ex.check_gpu_days(lambda g, h: "x", quiet=True).message



def test_naswot_check_agrees_with_the_proxy_and_catches_mistakes():
    keras = pytest.importorskip("keras")
    from nasbook.oneshot import proxies

    keras.utils.set_random_seed(0)
    inp = keras.Input((20,))
    model = keras.Model(inp, keras.layers.Dense(3)(keras.layers.Dense(32, activation="relu")(inp)))
    x = np.random.default_rng(0).normal(size=(10, 20)).astype("float32")
    codes = proxies.activation_codes(model, x)
    assert efficient._naswot_from_codes(codes) == pytest.approx(proxies.naswot(model, x), rel=1e-9)

    def right(codes):
        c = codes.astype(float)
        return np.linalg.slogdet(c @ c.T + (1 - c) @ (1 - c).T)[1]

    assert ex.check_naswot(right, quiet=True)
    no_log = ex.check_naswot(lambda c: np.exp(right(c)), quiet=True)
    assert not no_log and "logarithm" in no_log.message
    one_sided = ex.check_naswot(lambda c: np.linalg.slogdet(c @ c.T.astype(float))[1],
                                quiet=True)
    assert not one_sided and "both directions" in one_sided.message


def test_kendall_tau_check():
    def tau(a, b):
        n = len(a)
        s = sum(np.sign(a[i] - a[j]) * np.sign(b[i] - b[j])
                for i in range(n) for j in range(i + 1, n))
        return s / (n * (n - 1) / 2)

    assert ex.check_kendall_tau(tau, quiet=True)
    wrong = ex.check_kendall_tau(lambda a, b: tau(a, b) * (len(a) - 1) / (2 * len(a)), quiet=True)
    assert not wrong and "pairs" in wrong.message
    assert not ex.check_kendall_tau(lambda a, b: 1 / 0, quiet=True)


def test_best_of_k_check_agrees_with_the_audit_and_catches_the_oracle_choice():
    import pandas as pd

    from nasbook.oneshot import audit

    def right(scores, val, test, k):
        frame = pd.DataFrame({"s": scores, "val": val, "test": test})
        return frame.nlargest(k, "s").sort_values("val").iloc[-1]["test"]

    # the reference is the audit's regret: best test in the table minus the kept one's test
    rng = np.random.default_rng(3)
    truth = pd.DataFrame({"test": rng.permutation(np.linspace(0.2, 0.9, 30))})
    truth["val"] = truth["test"] + rng.normal(0, 0.05, 30)
    scores = truth["test"] + rng.normal(0, 0.1, 30)
    for k in (1, 4, 10):
        assert efficient._best_of_k(scores, truth.val, truth.test, k) == pytest.approx(
            truth.test.max() - audit.pick_regret(scores, truth, k=k))
        assert right(scores, truth.val, truth.test, k) == efficient._best_of_k(
            scores, truth.val, truth.test, k)

    assert ex.check_best_of_k(right, quiet=True)
    oracle = ex.check_best_of_k(lambda s, v, t, k: t[np.argsort(-s)[:k]].max(), quiet=True)
    assert not oracle and "oracle" in oracle.message
    by_val = ex.check_best_of_k(lambda s, v, t, k: v[np.argsort(-s)[:k]].max(), quiet=True)
    assert not by_val and "validation accuracy" in by_val.message
    smallest = ex.check_best_of_k(lambda s, v, t, k: right(-s, v, t, k), quiet=True)
    assert not smallest and "largest" in smallest.message
    assert not ex.check_best_of_k(lambda s, v, t, k: 1 / 0, quiet=True)
