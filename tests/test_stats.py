"""The verdict function and the paired difference of nasbook.stats, on constructed cases whose
answers are known, checked against scipy."""
import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from nasbook.stats import MET, MISSED, NOT_SHOWN, paired_difference, verdict


def test_met_not_shown_missed_from_the_one_sided_bound():
    tight = verdict([0.70, 0.71, 0.69, 0.70, 0.72], 0.6)
    assert tight.word == MET and tight.met and tight.n == 5
    # notebook 11's uniform weight sharing over 3 seeds: mean above 0.6, bound below it
    loose = verdict([0.670, 0.671, 0.605], 0.6, what="uniform tau")
    assert loose.word == NOT_SHOWN and loose.bound == pytest.approx(0.5849, abs=1e-4)
    assert "NOT SHOWN" in str(loose) and "n = 3" in str(loose) and str(loose).startswith("uniform")
    short = verdict([0.55, 0.58, 0.57], 0.6)
    assert short.word == MISSED and short.gap == pytest.approx(-0.6 + np.mean([0.55, 0.58, 0.57]))


def test_the_bound_is_scipys_one_sided_t_quantile():
    values = np.array([3.1, 2.7, 3.4, 2.9, 3.3, np.nan])
    v = verdict(values, 2.0, level=0.95)
    x = values[~np.isnan(values)]
    expected = x.mean() - scipy_stats.t.ppf(0.95, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    assert v.n == 5 and v.bound == pytest.approx(expected, rel=1e-12)
    lower = verdict(values, 4.0, better="lower", level=0.9)
    assert lower.bound == pytest.approx(
        x.mean() + scipy_stats.t.ppf(0.9, 4) * x.std(ddof=1) / math.sqrt(5), rel=1e-12)
    assert lower.word == MET and lower.gap == pytest.approx(4.0 - x.mean())


def test_one_run_never_meets_a_goal_and_bad_input_is_named():
    one = verdict([31.1], 60, better="lower", what="proxy seconds")
    assert one.word == NOT_SHOWN and math.isnan(one.bound) and "n = 1" in str(one)
    assert verdict([75.0], 60, better="lower").word == MISSED
    with pytest.raises(ValueError, match="no figures to judge for tau"):
        verdict([np.nan], 0.6, what="tau")
    with pytest.raises(ValueError, match="better must be 'higher' or 'lower'"):
        verdict([1, 2], 0, better="up")


def test_the_paired_test_recovers_a_planted_difference_and_none_in_a_shuffled_copy():
    rng = np.random.default_rng(3)
    seed_effect = rng.normal(0.6, 0.05, size=12)         # shared by both methods, per seed
    a = seed_effect + 0.04 + rng.normal(0, 0.01, size=12)
    b = seed_effect + rng.normal(0, 0.01, size=12)
    d = paired_difference(a, b)
    assert d.n == 12 and d.low > 0 and d.boot_low > 0 and d.p_value < 0.001
    assert d.low < 0.04 < d.high
    t = scipy_stats.ttest_rel(a, b)
    assert d.p_value == pytest.approx(t.pvalue, rel=1e-10)
    # unpaired, the seed effect would swamp it: Welch's interval covers zero here
    assert scipy_stats.ttest_ind(a, b, equal_var=False).pvalue > d.p_value
    # shuffled copy: each pair's two labels swapped at random, so the methods are exchangeable
    no_effect = seed_effect + rng.normal(0, 0.01, size=12)
    swap = rng.random(12) < 0.5
    x, y = np.where(swap, no_effect, b), np.where(swap, b, no_effect)
    null = paired_difference(x, y)
    assert null.low < 0 < null.high and null.boot_low < 0 < null.boot_high
    assert verdict(a - b, 0.0).word == MET and verdict(x - y, 0.0).word != MET


def test_paired_difference_checks_its_pairs():
    with pytest.raises(ValueError, match="equal lengths"):
        paired_difference([1, 2, 3], [1, 2])
    single = paired_difference([1.0, np.nan], [0.5, 0.2])
    assert single.n == 1 and single.mean == 0.5 and math.isnan(single.low)


def test_a_tie_with_the_goal_is_not_met():
    tie = verdict([0.0, 0.0, 0.0], 0.0)           # e.g. two methods equal on every seed
    assert tie.word == NOT_SHOWN and tie.bound == 0.0
