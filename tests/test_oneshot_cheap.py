"""Cheap estimates inside a search: cost bookkeeping in seconds, pre-screening, pruning, and
the bias explanation of an estimator."""
import functools

import numpy as np
import pandas as pd
import pytest

import nasbook as nb
from nasbook.oneshot import audit, bias, cheap


@pytest.fixture(scope="module")
def table():
    return nb.bench.load()


@pytest.fixture(scope="module")
def truth(table):
    return audit.truth(table)


def test_baseline_counts_seconds_and_stops_at_the_budget(truth):
    run = cheap.baseline("random", truth_frame=truth, seed=3, budget_s=300)
    times = truth.loc[run["arch_id"], "train_time_s"].to_numpy()
    np.testing.assert_allclose(run["cumulative_seconds"], np.cumsum(times))
    assert run["cumulative_seconds"].iloc[-1] <= 300
    assert run["arch_id"].is_unique
    # the next architecture the search would have trained did not fit in the budget
    longer = cheap.baseline("random", truth_frame=truth, seed=3, budget_s=10_000)
    assert list(longer["arch_id"].iloc[:len(run)]) == list(run["arch_id"])
    nxt = longer["cumulative_seconds"].iloc[len(run)]
    assert nxt > 300
    best = truth["test"].max()
    i = run["val_accuracy"].to_numpy().argmax()
    assert run["regret"].iloc[-1] == pytest.approx(best - run["test_accuracy"].iloc[i])


def test_prescreen_trains_only_survivors_and_pays_up_front(truth):
    scores = truth["test"]                       # a perfect estimator
    run = cheap.prescreen_search(scores, keep=0.05, upfront_s=50, truth_frame=truth, seed=0,
                                 budget_s=2000)
    survivors = set(scores.sort_values().index[-16:])
    assert set(run["arch_id"]) <= survivors and len(run) == 16   # all 16 trained, then done
    assert run["cumulative_seconds"].iloc[0] == pytest.approx(
        50 + truth.loc[run["arch_id"].iloc[0], "train_time_s"])
    assert run.attrs["best_kept"]
    # a useless estimator (screens the best out) is caught by best_kept
    worst_first = -truth["test"]
    bad = cheap.prescreen_search(worst_first, keep=0.25, truth_frame=truth, budget_s=500)
    assert not bad.attrs["best_kept"] and bad["regret"].iloc[-1] > 0.2


def test_pruned_space_from_the_whole_table_keeps_relu(truth):
    sample = truth[cheap.NAMES].assign(val_accuracy=truth["val"])
    allowed = cheap.pruned_space(sample, fix=2)
    assert allowed["activation"] == ["relu"] and allowed["n_blocks"] == [3]
    assert allowed["kernel"] == [3, 5, 7]
    run = cheap.pruned_search(sample=15, fix=2, truth_frame=truth, seed=1, budget_s=400)
    fixed = {d: v[0] for d, v in run.attrs["allowed"].items() if len(v) == 1}
    after = run.iloc[15:]
    for d, v in fixed.items():
        assert (after[d] == v).all()
    assert run["arch_id"].is_unique


def test_compare_and_regret_at_equal_seconds(truth, table):
    frame = cheap.compare({"random": functools.partial(cheap.baseline, "random"),
                           "perfect": cheap.prescreen(truth["test"], keep=0.1, upfront_s=20)},
                          budget_s=200, seeds=5, table=table)
    summary = nb.bench.regret_summary(frame, at=[100, 200], x="cumulative_seconds")
    assert summary.loc[("perfect", 200), "mean"] <= summary.loc[("random", 200), "mean"]
    assert (summary["runs"] == 5).all()
    with pytest.raises(ValueError, match="grid"):
        nb.bench.regret_on_grid(frame, x="cumulative_seconds")


def test_pruning_danger_shares_are_fractions(table):
    out = cheap.pruning_danger(samples=(8,), sources=("random",), seeds=3, table=table)
    row = out.iloc[0]
    assert row["runs"] == 3 and 0 <= row["low"] <= row["removes_best"] <= row["high"] <= 1
    assert 0 <= row["removes_all_top"] <= row["removes_best"]


def test_bias_of_the_truth_is_the_truth(truth, table):
    prefs = bias.preferences({"copy": truth["test"]}, table)
    np.testing.assert_allclose(prefs["copy"], prefs["truth"])
    assert prefs.loc[("activation", "relu"), "truth"] > prefs.loc[("activation", "sigmoid"),
                                                                  "truth"]
    params_only = pd.Series(truth["params"].to_numpy(), index=truth.index)
    imp = bias.importance_beside_truth({"params": params_only}, table)
    assert imp.sum().to_numpy() == pytest.approx(np.ones(imp.shape[1]))
    # parameter count cannot see activation or pooling: they change no weight count
    assert imp.loc["activation", "params"] < 0.01 and imp.loc["pooling", "params"] < 0.01
    assert imp.loc["activation", "truth (exact)"] > 0.5


def test_prescreen_keeps_a_count_and_ranks_unscored_last(truth):
    scored = truth["test"].iloc[:40]            # only 40 architectures scored
    run = cheap.prescreen_search(scored, keep=5, truth_frame=truth, budget_s=1e6)
    assert set(run["arch_id"]) == set(scored.sort_values().index[-5:])
    with pytest.raises(cheap.CheapSearchError, match="keep"):
        cheap.prescreen_search(scored, keep=2.5, truth_frame=truth)


