"""SHAP wrappers: exact values on a linear model, additivity on a trained one, the
DeepExplainer guard (a later fit() still works), and the adapters for shap's plots."""
import warnings

import numpy as np
import pytest

import nasbook as nb
from nasbook.explain import shap_tools as st

keras = pytest.importorskip("keras")


def _linear_model(input_shape, classes=3, seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=input_shape)
    outputs = keras.layers.Dense(classes)(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(int(np.prod(input_shape)), classes)).astype("float32")
    b = rng.normal(size=classes).astype("float32")
    model.layers[-1].set_weights([w, b])
    return model, w


@pytest.fixture(scope="module")
def digits():
    return nb.load_dataset("digits").subset(n_train=500, n_val=100, n_test=50)


@pytest.fixture(scope="module")
def trained(digits):
    model = nb.models.small_mlp(digits.input_shape, digits.num_classes, units=(32,))
    model.optimizer.learning_rate.assign(3e-3)
    history = nb.models.train(model, digits, epochs=12)
    assert history.history["val_accuracy"][-1] > 0.8  # a trained model, not a random one
    return model


def _gelu_model(input_shape, classes=10, seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=input_shape)
    h = keras.layers.Dense(16, activation="gelu", name="gelu_dense")(
        keras.layers.Flatten()(inputs))
    h = keras.layers.LayerNormalization(name="norm")(h)
    return nb.models.compile_classifier(keras.Model(inputs, keras.layers.Dense(classes)(h)))


@pytest.mark.parametrize("shape", [(4, 4, 1), (12, 1)])
def test_linear_model_values_are_the_closed_form(shape):
    # For f(x) = w.x + b, Shapley values are w_i (x_i - reference_i): DeepExplainer with a
    # background averages over it; the partition explainer's reference is the fill value.
    model, w = _linear_model(shape)
    rng = np.random.default_rng(1)
    x = rng.random((3,) + shape).astype("float32")
    bg = rng.random((20,) + shape).astype("float32")
    flat = x.reshape(3, -1)
    res = st.explain_shap(model, x, bg, method="deep", target="all")
    assert res.method == "deep" and res.values.shape == (3,) + shape + (3,)
    expected = (flat - bg.reshape(20, -1).mean(0))[:, :, None] * w[None]
    np.testing.assert_allclose(res.values.reshape(3, -1, 3), expected, atol=1e-5)
    res = st.explain_shap(model, x, method="partition", target=[0, 1, 2], fill=0.2,
                          max_evals=200)
    expected = (flat - 0.2) * w.T[[0, 1, 2]]
    np.testing.assert_allclose(res.values.reshape(3, -1), expected, atol=1e-5)


def test_additivity_on_a_trained_model(trained, digits):
    x, bg = digits.x_test[:4], digits.x_train[:60]
    deep = st.explain_shap(trained, x, bg, method="deep")
    check = st.additivity(deep, tolerance=1e-3)
    assert check.ok, check
    # predicted class by default; outputs are the model's logits for that class
    logits = np.asarray(trained(x))
    np.testing.assert_array_equal(deep.classes[:, 0], logits.argmax(1))
    np.testing.assert_allclose(deep.outputs[:, 0], logits.max(1), rtol=1e-5)
    np.testing.assert_allclose(deep.base_values[:, 0],
                               np.asarray(trained(bg)).mean(0)[deep.classes[:, 0]], rtol=1e-4)
    part = st.explain_shap(trained, x, method="partition", max_evals=300)
    assert st.additivity(part, tolerance=1e-4).ok
    # expected gradients are additive only in expectation: a few percent with 200 samples
    grad = st.explain_shap(trained, x, bg, method="gradient", nsamples=200)
    check = st.additivity(grad, tolerance=0.15)
    assert check.ok, check
    assert check.relative_gap > 1e-4  # ... and not exactly, unlike deep and partition


def test_additivity_reports_a_broken_explanation(trained, digits):
    res = st.explain_shap(trained, digits.x_test[:2], digits.x_train[:10], method="deep")
    res.values = res.values * 0.5
    check = st.additivity(res)
    assert not check.ok and "FAILS" in repr(check)


def test_layer_check_names_unsupported_layers(trained):
    assert st.deep_unsupported_layers(trained) == []
    bad = st.deep_unsupported_layers(_gelu_model((8, 8, 1)))
    assert any("gelu_dense" in b and "gelu" in b for b in bad)
    assert any("norm (LayerNormalization)" == b for b in bad)


def _fresh_fit_works(digits):
    model = nb.models.small_mlp(digits.input_shape, digits.num_classes, units=(8,), seed=3)
    history = model.fit(digits.x_train[:64], digits.y_train[:64], epochs=1, verbose=0)
    return np.isfinite(history.history["loss"][0])


def test_deep_guard_falls_back_and_fit_still_works(digits):
    from tensorflow.python.eager import backprop
    from tensorflow.python.eager import execute as tf_execute

    model = _gelu_model(digits.input_shape)
    x, bg = digits.x_test[:2], digits.x_train[:20]
    with pytest.warns(UserWarning, match="GradientExplainer instead"):
        res = st.explain_shap(model, x, bg, method="deep", nsamples=8)
    assert res.method == "gradient"
    # Force DeepExplainer through the unsupported layers: it really fails inside shap ...
    with pytest.warns(UserWarning, match="DeepExplainer failed"):
        res = st.explain_shap(model, x, bg, method="deep", check_layers=False, nsamples=8)
    assert res.method == "gradient" and res.values.shape == x.shape + (1,)
    # ... and TensorFlow's gradient recording is as it was, so a fresh fit() trains.
    assert tf_execute.record_gradient is backprop.record_gradient
    assert _fresh_fit_works(digits)


def test_raw_shap_failure_breaks_recording_unless_restored(digits):
    import shap
    from tensorflow.python.eager import backprop
    from tensorflow.python.eager import execute as tf_execute

    model = _gelu_model(digits.input_shape)
    with st.tf_gradient_state():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            explainer = shap.DeepExplainer(model, digits.x_train[:10])
            with pytest.raises(Exception, match="shap_"):
                explainer.shap_values(digits.x_test[:1])
        # the state shap leaves behind: every op would be recorded as "shap_<Op>"
        assert tf_execute.record_gradient is not backprop.record_gradient
    assert tf_execute.record_gradient is backprop.record_gradient
    assert _fresh_fit_works(digits)


def test_targets_and_plot_adapters(trained, digits):
    x, bg = digits.x_test[:3], digits.x_train[:20]
    every = st.explain_shap(trained, x, bg, method="deep", target="all")
    assert every.values.shape == x.shape + (10,)
    one = st.explain_shap(trained, x, bg, method="deep", target=[1, 2, 3])
    np.testing.assert_allclose(one.values[..., 0],
                               every.values[np.arange(3), ..., [1, 2, 3]], atol=1e-6)
    kwargs = st.to_image_plot(every, class_names=digits.class_names)
    assert len(kwargs["shap_values"]) == 10 and kwargs["labels"].shape == (3, 10)
    assert kwargs["shap_values"][0].shape == x.shape
    exp = st.to_explanation(one)
    assert exp.values.shape == (3, 64) and exp.base_values.shape == (3,)
    assert exp.feature_names[9] == "(1,1)"
    with pytest.raises(ValueError, match="one class per example"):
        st.explain_shap(trained, x, bg, target=[1, 2])
    with pytest.raises(ValueError, match="background"):
        st.explain_shap(trained, x, method="gradient")
    with pytest.raises(ValueError, match="unknown SHAP method"):
        st.explain_shap(trained, x, bg, method="kernel")
