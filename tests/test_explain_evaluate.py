"""Evaluating explanations: deletion/insertion curves and the randomisation sanity check,
on a briefly trained digits CNN; numbers checked against Keras and scipy."""
import numpy as np
import pytest
from scipy.stats import spearmanr

import nasbook as nb
from nasbook.explain import evaluate as E
from nasbook.explain.attributions import attribute, make_baseline


@pytest.fixture(scope="module")
def digits(digits_cnn):
    return digits_cnn  # trained once per session (conftest.py), asserted > 0.85 there


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_curve_end_points_are_the_models_probabilities(digits):
    ds, model = digits
    x = ds.x_test[:20]
    attr = attribute(model, x, method="saliency")
    target = model.predict(x, verbose=0).argmax(1)
    blurred = make_baseline(x, "blurred", sigma=2)
    deletion = E.deletion_curve(model, x, attr, fill=0.3)
    insertion = E.insertion_curve(model, x, attr, fill=blurred, steps=16)
    p_x = _softmax(model.predict(x, verbose=0))[np.arange(20), target]
    p_fill = _softmax(model.predict(np.full_like(x, 0.3), verbose=0))[np.arange(20), target]
    p_blur = _softmax(model.predict(blurred, verbose=0))[np.arange(20), target]
    assert deletion.scores.shape == (20, 65) and insertion.scores.shape == (20, 17)
    np.testing.assert_allclose(deletion.scores[:, 0], p_x, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(deletion.scores[:, -1], p_fill, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(insertion.scores[:, 0], p_blur, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(insertion.scores[:, -1], p_x, rtol=1e-4, atol=1e-6)
    assert deletion.auc == pytest.approx(np.trapezoid(deletion.scores.mean(0),
                                                      np.linspace(0, 1, 65)))
    np.testing.assert_allclose(deletion.auc_per_example.mean(), deletion.auc)


def test_deletion_removes_the_highest_attributions_first(digits):
    """After k steps of one pixel each, exactly the k top-ranked pixels equal the fill."""
    ds, model = digits
    x = ds.x_test[:1]
    attr = np.arange(64, dtype=np.float32).reshape(1, 8, 8, 1)  # pixel 63 most important
    logit = E.deletion_curve(model, x, attr, fill=0.0, score="logit")
    by_hand = []
    for k in (0, 1, 5, 64):
        xx = x.copy().reshape(64)
        xx[64 - k:] = 0.0
        by_hand.append(model.predict(xx.reshape(1, 8, 8, 1), verbose=0)[0])
    t = int(model.predict(x, verbose=0).argmax())
    np.testing.assert_allclose(logit.scores[0, [0, 1, 5, 64]], np.array(by_hand)[:, t],
                               rtol=1e-4, atol=1e-5)


def test_good_methods_beat_a_random_map_on_deletion(digits):
    ds, model = digits
    x = ds.x_test[:200]
    maps = {m: attribute(model, x, method=m) for m in ("saliency", "integrated_gradients",
                                                       "occlusion")}
    results = E.deletion_insertion(model, x, maps, fill=0.0,
                                   insertion_fill=make_baseline(x, "blurred"))
    table = E.auc_table(results)
    assert set(table.index) == {"saliency", "integrated_gradients", "occlusion", "random"}
    for method in maps:
        assert table.loc[method, "deletion_auc"] < table.loc["random", "deletion_auc"] - 0.05
        assert table.loc[method, "insertion_auc"] > table.loc["random", "insertion_auc"]
        assert table.loc[method, "deletion_vs_random"] < 0
    # a second random map (another seed) scores like the first: the baseline is not a fluke
    other = E.deletion_curve(model, x, E.random_attribution(x, seed=9), fill=0.0)
    assert other.auc == pytest.approx(table.loc["random", "deletion_auc"], abs=0.05)


def test_spearman_matches_scipy():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(5, 8, 8, 1))
    b = a + rng.normal(size=a.shape)
    b[0] = np.round(b[0])  # ties
    expected = [spearmanr(a[i].ravel(), b[i].ravel()).statistic for i in range(5)]
    np.testing.assert_allclose(E.spearman(a, b), expected, rtol=1e-10)
    assert np.isnan(E.spearman(np.ones((1, 4)), np.arange(4.0)[None]))[0]


def test_randomised_copy_leaves_the_model_alone(digits):
    ds, model = digits
    before = [w.copy() for w in model.get_weights()]
    clone = E.randomised_copy(model, ["logits", "dense"], seed=1)
    after = model.get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(before, after))
    for layer in model.layers:
        same = all(np.array_equal(a, b) for a, b in
                   zip(layer.get_weights(), clone.get_layer(layer.name).get_weights()))
        kernel_changed = layer.name in ("logits", "dense")
        assert same != kernel_changed, layer.name


def test_randomisation_check_tells_model_maps_from_input_maps(digits):
    ds, model = digits
    x = ds.x_test[:40]
    before = [w.copy() for w in model.get_weights()]
    methods = {"saliency": "saliency", "grad_cam": "grad_cam",
               "input_x_gradient": "input_x_gradient", "input": E.input_map}
    table = E.randomisation_check(model, x, methods, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert list(table[table.method == "saliency"].layer) == [
        "(trained)", "logits", "dense", "conv_2", "conv_1"]  # cascading from the top
    final = table[table.step == table.step.max()].set_index("method")
    assert final.loc["saliency", "spearman"] < 0.4
    assert final.loc["grad_cam", "spearman"] < 0.4
    assert final.loc["input", "spearman"] == pytest.approx(1.0)
    assert final.loc["input", "input_similarity"] == pytest.approx(1.0)
    # input x gradient mirrors the input: it stays put when the model is destroyed
    assert final.loc["input_x_gradient", "spearman"] > 0.7
    assert final.loc["input_x_gradient", "input_similarity"] > 0.7
    summary = E.randomisation_summary(table)
    assert summary.passes.to_dict() == {"saliency": True, "grad_cam": True,
                                        "input_x_gradient": False, "input": False}


def test_the_input_map_passes_deletion_yet_fails_randomisation(digits):
    """The trap the sanity check exists for: deletion alone cannot tell."""
    ds, model = digits
    x = ds.x_test[:100]
    table = E.auc_table(E.deletion_insertion(model, x, {"input": E.input_map(model, x)}))
    assert table.loc["input", "deletion_auc"] < table.loc["random", "deletion_auc"]


def test_clear_errors(digits):
    ds, model = digits
    x = ds.x_test[:3]
    attr = attribute(model, x)
    with pytest.raises(ValueError, match="shaped like x"):
        E.deletion_curve(model, x, attr[:2])
    with pytest.raises(ValueError, match="fill"):
        E.deletion_curve(model, x, attr, fill=np.zeros(5))
    with pytest.raises(ValueError, match="steps"):
        E.insertion_curve(model, x, attr, steps=100)
    with pytest.raises(ValueError, match="score"):
        E.deletion_curve(model, x, attr, score="accuracy")
    with pytest.raises(ValueError, match="no layer"):
        E.randomisation_check(model, x, ["saliency"], layers=["conv_9"])
    with pytest.raises(ValueError, match="random"):
        E.deletion_insertion(model, x, {"random": attr})
    with pytest.raises(TypeError, match="callable"):
        E.randomisation_check(model, x, {"bad": 3})


def test_plots_and_explorer_build_headless(digits):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ds, model = digits
    x = ds.x_test[:3]
    maps = {m: attribute(model, x, method=m) for m in ("saliency", "grad_cam")}
    grid = nb.plot.attribution_grid(x, maps, labels=ds.y_test[:3])
    assert len(grid.axes) == 3 * 3
    curves = nb.plot.deletion_curves(E.deletion_insertion(model, x, maps, steps=8))
    assert [len(ax.lines) for ax in curves.axes] == [3, 3]  # two maps and the random one
    table = E.randomisation_check(model, x, ["saliency", E.input_map], layers=["logits"])
    assert len(nb.plot.sanity_bars(table).axes) == 2
    with pytest.raises(ValueError, match="ONE example"):
        nb.plot.heatmap(plt.gca(), x, maps["saliency"])
    explorer = nb.widgets.explanation_explorer(model, x, ds.y_test[:3], methods=["saliency",
                                                                                 "occlusion"])
    explorer.example.value = 2
    explorer.method.value = "occlusion"
    np.testing.assert_allclose(explorer.attribution(), attribute(model, x[2], method="occlusion"))
    assert len(explorer.figure().axes) == 4  # input, prediction, map, colour bar
    assert explorer.output.value[:4] == b"\x89PNG"   # the panel is drawn into the widget
    plt.close("all")
