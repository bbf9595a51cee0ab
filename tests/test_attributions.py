"""Attribution methods: shapes, targets, errors, and numbers checked against references
(finite differences, a linear model's closed form, CAM for a GAP network, brute-force
occlusion, integrated gradients' completeness)."""
import keras
import numpy as np
import pytest

import nasbook as nb
from nasbook.explain import attributions as A

METHODS = list(A.available_methods())


def _trained(name, epochs, batch_size):
    """nasbook's small CNN, trained briefly (validated once, at the end, to save time)."""
    ds = nb.load_dataset(name)
    model = nb.models.small_cnn(ds.input_shape, ds.num_classes)
    nb.models.compile_classifier(model, learning_rate=1e-2)
    keras.utils.set_random_seed(0)
    history = model.fit(ds.x_train, ds.y_train, validation_data=(ds.x_val, ds.y_val),
                        validation_freq=epochs, epochs=epochs, batch_size=batch_size, verbose=0)
    return ds, model, history.history["val_accuracy"][-1]


@pytest.fixture(scope="module")
def digits(digits_cnn):
    return digits_cnn  # trained once per session (conftest.py), asserted > 0.85 there


@pytest.fixture(scope="module")
def mnist1d():
    ds, model, acc = _trained("mnist1d", epochs=6, batch_size=64)
    assert acc > 0.75, f"mnist1d CNN reached only {acc:.2f} validation accuracy"
    return ds, model


@pytest.fixture(params=["digits", "mnist1d"])
def trained(request, digits, mnist1d):
    return {"digits": digits, "mnist1d": mnist1d}[request.param]


def test_available_methods_lists_the_issue_methods():
    assert set(METHODS) == {"saliency", "input_x_gradient", "integrated_gradients", "smoothgrad",
                            "vargrad", "grad_cam", "occlusion"}
    assert all(isinstance(d, str) and d for d in A.available_methods().values())
    assert "attribute" in nb.explain.__all__ and nb.explain.attribute is A.attribute


@pytest.mark.parametrize("method", METHODS)
def test_shapes_and_targets_1d_and_2d(trained, method):
    ds, model = trained
    x = ds.x_test[:5]
    options = {"steps": 8} if method == "integrated_gradients" else {}
    if method in ("smoothgrad", "vargrad"):
        options = {"n_samples": 4}
    pred = model.predict(x, verbose=0).argmax(1)

    default = A.attribute(model, x, method=method, **options)
    assert default.shape == x.shape and default.dtype == np.float32
    assert np.isfinite(default).all() and np.abs(default).sum() > 0

    every = A.attribute(model, x, method=method, target="all", **options)
    assert every.shape == (ds.num_classes, *x.shape)
    # the default target is the predicted class; target="all" holds it at that class's row
    np.testing.assert_allclose(every[pred, np.arange(len(x))], default, rtol=1e-4, atol=1e-5)
    per_example = A.attribute(model, x, method=method, target=np.arange(5) % 3, **options)
    np.testing.assert_allclose(per_example, every[np.arange(5) % 3, np.arange(5)],
                               rtol=1e-4, atol=1e-5)
    fixed = A.attribute(model, x, method=method, target=7, **options)
    np.testing.assert_allclose(fixed, every[7], rtol=1e-4, atol=1e-5)
    assert not np.allclose(every[0], every[1])  # classes really differ

    one = A.attribute(model, x[0], method=method, target="all", **options)
    assert one.shape == (ds.num_classes, *x.shape[1:])


