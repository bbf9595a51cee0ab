"""The benchmark space, its builder (resumable) and the shipped table's integrity."""
import csv

import pytest

import nasbook as nb
from nasbook.bench.build import COLUMNS, build, done_rows
from tables import additive_table, best_test


def test_space_is_full_factorial_and_unconditional():
    space = nb.bench.bench_space()
    configs = nb.bench.all_configs()
    assert space.size() == len(configs) == 324
    assert len({tuple(sorted(c.items())) for c in configs}) == 324
    for config in configs[:: 53]:  # every decision applies to every architecture
        values = dict(config, dropout=0.0, l2=0.0, optimizer="adam", learning_rate=3e-3)
        assert set(nb.bench.DECISIONS) <= set(space.active_values(values))


def test_builder_trains_appends_and_resumes(tmp_path):
    out = tmp_path / "bench.csv"
    build(out, seeds=[0], workers=1, limit=1, progress=False)
    with open(out, "a") as f:          # a kill mid-write leaves a torn last line
        f.write("1,0,1,16,3,max")
    assert done_rows(out) == {(0, 0)}  # the torn line is dropped, the finished run kept
    build(out, seeds=[0], workers=1, limit=1, progress=False)
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["arch_id"], r["seed"]) for r in rows] == [("0", "0"), ("1", "0")]
    assert list(rows[0]) == COLUMNS
    first = rows[0]
    assert first["status"] == "completed" and 0.0 <= float(first["test_accuracy"]) <= 1.0
    assert float(first["val_accuracy"]) == float(first["val_accuracy_e15"])


def test_load_refuses_a_table_that_does_not_match_its_checksum(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text(",".join(COLUMNS) + "\n")
    (tmp_path / "t.csv.sha256").write_text("0" * 64 + "  t.csv\n")
    with pytest.raises(nb.bench.BenchmarkError, match="SHA-256"):
        nb.bench.load(table)
    with pytest.raises(nb.bench.BenchmarkError, match="no benchmark table"):
        nb.bench.load(tmp_path / "missing.csv")


def synthetic_table(epochs=15):
    """A table over the benchmark space with a known additive score (two seeds), and a
    per-epoch validation curve that rises to it with the same shape for every architecture."""
    return additive_table(noise=0.002, curve_epochs=epochs), best_test()


@pytest.mark.parametrize("strategy", ["random", "greedy", "evolution", "reinforce",
                                      "hyperband"])
def test_simulate_drives_each_oracle_for_a_few_hundred_trials(strategy):
    table, best_test = synthetic_table()
    history = nb.bench.simulate(strategy, 300, seed=0, table=table)
    assert len(history) >= 200 or strategy == "greedy"   # greedy may stop at a local optimum
    assert history["val_accuracy"].notna().all()
    assert (history["cumulative_epochs"] == history["cost_epochs"].cumsum()).all()
    if strategy == "hyperband":   # low fidelity first: cheaper than 15 epochs a trial
        assert set(history["epochs"]) == {2, 5, 15}
        assert history["cumulative_epochs"].iloc[-1] < 15 * len(history) / 2
    else:
        assert (history["epochs"] == 15).all() and (history["cost_epochs"] == 15).all()
        # additive: val order = test order (hyperband compares scores across fidelities)
        assert history["test_of_best_so_far"].is_monotonic_increasing
    if strategy != "random":
        assert history["test_of_best_so_far"].iloc[-1] == pytest.approx(best_test)


def test_shipped_table_matches_its_checksum_and_covers_the_space():
    table = nb.bench.load()                     # verifies data/mnist1d_bench.csv.sha256
    assert table.arch_id.nunique() == 324 and sorted(table.seed.unique()) == [0, 1]
    assert len(table) == 648 and not table.duplicated(["arch_id", "seed"]).any()
    configs = nb.bench.all_configs()
    for row in table.sample(20, random_state=0).itertuples():
        assert {k: getattr(row, k) for k in nb.bench.DECISIONS} == configs[row.arch_id]
    curves = table[[f"val_accuracy_e{e:02d}" for e in range(1, 16)]]
    assert curves.notna().all().all() and (table.val_accuracy == curves.iloc[:, -1]).all()
    assert table.test_accuracy.between(0, 1).all() and (table.params > 0).all()


def test_simulate_drives_the_bayesian_oracle_past_its_random_start():
    """Bayesian optimisation spends seconds per proposal (keras-tuner maximises its acquisition
    function), so it gets a dozen trials here, not hundreds: 8 random, then 4 from its GP."""
    table, _ = synthetic_table()
    history = nb.bench.simulate("bayesian", 12, seed=0, table=table, num_initial_points=8)
    assert len(history) == 12 and history["val_accuracy"].notna().all()
    names = list(nb.bench.DECISIONS)
    assert not history.duplicated(names).any()   # no architecture is proposed twice
    # the process model's proposals beat the random start's mean
    assert history["val_accuracy"].iloc[8:].mean() > history["val_accuracy"].iloc[:8].mean()
