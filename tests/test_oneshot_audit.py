"""The audit of cheap estimators: exact on the truth itself, ~0 on noise, the noise ceiling
on a synthetic table, exact expectations checked by enumeration."""
import itertools

import numpy as np
import pandas as pd
import pytest

import nasbook as nb
from nasbook.oneshot import audit as A


@pytest.fixture(scope="module")
def table():
    return nb.bench.load()


@pytest.fixture(scope="module")
def truth(table):
    return A.truth(table)


def test_truth_is_one_row_per_architecture(table, truth):
    assert len(truth) == 324 and list(truth.index) == list(range(324))
    row = table[table.arch_id == 7]
    assert truth.loc[7, "test"] == pytest.approx(row.test_accuracy.mean())
    assert truth.loc[7, "test_s1"] == pytest.approx(row[row.seed == 1].test_accuracy.iloc[0])
    configs = nb.bench.all_configs()
    assert truth.loc[200, list(configs[200])].to_dict() == configs[200]


def test_the_truth_audits_perfectly(table, truth):
    row = A.audit(truth["test"], table, n_boot=50, truth_frame=truth)
    assert row["kendall_test"] == pytest.approx(1.0)
    assert row["spearman_test"] == pytest.approx(1.0)
    assert row["kendall_top"] == pytest.approx(1.0)
    assert row["regret_top1"] == 0
    # the best of the true top 10 is kept by validation accuracy, which is not the truth
    top10 = truth["test"].sort_values(ascending=False).index[:10]
    kept = truth.loc[top10, "val"].idxmax()
    assert row["regret_top10"] == pytest.approx(truth.test.max() - truth.loc[kept, "test"])
    assert A.pick_regret(truth["test"], truth, k=10, select="test") == 0
    assert row["top1_percentile"] == 0
    assert row["kendall_test_low"] == pytest.approx(1.0)


def test_a_shuffled_copy_is_near_zero_and_no_better_than_random(truth):
    rng = np.random.default_rng(0)
    shuffled = pd.Series(rng.permutation(truth["test"].to_numpy()), index=truth.index)
    c = A.correlations(shuffled, truth)
    # sd of Kendall's tau under independence, n = 324: about 0.037
    assert abs(c["kendall_test"]) < 0.15 and abs(c["spearman_test"]) < 0.2
    taus = [A.correlations(pd.Series(rng.permutation(truth["test"].to_numpy()),
                                     index=truth.index), truth)["kendall_test"]
            for _ in range(20)]
    assert abs(np.mean(taus)) < 0.05
    lo, hi = A.bootstrap(shuffled, truth, n_boot=200)["kendall"]
    assert lo < c["kendall_test"] < hi


def test_noise_ceiling_on_a_synthetic_table():
    # seed 1 swaps one adjacent pair of four architectures: 5 concordant, 1 discordant pair
    t = pd.DataFrame({"arch_id": [0, 1, 2, 3] * 2, "seed": [0] * 4 + [1] * 4,
                      "test_accuracy": [0.1, 0.2, 0.3, 0.4, 0.1, 0.3, 0.2, 0.4]})
    ceiling = A.noise_ceiling(t)
    assert ceiling["kendall"] == pytest.approx((5 - 1) / 6)
    assert ceiling["spearman"] == pytest.approx(1 - 6 * 2 / (4 * 15))
    reversed_ = A.noise_ceiling(t.assign(test_accuracy=[1, 2, 3, 4, 4, 3, 2, 1]))
    assert reversed_["kendall"] == -1 and np.isnan(reversed_["kendall_mean"])
    with pytest.raises(A.AuditError, match="seed"):
        A.noise_ceiling(t, seeds=(0, 5))


def test_expected_best_matches_enumeration():
    v = np.array([0.3, 0.9, 0.1, 0.5, 0.5, 0.7])
    for m in range(1, 7):
        brute = np.mean([max(c) for c in itertools.combinations(v, m)])
        assert A.expected_best(v, m) == pytest.approx(brute)


def test_ties_make_an_estimator_no_better_than_random(truth):
    constant = pd.Series(1.0, index=truth.index)
    for k in (1, 10):
        assert A.pick_regret(constant, truth, k=k) == pytest.approx(A.random_regret(truth, k=k))
    assert A.random_regret(truth, k=1) == pytest.approx(truth.test.max() - truth.test.mean())


