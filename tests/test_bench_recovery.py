"""Importance recovery: estimates from a search's first N trials against the exact ANOVA."""
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import nasbook as nb
from nasbook.bench.recovery import COLUMNS, RecoveryError, recovery, recovery_summary
from nasbook.explain.anova import AnovaError

import tables

# An additive table with known effects: every decision's share of the variance is distinct.
EFFECTS = {"n_blocks": {1: 0.0, 2: 0.04, 3: 0.07}, "filters": {16: 0.0, 32: 0.015, 64: 0.02},
           "kernel": {3: 0.0, 5: 0.006, 7: 0.003}, "pooling": {"max": 0.012, "average": 0.0},
           "activation": {"relu": 0.02, "tanh": 0.0, "sigmoid": -0.25},
           "connection": {"full": 0.0, "residual": 0.045}}


def additive_table():
    return tables.additive_table(EFFECTS, noise=0.002)


@pytest.fixture(scope="module")
def table():
    return additive_table()


@pytest.fixture(scope="module")
def frame(table):
    return recovery(table, strategies=("random",), sizes=(10, 200), seeds=range(2),
                    progress=False)


def test_the_truth_is_the_known_additive_shares(table):
    var = {d: np.var(list(e.values())) for d, e in EFFECTS.items()}
    truth = nb.explain.main_effects(table, score="val_accuracy")
    for d, v in var.items():
        assert truth[d] == pytest.approx(v / sum(var.values()), abs=1e-12)


def test_frame_has_one_row_per_strategy_size_seed_and_method(frame):
    assert list(frame.columns) == COLUMNS
    assert len(frame) == 1 * 2 * 2 * 3
    assert list(frame.method.unique()) == ["fanova", "ped_anova", "shap"]
    assert sorted(frame.N.unique()) == [10, 200]
    assert (frame.n_trials == frame.N).all() and (frame.n_distinct <= frame.N).all()
    assert frame.top1.dtype == "boolean"
    assert frame.attrs["truth"].idxmax() == "activation"
    # the surrogate's R² is reported for SHAP rows only
    assert frame[frame.method != "shap"].surrogate_r2.isna().all()
    assert frame[(frame.method == "shap") & (frame.N == 200)].surrogate_r2.gt(0.9).all()


def test_200_random_trials_recover_the_additive_truth(frame):
    big = frame[frame.N == 200].set_index(["method", "seed"])
    for seed in (0, 1):
        assert big.loc[("fanova", seed), "spearman"] > 0.8
        assert big.loc[("shap", seed), "spearman"] > 0.8
        assert bool(big.loc[("fanova", seed), "top1"])
        assert big.loc[("fanova", seed), "mae"] < 0.05
    small = frame[(frame.N == 10) & (frame.method == "fanova")]
    assert small.spearman.mean() < big.loc["fanova"].spearman.mean()  # more trials, closer


def test_ped_anova_below_its_minimum_is_nan_not_an_error(frame):
    tiny = frame[(frame.method == "ped_anova") & (frame.N == 10)]   # top 10% = 1 trial
    assert len(tiny) == 2 and tiny.spearman.isna().all() and tiny.top1.isna().all()
    assert frame[(frame.method == "ped_anova") & (frame.N == 200)].spearman.notna().all()


def test_bad_input_is_refused_with_a_clear_message(table):
    quick = {"table": table, "sizes": (20,), "seeds": range(1), "progress": False}
    with pytest.raises(RecoveryError, match="unknown strategy.*random"):
        recovery(strategies=("randm",), **quick)
    with pytest.raises(RecoveryError, match="unknown importance method"):
        recovery(strategies=("random",), methods=("lime",), table=table, progress=False)
    with pytest.raises(RecoveryError, match="only 324 architectures"):
        recovery(table, sizes=(25, 400), progress=False)
    with pytest.raises(RecoveryError, match="≥ 5"):
        recovery(table, sizes=(3,), progress=False)
    with pytest.raises(RecoveryError, match=r"range\(5\)"):
        recovery(table, seeds=5, progress=False)
    with pytest.raises(RecoveryError, match="records"):
        recovery(table, score="params", progress=False)
    with pytest.raises(AnovaError, match="every combination"):
        recovery(table.iloc[:-10], strategies=("random",), sizes=(20,), progress=False)


def test_summary_confidence_interval_is_students_t_over_seeds():
    rows = [("random", "fanova", 50, s, rho, top1) for s, (rho, top1) in
            enumerate([(0.3, True), (0.5, False), (0.7, True), (math.nan, pd.NA)])]
    rows += [("random", "fanova", 100, 0, 0.95, True),
             ("random", "fanova", 200, 0, 0.99, True), ("random", "fanova", 200, 1, 0.4, True)]
    frame = pd.DataFrame(rows, columns=["strategy", "method", "N", "seed", "spearman", "top1"])
    frame["top1"] = frame["top1"].astype("boolean")
    s = recovery_summary(frame).set_index("N")
    assert s.loc[50, "n"] == 3 and s.loc[50, "spearman"] == pytest.approx(0.5)
    low, high = stats.t.interval(0.95, 2, loc=0.5, scale=0.2 / math.sqrt(3))
    assert s.loc[50, "spearman_low"] == pytest.approx(low)
    assert s.loc[50, "spearman_high"] == pytest.approx(high)
    assert s.loc[50, "spearman_ci"] == pytest.approx(4.302653 * 0.2 / math.sqrt(3), rel=1e-6)
    assert s.loc[50, "top1_rate"] == pytest.approx(2 / 3)     # the NA seed is left out
    assert s.loc[100, "n"] == 1 and math.isnan(s.loc[100, "spearman_ci"])
    assert s.loc[200, "spearman_high"] == 1.0 and s.loc[200, "spearman_ci"] > 0.3  # clipped
    with pytest.raises(RecoveryError, match="lacks the columns"):
        recovery_summary(frame.drop(columns="top1"))


def test_recovery_curves_draw_one_panel_per_method(frame):
    fig = nb.plot.recovery_curves(frame)
    assert len(fig.axes) == 3
    assert [ax.get_title() for ax in fig.axes] == ["fANOVA", "PED-ANOVA", "SHAP (surrogate)"]
    assert fig.axes[0].get_ylabel() == "Spearman ρ with the exact ANOVA"
    for ax in fig.axes:
        lines = [line for line in ax.get_lines() if line.get_label() == "random"]
        assert len(lines) == 1
        x, y = lines[0].get_data()
        assert list(x) == [10, 200]
    mean200 = frame[(frame.N == 200) & (frame.method == "fanova")].spearman.mean()
    assert fig.axes[0].get_lines()[0].get_ydata()[-1] == pytest.approx(mean200)
    top = nb.plot.recovery_curves(frame, metric="top1")
    assert top.axes[0].get_ylim() == pytest.approx((-0.03, 1.03))
    with pytest.raises(RecoveryError, match="metric"):
        nb.plot.recovery_curves(frame, metric="pearson")
