"""Hyperband on the table (fidelity and cost in epochs), strategy comparison: regret, its
confidence intervals, evaluations to a top architecture, and their figures."""
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import nasbook as nb
from nasbook.bench.simulate import _cost
from test_bench import synthetic_table

NAMES = list(nb.bench.DECISIONS)


@pytest.fixture(scope="module")
def synthetic():
    return synthetic_table()


def test_hyperband_is_answered_at_its_fidelity_and_pays_only_new_epochs(synthetic):
    table, _ = synthetic
    # one Hyperband iteration, max_epochs 15, factor 3 (by hand, keras-tuner's sizes):
    # bracket 2: 12 trials x 2 epochs, best 4 resumed 2 -> 5, best 2 resumed 5 -> 15;
    # bracket 1: 6 trials x 5 epochs, best 2 resumed 5 -> 15; bracket 0: 4 trials x 15.
    h = nb.bench.simulate("hyperband", 100, seed=3, table=table, hyperband_iterations=1)
    assert len(h) == 30
    assert Counter(zip(h["epochs"], h["cost_epochs"])) == {
        (2, 2): 12, (5, 3): 4, (15, 10): 4, (5, 5): 6, (15, 15): 4}
    assert h["cumulative_epochs"].iloc[-1] == 24 + 12 + 20 + 30 + 20 + 60 == 166
    # each answer is the mean-over-seeds curve at the epoch the trial asked for
    curves = nb.bench.lookup_table(table)
    for row in h.itertuples():
        key = tuple(getattr(row, n) for n in NAMES)
        assert row.val_accuracy == curves.loc[key, f"val_accuracy_e{row.epochs:02d}"]
        assert row.test_accuracy == curves.loc[key, "test_accuracy"]  # full training
    # a resumed trial trains the architecture it continues
    resumed = h[h["cost_epochs"] < h["epochs"]]
    earlier = {tuple(r) for r in h.loc[h["cost_epochs"] == h["epochs"], NAMES].to_numpy()}
    assert all(tuple(r) in earlier for r in resumed[NAMES].to_numpy())


def test_cost_of_one_trial():
    assert _cost({"filters": 16}, 15) == (15, 15)
    assert _cost({"tuner/epochs": 5, "tuner/initial_epoch": 0}, 15) == (5, 5)
    assert _cost({"tuner/epochs": 15, "tuner/initial_epoch": 5, "tuner/trial_id": "03"},
                 15) == (15, 10)


def test_hyperband_needs_curves_and_one_seeds_curve_can_be_used(synthetic):
    table, _ = synthetic
    flat = table[[c for c in table.columns if not c.startswith("val_accuracy_e")]]
    with pytest.raises(ValueError, match="per-epoch"):
        nb.bench.simulate("hyperband", 10, table=flat)
    with pytest.raises(ValueError, match="max_epochs"):
        nb.bench.simulate("hyperband", 10, table=table, max_epochs=20)
    h = nb.bench.simulate("hyperband", 12, seed=0, table=table, run_seed=1)
    seed1 = table[table["seed"] == 1].set_index(NAMES)
    key = tuple(h.loc[0, NAMES])
    assert h.loc[0, "val_accuracy"] == seed1.loc[key, f"val_accuracy_e{h.loc[0, 'epochs']:02d}"]


def test_regret_is_zero_once_the_best_architecture_is_found(synthetic):
    table, best_test = synthetic
    frame = nb.bench.compare(["evolution", "random"], budget=150, seeds=2, table=table,
                             options={"evolution": {"population_size": 10}}, progress=False)
    assert set(frame["strategy"]) == {"evolution", "random"} and set(frame["seed"]) == {0, 1}
    assert np.allclose(frame["regret"], best_test - frame["test_of_best_so_far"])
    assert (frame["regret"] >= 0).all()
    best = nb.bench.top_architectures(table, top=1 / 324).index[0]
    for _, run in frame.groupby(["strategy", "seed"]):
        found = [tuple(r) == best for r in run[NAMES].to_numpy()]
        if any(found):   # additive table: from the best's first evaluation, regret is 0
            first = found.index(True)
            assert (run["regret"].iloc[first:] == 0).all()
            assert (run["regret"].iloc[:first] > 0).all()
    evolution = frame[frame["strategy"] == "evolution"]
    assert (evolution.groupby("seed")["regret"].last() == 0).all()


