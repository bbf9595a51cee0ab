"""LIME recovers the exact contributions of a linear model and reports its weighted R²;
the tree surrogate reports fidelity = agreement with the network on held-out data."""
import numpy as np
import pytest

import nasbook as nb
from nasbook.explain.lime import explain_lime, grid_segments
from nasbook.explain.surrogate import pixel_feature_names, tree_surrogate

keras = pytest.importorskip("keras")


def _dense_model(input_shape, w, b):
    inputs = keras.Input(shape=input_shape)
    outputs = keras.layers.Dense(w.shape[1])(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, outputs)
    model.layers[-1].set_weights([w.astype("float32"), b.astype("float32")])
    return model


@pytest.fixture(scope="module")
def mnist1d():
    return nb.load_dataset("mnist1d").subset(n_train=600, n_val=100, n_test=200)


@pytest.fixture(scope="module")
def trained(mnist1d):
    model = nb.models.small_cnn(mnist1d.input_shape, mnist1d.num_classes, filters=(8, 16),
                                dense=32)
    model.optimizer.learning_rate.assign(3e-3)
    nb.models.train(model, mnist1d, epochs=6)
    return model


def test_grid_segments():
    seg = grid_segments((8, 8), 2)
    assert seg.shape == (8, 8) and len(np.unique(seg)) == 16
    assert np.all(np.bincount(seg.ravel()) == 4)
    seg = grid_segments((7, 5), 3)           # ragged edges: 3 x 2 blocks
    assert len(np.unique(seg)) == 6 and seg[6, 4] == 5
    np.testing.assert_array_equal(grid_segments((10,), 4), [0, 0, 0, 0, 1, 1, 1, 1, 2, 2])
    with pytest.raises(ValueError, match="positive integer"):
        grid_segments((8, 8), 0)


@pytest.mark.parametrize("shape,size", [((8, 8, 1), 2), ((40, 1), 5)])
def test_lime_recovers_a_linear_model_exactly(shape, size):
    # f(x) = w.x + b with fill 0 is exactly linear in the on/off pattern z:
    # f = b + sum_s z_s * (sum of w_i x_i over segment s), so the ridge must find those sums.
    rng = np.random.default_rng(0)
    d = int(np.prod(shape))
    w, b = rng.normal(size=(d, 3)), rng.normal(size=3)
    model = _dense_model(shape, w, b)
    x = rng.random(shape).astype("float32")
    res = explain_lime(model, x, target=2, segment_size=size, num_samples=300, alpha=1e-8)
    seg = grid_segments(shape[:-1], size).ravel()
    contrib = w[:, 2] * x.ravel()
    expected = np.array([contrib[seg == s].sum() for s in np.unique(seg)])
    np.testing.assert_allclose(res.weights, expected, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(res.intercept, b[2], atol=1e-3)
    assert res.fidelity > 0.9999
    assert res.attribution.shape == shape
    np.testing.assert_allclose(res.attribution.ravel(), expected[seg], rtol=1e-3, atol=1e-3)


def test_lime_fidelity_is_the_weighted_r2(trained, mnist1d):
    x = mnist1d.x_test[0]
    res = explain_lime(trained, x, segment_size=4, num_samples=400, seed=1)
    assert res.target == int(np.argmax(trained(x[None])))
    assert res.attribution.shape == x.shape and res.weights.shape == (10,)
    # independent weighted R² from the returned perturbations and ridge coefficients
    pred = res.masks @ res.weights + res.intercept
    wts = res.sample_weights
    mean = np.average(res.outputs, weights=wts)
    r2 = 1 - np.sum(wts * (res.outputs - pred) ** 2) / np.sum(wts * (res.outputs - mean) ** 2)
    assert res.fidelity == pytest.approx(r2, abs=1e-6)
    assert 0.0 < res.fidelity < 1.0           # a nonlinear model is not perfectly local-linear
    assert res.masks[0].all() and res.sample_weights[0] == pytest.approx(1.0)
    # the first perturbation is x itself: its output is the model's logit for the target
    assert res.outputs[0] == pytest.approx(float(trained(x[None])[0, res.target]), rel=1e-5)


def test_lime_rejects_bad_input(trained, mnist1d):
    with pytest.raises(ValueError, match="one example"):
        explain_lime(trained, mnist1d.x_test[:2])
    with pytest.raises(ValueError, match="segments have shape"):
        explain_lime(trained, mnist1d.x_test[0], segments=np.zeros(39, int))
    with pytest.raises(ValueError, match="too few"):
        explain_lime(trained, mnist1d.x_test[0], segment_size=1, num_samples=50)


def test_surrogate_of_a_threshold_network_is_one_split():
    # The network says class 0 exactly when pixel 13 exceeds 0.5: a depth-1 tree is exact.
    d, k = 16, 13
    w = np.zeros((d, 2))
    w[k] = [20.0, -20.0]
    model = _dense_model((4, 4, 1), w, np.array([-10.0, 10.0]))
    rng = np.random.default_rng(0)
    x_fit = rng.random((2000, 4, 4, 1)).astype("float32")
    x_hold = rng.random((500, 4, 4, 1)).astype("float32")
    sur = tree_surrogate(model, x_fit, x_hold, max_depth=1)
    assert sur.fidelity >= 0.99 and sur.train_fidelity == 1.0
    assert sur.tree.tree_.feature[0] == k
    assert sur.tree.tree_.threshold[0] == pytest.approx(0.5, abs=0.01)
    assert "px[3,1] <= 0.50" in sur.rules


def test_surrogate_fidelity_is_agreement(trained, mnist1d):
    sur = tree_surrogate(trained, mnist1d.x_train, mnist1d.x_test, max_depth=3,
                         y_holdout=mnist1d.y_test, class_names=mnist1d.class_names)
    net = np.asarray(trained(mnist1d.x_test)).argmax(1)
    tree = sur.tree.predict(mnist1d.x_test.reshape(len(mnist1d.x_test), -1))
    assert sur.fidelity == pytest.approx(np.mean(net == tree))
    assert sur.network_accuracy == pytest.approx(np.mean(net == mnist1d.y_test))
    assert sur.tree.get_depth() <= 3 and "x[" in sur.rules
    deeper = tree_surrogate(trained, mnist1d.x_train, mnist1d.x_test, max_depth=None)
    assert deeper.train_fidelity == 1.0 >= sur.train_fidelity  # unlimited: memorises the fit set
    assert pixel_feature_names((40, 1))[:2] == ["x[0]", "x[1]"]
    assert pixel_feature_names((2, 2, 3))[1] == "px[0,0]c1"
    with pytest.raises(ValueError, match="max_depth"):
        tree_surrogate(trained, mnist1d.x_train, mnist1d.x_test, max_depth=0)
