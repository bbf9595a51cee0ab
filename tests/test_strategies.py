"""The hand-written strategies, driven by synthetic objectives (no training, seconds)."""
import itertools

import keras_tuner as kt
import numpy as np
import pytest

from nasbook.strategies.base import ArchitectureOracle, domain, drive
from nasbook.strategies.evolution import EvolutionOracle
from nasbook.strategies.greedy import GreedyOracle
from nasbook.strategies.reinforce import ReinforceOracle, softmax

OBJECTIVE = kt.Objective("score", "max")
NAMES = "abcd"


def flat_space():
    hp = kt.HyperParameters()
    for name in NAMES:
        hp.Choice(name, [0, 1, 2, 3])
    return hp


def additive_objective(seed=123):
    """A 4^4 space with an additive score plus one pairwise interaction; optimum known."""
    rng = np.random.default_rng(seed)
    table = {d: rng.normal(size=4) for d in NAMES}

    def score(v):
        bonus = 0.5 if (v["a"], v["b"]) == (int(np.argmax(table["a"])), 3) else 0.0
        return float(sum(table[d][v[d]] for d in NAMES) + bonus)

    best = max(score(dict(zip(NAMES, c))) for c in itertools.product(range(4), repeat=4))
    return score, best


def make(cls, seed, max_trials=40, **kwargs):
    return cls(objective=OBJECTIVE, max_trials=max_trials, hyperparameters=flat_space(),
               seed=seed, **kwargs)


def hit_rate(factory, seeds=range(12), n_trials=40):
    score, best = additive_objective()
    hits = 0
    for seed in seeds:
        history = drive(factory(seed), score, n_trials, persist=False)
        hits += max(h["score"] for h in history) >= best - 1e-9
    return hits / len(seeds)


@pytest.fixture(scope="module")
def random_rate():
    return hit_rate(lambda s: kt.oracles.RandomSearchOracle(
        objective=OBJECTIVE, max_trials=40, hyperparameters=flat_space(), seed=s + 1))


@pytest.mark.parametrize("cls,kwargs", [
    (GreedyOracle, {}),
    (EvolutionOracle, {"population_size": 8, "sample_size": 3}),
    (ReinforceOracle, {}),
])
def test_finds_the_optimum_clearly_more_often_than_chance(cls, kwargs, random_rate):
    # chance: 40 random draws from 256 architectures hit the single optimum ~15% of the time
    rate = hit_rate(lambda s: make(cls, s, **kwargs))
    assert rate >= 0.5 and rate >= 2 * random_rate, (rate, random_rate)


@pytest.mark.parametrize("cls", [GreedyOracle, EvolutionOracle, ReinforceOracle])
def test_same_seed_same_proposals_other_seed_other_proposals(cls):
    score, _ = additive_objective()
    runs = [drive(make(cls, seed), score, 15) for seed in (5, 5, 6)]
    values = [[h["values"] for h in run] for run in runs]
    assert values[0] == values[1]
    if cls is not GreedyOracle:  # greedy starts from the defaults whatever the seed
        assert values[0] != values[2]


@pytest.mark.parametrize("cls", [GreedyOracle, EvolutionOracle, ReinforceOracle])
def test_resume_from_disk_continues_the_same_sequence(cls, tmp_path):
    score, _ = additive_objective()
    uninterrupted = drive(make(cls, 3, max_trials=20), score, directory=tmp_path / "a")
    first = drive(make(cls, 3, max_trials=20), score, 8, directory=tmp_path / "b")
    resumed = make(cls, 3, max_trials=20)     # a fresh process would start like this
    resumed._set_project_dir(tmp_path / "b", "simulated")
    resumed.reload()                          # trials, RNG and strategy state from disk
    rest = drive(resumed, score, directory=tmp_path / "b")
    assert [h["values"] for h in first + rest] == [h["values"] for h in uninterrupted]
    if cls is ReinforceOracle:
        original = make(cls, 3, max_trials=20)
        original._set_project_dir(tmp_path / "a", "simulated")
        original.reload()
        assert resumed.logits == original.logits and resumed.updates == 20


def test_no_duplicate_architectures_are_proposed():
    score, _ = additive_objective()
    for cls in (GreedyOracle, EvolutionOracle, ReinforceOracle):
        history = drive(make(cls, 0, max_trials=60), score, persist=False)
        keys = [tuple(sorted(h["values"].items())) for h in history]
        assert len(keys) == len(set(keys)), cls.__name__


