"""nasbook.optim equals keras.optimizers step for step, and the optimisers do their job."""
import numpy as np
import pytest

from nasbook import optim

STEPS = 120

# (name, hyperparameters): Keras defaults and several non-default settings per optimiser.
SETTINGS = [
    ("sgd", {}),
    ("sgd", {"learning_rate": 0.003}),
    ("momentum", {}),
    ("momentum", {"learning_rate": 0.002, "momentum": 0.5}),
    ("nesterov", {}),
    ("nesterov", {"learning_rate": 0.004, "momentum": 0.95}),
    ("adagrad", {}),
    ("adagrad", {"learning_rate": 0.05, "initial_accumulator_value": 0.0, "epsilon": 1e-4}),
    ("rmsprop", {}),
    ("rmsprop", {"learning_rate": 0.01, "rho": 0.5}),
    ("rmsprop", {"learning_rate": 0.003, "momentum": 0.8}),
    ("rmsprop", {"learning_rate": 0.005, "centered": True, "momentum": 0.3, "epsilon": 1e-3}),
    ("adam", {}),
    ("adam", {"learning_rate": 0.02, "beta_1": 0.5, "beta_2": 0.9, "epsilon": 1e-3}),
    ("adam", {"learning_rate": 0.005, "beta_1": 0.95, "beta_2": 0.99999}),
]


def _grad(w):
    """A gradient that depends on w (an ill-conditioned quadratic plus a sine), so that any
    difference between the two implementations feeds back and grows."""
    scales = np.linspace(0.2, 8.0, w.size).reshape(w.shape)
    return scales * w + 0.5 * np.sin(3 * w)


def _keras_path(name, hp, w0, dtype):
    import keras
    import tensorflow as tf

    opt = optim.keras_optimizer(name, **hp)
    var = keras.Variable(w0.astype(dtype), dtype=dtype)
    scales = tf.constant(np.linspace(0.2, 8.0, w0.size).reshape(w0.shape), dtype=dtype)

    @tf.function
    def step():  # the same gradient as _grad, in TensorFlow, compiled once for speed
        w = tf.convert_to_tensor(var.value)
        opt.apply_gradients([(scales * w + 0.5 * tf.sin(3 * w), var)])

    path = [var.numpy().astype(float)]
    for _ in range(STEPS):
        step()
        path.append(var.numpy().astype(float))
    return np.array(path)


def _f32(hp):
    """Round every float hyperparameter to the nearest float32. Keras keeps the learning rate
    in a float32 variable and casts beta_1, beta_2 and momentum through float32 in places
    (0.9 becomes 0.899999976...); with rounded inputs both sides see the same numbers."""
    return {k: float(np.float32(v)) if isinstance(v, float) else v for k, v in hp.items()}


@pytest.mark.parametrize("name,hp", SETTINGS, ids=[f"{n}-{i}" for i, (n, _) in
                                                   enumerate(SETTINGS)])
def test_equals_keras_step_for_step(name, hp):
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(3, 2)) * 2
    hp = _f32(dict(optim.DEFAULTS[name], **hp))
    if name in ("momentum", "nesterov"):
        hp.setdefault("momentum", float(np.float32(0.9)))
    if name == "adam":
        hp = _f32(dict({"beta_1": 0.9, "beta_2": 0.999}, **hp))
    ours = optim.minimize(name, _grad, w0, STEPS, **hp)
    theirs = _keras_path(name, hp, w0, "float64")
    assert ours.shape == theirs.shape == (STEPS + 1, 3, 2)
    # float64 on both sides: the only differences are the order of floating-point operations
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-11)
    assert np.abs(ours[-1] - ours[0]).max() > 1e-2, "the parameters should actually move"


@pytest.mark.parametrize("name", sorted(optim.STEPS))
def test_keras_defaults_unrounded_agree_to_1e_6(name):
    w0 = np.array([1.5, -0.7, 0.3])
    ours = optim.minimize(name, _grad, w0, STEPS)             # Keras' defaults, in float64
    theirs = _keras_path(name, {}, w0, "float64")
    np.testing.assert_allclose(ours, theirs, atol=1e-6)
    theirs32 = _keras_path(name, {}, w0, "float32")           # Keras' usual float32
    np.testing.assert_allclose(ours, theirs32, atol=5e-6)


