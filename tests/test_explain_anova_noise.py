"""The exact ANOVA in three parts and its noise floor (nasbook/explain/anova.py:
variance_shares, noise_floor), on small full-factorial tables whose answers are known: a
regression on dummy variables written here for the shares, and the degrees of freedom of each
term for pure noise (its expected share)."""
import itertools

import numpy as np
import pandas as pd
import pytest

import nasbook as nb

LEVELS = {"a": [0, 1, 2], "b": ["x", "y"], "c": [10, 20]}   # 12 cells
DF = {"a": 2, "b": 1, "c": 1, "pairs": 2 + 2 + 1, "rest": 2}  # degrees of freedom; total 11


def grid(score, seeds=(0,)):
    rows = []
    for i, combo in enumerate(itertools.product(*LEVELS.values())):
        for s in seeds:
            rows.append({"arch_id": i, "seed": s, **dict(zip(LEVELS, combo)),
                         "score": score(i, s, dict(zip(LEVELS, combo)))})
    return pd.DataFrame(rows)


def r2(y, columns):
    """R^2 of a least-squares fit of y on one-hot dummies of the given column groups."""
    x = np.ones((len(y), 1))
    for group in columns:
        dummies = pd.get_dummies(group, drop_first=False).to_numpy(float)
        x = np.c_[x, dummies]
    fit, *_ = np.linalg.lstsq(x, y, rcond=None)
    return 1 - np.sum((y - x @ fit) ** 2) / np.sum((y - y.mean()) ** 2)


def test_variance_shares_equal_a_dummy_regression_and_sum_to_one():
    rng = np.random.default_rng(0)
    t = grid(lambda i, s, c: rng.normal())
    shares = nb.explain.variance_shares(t, score="score", decisions=list(LEVELS))
    assert shares.index.tolist() == ["a", "b", "c", "pairs", "rest"]
    assert shares.sum() == pytest.approx(1.0)
    y = t.score.to_numpy()
    cols = {d: t[d].astype(str) for d in LEVELS}
    for d in LEVELS:   # balanced design: a main effect's share is its R^2 alone
        assert shares[d] == pytest.approx(r2(y, [cols[d]]))
    pair_cols = [cols[a] + "|" + cols[b] for a, b in itertools.combinations(LEVELS, 2)]
    mains = r2(y, list(cols.values()))
    assert shares["pairs"] == pytest.approx(r2(y, [*cols.values(), *pair_cols]) - mains)
    # decisions default to the table's columns by the trials convention, in table order
    auto = nb.explain.variance_shares(t.drop(columns=["arch_id", "seed"]), score="score")
    assert auto.index.tolist() == ["a", "b", "c", "pairs", "rest"]


def test_noise_floor_is_the_anova_of_the_seed_difference_on_one_runs_scale():
    rng = np.random.default_rng(1)
    signal = {i: 2.0 * c["a"] + (c["b"] == "y") for i, c in
              enumerate(dict(zip(LEVELS, combo)) for combo in itertools.product(*LEVELS.values()))}
    noise = rng.normal(scale=0.5, size=(12, 2))
    t = grid(lambda i, s, c: signal[i] + noise[i, s], seeds=(0, 1))
    floor = nb.explain.noise_floor(t, score="score", decisions=list(LEVELS))
    d = (noise[:, 0] - noise[:, 1]) / np.sqrt(2)
    one = t[t.seed == 0].score.to_numpy()
    assert floor.attrs["noise_share"] == pytest.approx(d.var() / one.var())
    assert floor.sum() == pytest.approx(floor.attrs["noise_share"])
    by_hand = nb.explain.variance_shares(
        t[t.seed == 0].assign(score=d), score="score", decisions=list(LEVELS))
    assert floor.to_numpy() == pytest.approx(by_hand.to_numpy() * d.var() / one.var())
    # the seeds can be named in either order; the scale is the first one's variance
    other = nb.explain.noise_floor(t, score="score", decisions=list(LEVELS), seeds=(1, 0))
    assert other.attrs["noise_share"] == pytest.approx(
        d.var() / t[t.seed == 1].score.to_numpy().var())


def test_pure_noise_spreads_over_the_terms_by_their_degrees_of_freedom():
    rng = np.random.default_rng(2)
    draws = []
    for _ in range(600):
        noise = rng.normal(size=(12, 2))
        t = grid(lambda i, s, c: noise[i, s], seeds=(0, 1))
        floor = nb.explain.noise_floor(t, score="score", decisions=list(LEVELS))
        draws.append(floor / floor.attrs["noise_share"])
    mean = pd.DataFrame(draws).mean()
    for term, df in DF.items():
        assert mean[term] == pytest.approx(df / 11, abs=0.03)


def test_noise_floor_refuses_what_it_cannot_measure():
    t = grid(lambda i, s, c: float(i), seeds=(0, 1))
    with pytest.raises(nb.explain.AnovaError, match="no noise"):
        nb.explain.noise_floor(t, score="score", decisions=list(LEVELS))
    with pytest.raises(nb.explain.AnovaError, match="two seeds"):
        nb.explain.noise_floor(t[t.seed == 0], score="score", decisions=list(LEVELS))
    with pytest.raises(nb.explain.AnovaError, match="'seed' column"):
        nb.explain.noise_floor(t.drop(columns="seed"), score="score", decisions=list(LEVELS))