def test_regret_summary_is_a_t_interval_per_strategy_and_point():
    rng = np.random.default_rng(0)
    rows = []
    for label in ("a", "b"):
        for seed in range(7):
            regret = np.sort(rng.uniform(0, 0.1, 4))[::-1]
            rows += [{"strategy": label, "seed": seed, "budget": 4, "evaluation": i + 1,
                      "epochs": 15, "cumulative_epochs": 15 * (i + 1), "regret": r}
                     for i, r in enumerate(regret)]
    frame = pd.DataFrame(rows)
    summary = nb.bench.regret_summary(frame, at=(2, 4))
    assert summary.shape[0] == 4 and list(summary.index.names) == ["strategy", "evaluation"]
    assert {"runs", "n", "mean", "half_width", "low", "high"} <= set(summary.columns)
    values = frame[(frame.strategy == "b") & (frame.evaluation == 4)]["regret"]
    low, high = stats.t.interval(0.95, len(values) - 1, loc=values.mean(), scale=stats.sem(values))
    assert summary.loc[("b", 4), ["low", "high"]].tolist() == pytest.approx([low, high])
    assert summary.loc[("b", 4), "n"] == 7
    cost = nb.bench.regret_summary(frame, at=(30, 60), x="cumulative_epochs")
    assert cost["mean"].tolist() == pytest.approx(summary["mean"].tolist())


def test_regret_on_grid_carries_a_finished_run_forward_but_not_a_cut_off_one():
    rows = [{"strategy": "s", "seed": seed, "budget": budget, "evaluation": i,
             "epochs": 15, "cumulative_epochs": 15 * i, "regret": 0.1 / i}
            for seed, budget in ((0, 3), (1, 10)) for i in (1, 2, 3)]
    grid = nb.bench.regret_on_grid(pd.DataFrame(rows), "cumulative_epochs", grid=[10, 15, 50, 60])
    cut, stopped = (grid[grid.seed == s]["regret"].to_numpy() for s in (0, 1))
    assert np.isnan(cut[0]) and cut[1] == pytest.approx(0.1) and np.isnan(cut[2:]).all()
    assert np.isnan(stopped[0]) and stopped[2:] == pytest.approx([0.1 / 3] * 2)


def _history(configs, vals=None):
    """A hand-made history: these architectures in this order, seen with these scores."""
    vals = vals or [0.5] * len(configs)
    return pd.DataFrame([{"evaluation": i + 1, **c, "epochs": 15,
                          "cumulative_epochs": 15 * (i + 1), "val_accuracy": v}
                         for i, (c, v) in enumerate(zip(configs, vals))])


