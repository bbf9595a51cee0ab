"""Zero-cost proxies: score an architecture at initialisation, from one batch, without training.

Each proxy takes an untrained Keras model (logits output) and one batch ``x, y``; larger is
meant to be better. Definitions follow Abdelfattah et al. 2021, "Zero-Cost Proxies for
Lightweight NAS" (arXiv 2101.08134), summed over the kernels of the Conv and Dense layers
(biases are not scored):

- ``params``: trainable parameters (what the table's ``params`` column counts).
- ``flops``: floating-point operations of one forward pass of one example, counted
  analytically from layer shapes: 2 per multiply-accumulate of every Conv/Dense kernel plus
  one per bias add (pooling, activations and additions are not counted).
- ``grad_norm``: Σ over kernels of ‖∂L/∂W‖₂, L the mean cross-entropy on the batch.
- ``snip``: Σ |W ⊙ ∂L/∂W| (connection sensitivity, Lee et al. 2019, arXiv 1810.02340).
- ``synflow``: with every weight replaced by its absolute value and an all-ones input,
  R = Σ outputs; score Σ W ⊙ ∂R/∂W (Tanaka et al. 2020, arXiv 2006.05467). No data.
- ``jacob_cov``: the input Jacobians J_i = ∂(Σ_c f_c(x_i))/∂x_i of the batch, their
  correlation matrix Σ with eigenvalues λ; score −Σ [log(λ + k) + 1/(λ + k)], k = 1e-5
  (Mellor et al., arXiv 2006.04647 v1).
- ``naswot``: each example's binary code c_i (which units of the Conv/Dense layers with an
  activation have a positive pre-activation); K_H[i, j] = N_A − Hamming(c_i, c_j);
  score log|det K_H| (Mellor et al. 2021, arXiv 2006.04647 v2+). For tanh and sigmoid the
  code is the sign of the pre-activation, as for ReLU.

Usage::

    from nasbook.oneshot import proxies
    frame = proxies.compute()            # all 324 benchmark architectures, one row each
    proxies.snip(model, x, y)            # one proxy of one model
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd

__all__ = ["PROXIES", "compute", "score_model", "one_batch", "kernels", "flops", "grad_norm",
           "snip", "synflow", "jacob_cov", "jacob_cov_spectrum", "naswot", "activation_codes",
           "ProxyError"]

PROXIES = ("params", "flops", "grad_norm", "snip", "synflow", "jacob_cov", "naswot")
JACOB_K = 1e-5


class ProxyError(ValueError):
    """An unknown proxy name or a model the proxies cannot read."""


def one_batch(dataset=None, *, size=32, seed=0):
    """``size`` training examples drawn without replacement: ``(x, y)`` as float32 / int.

    32 by default: fewer examples than mnist1d has input values (40), so the batch's input
    Jacobians can be linearly independent and jacob_cov's correlation matrix is not singular
    by construction.

    ``dataset`` defaults to the benchmark's own split of mnist1d (RECIPE).
    Usage: ``x, y = one_batch(nb.load_dataset("mnist1d"), size=64)``
    """
    if dataset is None:
        import nasbook as nb
        from nasbook.bench.space import RECIPE

        dataset = nb.load_dataset(RECIPE["dataset"], seed=RECIPE["split_seed"],
                                  val_fraction=RECIPE["val_fraction"])
    rng = np.random.default_rng(seed)
    take = rng.choice(len(dataset.x_train), size=min(size, len(dataset.x_train)), replace=False)
    return (np.asarray(dataset.x_train[take], dtype="float32"),
            np.asarray(dataset.y_train[take]).astype("int64"))


def kernels(model) -> list:
    """The kernel variables of the model's Conv and Dense layers, in layer order."""
    out = []
    for layer in _weighted_layers(model):
        out.append(layer.kernel)
    if not out:
        raise ProxyError("the model has no Conv or Dense layer with a kernel to score")
    return out


def _weighted_layers(model):
    import keras

    kinds = (keras.layers.Dense, keras.layers.Conv1D, keras.layers.Conv2D)
    return [layer for layer in model.layers if isinstance(layer, kinds)]


# --- counting ---------------------------------------------------------------------------------


def flops(model) -> int:
    """Floating-point operations of one forward pass of one example (see the module text).

    A Conv layer's output of shape (positions..., C_out) costs 2·k·C_in·C_out per position
    (k = kernel elements), plus C_out per position for the bias; a Dense layer 2·n_in·n_out
    plus n_out. Usage: ``flops(model)``
    """
    total = 0
    for layer in _weighted_layers(model):
        kernel = tuple(int(d) for d in layer.kernel.shape)
        out_shape = tuple(int(d) for d in layer.output.shape[1:])
        positions = int(np.prod(out_shape[:-1])) if len(out_shape) > 1 else 1
        macs = positions * int(np.prod(kernel))
        total += 2 * macs
        if getattr(layer, "use_bias", False):
            total += positions * out_shape[-1]
    return int(total)


