"""Zero-cost proxies, each against a hand computation in NumPy on a tiny model."""
import numpy as np
import pytest

keras = pytest.importorskip("keras")

from nasbook.oneshot import proxies as P  # noqa: E402


def _dense_model(seed=0, n_in=6, hidden=16, classes=3, act="relu"):
    keras.utils.set_random_seed(seed)
    inp = keras.Input((n_in,))
    h = keras.layers.Dense(hidden, activation=act, name="hidden")(inp)
    out = keras.layers.Dense(classes, name="logits")(h)
    model = keras.Model(inp, out)
    # non-zero biases, so the hand computation must carry them
    rng = np.random.default_rng(seed)
    for layer in model.layers[1:]:
        layer.bias.assign(rng.normal(0, 0.3, layer.bias.shape).astype("float32"))
    return model


def _weights(model):
    (w1, b1), (w2, b2) = [(layer.kernel.numpy().astype(float), layer.bias.numpy().astype(float))
                          for layer in model.layers[1:]]
    return w1, b1, w2, b2


@pytest.fixture
def batch():
    rng = np.random.default_rng(1)
    return rng.normal(size=(5, 6)).astype("float32"), np.array([0, 2, 1, 1, 0])


def _hand_grads(model, x, y):
    w1, b1, w2, b2 = _weights(model)
    pre = x @ w1 + b1
    h = np.maximum(pre, 0)
    z = h @ w2 + b2
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    dz = (p - np.eye(3)[y]) / len(x)
    gw2 = h.T @ dz
    gw1 = x.T @ ((dz @ w2.T) * (pre > 0))
    return (w1, gw1), (w2, gw2)


def test_grad_norm_and_snip_by_hand(batch):
    model = _dense_model()
    x, y = batch
    (w1, g1), (w2, g2) = _hand_grads(model, x.astype(float), y)
    assert P.grad_norm(model, x, y) == pytest.approx(np.linalg.norm(g1) + np.linalg.norm(g2),
                                                     rel=1e-4)
    assert P.snip(model, x, y) == pytest.approx(np.abs(w1 * g1).sum() + np.abs(w2 * g2).sum(),
                                                rel=1e-4)


def test_synflow_by_hand_and_weights_restored():
    model = _dense_model()
    before = [v.numpy().copy() for v in model.weights]
    w1, b1, w2, b2 = (np.abs(a) for a in _weights(model))
    h = np.ones(6) @ w1 + b1            # all positive: every ReLU passes
    d_h = w2.sum(axis=1)                # dR/dh_j = Σ_k |W2_jk|
    expected = np.sum(w1 * d_h[None, :]) + np.sum(w2 * h[:, None])
    assert P.synflow(model) == pytest.approx(expected, rel=1e-5)
    for v, b in zip(model.weights, before):
        np.testing.assert_array_equal(v.numpy(), b)


def test_jacob_cov_by_hand(batch):
    model = _dense_model()
    x, _ = batch
    w1, b1, w2, b2 = _weights(model)
    pre = x.astype(float) @ w1 + b1
    jac = ((pre > 0) * w2.sum(axis=1)) @ w1.T      # ∂Σ_c f_c / ∂x per example
    lam = np.linalg.eigvalsh(np.corrcoef(jac))
    expected = -np.sum(np.log(lam + 1e-5) + 1 / (lam + 1e-5))
    assert P.jacob_cov(model, x) == pytest.approx(expected, rel=1e-4)


def test_naswot_by_hand_dense(batch):
    model = _dense_model()
    x, _ = batch
    w1, b1, _, _ = _weights(model)
    c = ((x.astype(float) @ w1 + b1) > 0).astype(float)
    hamming = (c[:, None, :] != c[None, :, :]).sum(-1)
    k = c.shape[1] - hamming                   # N_A minus the Hamming distance
    np.testing.assert_array_equal(k, c @ c.T + (1 - c) @ (1 - c).T)
    assert P.naswot(model, x) == pytest.approx(np.linalg.slogdet(k)[1], rel=1e-6)


