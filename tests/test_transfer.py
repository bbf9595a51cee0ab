"""How rankings and importances carry between tasks' tables (nasbook/bench/transfer.py):
correlations with their bootstrap intervals, the noise ceiling, the ANOVA side by side, the
regret of one task's pick on another, and the warm-versus-cold comparison of searches."""
import math

import numpy as np
import pytest
from scipy import stats
from tables import EFFECTS, additive_table

import nasbook as nb

DECISIONS = list(nb.bench.DECISIONS)


@pytest.fixture(scope="module")
def table():
    return nb.bench.load()


def shuffled(table, seed=0):
    """A copy whose accuracies are moved, architecture by architecture, to other ones."""
    rng = np.random.default_rng(seed)
    ids = np.sort(table.arch_id.unique())
    move = dict(zip(ids, rng.permutation(ids)))
    acc = table.set_index(["arch_id", "seed"])[["val_accuracy", "test_accuracy"]]
    out = table.copy()
    keys = list(zip(out.arch_id.map(move), out.seed))
    out[["val_accuracy", "test_accuracy"]] = acc.loc[keys].to_numpy()
    return out


def test_a_table_against_itself_has_tau_one(table):
    c = nb.bench.rank_correlation(table, table, n_boot=50)
    assert c.n == 324 and c.tau == pytest.approx(1.0) and c.rho == pytest.approx(1.0)
    assert c.tau_low == pytest.approx(1.0) and c.rho_high == pytest.approx(1.0)
    top = nb.bench.rank_correlation(table, table, top=0.1, n_boot=50)
    assert top.n == 33 and top.tau == pytest.approx(1.0)              # ceil(0.1 * 324)


def test_a_shuffled_copy_has_tau_near_zero(table):
    c = nb.bench.rank_correlation(table, shuffled(table), n_boot=200)
    assert abs(c.tau) < 0.12 and abs(c.rho) < 0.17          # null sd of tau at n=324: 0.037
    assert c.tau_low < 0 < c.tau_high


def test_the_figures_are_scipys_on_the_per_architecture_means(table):
    other = shuffled(table, seed=1)
    both = nb.bench.lookup_table(table).test_accuracy.to_frame("a").join(
        nb.bench.lookup_table(other).test_accuracy.rename("b"))
    c = nb.bench.rank_correlation(table, other, n_boot=20)
    assert c.tau == pytest.approx(stats.kendalltau(both.a, both.b)[0])
    assert c.rho == pytest.approx(stats.spearmanr(both.a, both.b)[0])
    one = nb.bench.rank_correlation(table, other, seeds=(0, 1), n_boot=20)
    a0 = table[table.seed == 0].set_index(DECISIONS).test_accuracy
    b1 = other[other.seed == 1].set_index(DECISIONS).test_accuracy.reindex(a0.index)
    assert one.tau == pytest.approx(stats.kendalltau(a0, b1)[0])


def test_the_noise_ceiling_is_tau_between_two_seeds(table):
    c = nb.bench.noise_ceiling(table, n_boot=100)
    s0 = table[table.seed == 0].sort_values("arch_id").test_accuracy.to_numpy()
    s1 = table[table.seed == 1].sort_values("arch_id").test_accuracy.to_numpy()
    assert c.n == 324 and c.tau == pytest.approx(stats.kendalltau(s0, s1)[0])
    assert c.tau_low < c.tau < c.tau_high < 1
    one = nb.bench.noise_ceiling(table[table.seed == 0])
    assert math.isnan(one.tau) and "no noise ceiling" in str(one)


def test_anova_side_by_side_holds_each_tasks_exact_anova(table):
    other = additive_table()
    side = nb.bench.anova_side_by_side({"original": table, "additive": other})
    for task, t in (("original", table), ("additive", other)):
        truth = nb.explain.functional_anova(t, score="test_accuracy").set_index("term")
        assert side[task].drop("rest").to_dict() == pytest.approx(truth.fraction.to_dict())
        assert side[task].sum() == pytest.approx(1.0)
    assert side.additive.drop([d for d in DECISIONS] + ["rest"]).abs().max() < 1e-12
    assert set(side.index[:6]) == set(DECISIONS)   # main effects first,
    mains = side.original.iloc[:6]                   # in the first task's order
    assert list(mains) == sorted(mains, reverse=True)