# --- gradient proxies -------------------------------------------------------------------------


def _loss_grads(model, x, y):
    import tensorflow as tf

    ws = kernels(model)
    x = tf.convert_to_tensor(x, dtype=tf.float32)
    with tf.GradientTape() as tape:
        logits = model(x, training=False)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.convert_to_tensor(y), logits=logits))
    grads = tape.gradient(loss, ws)
    return [w.numpy() for w in ws], [g.numpy() for g in grads]


def grad_norm(model, x, y) -> float:
    """Σ over kernels of the Euclidean norm of ∂L/∂W (L: mean cross-entropy on the batch)."""
    _, grads = _loss_grads(model, x, y)
    return float(sum(np.linalg.norm(g) for g in grads))


def snip(model, x, y) -> float:
    """Σ |W ⊙ ∂L/∂W| over kernels (Lee et al. 2019)."""
    ws, grads = _loss_grads(model, x, y)
    return float(sum(np.abs(w * g).sum() for w, g in zip(ws, grads)))


def synflow(model) -> float:
    """Σ W ⊙ ∂R/∂W over kernels, with |weights| and an all-ones input, R = Σ outputs
    (Tanaka et al. 2020). The model's weights are restored afterwards."""
    import tensorflow as tf

    saved = [v.numpy() for v in model.weights]
    try:
        for v, value in zip(model.weights, saved):
            v.assign(np.abs(value))
        ws = kernels(model)
        ones = tf.ones((1, *model.input_shape[1:]), dtype=tf.float32)
        with tf.GradientTape() as tape:
            r = tf.reduce_sum(model(ones, training=False))
        grads = tape.gradient(r, ws)
        score = float(sum(np.sum(w.numpy() * g.numpy()) for w, g in zip(ws, grads)))
    finally:
        for v, value in zip(model.weights, saved):
            v.assign(value)
    return score


# --- activation proxies -----------------------------------------------------------------------