def test_saliency_matches_finite_differences(mnist1d):
    """Central differences on mnist1d (continuous inputs: no max-pool ties as on digits'
    exact-zero background, where the gradient is one of two one-sided slopes)."""
    ds, model = mnist1d
    x = ds.x_test[:1].astype(np.float64)
    target = int(model.predict(x, verbose=0).argmax())
    grad = A.attribute(model, x, method="saliency", absolute=False, target=target)[0, :, 0]
    h = 1e-3
    bumped = np.repeat(x, 2 * 40, axis=0)
    for i in range(40):
        bumped[2 * i, i, 0] += h
        bumped[2 * i + 1, i, 0] -= h
    logits = model.predict(bumped.astype(np.float32), verbose=0)[:, target]
    numeric = (logits[0::2] - logits[1::2]) / (2 * h)
    close = np.abs(grad - numeric) <= 2e-2 * np.abs(grad).max()
    # a ReLU switching within +-h of x can spoil a difference quotient, rarely
    assert close.mean() >= 0.9, list(zip(grad[~close], numeric[~close]))
    assert np.median(np.abs(grad - numeric)) < 5e-3 * np.abs(grad).max()
    absolute = A.attribute(model, x, method="saliency", target=target)[0, :, 0]
    np.testing.assert_allclose(absolute, np.abs(grad))