# --- greedy ----------------------------------------------------------------------------

def test_greedy_first_pass_varies_one_decision_at_a_time():
    score, _ = additive_objective()
    history = drive(make(GreedyOracle, 0, max_trials=13, restarts=0), score)
    assert history[0]["values"] == {d: 0 for d in NAMES}   # starts from the defaults
    incumbent = history[0]
    for i, name in enumerate(NAMES):   # 1 start + 3 other values of each of 4 decisions
        step = history[1 + 3 * i: 4 + 3 * i]
        assert sorted(h["values"][name] for h in step) == [v for v in range(4)
                                                           if v != incumbent["values"][name]]
        for h in step:                 # every other decision is the incumbent's
            assert {d: v for d, v in h["values"].items() if d != name} == {
                d: v for d, v in incumbent["values"].items() if d != name}
        incumbent = max([incumbent, *step], key=lambda h: h["score"])


def test_greedy_gets_stuck_in_a_local_optimum():
    hp = kt.HyperParameters()
    hp.Choice("x", [0, 1, 2])
    hp.Choice("y", [0, 1, 2])
    peaks = {(0, 0): 0.5, (2, 2): 1.0}         # the global optimum needs two changes at once
    oracle = GreedyOracle(objective=OBJECTIVE, max_trials=50, hyperparameters=hp, seed=0,
                          restarts=0)
    history = drive(oracle, lambda v: peaks.get((v["x"], v["y"]), 0.0))
    assert max(h["score"] for h in history) == 0.5
    assert len(history) == 5                   # start + 2 + 2 neighbours, then it stops
    assert oracle.incumbent == {"x": 0, "y": 0}


def test_greedy_restart_escapes_when_allowed():
    hp = kt.HyperParameters()
    hp.Choice("x", [0, 1, 2])
    hp.Choice("y", [0, 1, 2])
    peaks = {(0, 0): 0.5, (2, 2): 1.0}
    found = 0
    for seed in range(5):
        oracle = GreedyOracle(objective=OBJECTIVE, max_trials=9, hyperparameters=hp,
                              seed=seed, restarts=5)
        found += max(h["score"] for h in drive(oracle, lambda v: peaks.get(
            (v["x"], v["y"]), 0.0))) == 1.0
    assert found >= 1


# --- evolution -------------------------------------------------------------------------

def test_evolution_population_ages_and_is_bounded():
    score, _ = additive_objective()
    oracle = make(EvolutionOracle, 0, max_trials=30, population_size=6, sample_size=2)
    history = drive(oracle, score)
    population = oracle.population()
    assert len(population) == 6
    # the population is the six most recent trials: the oldest died, however good
    assert [t.trial_id for t in population] == [h["trial"] for h in history[-6:]]
    # after the initial random population, each child is one mutation from its parent
    for child_id, (parent_id,) in oracle.lineage.items():
        child = oracle.trials[child_id].hyperparameters.values
        parent = oracle.trials[parent_id].hyperparameters.values
        assert sum(child[d] != parent[d] for d in NAMES) == 1


def test_evolution_crossover_takes_decisions_from_both_parents():
    score, _ = additive_objective()
    oracle = make(EvolutionOracle, 0, max_trials=40, population_size=8, sample_size=2,
                  crossover_rate=1.0)
    drive(oracle, score)
    assert oracle.lineage
    for child_id, parents in oracle.lineage.items():
        assert len(parents) == 2
        child = oracle.trials[child_id].hyperparameters.values
        p1, p2 = (oracle.trials[p].hyperparameters.values for p in parents)
        inherited = sum(child[d] in (p1[d], p2[d]) for d in NAMES)
        assert inherited >= len(NAMES) - 1     # all but the one mutated decision


def test_evolution_mutates_only_decisions_that_are_built():
    hp = kt.HyperParameters()
    n = hp.Int("layers", 1, 3)
    for i in range(1, 4):
        with hp.conditional_scope("layers", list(range(i, 4))):
            hp.Choice(f"units_{i}", [8, 16, 32])
    oracle = EvolutionOracle(objective=OBJECTIVE, max_trials=40, hyperparameters=hp,
                             seed=0, population_size=5, sample_size=2)
    del n
    history = drive(oracle, lambda v: v["layers"] + sum(v.get(f"units_{i}", 0)
                                                        for i in (1, 2, 3)) / 100)
    for h in history:
        expected = {"layers"} | {f"units_{i}" for i in range(1, h["values"]["layers"] + 1)}
        assert set(h["values"]) == expected


