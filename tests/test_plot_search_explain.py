"""Figures and the trial browser that explain a search draw what they are given (numbers and
counts checked, not pixels): hand-made tables of the documented shapes, a simulated search on
the shipped benchmark, and one tiny real search for the learning curves of a SearchResult.
"""
import matplotlib

matplotlib.use("Agg")

import keras_tuner  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402

import nasbook as nb  # noqa: E402
from nasbook.explain import search as xs  # noqa: E402


def importance_table(r2=0.83):
    imp = pd.DataFrame({"fanova": [0.5, 0.3, 0.2], "ped_anova": [0.2, 0.5, 0.3],
                        "shap": [0.6, 0.3, 0.1]},
                       index=pd.Index(["kernel", "filters", "activation"], name="decision"))
    imp.attrs.update(n_trials=100, surrogate_r2=r2)
    return imp


def test_importance_bars_beside_the_truth_in_its_order():
    truth = pd.Series({"kernel": 0.1, "filters": 0.2, "activation": 0.6, "connection": 0.1})
    fig = nb.plot.importance_bars(importance_table(), truth)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["activation", "filters", "kernel",
                                                             "connection"]
    assert len(ax.patches) == 3 * 3 + 4        # connection was not searched: truth bar only
    hatched = [p for p in ax.patches if p.get_hatch() == "///"]
    assert [p.get_width() for p in sorted(hatched, key=lambda p: p.get_y())] == \
        [0.6, 0.2, 0.1, 0.1]
    fanova = sorted(ax.containers[0], key=lambda p: p.get_y())
    assert [p.get_width() for p in fanova] == [0.2, 0.3, 0.5]
    assert "R² = 0.83" in ax.get_title() and "100 trials" in ax.get_title()
    assert [t.get_text() for t in ax.get_legend().get_texts()][-1].startswith("ground truth")


def test_importance_bars_without_truth_follow_the_first_method():
    ax = nb.plot.importance_bars(importance_table(r2=np.nan)).axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["kernel", "filters", "activation"]
    assert len(ax.patches) == 9 and not any(p.get_hatch() for p in ax.patches)
    assert "R² unavailable" in ax.get_title()
    with pytest.raises(ValueError, match="no method column"):
        nb.plot.importance_bars(pd.DataFrame(index=["a"]))


def effects_table():
    rows = []
    for d, values in {"kernel": [3, 5, 7], "activation": ["relu", "tanh"],
                      "units": [8, 16, None]}.items():
        for i, v in enumerate(values):
            rows.append({"decision": d, "value": v, "pd_mean": 0.5 + 0.1 * i,
                         "pd_low": 0.4 + 0.1 * i, "pd_high": 0.7 + 0.1 * i,
                         "observed_mean": 0.55 + 0.1 * i, "observed_std": 0.05 if i else np.nan,
                         "n": 10 + i})
    return pd.DataFrame(rows)


def test_effect_plot_one_panel_per_decision_with_band_and_counts():
    fig = nb.plot.effect_plot(effects_table(), cols=2)
    assert [ax.get_title() for ax in fig.axes] == ["kernel", "activation", "units"]
    units = fig.axes[2]
    pd_line, observed = units.containers[0], units.containers[1]
    assert np.allclose(pd_line.lines[0].get_ydata(), [0.5, 0.6, 0.7])
    low, high = pd_line.lines[2][0].get_segments()[0][:, 1]
    assert np.isclose(low, 0.4) and np.isclose(high, 0.7)      # pd_low..pd_high of value 8
    assert np.allclose(observed.lines[0].get_ydata(), [0.55, 0.65, 0.75])
    assert [t.get_text() for t in units.get_xticklabels()] == ["8\nn=10", "16\nn=11",
                                                               "not built\nn=12"]
    assert fig.axes[0].get_ylabel() == "validation accuracy"
    assert len(nb.plot.effect_plot(effects_table(), decisions=["units"]).axes) == 1
    with pytest.raises(ValueError, match="no marginal effects for"):
        nb.plot.effect_plot(effects_table(), decisions=["depth"])


def test_interaction_bars_strongest_on_top():
    inter = pd.DataFrame({"pair": ["a × c", "a × b"], "a": ["a", "a"], "b": ["c", "b"],
                          "strength": [0.05, 0.1]})
    ax = nb.plot.interaction_bars(inter).axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a × b", "a × c"]
    assert [p.get_width() for p in sorted(ax.patches, key=lambda p: p.get_y())] == [0.1, 0.05]


def prepared(direction="max"):
    trials = pd.DataFrame({"kernel": [3, 5, 7, 3, 5], "units": [None, 8, 16, 8, None],
                           "score": [0.2, 0.9, 0.5, 0.7, 0.1], "n_runs": 1},
                          index=pd.Index(list("abcde"), name="architecture"))
    trials["units"] = trials["units"].astype(object).where(trials["units"].notna(), None)
    trials.attrs.update(decisions=["kernel", "units"],
                        domains={"kernel": [3, 5, 7], "units": [8, 16]},
                        objective="val_accuracy" if direction == "max" else "val_loss",
                        direction=direction)
    return trials