def test_pick_regret_of_a_known_ordering(truth):
    # an estimator that ranks the truly 3rd-best first, then the worst ones
    order = truth["test"].sort_values()
    scores = pd.Series(np.arange(len(order), dtype=float), index=order.index)
    third = order.index[-3]
    scores[third] = 1e9
    scores[order.index[-1]] = -1
    scores[order.index[-2]] = -2
    assert A.pick_regret(scores, truth, k=1) == pytest.approx(order.iloc[-1] - order.iloc[-3])


def test_subset_taus_spread_and_the_missing_score_error(truth):
    noisy = truth["test"] + np.random.default_rng(1).normal(0, 0.1, len(truth))
    taus = A.subset_taus(noisy, truth, size=13, n=300)
    full = A.correlations(noisy, truth)["kendall_test"]
    assert len(taus) == 300 and abs(np.mean(taus) - full) < 0.05
    assert np.percentile(taus, 95) - np.percentile(taus, 5) > 0.2   # 13 models: a wide spread
    with pytest.raises(A.AuditError, match="no score"):
        A.correlations(truth["test"].iloc[:100], truth)


def test_mean_rank_and_audit_table(table, truth):
    frame = pd.DataFrame({"a": truth["test"], "b": -truth["test"]})
    ens = A.mean_rank(frame, ["a", "a", "b"])
    assert A.correlations(ens, truth)["kendall_test"] == pytest.approx(1.0)
    out = A.audit_table({"truth": truth["test"], "anti": -truth["test"]}, table, n_boot=20,
                        wall_time_s={"truth": 1.0})
    assert list(out.index) == ["truth", "anti"]
    assert out.loc["anti", "kendall_test"] == pytest.approx(-1.0)
    assert out.loc["anti", "regret_top1"] == pytest.approx(truth.test.max() - truth.test.min())
    assert np.isnan(out.loc["anti", "wall_time_s"])
    assert out["noise_ceiling"].nunique() == 1


def _brute_pick(scores, val, test, k):
    """E[test of the best-by-val among the top k by score]: every way of breaking the ties at
    the cut, then every way of breaking the ties in val, enumerated."""
    s, val, test = map(np.asarray, (scores, val, test))
    cut = np.sort(s)[::-1][k - 1]
    sure, tied = list(np.flatnonzero(s > cut)), list(np.flatnonzero(s == cut))
    picks = []
    for drawn in itertools.combinations(tied, k - len(sure)):
        chosen = sure + list(drawn)
        best = max(val[chosen])
        picks.append(np.mean([test[i] for i in chosen if val[i] == best]))
    return float(np.mean(picks))


def _small_truth(seed):
    rng = np.random.default_rng(seed)
    test = rng.choice([0.5, 0.6, 0.7, 0.8, 0.9], size=9)
    val = np.round(test + rng.choice([-0.1, 0.0, 0.1], size=9), 2)   # ties in val, on purpose
    return pd.DataFrame({"test": test, "val": val})


def test_regret_top_k_keeps_the_best_by_validation_exactly():
    for seed in range(6):
        t = _small_truth(seed)
        scores = pd.Series(np.random.default_rng(seed + 50).choice([1.0, 2.0, 3.0], size=9))
        for k in (1, 2, 3, 5, 9):
            brute = _brute_pick(scores, t.val, t.test, k)
            assert A.pick_regret(scores, t, k=k) == pytest.approx(t.test.max() - brute)
            oracle = _brute_pick(scores, t.test, t.test, k)
            assert A.pick_regret(scores, t, k=k, select="test") == pytest.approx(
                t.test.max() - oracle)
        constant = pd.Series(0.0, index=t.index)
        assert A.random_regret(t, k=4) == pytest.approx(
            t.test.max() - _brute_pick(constant, t.val, t.test, 4))


def test_choosing_by_validation_costs_something_on_the_table(truth):
    # the oracle choice (best of 10 by test) is never worse than the choice a user can make;
    # random search's oracle best-of-10 is the exact E[max] of 10 draws
    assert A.random_regret(truth, k=10, select="test") == pytest.approx(
        truth.test.max() - A.expected_best(truth.test, 10))
    assert A.random_regret(truth, k=10) > A.random_regret(truth, k=10, select="test")
    top10_by_val = truth["val"].sort_values(ascending=False).index[:10]
    assert A.pick_regret(truth["val"], truth, k=10) == pytest.approx(
        truth.test.max() - truth.loc[top10_by_val[0], "test"])
    with pytest.raises(A.AuditError, match="select"):
        A.pick_regret(truth["val"], truth, k=10, select="train")