@pytest.mark.parametrize("kwargs,match", [
    ({"population_size": 1}, "population_size"),
    ({"sample_size": 20}, "sample_size"),
    ({"crossover_rate": 2.0}, "crossover_rate"),
])
def test_evolution_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make(EvolutionOracle, 0, **kwargs)


# --- reinforce -------------------------------------------------------------------------

def test_reinforce_policy_moves_toward_the_better_choice():
    hp = kt.HyperParameters()
    hp.Choice("op", ["bad", "ok", "good"])
    oracle = ReinforceOracle(objective=OBJECTIVE, hyperparameters=hp, seed=0)
    reward = {"bad": 0.1, "ok": 0.5, "good": 0.9}
    rng = np.random.default_rng(0)
    for _ in range(60):
        choice = str(rng.choice(["bad", "ok", "good"], p=list(
            oracle.probabilities()["op"].values())))
        oracle.learn({"op": choice}, reward[choice])
    p = oracle.probabilities()["op"]
    assert p["good"] > 0.8 and p["good"] > p["ok"] > p["bad"] or p["good"] > 0.95
    assert len(oracle.policy_history) == 60


def test_reinforce_update_is_the_policy_gradient():
    hp = kt.HyperParameters()
    hp.Choice("op", [0, 1, 2])
    oracle = ReinforceOracle(objective=OBJECTIVE, hyperparameters=hp, seed=0,
                             learning_rate=0.1, entropy_weight=0.0, normalize=False,
                             baseline_decay=0.5)
    oracle.learn({"op": 0}, 1.0)            # first reward sets the baseline: no change
    assert np.allclose(oracle.logits["op"], 0.0)
    oracle.learn({"op": 2}, 3.0)            # advantage 3 - 1 = 2 at uniform p = 1/3
    assert np.allclose(oracle.logits["op"], 0.1 * 2 * (np.array([0, 0, 1]) - 1 / 3))
    assert oracle.baseline == pytest.approx(0.5 * 1.0 + 0.5 * 3.0)
    assert np.allclose(softmax([0.0, 0.0]), [0.5, 0.5])


def test_reinforce_converged_policy_keeps_proposing_new_architectures():
    score, _ = additive_objective()
    oracle = make(ReinforceOracle, 0, max_trials=80, learning_rate=3.0)
    history = drive(oracle, score, persist=False)
    assert len(history) == 80                  # not ended early by duplicates
    assert oracle.duplicates_skipped > 0       # the converged policy did repeat itself


def test_reinforce_bad_options():
    with pytest.raises(ValueError, match="learning_rate"):
        make(ReinforceOracle, 0, learning_rate=0)
    with pytest.raises(ValueError, match="baseline_decay"):
        make(ReinforceOracle, 0, baseline_decay=1.0)


# --- shared machinery ------------------------------------------------------------------

def test_domain_enumerates_every_kind_of_decision():
    hp = kt.HyperParameters()
    hp.Choice("c", ["x", "y"])
    hp.Int("i", 1, 7, step=2)
    hp.Boolean("b")
    hp.Fixed("f", 3)
    by_name = {h.name: domain(h) for h in hp.space}
    assert by_name == {"c": ["x", "y"], "i": [1, 3, 5, 7], "b": [False, True], "f": [3]}


def test_architecture_key_merges_configurations_that_build_the_same_model():
    hp = kt.HyperParameters()
    hp.Choice("width", [8, 16])
    hp.Choice("unused", [0, 1, 2])   # say the space ignores it: the same model is built
    oracle = EvolutionOracle(objective=OBJECTIVE, max_trials=10, hyperparameters=hp, seed=0,
                             population_size=2, sample_size=1,
                             architecture_key=lambda v: str(v["width"]))
    history = drive(oracle, lambda v: v["width"])
    assert sorted(h["values"]["width"] for h in history) == [8, 16]  # then the space is spent


def test_failed_evaluations_are_recorded_not_raised():
    score, _ = additive_objective()

    def flaky(v):
        if v["a"] == 1:
            raise FloatingPointError("loss became NaN")
        return score(v)

    history = drive(make(EvolutionOracle, 0, max_trials=20, population_size=4,
                         sample_size=2), flaky)
    failed = [h for h in history if h["status"] == "FAILED"]
    assert failed and all(h["values"]["a"] == 1 for h in failed)
    assert len(history) == 20


