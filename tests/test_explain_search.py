"""Explaining a search: exact functional ANOVA, importance estimates against it, masking of
decisions the built model did not use, effects, interactions, rules and the winner."""
import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

import nasbook as nb
from nasbook.explain import search as xs
from nasbook.explain.anova import AnovaError

import tables
from tables import EFFECTS


def additive_table(noise=0.0):
    return tables.additive_table(EFFECTS, noise=noise)


def true_fractions():
    variances = {d: np.var(list(e.values())) for d, e in EFFECTS.items()}
    total = sum(variances.values())
    return {d: v / total for d, v in variances.items()}


def test_functional_anova_recovers_an_additive_table_exactly():
    anova = nb.explain.functional_anova(additive_table(noise=0.003), score="val_accuracy")
    main = anova[anova.order == 1].set_index("a")["fraction"]
    for d, expected in true_fractions().items():
        assert main[d] == pytest.approx(expected, abs=1e-12)
    assert anova[anova.order == 2]["fraction"].abs().max() < 1e-12
    assert len(anova) == 6 + 15
    assert nb.explain.main_effects(additive_table())["activation"] == \
        pytest.approx(true_fractions()["activation"], abs=1e-12)


def test_functional_anova_finds_a_pure_interaction():
    rows = [{"a": a, "b": b, "c": c, "y": float(a != b)}   # XOR of a and b; c does nothing
            for a, b, c in itertools.product([0, 1], [0, 1], ["x", "y", "z"])]
    anova = nb.explain.functional_anova(pd.DataFrame(rows), score="y", decisions=["a", "b", "c"])
    top = anova.iloc[0]
    assert (top["term"], top["order"]) == ("a × b", 2)
    assert top["fraction"] == pytest.approx(1.0)
    assert anova.iloc[1:]["fraction"].abs().max() < 1e-12


def test_functional_anova_refuses_a_partial_table():
    table = additive_table().iloc[:-10]
    with pytest.raises(AnovaError, match="every combination"):
        nb.explain.functional_anova(table, score="val_accuracy")
    with pytest.raises(AnovaError, match="lacks the columns"):
        nb.explain.functional_anova(table, score="nope")


@pytest.fixture(scope="module")
def random_trials():
    return nb.bench.simulate("random", 200, seed=0, table=additive_table(noise=0.003))


def test_importance_from_200_random_trials_tracks_the_truth(random_trials):
    imp = xs.importance(random_trials)
    truth = pd.Series(true_fractions())[imp.index]
    assert list(imp.columns) == ["fanova", "ped_anova", "shap"]
    assert np.allclose(imp.sum(), 1.0)
    for method in ("fanova", "shap"):
        rho = spearmanr(imp[method], truth).statistic
        assert rho > 0.8, (method, rho, imp[method].round(3).to_dict())
        assert imp[method].idxmax() == "activation"
    assert imp.attrs["n_trials"] == 200 and imp.attrs["surrogate_r2"] > 0.9


def test_importance_input_errors(random_trials):
    with pytest.raises(xs.SearchExplainError, match="unknown importance method"):
        xs.importance(random_trials, methods=["fanova", "gini"])
    with pytest.raises(xs.SearchExplainError, match="at least 5"):
        xs.importance(random_trials.head(3))
    with pytest.raises(xs.SearchExplainError, match="top 10%"):
        xs.importance(random_trials.head(12), methods="ped_anova")
    with pytest.raises(xs.SearchExplainError, match="cannot explain"):
        xs.prepare([1, 2, 3])


def small_mlp_space():
    return nb.space.preset("mlp", (40, 1), 10, n_dense=[1, 2], units=[8, 16],
                           activation=["relu", "tanh"], dropout=[0.0], l2=[0.0],
                           optimizer=["adam"], learning_rate=[0.01])


def test_masking_and_dedup_by_the_built_architecture():
    space = small_mlp_space()
    names = [n for n, _ in space.decisions()]
    assert {"n_dense", "units_1", "units_2"} <= set(names)
    frame = pd.DataFrame([
        {"n_dense": 1, "units_1": 8, "units_2": 8, "activation": "relu", "val_accuracy": 0.5},
        # same built model: units_2 is not built when n_dense = 1
        {"n_dense": 1, "units_1": 8, "units_2": 16, "activation": "relu", "val_accuracy": 0.7},
        {"n_dense": 2, "units_1": 8, "units_2": 16, "activation": "relu", "val_accuracy": 0.8},
        {"n_dense": 2, "units_1": 16, "units_2": 8, "activation": "tanh", "val_accuracy": 0.9},
    ])
    trials = xs.prepare(frame, space=space)
    assert len(trials) == 3 and sorted(trials["n_runs"]) == [1, 1, 2]
    merged = trials[trials["n_runs"] == 2].iloc[0]
    assert merged["units_2"] is None and merged["score"] == pytest.approx(0.6)
    assert all(v is not None for v in trials.loc[trials["n_dense"] == 2, "units_2"])
    assert trials.attrs["direction"] == "max" and "units_2" in trials.attrs["decisions"]
    unmasked = xs.prepare(frame, decisions=["n_dense", "units_1", "units_2", "activation"])
    assert len(unmasked) == 4   # without the space, nothing tells the rows are the same model