def test_regret_of_a_tasks_own_best_on_itself_is_zero(table):
    own = nb.bench.transfer_regret(table, table, select="test_accuracy")
    assert own.regret == 0 and own.rank_on_b == 1
    agree = additive_table(noise=0.005)                 # validation and test agree on the best
    r = nb.bench.transfer_regret(agree, agree)
    assert r.regret == pytest.approx(0.0) and r.own_regret == pytest.approx(0.0)
    # on the real table validation picks an architecture one place below the best
    by_val = nb.bench.transfer_regret(table, table)
    assert by_val.regret == by_val.own_regret >= 0


def test_top_overlap_counts_bs_best_among_as_best(table):
    assert nb.bench.top_overlap(table, table, k=10) == 10
    a = additive_table()
    flipped = additive_table({**EFFECTS, "activation": {"relu": -0.2, "tanh": 0.0,
                                                        "sigmoid": 0.03}})
    assert nb.bench.top_overlap(a, flipped, k=10) == 0      # A's best 10 are all relu ones
    assert nb.bench.top_overlap(a, flipped, k=324) == 324


def test_regret_on_another_task_by_hand():
    a = additive_table()
    flipped = {**EFFECTS, "activation": {"relu": -0.2, "tanh": 0.0, "sigmoid": 0.03}}
    b = additive_table(flipped)
    r = nb.bench.transfer_regret(a, b)
    assert r.picked["activation"] == "relu"            # A's best: relu
    assert r.regret == pytest.approx(0.23)             # B loses sigmoid's +0.03 and pays -0.2
    assert r.own_regret == pytest.approx(0.0)
    # A's best 100 include sigmoid ones ranked lower on A; B's validation picks the best of
    # them: regret = B's best minus the best of A's top 100 on B
    lk_a, lk_b = nb.bench.lookup_table(a), nb.bench.lookup_table(b)
    top = lk_a.val_accuracy.sort_values(ascending=False, kind="stable").index[:100]
    r100 = nb.bench.transfer_regret(a, b, k=100)
    assert r100.regret == pytest.approx(lk_b.test_accuracy.max() -
                                        lk_b.loc[top, "test_accuracy"].max())
    with pytest.raises(ValueError, match="positive number"):
        nb.bench.transfer_regret(a, b, k=0)


def test_transfer_compare_and_its_paired_verdicts():
    a = additive_table()
    b = additive_table(noise=0.002)
    frame = nb.bench.transfer_compare(a, b, budget=12, seeds=4, k=3, progress=False)
    assert list(dict.fromkeys(frame.strategy)) == list(nb.bench.TRANSFER_LABELS)
    assert (frame.cost_epochs == 15).all()
    # the warm start proposes A's best first: on this B it is B's best, regret 0 at once
    warm = frame[(frame.strategy == "warm_start") & (frame.evaluation == 1)]
    assert (warm.regret.abs() < 1e-12).all()
    v = nb.bench.transfer_verdicts(frame, at=(45, 180))
    assert set(v.cumulative_epochs) == {45, 180} and set(v.evaluations) == {3, 12}
    pairs = set(zip(v.a, v.b))
    assert ("warm_start", "evolution") in pairs and ("random", "evolution") in pairs
    assert ("evolution", "random") not in pairs and len(v) == 2 * 7
    assert set(v.verdict) <= {"met", "not shown", "missed"} and (v.n == 4).all()
    assert not ((v.verdict == "met") & (v.verdict_worse == "met")).any()
    lines = nb.bench.transfer_lines(v)
    assert len(lines) == len(v) and lines[0].startswith("45 epochs (3 evaluations): ")
    # warm start (A's best first, B's best) beats random at 3 evaluations unless random
    # also found it: a tie is never "lower"
    row = v[(v.a == "warm_start") & (v.b == "random") & (v.cumulative_epochs == 45)].iloc[0]
    assert row.difference <= 0 and row.verdict_worse == "missed"


@pytest.mark.parametrize("task", ["near", "far"])
def test_the_shipped_task_tables_transfer_from_the_original(task, table):
    if not nb.bench.task_path(task).exists():
        pytest.skip(f"the {task} task's table is not shipped yet "
                    f"(data/{nb.bench.task_path(task).name}); it is being built")
    other = nb.bench.load(task=task)
    c = nb.bench.rank_correlation(table, other, n_boot=20)
    assert c.n == 324 and -1 <= c.tau_low <= c.tau <= c.tau_high <= 1
    side = nb.bench.anova_side_by_side({"original": table, task: other})
    assert side.sum().to_numpy() == pytest.approx([1.0, 1.0])
    r = nb.bench.transfer_regret(table, other)
    assert 0 <= r.regret and r.rank_on_b >= 1
