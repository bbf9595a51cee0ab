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
    assert row["regret_top1"] == 0 and row["regret_top10"] == 0
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
    assert A.noise_ceiling(t.assign(test_accuracy=[1, 2, 3, 4, 4, 3, 2, 1]))["kendall"] == -1
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