@pytest.fixture(scope="module")
def real_result(tmp_path_factory):
    ds = nb.load_dataset("mnist1d", seed=0).subset(n_train=300, n_val=200, seed=0)
    return nb.search(ds, small_mlp_space(), "random", max_trials=5, epochs=1, seed=0,
                     run_dir=tmp_path_factory.mktemp("xs") / "run", progress=False)


def test_a_real_search_result_is_masked_and_explained(real_result):
    trials = xs.prepare(real_result)
    assert trials.attrs["objective"] == "val_accuracy"
    one_layer = trials[trials["n_dense"] == 1]
    assert len(one_layer) and all(v is None for v in one_layer["units_2"])
    assert trials.index.is_unique and len(trials) <= 5
    effects = xs.marginal_effects(real_result, "units_2")
    assert xs.NOT_BUILT in list(effects["value"])
    assert effects["n"].sum() == len(trials)
    cmp = xs.winner_vs_runners_up(real_result, k=3)
    assert cmp.attrs["winner_score"] == pytest.approx(trials["score"].max())


def test_marginal_effects_follow_the_additive_truth(random_trials):
    me = xs.marginal_effects(random_trials)
    act = me[me.decision == "activation"].set_index("value")
    assert list(act.index) == ["relu", "tanh", "sigmoid"]
    assert act.loc["relu", "pd_mean"] > act.loc["tanh", "pd_mean"] > act.loc["sigmoid", "pd_mean"]
    # differences between values match the table's effects to within the forest's smoothing
    assert act.loc["tanh", "pd_mean"] - act.loc["sigmoid", "pd_mean"] == pytest.approx(0.2,
                                                                                       abs=0.04)
    assert (me["pd_low"] <= me["pd_mean"]).all() and (me["pd_mean"] <= me["pd_high"]).all()
    assert me.groupby("decision")["n"].sum().eq(200).all()


def test_interactions_are_small_on_an_additive_table_and_found_when_present():
    additive = xs.interactions(nb.bench.simulate("random", 150, seed=1, table=additive_table()))
    assert additive["strength"].max() < 0.05
    table = additive_table()
    both = (table.connection == "residual") & (table.kernel == 7)
    table.loc[both, "val_accuracy"] += 0.3   # a strong connection × kernel interaction
    inter = xs.interactions(nb.bench.simulate("random", 150, seed=1, table=table), top=3)
    assert {inter.iloc[0]["a"], inter.iloc[0]["b"]} == {"kernel", "connection"}
    assert inter.iloc[0]["strength"] > 5 * inter.iloc[1]["strength"]


def test_rules_read_the_top_region():
    table = additive_table()
    good = (table.activation == "relu") & (table.n_blocks >= 2)
    table["val_accuracy"] = np.where(good, 0.9, 0.5) + 0.001 * table["filters"] / 64
    trials = nb.bench.simulate("random", 200, seed=2, table=table)
    top_fraction = good.mean() / 2   # the top is inside the good region
    r = xs.rules(trials, top_fraction=float(top_fraction), max_depth=2)
    assert r.iloc[0]["rule"] == "n_blocks ≥ 2 and activation = relu"
    assert r.iloc[0]["top_share"] > 0.3 and r.iloc[1:]["top_share"].max() == 0.0
    assert r["n"].sum() == 200


def test_winner_vs_runners_up_counts_agreement():
    frame = pd.DataFrame({"kernel": [3, 5, 3, 3, 7], "filters": [16, 16, 32, 64, 16],
                          "activation": ["relu"] * 4 + ["tanh"],
                          "val_accuracy": [0.9, 0.8, 0.7, 0.6, 0.1]})
    cmp = xs.winner_vs_runners_up(frame, k=3)
    assert cmp.loc["kernel", "winner"] == 3
    assert cmp.loc["kernel", "runners_up_agree"] == pytest.approx(2 / 3)
    assert cmp.loc["kernel", "runners_up"] == "3 ×2, 5 ×1"
    mean = frame.val_accuracy.mean()
    assert cmp.loc["activation", "effect"] == pytest.approx(0.75 - mean)


def test_a_hyperband_history_is_explained_at_full_fidelity_only():
    table = additive_table()
    for e in range(1, 16):   # a learning curve that ends at the final score
        table[f"val_accuracy_e{e:02d}"] = table["val_accuracy"] - 0.2 * (1 - e / 15)
    history = nb.bench.simulate("hyperband", 120, seed=0, table=table)
    assert history["epochs"].nunique() > 1
    trials = xs.prepare(history)
    full = history[history["epochs"] == 15]
    assert len(trials) == len(full.drop_duplicates(list(nb.bench.DECISIONS)))
    assert trials["score"].max() == pytest.approx(full["val_accuracy"].max())