@pytest.mark.parametrize("direction", ["max", "min"])
def test_parallel_trials_best_on_top_and_not_built_at_the_bottom(direction):
    fig = nb.plot.parallel_trials(prepared(direction))
    ax = fig.axes[0]
    lines = [c for c in ax.collections if isinstance(c, LineCollection)][0]
    segments = lines.get_segments()
    assert len(segments) == 5 and len(fig.axes) == 2          # and a colour bar
    best = 0.9 if direction == "max" else 0.1
    assert lines.get_array()[-1] == best                      # drawn last, so on top
    units = {round(float(s), 2): seg[1, 1] for s, seg in zip(lines.get_array(), segments)}
    assert units[0.2] == units[0.1] == 0.0                    # None: "not built", bottom
    assert units[0.9] == units[0.7] == 0.5 and units[0.5] == 1.0
    texts = [t.get_text() for t in ax.texts]
    assert "not built" in texts and "16" in texts
    assert [t.get_text() for t in ax.get_xticklabels()][:2] == ["kernel", "units"]
    top = nb.plot.parallel_trials(prepared(direction), top=2).axes[0].collections[0]
    kept = sorted(prepared(direction)["score"], reverse=direction == "max")[:2]
    assert sorted(top.get_array()) == sorted(kept)


# -- on real outputs --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def table():
    return nb.bench.load()


@pytest.fixture(scope="module")
def history(table):
    return nb.bench.simulate("random", 100, seed=0, table=table)


def test_importance_of_a_simulated_search_beside_the_benchmark_truth(history, table):
    truth = nb.explain.main_effects(table)
    imp = xs.importance(history)
    ax = nb.plot.importance_bars(imp, truth).axes[0]
    assert len(ax.patches) == 4 * len(truth)
    assert [t.get_text() for t in ax.get_yticklabels()] == list(
        truth.sort_values(ascending=False).index)
    assert f"R² = {imp.attrs['surrogate_r2']:.2f}" in ax.get_title()
    lines = nb.plot.parallel_trials(xs.prepare(history), top=30).axes[0].collections[0]
    assert len(lines.get_segments()) == 30


def test_trial_browser_on_a_simulated_search(history, table):
    browser = nb.widgets.trial_browser(history, table=table)
    ranked = browser.ranked
    assert list(ranked["rank"]) == list(range(1, len(ranked) + 1))
    assert ranked["score"].is_monotonic_decreasing
    assert browser.selected == browser.winner and "this is the winner" in browser.info.value
    first_html, first_png = browser.info.value, browser.image.value
    assert first_png[:4] == b"\x89PNG"

    browser.select(rank=5)
    row, best = ranked.iloc[4], ranked.iloc[0]
    assert browser.info.value != first_html and browser.image.value != first_png
    assert "rank 5 of" in browser.info.value and f"{row['score'] - best['score']:+.4f}" in \
        browser.info.value
    comparison = browser.comparison()
    expected = [str(row[d]) != str(best[d]) for d in browser.decisions]
    assert list(comparison["differs"]) == expected
    assert browser.info.value.count("background:#ffe08a") == sum(expected)

    runs = browser.curves()                   # this architecture's two seeds, 15 epochs each
    match = table
    for d in browser.decisions:
        match = match[match[d] == row[d]]
    assert len(runs) == 2 and np.allclose(runs[0], match.filter(like="val_accuracy_e").iloc[0])

    browser.order.value = "worst first"       # the list turns round, the selection stays
    assert browser.trial.options[0][1] == ranked.index[-1]
    assert browser.selected == ranked.index[4]
    browser.trial.value = ranked.index[-1]
    assert f"rank {len(ranked)} of" in browser.info.value

    bare = nb.widgets.trial_browser(history)   # no table: no curves, and it says so
    assert bare.image.layout.display == "none" and "table=nb.bench.load()" in bare.info.value
    with pytest.raises(ValueError, match="rank must be between"):
        bare.select(rank=0)


def two_widths():
    """An MLP space whose only varying decision is the width of its one hidden layer."""
    return nb.space.preset("mlp", (40, 1), 10, n_dense=[1], units=[4, 64],
                           activation=["relu"], dropout=[0.0], l2=[0.0], optimizer=["adam"],
                           learning_rate=[0.01])


def test_trial_browser_on_a_real_search_minimising_loss(tmp_path):
    ds = nb.load_dataset("mnist1d", seed=0).subset(n_train=200, n_val=100, seed=0)
    oracle = keras_tuner.oracles.GridSearchOracle(
        objective=keras_tuner.Objective("val_loss", "min"), max_trials=2)
    result = nb.search(ds, two_widths(), oracle, objective="val_loss", max_trials=2, epochs=2,
                       early_stopping_patience=None, run_dir=tmp_path / "run", progress=False)
    browser = nb.widgets.trial_browser(result)
    assert browser.direction == "min" and browser.ranked["score"].is_monotonic_increasing
    winner_trial = result.best_trial
    assert np.allclose(browser.curves(browser.winner)[0],
                       result.curves(winner_trial)["val_loss"])
    png = browser.image.value
    browser.select(rank=2)
    assert browser.comparison()["differs"].tolist() == [True]
    assert browser.image.value != png
    ax = browser.figure().axes[0]
    assert len(ax.lines) == 2 and ax.get_ylabel() == "validation loss"
