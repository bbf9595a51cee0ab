"""Gradient-descent optimisers in NumPy, one update step each, written to be read beside
the formula. Each step follows ``keras.optimizers`` exactly (defaults, epsilon placement,
initial accumulator values), and the tests prove it step for step.

Every step function has the same shape: it takes the parameters ``w``, their gradient
``g`` and the optimiser's ``state`` (``None`` on the first step), and returns the new
parameters and the new state. Hyperparameters are keyword arguments with Keras' names and
defaults::

    import numpy as np, nasbook as nb
    w, state = np.array([1.0, -2.0]), None
    for _ in range(100):
        w, state = nb.optim.adam(w, 2 * w, state, learning_rate=0.1)  # minimise |w|^2
    path = nb.optim.run("rmsprop", nb.optim.SURFACES["ravine"], steps=50, learning_rate=0.05)

Notation: ``lr`` is the learning rate, ``t`` counts steps from 1, ``*`` and ``/`` act
element-wise, ``eps`` is a small constant that keeps a division finite.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "STEPS", "DEFAULTS",
           "run", "minimize", "keras_optimizer", "Surface", "SURFACES"]


def _zeros(w):
    return np.zeros_like(np.asarray(w, dtype=float))


# --- SGD, with and without momentum ---------------------------------------------------------

def sgd(w, g, state=None, *, learning_rate=0.01, momentum=0.0, nesterov=False):
    """Stochastic gradient descent, as ``keras.optimizers.SGD``.

    Plain (``momentum=0``)::       w <- w - lr * g
    Momentum (Keras' form)::       m <- momentum * m - lr * g ;  w <- w + m
    Nesterov (Keras' form)::       m <- momentum * m - lr * g ;  w <- w + momentum * m - lr * g

    ``m`` starts at zero. (Another common form, v <- momentum * v + g; w <- w - lr * v, is
    the same algorithm with m = -lr * v whenever the learning rate is constant.)
    """
    w, g = np.asarray(w, dtype=float), np.asarray(g, dtype=float)
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(f"momentum must lie in [0, 1], got {momentum}")
    if momentum == 0:
        return w - learning_rate * g, {}
    m = _zeros(w) if not state else state["m"]
    m = momentum * m - learning_rate * g
    if nesterov:
        w = w + momentum * m - learning_rate * g   # look ahead along the new velocity
    else:
        w = w + m
    return w, {"m": m}


def momentum(w, g, state=None, *, learning_rate=0.01, momentum=0.9):
    """SGD with (heavy-ball) momentum: ``sgd(..., momentum=0.9)``."""
    return sgd(w, g, state, learning_rate=learning_rate, momentum=momentum)


def nesterov(w, g, state=None, *, learning_rate=0.01, momentum=0.9):
    """SGD with Nesterov momentum: ``sgd(..., momentum=0.9, nesterov=True)``."""
    return sgd(w, g, state, learning_rate=learning_rate, momentum=momentum, nesterov=True)


# --- adaptive learning rates ----------------------------------------------------------------

def adagrad(w, g, state=None, *, learning_rate=0.001, initial_accumulator_value=0.1,
            epsilon=1e-7):
    """AdaGrad, as ``keras.optimizers.Adagrad``::

        a <- a + g^2                     (a starts at initial_accumulator_value, not 0)
        w <- w - lr * g / sqrt(a + eps)  (Keras puts eps inside the square root)
    """
    w, g = np.asarray(w, dtype=float), np.asarray(g, dtype=float)
    a = np.full_like(w, initial_accumulator_value) if not state else state["a"]
    a = a + g ** 2
    w = w - learning_rate * g / np.sqrt(a + epsilon)
    return w, {"a": a}


def rmsprop(w, g, state=None, *, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
            centered=False):
    """RMSprop, as ``keras.optimizers.RMSprop`` (defaults rho=0.9, momentum=0, not centered)::

        v <- rho * v + (1 - rho) * g^2                 (v starts at 0)
        centered:  mg <- rho * mg + (1 - rho) * g ;  d = v - mg^2 + eps
        otherwise: d = v + eps                        (eps inside the square root)
        step = lr * g / sqrt(d)
        momentum > 0:  b <- momentum * b + step ;  w <- w - b
        otherwise:     w <- w - step
    """
    w, g = np.asarray(w, dtype=float), np.asarray(g, dtype=float)
    state = state or {"v": _zeros(w), "mg": _zeros(w), "b": _zeros(w)}
    v = rho * state["v"] + (1 - rho) * g ** 2
    mg = state["mg"]
    if centered:
        mg = rho * mg + (1 - rho) * g
        d = v - mg ** 2 + epsilon
    else:
        d = v + epsilon
    step = learning_rate * g / np.sqrt(d)
    b = state["b"]
    if momentum > 0:
        b = momentum * b + step
        w = w - b
    else:
        w = w - step
    return w, {"v": v, "mg": mg, "b": b}


def adam(w, g, state=None, *, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
         bias_correction=True):
    """Adam (Kingma & Ba 2015), as ``keras.optimizers.Adam``::

        t <- t + 1
        m <- beta_1 * m + (1 - beta_1) * g       first moment, starts at 0
        v <- beta_2 * v + (1 - beta_2) * g^2     second moment, starts at 0
        m_hat = m / (1 - beta_1^t) ;  v_hat = v / (1 - beta_2^t)     bias correction
        w <- w - lr * m_hat / (sqrt(v_hat) + eps)

    Keras computes the last line in the paper's "efficient" order, which we follow exactly::

        lr_t = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) ;  w <- w - lr_t * m / (sqrt(v) + eps)

    It equals the line above with eps scaled by sqrt(1 - beta_2^t) (a difference of order
    eps). ``bias_correction=False`` gives the uncorrected update w <- w - lr * m / (sqrt(v)
    + eps) that some texts print: its first steps are several times too large.
    """
    w, g = np.asarray(w, dtype=float), np.asarray(g, dtype=float)
    state = state or {"m": _zeros(w), "v": _zeros(w), "t": 0}
    t = state["t"] + 1
    m = beta_1 * state["m"] + (1 - beta_1) * g
    v = beta_2 * state["v"] + (1 - beta_2) * g ** 2
    if bias_correction:
        lr_t = learning_rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    else:
        lr_t = learning_rate
    w = w - lr_t * m / (np.sqrt(v) + epsilon)
    return w, {"m": m, "v": v, "t": t}


STEPS: dict[str, Callable] = {"sgd": sgd, "momentum": momentum, "nesterov": nesterov,
                              "adagrad": adagrad, "rmsprop": rmsprop, "adam": adam}
"""Step functions by name."""

DEFAULTS = {"sgd": {"learning_rate": 0.01}, "momentum": {"learning_rate": 0.01, "momentum": 0.9},
            "nesterov": {"learning_rate": 0.01, "momentum": 0.9},
            "adagrad": {"learning_rate": 0.001}, "rmsprop": {"learning_rate": 0.001},
            "adam": {"learning_rate": 0.001}}
"""Keras' default learning rates (and momentum 0.9 for the two momentum variants)."""


def _step_fn(optimizer):
    if callable(optimizer):
        return optimizer
    if optimizer not in STEPS:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {sorted(STEPS)} "
                         f"or pass a step function")
    return STEPS[optimizer]