def test_the_biased_sample_comes_after_the_random_population(truth):
    # evolution's first `fill` trials are its random initial population; the biased sample
    # is the n children after them, and all fill + n were trained and are paid for
    full = cheap.baseline("evolution", truth_frame=truth, seed=4, population_size=6)["arch_id"]
    paid, sample = cheap._sample("evolution", 5, truth, 4, fill=6)
    assert paid == list(full.iloc[:11]) and sample == list(full.iloc[6:11])
    paid, sample = cheap._sample("random", 5, truth, 4)
    assert paid == sample and len(set(sample)) == 5
    run = cheap.pruned_search(sample=5, source="evolution", fill=6, truth_frame=truth, seed=4,
                              budget_s=1e6)
    assert list(run["arch_id"].iloc[:11]) == list(full.iloc[:11])   # the population is paid


def test_pruning_danger_tests_the_difference_between_sources(table, monkeypatch):
    # a source that never loses the best beside one that always does, 6 runs each:
    # Fisher's exact two-sided p = 2 / C(12, 6)
    monkeypatch.setattr(cheap, "_sample", lambda source, n, t, seed, fill: (
        [source], [0, 1, 2]))
    calls = iter(["random"] * 6 + ["evolution"] * 6)

    def allowed(sample, **options):
        keep_all = next(calls) == "random"
        return {d: list(v) if keep_all else ["nothing"] for d, v in cheap.DECISIONS.items()}

    monkeypatch.setattr(cheap, "pruned_space", allowed)
    out = cheap.pruning_danger(samples=(3,), seeds=6, table=table)
    assert list(out["removes_best"]) == [0.0, 1.0]
    assert np.isnan(out["p_vs_random"].iloc[0])
    assert out["p_vs_random"].iloc[1] == pytest.approx(2 / 924)


def test_paired_regret_is_the_paired_difference_seed_by_seed(truth, table):
    frame = cheap.compare({"evolution": functools.partial(cheap.baseline, "evolution"),
                           "random": functools.partial(cheap.baseline, "random"),
                           "late": cheap.prescreen(truth["test"], keep=0.1, upfront_s=150)},
                          budget_s=300, seeds=4, table=table)
    out = cheap.paired_regret(frame, at=[100, 300])
    grid = nb.bench.regret_on_grid(frame, "cumulative_seconds", grid=[300])
    a = grid[grid.strategy == "random"].set_index("seed")["regret"]
    b = grid[grid.strategy == "evolution"].set_index("seed")["regret"]
    expected = nb.stats.paired_difference(a, b.loc[a.index])
    row = out.loc[("random", 300)]
    assert row["pairs"] == 4 and row["difference"] == pytest.approx(expected.mean)
    assert (row["low"], row["p_value"]) == pytest.approx((expected.low, expected.p_value))
    assert out.loc[("late", 100), "pairs"] == 0            # its 150 s were not yet paid
    assert np.isnan(out.loc[("late", 100), "difference"])
    with pytest.raises(cheap.CheapSearchError, match="no search"):
        cheap.paired_regret(frame, at=[100], baseline="nope")


def test_paired_regret_prints_both_claims_through_the_verdict(truth, table):
    frame = cheap.compare({"evolution": functools.partial(cheap.baseline, "evolution"),
                           "random": functools.partial(cheap.baseline, "random")},
                          budget_s=300, seeds=5, table=table)
    out = cheap.paired_regret(frame, at=[300])
    grid = nb.bench.regret_on_grid(frame, "cumulative_seconds", grid=[300])
    a = grid[grid.strategy == "random"].set_index("seed")["regret"]
    b = grid[grid.strategy == "evolution"].set_index("seed")["regret"].loc[a.index]
    row = out.loc[("random", 300)]
    lower = nb.stats.verdict(a - b, 0.0, better="lower")
    higher = nb.stats.verdict(a - b, 0.0, better="higher")
    assert row["bound"] == pytest.approx(lower.bound)
    assert row["bound_higher"] == pytest.approx(higher.bound)
    for word, v in ((row["verdict"], lower), (row["verdict_higher"], higher)):
        assert word == (nb.stats.MISSED if v.gap <= 0 else v.word)
    assert {row["verdict"], row["verdict_higher"]} != {nb.stats.MET}   # never both
    line = cheap.verdict_lines(out)[0]
    assert line.startswith("random") and row["verdict"].upper() in line
    assert "n = 5" in line and "higher: " + row["verdict_higher"].upper() in line


def test_paired_regret_a_tie_on_every_seed_is_neither_lower_nor_higher(table):
    frame = cheap.compare({"evolution": functools.partial(cheap.baseline, "evolution"),
                           "again": functools.partial(cheap.baseline, "evolution")},
                          budget_s=200, seeds=3, table=table)
    row = cheap.paired_regret(frame, at=[200]).loc[("again", 200)]
    assert row["difference"] == 0
    assert row["verdict"] == row["verdict_higher"] == nb.stats.MISSED


def test_pruning_danger_compares_each_size_with_the_smallest(table, monkeypatch):
    # sample size 3 always loses the best, size 5 never: 6 runs each, Fisher p = 2 / C(12, 6)
    monkeypatch.setattr(cheap, "_sample", lambda source, n, t, seed, fill: ([0], list(range(n))))

    def allowed(sample, **options):
        keep_all = len(sample) == 5
        return {d: list(v) if keep_all else ["nothing"] for d, v in cheap.DECISIONS.items()}

    monkeypatch.setattr(cheap, "pruned_space", allowed)
    out = cheap.pruning_danger(samples=(3, 5), sources=("random",), seeds=6, table=table)
    assert list(out["removes_best"]) == [1.0, 0.0]
    assert np.isnan(out["p_vs_3"].iloc[0])
    assert out["p_vs_3"].iloc[1] == pytest.approx(2 / 924)