def test_evaluations_to_top_on_constructed_histories(synthetic):
    table, _ = synthetic
    top = nb.bench.top_architectures(table, top=0.01)
    assert len(top) == 4                       # ceil(1% of 324)
    ranked = nb.bench.lookup_table(table)["test_accuracy"].sort_values(ascending=False)
    assert set(top.index) == set(ranked.index[:4])
    configs = nb.bench.all_configs()
    inside = [c for c in configs if tuple(c[n] for n in NAMES) in set(top.index)]
    outside = [c for c in configs if tuple(c[n] for n in NAMES) not in set(top.index)]
    hit = _history([outside[0], outside[1], inside[0], outside[2]])
    late = _history([*outside[:6], inside[-1]])
    never = _history(outside[:6])
    histories = {"random": [hit, never], "other": [late]}
    runs = nb.bench.first_top(histories, table=table)
    assert runs["strategy"].tolist() == ["random", "random", "other"]
    assert runs.loc[0, "evaluations"] == 3 and runs.loc[0, "cumulative_epochs"] == 45
    assert not runs.loc[1, "reached"] and runs.loc[1, "ran"] == 6
    assert np.isnan(runs.loc[1, "evaluations"]) and runs.loc[2, "evaluations"] == 7
    summary = nb.bench.evaluations_to_top(histories, table=table)
    assert summary.loc["random", ["runs", "reached", "censored"]].tolist() == [2, 1, 1]
    assert summary.loc["random", "median"] == np.inf         # half the runs censored
    assert summary.loc["random", "mean_reached"] == 3
    assert summary.loc["other", "median"] == 7 and summary.loc["other", "median_epochs"] == 105
    assert summary.attrs["top_k"] == 4
    both = nb.bench.evaluations_to_top({"random": [hit, late], "fast": [hit, hit]}, table=table)
    assert both.loc["random", "median"] == 5 and both.loc["fast", "ratio"] == pytest.approx(3 / 5)
    assert both.loc["random", "ratio"] == 1.0
    # "picked": the search picks by validation score; a top architecture seen with a low score
    # (say after 2 epochs) is not picked until one is seen with the best score so far
    seen_low = _history([outside[0], inside[0], outside[1], inside[1]], [0.7, 0.5, 0.6, 0.9])
    assert nb.bench.first_top({"s": [seen_low]}, table=table)["evaluations"][0] == 2
    picked = nb.bench.first_top({"s": [seen_low]}, table=table, by="picked")
    assert picked["evaluations"][0] == 4


def test_figures_have_one_curve_per_strategy(synthetic):
    table, _ = synthetic
    frame = nb.bench.compare(["random", "hyperband"], budget=60, seeds=3, table=table,
                             progress=False)
    fig = nb.plot.regret_curves(frame, x="cumulative_epochs")
    ax = fig.axes[0]
    assert [t.get_text().split(" (")[0] for t in ax.get_legend().get_texts()] == [
        "random", "hyperband"]
    assert "epochs" in ax.get_xlabel() and ax.get_yscale() == "log"
    fig = nb.plot.evaluations_to_top_plot(frame, table=table)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert len(labels) == 3 and labels[-1].startswith("uniform")
    import matplotlib.pyplot as plt
    plt.close("all")


def test_time_to_top_caps_censored_runs_at_what_every_cut_off_run_spent(synthetic):
    table, _ = synthetic
    top = set(nb.bench.top_architectures(table, top=0.01).index)
    configs = nb.bench.all_configs()
    inside = [c for c in configs if tuple(c[n] for n in NAMES) in top]
    outside = [c for c in configs if tuple(c[n] for n in NAMES) not in top]
    def rising(configs):   # every evaluation a new best, so the search picks each in turn
        return _history(configs, list(np.linspace(0.1, 0.9, len(configs))))

    runs = [("a", 0, 6, rising([*outside[:2], inside[0], *outside[2:5]])),   # hit at 3
            ("a", 1, 6, rising(outside[:6])),                               # cut: never
            ("b", 0, 6, rising([*outside[:5], inside[1]])),                 # hit at 6
            ("b", 1, 6, rising(outside[:4]))]                               # stopped: never
    frame = pd.concat([h.assign(strategy=s, seed=seed, budget=budget)
                       for s, seed, budget, h in runs], ignore_index=True)
    spent = nb.bench.time_to_top(frame, table=table)
    assert spent.attrs["cap"] == 6                  # both cut-off runs ran 6 evaluations
    assert list(spent.columns) == ["a", "b"] and list(spent.index) == [0, 1]
    assert spent["a"].tolist() == [3, 6] and spent["b"].tolist() == [6, 6]
    assert spent.attrs["censored"] == {"a": 1, "b": 1}
    capped = nb.bench.time_to_top(frame, table=table, cap=4)
    assert capped["a"].tolist() == [3, 4] and capped["b"].tolist() == [4, 4]
    assert capped.attrs["censored"] == {"a": 1, "b": 2}   # reached at 6 > 4: counted at 4
    epochs = nb.bench.time_to_top(frame, table=table, x="cumulative_epochs")
    assert epochs.attrs["cap"] == 90 and epochs["a"].tolist() == [45, 90]
    # random sampling without replacement: the restricted mean is sum_j P(T > j), j < cap
    sims = nb.bench.compare(["random"], budget=40, seeds=60, table=table, progress=False)
    spent = nb.bench.time_to_top(sims, table=table)["random"]
    exact = (1 - nb.bench.top_hit_probability(324, 4, np.arange(40))).sum()
    mean, half = nb.stats.mean_ci(spent)
    assert abs(mean - exact) < half
    with pytest.raises(ValueError, match="x must be"):
        nb.bench.time_to_top(frame, table=table, x="seconds")