def test_the_ceiling_of_a_mean_matches_a_gaussian_simulation():
    rng = np.random.default_rng(0)
    mu = rng.normal(0, 1, 3000)
    runs = mu + rng.normal(0, 0.15, (3, 3000))
    tau_one = A._kendall(runs[0], runs[1])
    derived = A.mean_ceiling(tau_one, runs=2)
    target = runs[:2].mean(axis=0)
    assert derived["oracle"] == pytest.approx(A._kendall(mu, target), abs=0.005)
    assert derived["fresh_run"] == pytest.approx(A._kendall(runs[2], target), abs=0.005)
    # a run inside the target beats even the noise-free ceiling: it shares the target's noise
    assert A._kendall(runs[0], target) > derived["oracle"]
    one = A.mean_ceiling(tau_one, runs=1)
    assert one["fresh_run"] == pytest.approx(tau_one)
    assert one["oracle"] == pytest.approx(A._kendall(mu, runs[0]), abs=0.005)
    with pytest.raises(A.AuditError, match="do not agree"):
        A.mean_ceiling(-0.2)


def test_the_tables_ceilings(table, truth):
    c = A.noise_ceiling(table)
    assert (c["n"], c["runs"]) == (324, 2)
    assert c["kendall"] == pytest.approx(0.9187, abs=1e-4)            # one run vs the other
    assert c["kendall"] < c["kendall_fresh"] < c["kendall_mean"]
    assert c["kendall_mean"] == pytest.approx(0.959, abs=0.001)
    # seed 0's own run against the mean it is half of: at the mean's ceiling, not below it
    assert A._kendall(truth.test_s0, truth.test) == pytest.approx(0.960, abs=0.001)


def test_across_seeds_is_the_student_t_interval_over_seeds():
    rows = pd.DataFrame({"kendall_test": [0.670, 0.671, 0.605, 0.4],
                         "regret_top1": [0.0, 0.02, 0.01, 0.1]},
                        index=pd.MultiIndex.from_tuples([("u", 1), ("u", 2), ("u", 3),
                                                         ("p", 1)]))
    out = A.across_seeds(rows, ["kendall_test", "regret_top1"])
    mean, half = nb.stats.mean_ci([0.670, 0.671, 0.605])
    assert out.loc["u", "kendall_test"] == pytest.approx(mean)
    assert out.loc["u", "kendall_test_low"] == pytest.approx(mean - half)
    assert out.loc["u", "kendall_test_sd"] == pytest.approx(np.std([0.670, 0.671, 0.605],
                                                                   ddof=1))
    assert list(out["seeds"]) == [3, 1] and np.isnan(out.loc["p", "kendall_test_low"])
    with pytest.raises(A.AuditError, match="estimator, seed"):
        A.across_seeds(rows.droplevel(1))


def test_audit_table_with_seeds_has_an_estimator_seed_index(table, truth):
    out = A.audit_table({("truth", 1): truth["test"], ("truth", 2): truth["test_s0"]}, table,
                        n_boot=20)
    assert out.index.names == ["estimator", "seed"]
    assert out.loc[("truth", 1), "kendall_test"] == pytest.approx(1.0)
    assert out["noise_ceiling_mean"].iloc[0] > out["noise_ceiling"].iloc[0]


def test_pair_ensembles_is_the_mean_rank_of_each_pair(truth):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"synflow": truth["test"] + rng.normal(0, 0.01, len(truth)),
                          "naswot": rng.normal(size=len(truth)),
                          "params": truth["params"].astype(float)}, index=truth.index)
    out = A.pair_ensembles({1: frame, 2: frame.sample(frac=1, random_state=0)}, truth)
    assert len(out) == 6 and set(out.pair) == {"params + synflow", "params + naswot",
                                               "synflow + naswot"}
    assert list(out.columns) == ["pair", "a", "b", "seed", "kendall_val", "kendall_test"]
    row = out[(out.seed == 1) & (out.pair == "synflow + naswot")].iloc[0]
    expected = A.correlations(A.mean_rank(frame, ["synflow", "naswot"]), truth)
    assert row.kendall_test == pytest.approx(expected["kendall_test"])
    assert row.kendall_val == pytest.approx(expected["kendall_val"])
    # a reordered frame is the same run: the pair's figures do not depend on the row order
    same = out.groupby("pair")["kendall_test"].agg(["min", "max"])
    assert np.allclose(same["min"], same["max"])