def minimize(optimizer, grad, w0, steps, **hyperparameters) -> np.ndarray:
    """Run ``steps`` updates from ``w0`` using ``grad(w)``; returns the path (steps+1, dim).

    Usage: ``path = nb.optim.minimize("adam", lambda w: 2 * w, [1.0, 1.0], 100,
    learning_rate=0.1)``
    """
    step = _step_fn(optimizer)
    if int(steps) < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    w = np.asarray(w0, dtype=float).copy()
    path, state = [w], None
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is handled below
        for _ in range(int(steps)):
            w, state = step(w, grad(w), state, **hyperparameters)
            path.append(w)
            if not np.all(np.isfinite(w)):   # diverged: stop here, keep the path so far
                break
    return np.array(path)


def run(optimizer, surface: "Surface", steps=100, start=None, **hyperparameters) -> np.ndarray:
    """Optimise a 2-D :class:`Surface` from its start point; returns the path (steps+1, 2).

    Usage: ``path = nb.optim.run("momentum", nb.optim.SURFACES["ravine"], 100,
    learning_rate=0.02)``
    """
    w0 = surface.start if start is None else start
    return minimize(optimizer, surface.grad, w0, steps, **hyperparameters)


def keras_optimizer(name, **hyperparameters):
    """The ``keras.optimizers`` object that :data:`STEPS` ``[name]`` reproduces.

    Usage: ``opt = nb.optim.keras_optimizer("nesterov", learning_rate=0.05)``
    """
    import keras

    hp = dict(DEFAULTS.get(name, {}), **hyperparameters)
    if name in ("sgd", "momentum", "nesterov"):
        if name == "nesterov":
            hp["nesterov"] = True
        if "momentum" in hp:
            hp["momentum"] = float(hp["momentum"])
        return keras.optimizers.SGD(**hp)
    if name == "adagrad":
        return keras.optimizers.Adagrad(**hp)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(**hp)
    if name == "adam":
        if not hp.pop("bias_correction", True):
            raise ValueError("Keras' Adam always corrects the bias; there is no Keras "
                             "optimizer for bias_correction=False")
        return keras.optimizers.Adam(**hp)
    raise ValueError(f"unknown optimizer {name!r}; choose one of {sorted(STEPS)}")