def test_adam_without_bias_correction_differs_from_keras_at_step_one():
    w0 = np.array([1.0, -1.0])
    right = optim.minimize("adam", _grad, w0, 1, learning_rate=0.01)
    wrong = optim.minimize("adam", _grad, w0, 1, learning_rate=0.01, bias_correction=False)
    # the bias-corrected first step has size lr * |g| / |g| = lr per coordinate (Adam's
    # well-known property); the uncorrected one is (1 - beta_1) / sqrt(1 - beta_2) = 3.16 times
    np.testing.assert_allclose(np.abs(right[1] - right[0]), 0.01, rtol=1e-4)
    ratio = np.abs(wrong[1] - wrong[0]) / np.abs(right[1] - right[0])
    np.testing.assert_allclose(ratio, 0.1 / np.sqrt(0.001), rtol=1e-3)
    with pytest.raises(ValueError, match="bias"):
        optim.keras_optimizer("adam", bias_correction=False)


def test_two_momentum_conventions_agree_for_constant_learning_rate():
    # v <- mu v + g ; w <- w - lr v   is Keras' m <- mu m - lr g ; w <- w + m with m = -lr v
    lr, mu = 0.03, 0.9
    w0 = np.array([2.0, -1.0, 0.5])
    w, v = w0.copy(), np.zeros(3)
    for _ in range(50):
        v = mu * v + _grad(w)
        w = w - lr * v
    np.testing.assert_allclose(w, optim.minimize("momentum", _grad, w0, 50, learning_rate=lr,
                                                 momentum=mu)[-1], rtol=1e-12)


@pytest.mark.parametrize("name", sorted(optim.SURFACES))
def test_surface_gradients_match_finite_differences(name):
    s = optim.SURFACES[name]
    rng = np.random.default_rng(1)
    for w in rng.uniform([s.xlim[0], s.ylim[0]], [s.xlim[1], s.ylim[1]], size=(5, 2)):
        h = 1e-6
        numeric = [(s.f(w + h * e) - s.f(w - h * e)) / (2 * h) for e in np.eye(2)]
        np.testing.assert_allclose(s.grad(w), numeric, rtol=1e-5, atol=1e-6)


def test_every_optimizer_descends_the_ravine():
    s = optim.SURFACES["ravine"]
    for name in optim.STEPS:
        path = optim.run(name, s, 300, learning_rate=0.05)
        assert s.f(path[-1]) < s.f(path[0]) / 2, name


def test_divergence_stops_the_path_and_errors_are_clear():
    path = optim.run("sgd", optim.SURFACES["ravine"], 500, learning_rate=1.0)  # 1 > 2/20
    assert len(path) < 501 and not np.all(np.isfinite(path[-1]))
    with pytest.raises(ValueError, match="unknown optimizer 'adamw'"):
        optim.run("adamw", optim.SURFACES["ravine"])
    with pytest.raises(ValueError, match="momentum"):
        optim.sgd(np.zeros(2), np.zeros(2), momentum=1.5)


def test_learning_rate_explorer_runs_headless_and_draws_the_real_paths():
    import matplotlib

    matplotlib.use("Agg")
    from nasbook.widgets.optim import learning_rate_explorer

    explorer = learning_rate_explorer("ravine", optimizers=("sgd", "adam"), learning_rate=0.05,
                                      steps=40)
    np.testing.assert_array_equal(explorer.paths["sgd"],
                                  optim.run("sgd", optim.SURFACES["ravine"], 40,
                                            learning_rate=0.05))
    explorer.update(learning_rate=0.11, steps=20)       # past SGD's limit 2 / 20 = 0.1
    assert explorer.lr.value == pytest.approx(0.11) and len(explorer.paths["adam"]) == 21
    assert explorer.final_losses()["sgd"] > optim.SURFACES["ravine"].f(np.array([-4.0, 1.5]))
    before = explorer.out.value
    explorer.lr.value = 0.01                             # moving the slider redraws
    assert len(explorer.paths["sgd"]) == 21 and explorer.final_losses()["sgd"] < 10
    assert explorer.out.value[:4] == b"\x89PNG" and explorer.out.value != before
    explorer.update(optimizers=())
    assert "choose at least one" in explorer.message.value
    with pytest.raises(ValueError, match="unknown surface"):
        learning_rate_explorer("saddle")


def test_a_diverged_point_evaluates_to_inf_without_a_warning():
    """A learning-rate sweep evaluates surfaces at diverged end points: inf, and no warning
    for the reader (notebook 04 showed 'RuntimeWarning: overflow encountered in square')."""
    import warnings

    far = np.array([1e200, -1e200])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for surface in optim.SURFACES.values():
            assert np.isinf(surface.f(far)), surface.name
            assert np.isfinite(surface.f(np.array(surface.start)))