def test_input_x_gradient_and_noise_free_smoothgrad_are_the_gradient(mnist1d):
    ds, model = mnist1d
    x = ds.x_test[:4]
    grad = A.attribute(model, x, method="saliency", absolute=False)
    np.testing.assert_allclose(A.attribute(model, x, method="input_x_gradient"), x * grad,
                               rtol=1e-5, atol=1e-6)
    smooth = A.attribute(model, x, method="smoothgrad", noise_level=0.0, n_samples=3)
    np.testing.assert_allclose(smooth, grad, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(A.attribute(model, x, method="vargrad", noise_level=0.0,
                                           n_samples=3), 0.0, atol=1e-10)
    noisy = A.attribute(model, x, method="vargrad", noise_level=0.2, n_samples=8)
    assert (noisy >= 0).all() and noisy.max() > 0


def test_integrated_gradients_of_a_linear_model_is_exact():
    keras.utils.set_random_seed(3)
    inputs = keras.Input((6, 1))
    outputs = keras.layers.Dense(4)(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, outputs)
    w = model.layers[-1].get_weights()[0]  # (6, 4)
    x = np.random.default_rng(0).normal(size=(3, 6, 1)).astype(np.float32)
    base = A.make_baseline(x, "uniform", seed=1)
    ig = A.attribute(model, x, method="integrated_gradients", target=2, baseline=base, steps=3)
    np.testing.assert_allclose(ig[..., 0], (x - base)[..., 0] * w[:, 2], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("baseline", ["zeros", "blurred", "uniform"])
def test_integrated_gradients_completeness_within_2_percent_at_64_steps(trained, baseline):
    ds, model = trained
    x = ds.x_test[:100]
    ig = A.attribute(model, x, method="integrated_gradients", steps=64, baseline=baseline)
    report = A.completeness(model, x, ig, baseline=baseline)
    assert list(report.columns[:4]) == ["example", "target", "sum_attr", "f_x"]
    np.testing.assert_allclose(report.delta_f, report.f_x - report.f_baseline, rtol=1e-5,
                               atol=1e-5)
    # over the batch, sum(attr) misses f(x) - f(baseline) by under 2% ...
    aggregate = report.gap.abs().sum() / report.delta_f.abs().sum()
    assert aggregate < 0.02, f"aggregate completeness gap {aggregate:.3%}"
    assert report.relative_gap.mean() < 0.02
    # ... single examples can be off by more at 64 steps (ReLU kinks along the path), and
    # the gap shrinks as the integral is refined
    fine = A.attribute(model, x, method="integrated_gradients", steps=256, baseline=baseline)
    fine_report = A.completeness(model, x, fine, baseline=baseline)
    assert fine_report.gap.abs().sum() < report.gap.abs().sum()
    assert fine_report.relative_gap.quantile(0.9) < 0.02


def test_completeness_for_every_class_and_a_single_example(digits):
    ds, model = digits
    x = ds.x_test[:3]
    ig = A.attribute(model, x, method="ig", target="all", steps=64)
    report = A.completeness(model, x, ig, target="all")
    assert len(report) == 3 * ds.num_classes
    assert report.gap.abs().sum() / report.delta_f.abs().sum() < 0.05
    one = A.attribute(model, x[0], method="integrated_gradients", steps=64)
    assert len(A.completeness(model, x[0], one)) == 1
    with pytest.raises(ValueError, match="expected"):
        A.completeness(model, x, ig[0, :2])


def test_grad_cam_equals_cam_for_a_global_average_pooling_network():
    """For conv -> GAP -> linear, Grad-CAM is Zhou et al.'s CAM: relu(sum_k w_kc A_k) / positions."""
    keras.utils.set_random_seed(1)
    inputs = keras.Input((8, 8, 1))
    feats = keras.layers.Conv2D(5, 3, padding="same", activation="relu", name="conv")(inputs)
    logits = keras.layers.Dense(3, name="logits")(keras.layers.GlobalAveragePooling2D()(feats))
    model = keras.Model(inputs, logits)
    x = np.random.default_rng(0).uniform(size=(4, 8, 8, 1)).astype(np.float32)
    maps = keras.Model(inputs, feats).predict(x, verbose=0)  # (4, 8, 8, 5)
    w = model.get_layer("logits").get_weights()[0]  # (5, 3)
    expected = np.maximum(np.einsum("nhwk,kc->cnhw", maps, w) / 64.0, 0)
    got = A.attribute(model, x, method="grad_cam", target="all")
    np.testing.assert_allclose(got[..., 0], expected, rtol=1e-4, atol=1e-6)
    signed = A.attribute(model, x, method="grad_cam", target="all", relu=False)
    assert signed.min() < 0


def test_grad_cam_named_layer_and_upsampling(digits, mnist1d):
    for ds, model in (digits, mnist1d):
        assert A.find_conv_layer(model).name == "conv_2"
        x = ds.x_test[:3]
        first = A.attribute(model, x, method="grad_cam", layer="conv_1")
        last = A.attribute(model, x, method="grad_cam")
        assert first.shape == last.shape == x.shape
        assert not np.allclose(first, last)
        assert (last >= 0).all()


def test_occlusion_matches_brute_force(digits):
    ds, model = digits
    x = ds.x_test[:2]
    fill = 0.5
    got = A.attribute(model, x, method="occlusion", window=1, stride=1, fill=fill, target=4)
    base = model.predict(x, verbose=0)[:, 4]
    covered = np.repeat(x[None], 64, axis=0)  # (pixel, example, 8, 8, 1)
    for p in range(64):
        covered[p, :, p // 8, p % 8, :] = fill
    logits = model.predict(covered.reshape(-1, 8, 8, 1), verbose=0)[:, 4].reshape(64, 2)
    expected = (base[None] - logits).T.reshape(2, 8, 8)
    np.testing.assert_allclose(got[..., 0], expected, rtol=1e-4, atol=1e-5)
    # a 3x3 window moved by 2 covers the whole image; the last window reaches the edge
    wide = A.attribute(model, x, method="occlusion", window=3, stride=2)
    assert wide.shape == x.shape and np.all(np.abs(wide[:, -1]).sum(axis=(1, 2)) > 0)


def test_occlusion_on_signals(mnist1d):
    ds, model = mnist1d
    x = ds.x_test[:2]
    got = A.attribute(model, x, method="occlusion", window=5, stride=5, target=0)
    base = model.predict(x, verbose=0)[:, 0]
    xx = x.copy()
    xx[:, 10:15] = 0.0
    drop = base - model.predict(xx, verbose=0)[:, 0]
    np.testing.assert_allclose(got[:, 10:15, 0], np.repeat(drop[:, None], 5, 1), rtol=1e-4,
                               atol=1e-5)


def test_softmax_models_are_explained_on_their_logits(digits):
    ds, model = digits
    body = [l for l in model.layers[:-1] if not isinstance(l, keras.layers.InputLayer)]
    probs = keras.Sequential([keras.Input(ds.input_shape), *body,
                              keras.layers.Dense(10, activation="softmax", name="probs")])
    probs.layers[-1].set_weights(model.get_layer("logits").get_weights())
    x = ds.x_test[:4]
    for method in ("saliency", "grad_cam", "integrated_gradients"):
        np.testing.assert_allclose(A.attribute(probs, x, method=method),
                                   A.attribute(model, x, method=method), rtol=1e-4, atol=1e-5)
    as_is = A.attribute(probs, x, method="saliency", output="as_is")
    assert not np.allclose(as_is, A.attribute(model, x, method="saliency"))
    # the pre-softmax copy follows later changes of the model's last layer
    kernel, bias = probs.layers[-1].get_weights()
    probs.layers[-1].set_weights([-kernel, bias])
    flipped = keras.Model(model.inputs, keras.layers.Dense(10, name="flipped")(
        model.get_layer("dense").output))
    flipped.get_layer("flipped").set_weights([-kernel, bias])
    np.testing.assert_allclose(A.attribute(probs, x, method="saliency", absolute=False),
                               A.attribute(flipped, x, method="saliency", absolute=False),
                               rtol=1e-4, atol=1e-5)
    separate = keras.Model(model.inputs, keras.layers.Softmax()(model.outputs[0]))
    assert A.logit_model(separate).output_shape == (None, 10)
    np.testing.assert_allclose(A.predict_logits(A.logit_model(separate), x),
                               model.predict(x, verbose=0), rtol=1e-5, atol=1e-5)


def test_baselines():
    x = np.random.default_rng(0).uniform(size=(2, 8, 8, 1)).astype(np.float32)
    assert not A.make_baseline(x, "zeros").any()
    blurred = A.make_baseline(x, "blurred", sigma=1.5)
    assert blurred.shape == x.shape and blurred.std() < x.std()
    np.testing.assert_allclose(blurred.mean(axis=(1, 2, 3)), x.mean(axis=(1, 2, 3)), atol=0.05)
    noise = A.make_baseline(x, "uniform", seed=4)
    np.testing.assert_array_equal(noise, A.make_baseline(x, "uniform", seed=4))
    assert x.min() <= noise.min() and noise.max() <= x.max()
    with pytest.raises(ValueError, match="did you mean 'blurred'"):
        A.make_baseline(x, "blured")


def test_clear_errors(digits):
    ds, model = digits
    x = ds.x_test[:2]
    with pytest.raises(ValueError, match="did you mean 'integrated_gradients'"):
        A.attribute(model, x, method="integrated_gradient")
    with pytest.raises(ValueError, match="out of range"):
        A.attribute(model, x, target=10)
    with pytest.raises(ValueError, match="one class per example"):
        A.attribute(model, x, target=[1, 2, 3])
    with pytest.raises(ValueError, match="not understood"):
        A.attribute(model, x, target="everything")
    with pytest.raises(TypeError, match="does not take option"):
        A.attribute(model, x, method="saliency", steps=10)
    with pytest.raises(ValueError, match="shape"):
        A.attribute(model, x[:, :4], method="saliency")
    with pytest.raises(ValueError, match="steps"):
        A.attribute(model, x, method="integrated_gradients", steps=0)
    with pytest.raises(ValueError, match="window"):
        A.attribute(model, x, method="occlusion", window=9)
    with pytest.raises(ValueError, match="fill"):
        A.attribute(model, x, method="occlusion", fill=np.zeros(3))
    with pytest.raises(ValueError, match="no layer 'conv_3'"):
        A.attribute(model, x, method="grad_cam", layer="conv_3")
    mlp = nb.models.small_mlp(ds.input_shape, ds.num_classes)
    with pytest.raises(ValueError, match="no convolutional layer"):
        A.attribute(mlp, x, method="grad_cam")