# --- 2-D loss surfaces to watch the optimisers on --------------------------------------------

@dataclass(frozen=True)
class Surface:
    """A 2-D loss f(w) with its gradient, a start point, the minimum and a plotting window.

    Usage: ``s = nb.optim.SURFACES["rosenbrock"]; s.f(s.minimum), s.grad(s.start)``
    """

    name: str
    f: Callable
    grad: Callable
    start: tuple
    minimum: tuple
    xlim: tuple
    ylim: tuple
    description: str = ""

    def __call__(self, w):
        return self.f(np.asarray(w, dtype=float))


# The surfaces are evaluated on the end points of diverged paths too (a learning-rate sweep
# goes far past stability on purpose): there the loss overflows float64 and is inf, which is
# the right answer, so the overflow is not reported as a warning.
def _ravine_f(w, a=1.0, b=20.0):
    w = np.asarray(w, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        return 0.5 * (a * w[..., 0] ** 2 + b * w[..., 1] ** 2)


def _ravine_grad(w, a=1.0, b=20.0):
    w = np.asarray(w, dtype=float)
    return np.array([a * w[0], b * w[1]])


def _rosenbrock_f(w):
    w = np.asarray(w, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        return (1 - w[..., 0]) ** 2 + 100 * (w[..., 1] - w[..., 0] ** 2) ** 2


def _rosenbrock_grad(w):
    x, y = np.asarray(w, dtype=float)
    return np.array([-2 * (1 - x) - 400 * x * (y - x ** 2), 200 * (y - x ** 2)])


_DIP = 0.25


def _bumpy_f(w):
    # a wide bowl with a ripple: a local dip on the way to the global minimum at (0, 0)
    w = np.asarray(w, dtype=float)
    x, y = w[..., 0], w[..., 1]
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        return 0.1 * (x ** 2 + y ** 2) - _DIP * np.exp(-((x - 1.5) ** 2 + (y - 1.0) ** 2) / 0.3)


def _bumpy_grad(w):
    x, y = np.asarray(w, dtype=float)
    e = _DIP * np.exp(-((x - 1.5) ** 2 + (y - 1.0) ** 2) / 0.3)
    return np.array([0.2 * x + e * 2 * (x - 1.5) / 0.3, 0.2 * y + e * 2 * (y - 1.0) / 0.3])


SURFACES = {
    "ravine": Surface("ravine", _ravine_f, _ravine_grad, start=(-4.0, 1.5), minimum=(0.0, 0.0),
                      xlim=(-4.5, 1.5), ylim=(-2.0, 2.0),
                      description="0.5*(x^2 + 20 y^2): 20 times steeper across than along"),
    "rosenbrock": Surface("rosenbrock", _rosenbrock_f, _rosenbrock_grad, start=(-1.5, 2.0),
                          minimum=(1.0, 1.0), xlim=(-2.0, 2.0), ylim=(-1.0, 3.0),
                          description="(1-x)^2 + 100 (y-x^2)^2: a curved, flat-bottomed valley"),
    "bumpy": Surface("bumpy", _bumpy_f, _bumpy_grad, start=(3.0, 2.5), minimum=(0.0, 0.0),
                     xlim=(-1.5, 3.5), ylim=(-1.5, 3.0),
                     description="a bowl (minimum near (0, 0)) with a local dip near (1.5, 1) "
                                 "on the way"),
}
"""Named 2-D test surfaces: ``ravine`` (ill-conditioned), ``rosenbrock``, ``bumpy``."""
