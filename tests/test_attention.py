"""The attention block: weights computed as defined (checked in NumPy), maps shaped and
normalised for drawing, interventions reproduce the model, and .keras save/load."""
import numpy as np
import pytest

import nasbook as nb

keras = pytest.importorskip("keras")
from nasbook.attention import (SpatialAttention, attention_cnn, attention_map,  # noqa: E402
                               logits_with_attention)


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("shape", [(10, 3), (4, 6, 3)])
def test_weights_and_outputs_match_numpy(shape):
    rng = np.random.default_rng(0)
    h = rng.normal(size=(2,) + shape).astype("float32")
    pool = SpatialAttention(kernel_size=1, normalize="softmax", mode="pool")
    out = np.asarray(pool(h))
    kernel, bias = (np.asarray(v) for v in pool.score.get_weights())
    scores = h.reshape(2, -1, 3) @ kernel.reshape(3) + bias[0]     # 1x1 conv = dot product
    a = _softmax(scores)
    np.testing.assert_allclose(np.asarray(pool.attention_weights(h)).reshape(2, -1), a,
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out, np.einsum("np,npc->nc", a, h.reshape(2, -1, 3)),
                               rtol=1e-5, atol=1e-6)
    gate = SpatialAttention(kernel_size=3, normalize="sigmoid", mode="gate")
    g_out = np.asarray(gate(h))
    g = np.asarray(gate.attention_weights(h))
    assert g_out.shape == h.shape and g.shape == (2,) + shape[:-1]
    assert np.all((g > 0) & (g < 1))
    np.testing.assert_allclose(g_out, h * g[..., None], rtol=1e-5, atol=1e-6)


def test_uniform_softmax_gate_is_the_identity_and_uniform_pool_is_the_mean():
    h = np.random.default_rng(1).normal(size=(2, 5, 5, 4)).astype("float32")
    layer = SpatialAttention(normalize="softmax", mode="gate")
    layer.build(h.shape)
    uniform = np.full((2, 5, 5), 1 / 25, dtype="float32")
    np.testing.assert_allclose(np.asarray(layer.apply_weights(h, uniform)), h, rtol=1e-5)
    pool = SpatialAttention(mode="pool")
    pool.build(h.shape)
    np.testing.assert_allclose(np.asarray(pool.apply_weights(h, uniform)), h.mean(axis=(1, 2)),
                               rtol=1e-5, atol=1e-6)


def test_bad_arguments():
    with pytest.raises(ValueError, match="normalize"):
        SpatialAttention(normalize="relu")
    with pytest.raises(ValueError, match="mode"):
        SpatialAttention(mode="sum")


@pytest.fixture(scope="module", params=["mnist1d", "digits"])
def trained(request):
    ds = nb.load_dataset(request.param).subset(n_train=400, n_val=50, n_test=50)
    model = attention_cnn(ds.input_shape, ds.num_classes, filters=(8, 16), dense=32)
    nb.models.train(model, ds, epochs=2)
    return model, ds


def test_maps_are_shaped_for_the_input_and_sum_to_one(trained):
    model, ds = trained
    x = ds.x_test[:6]
    maps = attention_map(model, x)
    raw = attention_map(model, x, upsample=False)
    spatial = ds.input_shape[:-1]
    assert maps.shape == (6,) + spatial
    assert raw.shape == (6,) + tuple(s // 2 for s in spatial)   # one 2x pooling before it
    np.testing.assert_allclose(raw.reshape(6, -1).sum(1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(maps.reshape(6, -1).sum(1), 1.0, rtol=1e-5)
    # nearest-neighbour upsampling: each input position carries its feature position's weight
    first = maps[(slice(None),) + tuple(slice(0, None, 2) for _ in spatial)]
    np.testing.assert_allclose(first * 2 ** len(spatial), raw, rtol=1e-6)


def test_intervention_with_the_models_own_weights_reproduces_its_logits(trained):
    model, ds = trained
    x = ds.x_test[:5]
    raw = attention_map(model, x, upsample=False)
    np.testing.assert_allclose(logits_with_attention(model, x, raw), np.asarray(model(x)),
                               rtol=1e-5, atol=1e-5)
    uniform = np.full_like(raw, 1.0 / raw[0].size)
    assert not np.allclose(logits_with_attention(model, x, uniform), np.asarray(model(x)))


def test_saves_and_loads_as_keras(trained, tmp_path):
    model, ds = trained
    path = tmp_path / "attention.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    x = ds.x_test[:4]
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), rtol=1e-6)
    np.testing.assert_allclose(attention_map(loaded, x), attention_map(model, x), rtol=1e-6)
    layer = loaded.get_layer("attention")
    assert isinstance(layer, SpatialAttention)
    assert (layer.kernel_size, layer.normalize, layer.mode) == (3, "softmax", "pool")
