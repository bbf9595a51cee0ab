"""The shared pieces of the architecture pass: one confidence interval, one set of labels, one
trials format, one architecture identity, one target resolution."""
import keras
import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

import nasbook as nb
from nasbook import labels, logits, trials
from nasbook.explain import search as xs
from nasbook.space.identity import architecture_key
from nasbook.stats import grouped_mean_ci, mean_ci


def test_mean_ci_is_scipys_student_t_interval():
    values = np.array([0.61, 0.64, 0.59, 0.70, np.nan])
    mean, half = mean_ci(values, level=0.9)
    low, high = scipy_stats.t.interval(0.9, 3, loc=np.nanmean(values),
                                       scale=scipy_stats.sem(values[:4]))
    assert mean == pytest.approx(np.nanmean(values))
    assert (mean - half, mean + half) == pytest.approx((low, high))
    assert np.isnan(mean_ci([0.5])[1]) and np.isnan(mean_ci([])[0])
    frame = pd.DataFrame({"g": ["a"] * 4 + ["b"] * 3, "v": [1, 2, 3, 5, 2, 2, 5]})
    table = grouped_mean_ci(frame.groupby("g")["v"], 0.95)
    for g, rows in frame.groupby("g"):
        m, h = mean_ci(rows["v"], 0.95)
        assert table.loc[g, "mean"] == pytest.approx(m)
        assert table.loc[g, "half_width"] == pytest.approx(h)


def test_labels():
    assert labels.same(32.0, 32) and labels.same(None, float("nan"))
    assert not labels.same(None, 0) and labels.same("3", 3)
    assert labels.text(None) == labels.NOT_BUILT == "not built" and labels.text(16.0) == "16"
    assert labels.metric_label("val_accuracy") == "validation accuracy"
    assert xs.NOT_BUILT is labels.NOT_BUILT


def test_simulated_and_benchmark_trials_carry_the_format():
    table = nb.bench.load()
    history = nb.bench.simulate("random", 20, seed=0, table=table)
    for frame in (table, history, history[history.val_accuracy > 0]):
        assert frame.attrs["decisions"] == list(nb.bench.DECISIONS)
        assert frame.attrs["domains"]["activation"] == list(nb.bench.DECISIONS["activation"])
        assert (frame.attrs["objective"], frame.attrs["direction"]) == ("val_accuracy", "max")
    assert trials.decision_columns(history) == list(nb.bench.DECISIONS)


def test_explain_reads_the_direction_from_the_format_and_never_from_the_name():
    frame = pd.DataFrame({"kernel": [3, 5, 7, 3, 5], "units": [8, 8, 16, 16, 32],
                          "val_loss": [0.9, 0.2, 0.5, 0.7, 0.4]})
    plain = xs.prepare(frame, objective="val_loss")
    assert plain.attrs["direction"] == "max"       # the documented default, not a guess
    tagged = trials.tag(frame.copy(), decisions=["kernel", "units"],
                        domains={"kernel": [3, 5, 7], "units": [8, 16, 32]},
                        objective="val_loss", direction="min")
    prepared = xs.prepare(tagged)
    assert prepared.attrs["direction"] == "min" and prepared.attrs["objective"] == "val_loss"
    assert xs.winner_vs_runners_up(tagged, k=2).attrs["winner_score"] == pytest.approx(0.2)


def test_benchmark_curves_of_one_architecture():
    table = nb.bench.load()
    config = table.iloc[0][list(nb.bench.DECISIONS)].to_dict()
    curves = nb.bench.architecture_curves(table, config)
    columns = nb.bench.curve_columns(table)
    rows = table[(table[list(config)] == pd.Series(config)).all(axis=1)]
    assert len(curves) == len(rows) == table.seed.nunique()
    np.testing.assert_array_equal(np.vstack(curves), rows[columns].to_numpy(float))


def test_one_architecture_identity():
    space = nb.space.preset("mlp", (40, 1), 10, n_dense=[1, 2], units=[8, 16])
    values = space.sample_values(np.random.default_rng(0))
    assert space.architecture_key(values) == architecture_key(space.active_values(values))
    oracle = nb.strategies.get("evolution", objective="val_accuracy", max_trials=3, seed=0)
    assert oracle.key({"b": 2, "a": 1}) == architecture_key({"a": 1, "b": 2}) == "a=1|b=2"


def test_targets_from_given_logits_need_no_second_pass():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4)])
    x = np.random.default_rng(0).normal(size=(7, 6)).astype("float32")
    out = logits.predict_logits(model, x, batch_size=3)
    np.testing.assert_allclose(out, model(x).numpy(), rtol=1e-5, atol=1e-6)
    for target in (None, 2, [0, 1, 2, 3, 0, 1, 2], "all"):
        np.testing.assert_array_equal(logits.resolve_targets(model, x, target),
                                      logits.resolve_targets(model, x, target, logits=out))
    assert logits.resolve_targets(model, x, "all").shape == (4, 7)
    np.testing.assert_array_equal(logits.predict_classes(model, x), out.argmax(1))