def test_naswot_codes_of_a_conv_model_by_hand():
    keras.utils.set_random_seed(3)
    inp = keras.Input((10, 1))
    h = keras.layers.Conv1D(3, 3, padding="same", activation="tanh", name="conv")(inp)
    out = keras.layers.Dense(4, name="logits")(keras.layers.Flatten()(h))
    model = keras.Model(inp, out)
    conv = model.get_layer("conv")
    conv.bias.assign(np.array([0.1, -0.2, 0.05], dtype="float32"))
    x = np.random.default_rng(0).normal(size=(6, 10, 1)).astype("float32")
    k, b = conv.kernel.numpy().astype(float), conv.bias.numpy().astype(float)
    xp = np.pad(x.astype(float), ((0, 0), (1, 1), (0, 0)))
    pre = np.stack([np.einsum("njc,jcf->nf", xp[:, t:t + 3], k) for t in range(10)], axis=1) + b
    np.testing.assert_array_equal(P.activation_codes(model, x), (pre > 0).reshape(6, -1))
    # tanh: the code is the sign of the pre-activation, so the logits layer adds no units
    assert P.activation_codes(model, x).shape == (6, 30)
    # FLOPs by hand: conv 10 positions x (3 x 1 x 3) MACs x 2 + 30 bias adds; dense 2*30*4 + 4
    assert P.flops(model) == 2 * 10 * 9 + 30 + 2 * 30 * 4 + 4


def test_dense_flops_and_params():
    model = _dense_model()
    assert P.flops(model) == (2 * 6 * 16 + 16) + (2 * 16 * 3 + 3)
    assert P.score_model(model, np.zeros((2, 6), "float32"), np.zeros(2, int),
                         ["params"])["params"] == 6 * 16 + 16 + 16 * 3 + 3


def test_benchmark_models_match_the_table_and_are_reproducible():
    import nasbook as nb

    configs = nb.bench.all_configs()
    ids = [0, 161, 323]
    x, y = P.one_batch(size=8)
    frame = P.compute(arch_ids=ids, batch=(x, y), progress=False)
    assert list(frame["arch_id"]) == ids
    table = nb.bench.load()
    params = table[table.seed == 0].set_index("arch_id").loc[ids, "params"].to_numpy()
    np.testing.assert_array_equal(frame["params"].to_numpy(), params)
    # arch 0: one conv block (16 filters, k=3) on 40 x 1, pooled to 20, then 320 -> 10 logits
    assert frame["flops"].iloc[0] == 2 * 40 * 3 * 16 + 40 * 16 + 2 * 320 * 10 + 10
    again = P.compute([configs[i] for i in reversed(ids)], batch=(x, y), progress=False)
    for proxy in P.PROXIES:   # same initialisation for each model, whatever came before
        np.testing.assert_allclose(again[proxy].to_numpy()[::-1], frame[proxy].to_numpy(),
                                   rtol=1e-5)
    assert frame.attrs["wall_time_s"] > 0 and (frame["seconds"] > 0).all()
    assert frame.attrs["cpu_time_s"] > 0


def test_unknown_proxy_is_named():
    with pytest.raises(P.ProxyError, match="unknown proxies"):
        P.score_model(_dense_model(), np.zeros((2, 6), "float32"), np.zeros(2, int), ["snipp"])


def test_jacob_cov_spectrum_has_rank_below_the_input_size():
    # 6 input values: each Jacobian is centred over them, so the correlation matrix of a
    # batch of 10 has rank at most 5 and at least 10 - 6 + 1 = 5 eigenvalues at zero
    model = _dense_model()
    x = np.random.default_rng(2).normal(size=(10, 6)).astype("float32")
    lam = P.jacob_cov_spectrum(model, x)
    assert lam.shape == (10,) and np.all(np.diff(lam) >= -1e-12)
    assert np.sum(np.abs(lam) < 1e-8) >= 5
    expected = -np.sum(np.log(lam + 1e-5) + 1 / (lam + 1e-5))
    assert P.jacob_cov(model, x) == pytest.approx(expected, rel=1e-6)
    small = P.jacob_cov_spectrum(model, x[:4])       # fewer examples than input values
    assert np.sum(np.abs(small) < 1e-8) == 0