def _jacobian_and_codes(model, x, *, want_codes=True):
    """Per-example input Jacobian of Σ outputs, and the binary codes of pre-activations."""
    import keras
    import tensorflow as tf

    acts = [layer for layer in _weighted_layers(model)
            if getattr(layer, "activation", None) is not None
            and layer.activation is not keras.activations.linear] if want_codes else []
    probe = keras.Model(model.inputs, [layer.input for layer in acts] + [model.output])
    x = tf.convert_to_tensor(x, dtype=tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        outs = probe(x, training=False)
        outs = outs if isinstance(outs, (list, tuple)) else [outs]
        total = tf.reduce_sum(outs[-1])
    jac = tape.gradient(total, x).numpy().reshape(len(x), -1)
    codes = []
    for layer, inp in zip(acts, outs[:-1]):
        codes.append(_pre_activation(layer, inp).reshape(len(x), -1) > 0)
    code = np.concatenate(codes, axis=1) if codes else np.zeros((len(x), 0), bool)
    return jac, code


def _pre_activation(layer, inputs):
    import keras

    if isinstance(layer, keras.layers.Dense):
        pre = keras.ops.matmul(inputs, layer.kernel)
    else:
        pre = layer.convolution_op(inputs, layer.kernel)
    if getattr(layer, "use_bias", False):
        pre = pre + layer.bias
    return keras.ops.convert_to_numpy(pre)


def activation_codes(model, x) -> np.ndarray:
    """(batch, N_A) booleans: which activation units of the model are switched on (positive
    pre-activation) for each example. Usage: ``codes = activation_codes(model, x)``"""
    return _jacobian_and_codes(model, x)[1]


def _jacob_cov_score(jac):
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(jac)
    if not np.all(np.isfinite(corr)):
        return float("nan")   # a constant Jacobian row: no correlation defined
    lam = np.linalg.eigvalsh(corr)
    return float(-np.sum(np.log(lam + JACOB_K) + 1.0 / (lam + JACOB_K)))


def _naswot_score(code):
    c = code.astype(np.float64)
    k = c @ c.T + (1.0 - c) @ (1.0 - c).T
    return float(np.linalg.slogdet(k)[1])


def jacob_cov(model, x) -> float:
    """−Σ [log(λ + k) + 1/(λ + k)] over the eigenvalues λ of the correlation matrix of the
    batch's input Jacobians (k = 1e-5; NaN when a Jacobian is constant)."""
    return _jacob_cov_score(_jacobian_and_codes(model, x, want_codes=False)[0])


def jacob_cov_spectrum(model, x) -> np.ndarray:
    """The eigenvalues (ascending) of the correlation matrix of the batch's input Jacobians,
    the matrix :func:`jacob_cov` scores. Each Jacobian is centred over its own values, so with
    ``d`` input values the matrix has rank at most ``d - 1``: a batch larger than that leaves
    at least ``batch - d + 1`` eigenvalues at zero (up to rounding), each contributing the
    same ``log k + 1/k``. Usage: ``jacob_cov_spectrum(model, one_batch(size=128)[0])``"""
    jac = _jacobian_and_codes(model, x, want_codes=False)[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.linalg.eigvalsh(np.corrcoef(jac))


def naswot(model, x) -> float:
    """log|det K_H|, K_H[i, j] = N_A − Hamming(c_i, c_j) of the activation codes."""
    return _naswot_score(activation_codes(model, x))


# --- all of them ------------------------------------------------------------------------------


def _check_names(proxies):
    proxies = (proxies,) if isinstance(proxies, str) else tuple(proxies)
    unknown = [p for p in proxies if p not in PROXIES]
    if unknown:
        raise ProxyError(f"unknown proxies {unknown}; choose from {list(PROXIES)}")
    return proxies


def score_model(model, x, y, proxies=PROXIES) -> dict:
    """Every proxy in ``proxies`` for one model, sharing passes where they can (snip and
    grad_norm one gradient; jacob_cov and naswot one forward pass).
    Usage: ``score_model(model, *one_batch())``"""
    proxies = _check_names(proxies)
    out = {}
    if "params" in proxies:
        out["params"] = int(model.count_params())
    if "flops" in proxies:
        out["flops"] = flops(model)
    if {"grad_norm", "snip"} & set(proxies):
        ws, grads = _loss_grads(model, x, y)
        if "grad_norm" in proxies:
            out["grad_norm"] = float(sum(np.linalg.norm(g) for g in grads))
        if "snip" in proxies:
            out["snip"] = float(sum(np.abs(w * g).sum() for w, g in zip(ws, grads)))
    if {"jacob_cov", "naswot"} & set(proxies):
        jac, code = _jacobian_and_codes(model, x, want_codes="naswot" in proxies)
        if "jacob_cov" in proxies:
            out["jacob_cov"] = _jacob_cov_score(jac)
        if "naswot" in proxies:
            out["naswot"] = _naswot_score(code)
    if "synflow" in proxies:
        out["synflow"] = synflow(model)
    return {p: out[p] for p in proxies}


def compute(configs=None, *, arch_ids=None, batch=None, proxies=PROXIES, seed=0,
            progress=True) -> pd.DataFrame:
    """Every proxy for every architecture of the benchmark space (or ``configs``, or the
    table's ``arch_ids``), each model built untrained by ``nb.bench.bench_space().build_model``
    with initialisation ``seed``.

    ``batch``: ``(x, y)``; default :func:`one_batch` of the benchmark's training split.
    Returns one row per architecture: ``arch_id`` (the table's id; the position in
    ``configs`` when those are given), the decisions, one column per proxy and ``seconds``
    (building and scoring that model); ``attrs["wall_time_s"]`` is the total, and
    ``attrs["cpu_time_s"]`` the CPU seconds of this process over it (every TensorFlow
    thread; it does not count waiting for other processes on a shared machine).
    Usage: ``frame = compute(); frame.attrs["wall_time_s"]``
    """
    import keras
    from tqdm.auto import tqdm

    from nasbook.bench.space import RECIPE, all_configs, bench_space

    proxies = _check_names(proxies)
    if configs is not None and arch_ids is not None:
        raise ProxyError("pass configs or arch_ids, not both")
    if arch_ids is not None:
        every = all_configs()
        ids = [int(i) for i in arch_ids]
        configs = [every[i] for i in ids]
    else:
        configs = all_configs() if configs is None else list(configs)
        ids = list(range(len(configs)))
    x, y = one_batch() if batch is None else batch
    space = bench_space()
    fixed = {"dropout": RECIPE["dropout"], "l2": RECIPE["l2"],
             "optimizer": RECIPE["optimizer"], "learning_rate": RECIPE["learning_rate"]}
    rows = []
    start, cpu_start = time.perf_counter(), time.process_time()
    keras.utils.clear_session()   # once: clearing per model costs more than scoring it
    for arch_id, config in zip(ids, tqdm(configs, desc="zero-cost proxies",
                                         disable=not progress, leave=False)):
        t0 = time.perf_counter()
        keras.utils.set_random_seed(seed)   # the same initialisation stream for every model
        model = space.build_model({**config, **fixed})
        scores = score_model(model, x, y, proxies)
        rows.append({"arch_id": arch_id, **config, **scores,
                     "seconds": time.perf_counter() - t0})
    frame = pd.DataFrame(rows)
    frame.attrs.update(wall_time_s=time.perf_counter() - start,
                       cpu_time_s=time.process_time() - cpu_start, seed=seed,
                       batch_size=len(x), proxies=list(proxies))
    return frame