def test_base_class_is_abstract_about_proposals():
    oracle = ArchitectureOracle(objective=OBJECTIVE, max_trials=3, hyperparameters=flat_space(),
                                seed=0)
    values = oracle.random_values()
    assert set(values) == set(NAMES) and all(v in range(4) for v in values.values())
    with pytest.raises(NotImplementedError):
        oracle.populate_space("0")


def test_registry_builds_every_strategy_by_name():
    import nasbook as nb

    names = nb.strategies.available()
    assert {"greedy", "random", "evolution", "reinforce", "bayesian", "hyperband"} <= set(names)
    oracle = nb.strategies.get("evolution", objective="val_loss", max_trials=5, seed=0,
                               population_size=4, sample_size=2)
    assert isinstance(oracle, EvolutionOracle) and oracle.objective.direction == "min"
    with pytest.raises(nb.strategies.StrategyError, match="population_size"):
        nb.strategies.get("evolution", population_size=1)
    with pytest.raises(nb.strategies.StrategyError, match="does not take"):
        nb.strategies.get("greedy", temperature=2)
    with pytest.raises(nb.strategies.StrategyError, match="Did you mean 'evolution'"):
        nb.strategies.get("evolutionary")


def test_seed_zero_is_a_fixed_seed():
    score, _ = additive_objective()
    a = drive(make(EvolutionOracle, 0, max_trials=12), score, persist=False)
    b = drive(make(EvolutionOracle, 0, max_trials=12), score, persist=False)
    assert [h["values"] for h in a] == [h["values"] for h in b]


def test_random_searches_with_consecutive_seeds_are_not_shifted_copies():
    import nasbook as nb

    def proposals(seed):
        oracle = nb.strategies.get("random", objective=OBJECTIVE, max_trials=6, seed=seed)
        oracle.hyperparameters = flat_space()
        return [tuple(h["values"].values()) for h in drive(oracle, lambda v: 0.0, persist=False)]

    a, b = proposals(0), proposals(1)
    # keras-tuner with seeds s and s+1 yields the same stream shifted by one draw; flattening
    # the draws shows it. The registry's spacing removes the overlap.
    flat_a = [x for t in a for x in t]
    flat_b = [x for t in b for x in t]
    assert flat_a[1:12] != flat_b[:11]
    assert proposals(0) == a


def test_evolution_through_nb_search_trains_each_architecture_once(tmp_path):
    import nasbook as nb

    ds = nb.load_dataset("mnist1d").subset(n_train=200, n_val=100)
    space = nb.space.preset("cnn", ds.input_shape, ds.num_classes, n_blocks=[1],
                            filters=[8, 16], kernel=[3], n_dense=[0], activation=["relu"],
                            connection=["full"], dropout=[0.0], l2=[0.0],
                            optimizer=["adam"], learning_rate=[0.003], pooling=["max"])
    result = nb.search(ds, space, strategy="evolution", max_trials=3, epochs=1, seed=0,
                       run_dir=tmp_path / "run", progress=False, population_size=2,
                       sample_size=1)
    # two architectures exist; the oracle proposes each once, then the space is spent
    assert result.counts()["completed"] == 2 and result.counts()["duplicate"] == 0


@pytest.mark.parametrize("name", ["random", "greedy", "evolution", "reinforce", "bayesian",
                                  "hyperband"])
def test_every_strategy_runs_a_real_search_by_name(name, tmp_path):
    import nasbook as nb

    ds = nb.load_dataset("mnist1d").subset(n_train=200, n_val=100)
    space = nb.space.preset("cnn", ds.input_shape, ds.num_classes, n_blocks=[1, 2],
                            filters=[8, 16], kernel=[3, 5], n_dense=[0], optimizer=["adam"],
                            learning_rate=[0.003], l2=[0.0], dropout=[0.0])
    options = {"hyperband": {"max_epochs": 2}, "evolution": {"population_size": 2,
                                                            "sample_size": 1}}.get(name, {})
    result = nb.search(ds, space, strategy=name, max_trials=3, epochs=1, seed=0,
                       run_dir=tmp_path / name, progress=False, **options)
    assert result.manifest["strategy"] == name
    assert len(result) >= 1 and result.counts()["failed"] == 0
    assert 0.0 <= result.best_score <= 1.0
