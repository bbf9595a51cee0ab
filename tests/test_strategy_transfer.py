"""The transfer strategy (nasbook/strategies/transfer.py): aging evolution warm-started with
another task's best architectures and drawing from a prior fitted on its main effects, run
simulated on tables and in a real search."""
import numpy as np
import pandas as pd
import pytest
from tables import EFFECTS, additive_table

import nasbook as nb
from nasbook.strategies.transfer import fit_prior

DECISIONS = list(nb.bench.DECISIONS)
WARM = [{"n_blocks": 1, "filters": 16, "kernel": 7, "pooling": "average", "activation": "tanh",
         "connection": "full"},
        {"n_blocks": 2, "filters": 32, "kernel": 5, "pooling": "max", "activation": "sigmoid",
         "connection": "residual"},
        {"n_blocks": 3, "filters": 64, "kernel": 3, "pooling": "max", "activation": "relu",
         "connection": "full"}]


def configs(history, rows):
    return [dict(zip(DECISIONS, r)) for r in history[DECISIONS].iloc[rows].itertuples(
        index=False, name=None)]


def test_transfer_is_registered_with_its_options():
    assert "transfer" in nb.strategies.available()
    opts = nb.strategies.options("transfer")
    assert opts["warm_start"] == () and opts["prior"] is None and opts["population_size"] == 10


def test_without_warm_start_or_prior_it_is_aging_evolution():
    table = additive_table(noise=0.01)
    plain = nb.bench.simulate("evolution", 40, seed=3, table=table)
    same = nb.bench.simulate("transfer", 40, seed=3, table=table)
    pd.testing.assert_frame_equal(plain, same)


def test_warm_start_is_proposed_first_in_order_then_evolution_goes_on():
    h = nb.bench.simulate("transfer", 30, seed=0, table=additive_table(), warm_start=WARM)
    assert configs(h, range(3)) == WARM
    assert len(h) == 30 and h[DECISIONS].drop_duplicates().shape[0] == 30   # no repeats
    # the best of the warm start (WARM[2]) is the pick from the third evaluation on
    assert h.best_val_so_far.iloc[2] == h.val_accuracy.iloc[2]


def test_a_partial_warm_configuration_is_completed_and_a_repeat_skipped():
    h = nb.bench.simulate("transfer", 5, seed=0, table=additive_table(),
                          warm_start=[{"n_blocks": 3, "activation": "relu"}, WARM[0], WARM[0]])
    first = configs(h, [0])[0]
    assert first["n_blocks"] == 3 and first["activation"] == "relu"
    assert configs(h, [1])[0] == WARM[0] and configs(h, [2])[0] != WARM[0]


def test_fit_prior_follows_the_main_effects():
    table = additive_table()
    prior = fit_prior(table, DECISIONS, "val_accuracy", temperature=0.05, floor=0.1)
    for d, effects in EFFECTS.items():
        p = prior[d]
        assert sum(p.values()) == pytest.approx(1.0)
        assert max(p, key=p.get) == max(effects, key=effects.get)       # best value likeliest
        assert min(p.values()) >= 0.1 / len(p) - 1e-12                   # the floor
        # by hand: softmax of the main effects (exactly the EFFECTS, minus their mean)
        e = np.array([effects[v] for v in p]) / 0.05
        soft = np.exp(e - e.max()) / np.exp(e - e.max()).sum()
        assert list(p.values()) == pytest.approx(list(0.9 * soft + 0.1 / len(p)))
    flat = fit_prior(table, DECISIONS, "val_accuracy", temperature=1e6)
    assert all(q == pytest.approx(1 / len(p)) for p in flat.values() for q in p.values())
    with pytest.raises(ValueError, match="temperature"):
        fit_prior(table, DECISIONS, temperature=0)
    with pytest.raises(ValueError, match="lacks the columns"):
        fit_prior(table, DECISIONS, "faithfulness")


def test_the_prior_shapes_the_first_population():
    only_relu = {"activation": {"relu": 1.0, "tanh": 0.0, "sigmoid": 0.0}}
    h = nb.bench.simulate("transfer", 10, seed=1, table=additive_table(), prior=only_relu,
                          population_size=10)
    assert set(h.activation) == {"relu"}                      # all drawn from the prior
    cold = nb.bench.simulate("evolution", 10, seed=1, table=additive_table())
    assert set(cold.activation) != {"relu"}


def test_transfer_options_from_a_table_use_validation_only():
    table = additive_table(noise=0.0)
    options = nb.bench.transfer_options(table, k=4)
    val = nb.bench.lookup_table(table).val_accuracy
    warm_val = [val.loc[tuple(c[d] for d in DECISIONS)] for c in options["warm_start"]]
    assert warm_val == sorted(val, reverse=True)[:4]                  # the best 4, best first
    assert all(type(v) in (int, str) for c in options["warm_start"] for v in c.values())
    shuffled = table.assign(test_accuracy=np.random.default_rng(0).permutation(
        table.test_accuracy.to_numpy()))
    assert nb.bench.transfer_options(shuffled, k=4) == options   # test accuracy is not read
    h = nb.bench.simulate("transfer", 12, seed=0, table=table, **options)
    assert h.test_of_best_so_far.iloc[0] == h.test_accuracy.max()   # its best first: regret 0


@pytest.mark.parametrize("bad, message", [({"warm_start": WARM[0]}, "list of configurations"),
                                          ({"prior": {"kernel": {3: -1.0}}}, "non-negative")])
def test_bad_options_are_refused(bad, message):
    with pytest.raises(nb.strategies.StrategyError, match=message):
        nb.strategies.get("transfer", **bad)


def test_transfer_runs_a_real_search(tmp_path):
    ds = nb.load_dataset("mnist1d").subset(n_train=200, n_val=100)
    space = nb.bench.bench_space(ds.input_shape, ds.num_classes)
    prior = fit_prior(additive_table(), DECISIONS, "val_accuracy")
    warm = [dict(WARM[0], n_blocks=1, filters=16), dict(WARM[2], n_blocks=1, filters=16)]
    result = nb.search(ds, space, strategy="transfer", max_trials=3, epochs=1, seed=0,
                       run_dir=tmp_path / "run", progress=False, tensorboard=False,
                       warm_start=warm, prior=prior, population_size=2, sample_size=1)
    assert result.manifest["strategy"] == "transfer"
    assert result.counts()["completed"] == 3 and result.counts()["failed"] == 0
    trials = result.trials.sort_values("trial_id") if "trial_id" in result.trials else \
        result.trials
    got = [{d: trials[d].iloc[i] for d in DECISIONS} for i in range(2)]
    assert [{d: (v.item() if hasattr(v, "item") else v) for d, v in g.items()} for g in got] \
        == warm