def test_paired_comparison_is_scipys_paired_t_test_with_a_verdict_per_pair():
    rng = np.random.default_rng(3)
    base = rng.normal(size=12)
    per_seed = pd.DataFrame({"random": base + rng.normal(0, 0.1, 12),
                             "good": base - 0.5 + rng.normal(0, 0.1, 12),
                             "same": base + rng.normal(0, 0.1, 12)})
    per_seed.loc[11, "same"] = np.nan                         # that seed is left out
    out = nb.bench.paired_comparison(per_seed, against="random", better="lower", what="regret")
    assert out["claim"].tolist() == ["good lower than random", "same lower than random"]
    good, same = out.iloc[0], out.iloc[1]
    test = stats.ttest_rel(per_seed.good, per_seed.random)
    low, high = test.confidence_interval(0.95)
    assert good.p_value == pytest.approx(test.pvalue) and [good.low, good.high] == \
        pytest.approx([low, high])
    assert good.n == 12 and same.n == 11 and good.verdict == "met"
    assert same.verdict in ("not shown", "missed")
    # the verdict is stats.verdict of the differences: a one-sided bound, not the two-sided end
    d = per_seed.good - per_seed.random
    assert good.bound == pytest.approx(d.mean() + stats.t.ppf(0.95, 11) * stats.sem(d))
    higher = nb.bench.paired_comparison(per_seed, pairs=[("random", "good")], better="higher")
    assert higher.iloc[0].verdict == "met" and higher.iloc[0].difference == \
        pytest.approx(-good.difference)
    # equal is not better: identical figures are "missed", not "met"
    tie = nb.bench.paired_comparison(pd.DataFrame({"x": [0.1] * 5, "y": [0.1] * 5}),
                                     against="y", better="lower")
    assert tie.iloc[0].verdict == "missed"
    with pytest.raises(ValueError, match="say what to compare"):
        nb.bench.paired_comparison(per_seed)
    with pytest.raises(ValueError, match="no column"):
        nb.bench.paired_comparison(per_seed, pairs=[("good", "nope")])
    with pytest.raises(ValueError, match="better must be"):
        nb.bench.paired_comparison(per_seed, against="random", better="smaller")


def test_random_search_and_hyperband_of_one_seed_draw_the_same_architectures():
    # keras-tuner's random stream: with the same seed, Hyperband's new architectures come in
    # the order random search draws them, so their comparison by seed is a real pairing
    table = nb.bench.load()
    frame = nb.bench.compare(["random", "hyperband"], budget=60, seeds=2, table=table)
    names = list(nb.bench.DECISIONS)
    for seed in range(2):
        drawn = {s: list(dict.fromkeys(
            frame[(frame.strategy == s) & (frame.seed == seed)][names].itertuples(
                index=False, name=None))) for s in ("random", "hyperband")}
        assert len(drawn["hyperband"]) > 30
        assert drawn["hyperband"] == drawn["random"][:len(drawn["hyperband"])]
