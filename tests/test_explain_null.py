"""The no-information null of a baseline-relative faithfulness measure (nasbook.explain.null)
and the Rashomon control over training runs (nasbook.bench.explain_build.rashomon_control)."""
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nasbook.bench.explain_build import rashomon_control
from nasbook.explain import null


def _table(effect, *, n=324, seeds=(0, 1), seed=0):
    """A constructed table: accuracy drives a random AUC (rho about +0.977, as in the shipped
    table); the method's AUC is ``effect`` x accuracy plus its own noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in seeds:
        acc = rng.uniform(0.2, 0.95, n)
        random_auc = 0.3 * acc + rng.normal(0, 0.015, n)
        auc = 0.05 + effect * acc + rng.normal(0, 0.005, n)
        rows.append(pd.DataFrame({"seed": s, "test_accuracy": acc,
                                  "random_deletion_auc": random_auc,
                                  "ig_deletion_auc": auc}))
    return pd.concat(rows, ignore_index=True)


def test_partial_spearman_against_a_hand_computed_reference():
    rng = np.random.default_rng(1)
    z = rng.normal(size=200)
    x, y = z + rng.normal(size=200), z + rng.normal(size=200)
    rx, ry, rz = (stats.rankdata(v) for v in (x, y, z))
    # the textbook partial correlation from the three pairwise rank correlations
    rxy, rxz, ryz = (np.corrcoef(a, b)[0, 1] for a, b in ((rx, ry), (rx, rz), (ry, rz)))
    expected = (rxy - rxz * ryz) / np.sqrt((1 - rxz ** 2) * (1 - ryz ** 2))
    assert null.partial_spearman(x, y, z) == pytest.approx(expected, abs=1e-12)
    assert stats.spearmanr(x, y).statistic > 0.3          # confounded ...
    assert abs(null.partial_spearman(x, y, z)) < 0.15      # ... and nothing beyond z


def test_partial_spearman_recovers_a_planted_effect_and_zero_without_one():
    planted = _table(0.05, seeds=(0,))
    none = _table(0.0, seeds=(0,))
    p = null.partial_spearman(planted.test_accuracy, planted.ig_deletion_auc,
                              planted.random_deletion_auc)
    p0 = null.partial_spearman(none.test_accuracy, none.ig_deletion_auc,
                               none.random_deletion_auc)
    assert p > 0.3 and abs(p0) < 0.15
    with pytest.raises(ValueError, match="one value per architecture"):
        null.partial_spearman([1, 2, 3], [1, 2], [1, 2, 3])


def test_difference_null_is_minus_rho_with_the_baseline_when_the_auc_is_independent():
    t = _table(0.0, seeds=(0,))
    acc, auc, base = t.test_accuracy, t.ig_deletion_auc, t.random_deletion_auc
    rho_base = stats.spearmanr(acc, base).statistic
    assert rho_base > 0.95
    res = null.permutation_null(acc, auc, base, form="difference", n_perm=300)
    # an AUC that knows nothing still "correlates" strongly once the baseline is subtracted
    assert res.observed < -0.75 and res.null_mean == pytest.approx(res.observed, abs=0.03)
    assert res.null_low <= res.observed <= res.null_high and res.p_value > 0.05
    # a constant AUC gives exactly -rho(accuracy, baseline), for both forms
    const = np.full(len(t), 0.07)
    for form in null.FORMS:
        assert null.permutation_null(acc, const, base, form=form, n_perm=10).observed == \
            pytest.approx(-rho_base, abs=1e-12)


def test_against_null_and_its_verdicts():
    frame = null.against_null(_table(0.0), n_perm=200, n_boot=200, n_null=5)
    assert list(frame.index) == [0, 1]
    assert (frame.excess_difference.abs() < 0.01).all()
    assert (frame.partial.abs() < 0.2).all()
    assert (frame.partial_low < frame.partial).all() and (frame.partial < frame.partial_high).all()
    assert len(null.null_verdicts(frame)) == 4
    # a planted faithfulness effect: the method's deletion AUC FALLS with accuracy beyond
    # what the baseline says. The partial shows it on both seeds; the difference form's
    # excess over its null is small beside it (the random AUC dominates the difference)
    planted = null.against_null(_table(-0.05), n_perm=200, n_boot=200, n_null=5)
    assert (planted.partial < -0.4).all() and (planted.partial_high < 0).all()
    assert (planted.excess_difference < 0).all() and (planted.excess_difference > -0.05).all()
    verdicts = null.null_verdicts(planted)
    assert verdicts[2].word == "met" and verdicts[3].word == "missed"
    assert "given random_deletion_auc" in verdicts[2].what and verdicts[2].n == 2
    with pytest.raises(ValueError, match="lacks the columns"):
        null.against_null(_table(0.0), method="saliency")
    with pytest.raises(ValueError, match="form is one of"):
        null.permutation_null([1, 2, 3], [1, 2, 3], [1, 2, 3], form="log")


def test_verdicts_are_per_training_seed():
    # hand-made rows: the verdict reads one figure per seed, signed by the curve's direction
    frame = pd.DataFrame({"excess_difference": [0.002, 0.010], "excess_ratio": [0.18, 0.15],
                          "partial": [0.43, 0.46]}, index=[0, 1])
    words = [v.word for v in null.null_verdicts(frame, method="ig", curve="deletion")]
    assert words == ["missed", "missed", "missed", "met"]
    one = null.null_verdicts(frame.iloc[:1], method="ig", curve="deletion")
    assert one[3].word == "not shown" and one[3].n == 1      # one run is one run
    with pytest.raises(ValueError, match="curve is"):
        null.better_of("sideways")


def test_rashomon_control_by_training_run():
    rng = np.random.default_rng(0)
    base_a, base_b = rng.normal(size=(50, 40)), rng.normal(size=(50, 40))
    maps_a = {s: base_a + 0.1 * rng.normal(size=(50, 40)) for s in (1, 2, 3)}
    maps_b = {s: base_b + 0.1 * rng.normal(size=(50, 40)) for s in (1, 2, 3)}
    frame = rashomon_control(maps_a, maps_b, k=5)
    assert list(frame.index) == [1, 2, 3] and list(frame["other seed"]) == [2, 3, 1]
    assert (frame.control > 0.8).all() and (frame.pair.abs() < 0.2).all()
    assert (frame.difference < -0.6).all()
    # the same architecture twice: pair and control are alike
    same = rashomon_control(maps_a, {s: m.copy() for s, m in maps_a.items()})
    assert (same.pair == 1.0).all()
    with pytest.raises(ValueError, match="at least 3 seeds"):
        rashomon_control({1: base_a, 2: base_a}, {1: base_b, 2: base_b})
    with pytest.raises(ValueError, match="same seeds"):
        rashomon_control(maps_a, {1: base_b, 2: base_b, 4: base_b})


def test_rashomon_control_checks_the_premise_of_equal_accuracy():
    rng = np.random.default_rng(1)
    maps_a = {s: rng.normal(size=(20, 40)) for s in (1, 2, 3)}
    maps_b = {s: rng.normal(size=(20, 40)) for s in (1, 2, 3)}
    a = {1: 0.757, 2: 0.770, 3: 0.765}
    apart = rashomon_control(maps_a, maps_b, accuracy_a=a, accuracy_b={1: 0.783, 2: 0.808,
                                                                      3: 0.795})
    assert list(apart.accuracy_b) == [0.783, 0.808, 0.795]
    gap = (0.783 + 0.808 + 0.795) / 3 - (0.757 + 0.770 + 0.765) / 3
    assert apart.attrs["accuracy_gap"] == pytest.approx(gap)
    assert apart.attrs["accuracy_spread"] == pytest.approx(0.025)   # arch B's range
    assert apart.attrs["equally_accurate"] is False
    close = rashomon_control(maps_a, maps_b, accuracy_a=a, accuracy_b={1: 0.770, 2: 0.760,
                                                                      3: 0.768})
    assert close.attrs["equally_accurate"] is True
    assert "accuracy_gap" not in rashomon_control(maps_a, maps_b).attrs
    with pytest.raises(ValueError, match="both architectures"):
        rashomon_control(maps_a, maps_b, accuracy_a=a)
    with pytest.raises(ValueError, match="one accuracy per seed"):
        rashomon_control(maps_a, maps_b, accuracy_a=a, accuracy_b={1: 0.7, 2: 0.7})


def test_residual_given_is_fitted_per_seed():
    t = _table(0.0)
    t.loc[t.seed == 1, "ig_deletion_auc"] += 0.5 * t.loc[t.seed == 1, "random_deletion_auc"]
    r = null.residual_given(t, "ig_deletion_auc", "random_deletion_auc")
    for s in (0, 1):
        part = t.seed == s
        assert abs(r[part].mean()) < 1e-12
        assert abs(np.corrcoef(r[part], t.random_deletion_auc[part])[0, 1]) < 1e-9
    # what is left is the AUC's own noise (sd 0.005), not the 0.5 x baseline of seed 1
    assert r.std() == pytest.approx(0.005, rel=0.15)
    with pytest.raises(ValueError, match="lacks the columns"):
        null.residual_given(t, "nope", "random_deletion_auc")
