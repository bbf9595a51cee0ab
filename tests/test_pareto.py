"""Pareto front, hypervolume and hypervolume regret (nasbook/pareto.py, nasbook/bench/pareto.py)
and the NSGA-II strategy (nasbook/strategies/nsga2.py), on hand-made points with known answers
and on a synthetic benchmark table."""
import itertools

import numpy as np
import pandas as pd
import pytest
from tables import additive_table

import nasbook as nb
from nasbook.pareto import crowding_distance, hypervolume, non_dominated_sort, pareto_mask

MAXMIN = ["max", "min"]

# accuracy (max) vs cost (min): the front is a, b, c; d is dominated by b; e by c; f is
# a duplicate of b (kept: equal points do not dominate each other).
HAND = pd.DataFrame({"name": list("abcdef"),
                     "acc": [0.9, 0.8, 0.6, 0.7, 0.5, 0.8],
                     "cost": [5.0, 3.0, 1.0, 4.0, 2.0, 3.0]})
HAND_OBJ = [("acc", "max"), ("cost", "min")]


def test_the_front_of_a_hand_made_table():
    mask = pareto_mask(HAND[["acc", "cost"]].to_numpy(), MAXMIN)
    assert HAND.name[mask].tolist() == ["a", "b", "c", "f"]
    front = nb.bench.pareto_front(HAND, HAND_OBJ)
    assert front.name.tolist() == ["a", "b", "f", "c"]          # best accuracy first
    # the same front when both objectives are stated as minimised (lowest error first)
    neg = HAND.assign(err=1 - HAND.acc)
    assert nb.bench.pareto_front(neg, [("err", "min"), ("cost", "min")]).name.tolist() == \
        ["a", "b", "f", "c"]
    assert nb.bench.pareto_front(neg, [("cost", "min"), ("err", "min")]).name.tolist() == \
        ["c", "b", "f", "a"]


def test_non_dominated_sort_and_crowding_by_hand():
    ranks = non_dominated_sort(HAND[["acc", "cost"]].to_numpy(), MAXMIN)
    assert ranks.tolist() == [0, 0, 0, 1, 1, 0]
    # on the line (1, 4), (2, 2), (4, 1) (both minimised) the middle point's crowding is
    # (4 - 1)/(4 - 1) + (4 - 1)/(4 - 1) = 2; the extremes are infinite
    d = crowding_distance([[1, 4], [2, 2], [4, 1]], ["min", "min"])
    assert np.isinf(d[0]) and np.isinf(d[2]) and d[1] == pytest.approx(2.0)


def test_hypervolume_by_hand():
    # reference (acc 0.4, cost 6): boxes a [0.4,0.9]x[5,6], b [0.4,0.8]x[3,6], c [0.4,0.6]x[1,6]
    # union = 0.2*5 (c, cost 1..6) + 0.2*3 (b beyond c, cost 3..6) + 0.1*1 (a beyond b) = 1.7
    hv = hypervolume(HAND[["acc", "cost"]].to_numpy(), [0.4, 6.0], MAXMIN)
    assert hv == pytest.approx(1.7, abs=1e-12)
    # dominated points and duplicates add nothing
    assert hypervolume(HAND.iloc[:3][["acc", "cost"]].to_numpy(), [0.4, 6.0], MAXMIN) == \
        pytest.approx(1.7, abs=1e-12)
    # points not better than the reference in every objective add nothing
    assert hypervolume([[0.3, 1.0], [0.9, 7.0]], [0.4, 6.0], MAXMIN) == 0.0
    assert hypervolume(np.zeros((0, 2)), [0.4, 6.0], MAXMIN) == 0.0


def brute_force_hv(points, reference):
    """Count the unit cells of an integer grid dominated by some point (all minimised)."""
    ref = np.asarray(reference)
    axes = [np.arange(lo, hi) for lo, hi in zip(points.min(axis=0), ref)]
    count = 0
    for cell in itertools.product(*axes):
        count += bool((points <= np.asarray(cell)).all(axis=1).any())
    return count


@pytest.mark.parametrize("m", [2, 3])
def test_hypervolume_equals_a_brute_force_grid_count(m):
    rng = np.random.default_rng(m)
    for _ in range(5):
        pts = rng.integers(0, 9, size=(12, m))
        ref = np.full(m, 10)
        assert hypervolume(pts, ref, ["min"] * m) == brute_force_hv(pts, ref)


def test_hypervolume_agrees_with_optuna():
    wfg = pytest.importorskip("optuna._hypervolume.wfg")
    rng = np.random.default_rng(0)
    for m in (2, 3, 4):
        pts = rng.random((40, m))
        ref = np.full(m, 1.1)
        front = pts[pareto_mask(pts, ["min"] * m)]
        assert hypervolume(pts, ref, ["min"] * m) == \
            pytest.approx(wfg.compute_hypervolume(front, ref), rel=1e-12)


def test_hypervolume_regret_is_exact_on_the_hand_table():
    ref = [0.4, 6.0]
    found = HAND[HAND.name.isin(["b", "d", "e"])]
    # found's front is b and e: b's box 0.4*3 = 1.2, e's [0.4,0.5]x[2,6] beyond b: 0.1*1 = 0.1
    assert nb.bench.hypervolume_regret(found, HAND, HAND_OBJ, ref) == \
        pytest.approx(1.7 - 1.3, abs=1e-12)
    assert nb.bench.hypervolume_regret(HAND, HAND, HAND_OBJ, ref) == pytest.approx(0.0)
    assert nb.bench.hypervolume_regret(found, HAND, HAND_OBJ, ref, relative=True) == \
        pytest.approx(0.4 / 1.7)
    # the default reference point: the worst of each objective (acc 0.5, cost 5)
    assert nb.bench.reference_point(HAND, HAND_OBJ).tolist() == [0.5, 5.0]
    curve = nb.bench.regret_at_budgets(HAND.iloc[[3, 1, 0]], HAND, HAND_OBJ, [1, 2, 3], ref,
                                       relative=False)
    # d alone: 0.3*2 = 0.6; with b: 1.2; with a: 1.2 + 0.1*1 = 1.3
    assert curve == pytest.approx([1.1, 0.5, 0.4])


def test_bad_objectives_are_refused_with_a_reason():
    with pytest.raises(ValueError, match="at least two"):
        nb.bench.pareto_front(HAND, [("acc", "max")])
    with pytest.raises(ValueError, match="'max' or 'min'"):
        nb.bench.pareto_front(HAND, [("acc", "up"), ("cost", "min")])
    with pytest.raises(ValueError, match="no column"):
        nb.bench.pareto_front(HAND, [("acc", "max"), ("size", "min")])


# --- NSGA-II on a synthetic benchmark table -------------------------------------------------

def cost_table():
    """The additive accuracy table plus a cost that grows with the model (so bigger is more
    accurate and more costly: a real trade-off), with a known exact front."""
    table = additive_table()
    table["cost"] = (table.n_blocks * table.filters * table.kernel / 16
                     + (table.connection == "residual") * 2.0)
    return table


OBJ = [("val_accuracy", "max"), ("cost", "min")]


def test_nsga2_runs_in_simulate_and_reports_every_objective():
    table = cost_table()
    history = nb.bench.simulate("nsga2", 40, seed=3, table=table, objectives=OBJ,
                                population_size=8)
    assert len(history) == 40
    assert {"val_accuracy", "cost"} <= set(history.columns)
    assert history[list(nb.bench.DECISIONS)].drop_duplicates().shape[0] == 40  # no repeats
    # what the oracle saw is the table's value of the architecture
    points = nb.bench.architecture_points(table, OBJ).set_index(list(nb.bench.DECISIONS))
    row = history.iloc[-1]
    key = tuple(row[d] for d in nb.bench.DECISIONS)
    assert row.cost == pytest.approx(points.loc[key, "cost"])
    again = nb.bench.simulate("nsga2", 40, seed=3, table=table, objectives=OBJ,
                              population_size=8)
    pd.testing.assert_frame_equal(history, again)   # a seed fixes the sequence


def test_nsga2_needs_the_metrics_it_optimises():
    with pytest.raises(ValueError, match="no column"):
        nb.bench.simulate("nsga2", 5, table=cost_table(),
                          objectives=[("val_accuracy", "max"), ("latency", "min")])
    with pytest.raises(nb.strategies.StrategyError, match="at least two"):
        nb.strategies.get("nsga2", objectives=[("val_accuracy", "max")])


def test_nsga2_beats_random_search_on_hypervolume_regret():
    table = cost_table()
    runs = nb.bench.pareto_compare({"nsga2": ("nsga2", {"objectives": OBJ,
                                                        "population_size": 10}),
                                    "random": ("random", {})},
                                   table, OBJ, budgets=[60], seeds=range(20))
    summary = nb.bench.pareto_summary(runs)
    nsga, rand = summary.loc[("nsga2", 60)], summary.loc[("random", 60)]
    assert nsga["n"] == rand["n"] == 20
    assert nsga["mean"] < rand["mean"]
    assert nsga["high"] < rand["low"]     # the intervals do not overlap


def test_a_scalarised_objective_in_simulate():
    table = cost_table()
    objective = nb.strategies.weighted({"val_accuracy": 1.0, "cost": -0.01})
    history = nb.bench.simulate("evolution", 30, seed=0, table=table, objective=objective)
    assert history["weighted"].to_numpy() == pytest.approx(
        history.val_accuracy.to_numpy() - 0.01 * history.cost.to_numpy())
    with pytest.raises(ValueError, match="no column"):
        nb.bench.simulate("evolution", 5, table=table,
                          objective=nb.strategies.weighted({"val_accuracy": 1, "costs": -1}))


def test_nsga2_elite_is_the_best_by_front_then_crowding():
    """The oracle's elite after 20 trials, against a brute-force reference written here:
    fronts by repeated peeling with pairwise dominance, crowding by its textbook formula."""
    import keras_tuner as kt

    from nasbook.strategies.base import drive

    hp = kt.HyperParameters()
    hp.Choice("a", list(range(6)))
    hp.Choice("b", list(range(6)))
    oracle = nb.strategies.get("nsga2", objectives=[("f", "max"), ("g", "min")],
                               population_size=5, max_trials=20, seed=1)
    oracle.hyperparameters = hp
    history = drive(oracle, lambda v: {"val_accuracy": 0.0, "f": v["a"] + v["b"],
                                       "g": (v["a"] - 2) ** 2 + v["b"]}, 20, persist=False)
    pts = {h["trial"]: (h["metrics"]["f"], h["metrics"]["g"]) for h in history}

    def dominates(p, q):
        return p[0] >= q[0] and p[1] <= q[1] and p != q

    left, fronts = dict(pts), []
    while left:
        front = [t for t in left if not any(dominates(left[u], left[t]) for u in left)]
        fronts.append(front)
        for t in front:
            del left[t]
    order, crowd = [], {}
    for front in fronts:
        crowd.update({t: 0.0 for t in front})
        for j in (0, 1):
            ranked = sorted(front, key=lambda t: (-pts[t][0], t) if j == 0 else (pts[t][1], t))
            vals = [pts[t][j] for t in ranked]
            span = abs(vals[-1] - vals[0])
            for i, t in enumerate(ranked):
                if i in (0, len(ranked) - 1) or len(ranked) <= 2:
                    crowd[t] = np.inf
                elif span > 0 and crowd[t] != np.inf:
                    crowd[t] += abs(vals[i + 1] - vals[i - 1]) / span
        order.append(sorted(front, key=lambda t: -crowd[t]))
    elite = [t.trial_id for t, _, _ in oracle.population()]
    # the elite is filled front by front; from the front that does not fit whole it takes the
    # points of largest crowding distance (ties may be broken either way)
    need, expect_full, last = 5, [], None
    for front in order:
        if len(front) <= need:
            expect_full += front
            need -= len(front)
        else:
            last = front
            break
    assert set(expect_full) <= set(elite)
    if last is not None:
        extra = [t for t in elite if t not in expect_full]
        assert set(extra) <= set(last) and len(extra) == 5 - len(expect_full)
        rejected = [t for t in last if t not in extra]
        assert min(crowd[t] for t in extra) >= max(crowd[t] for t in rejected)


# --- the comparison's four searches, paired regret differences, supported front points ------

def test_strategy_runs_are_the_four_searches_with_equal_scaled_weights():
    table = cost_table()
    runs, weights = nb.bench.pareto.strategy_runs(table, OBJ, population_size=7)
    assert list(runs) == ["NSGA-II", "evolution (val_accuracy only)", "scalarised evolution",
                          "random"]
    points = nb.bench.architecture_points(table, OBJ)
    spans = points[["val_accuracy", "cost"]].max() - points[["val_accuracy", "cost"]].min()
    assert weights == pytest.approx({"val_accuracy": 1 / spans["val_accuracy"],
                                     "cost": -1 / spans["cost"]})
    assert runs["NSGA-II"] == ("nsga2", {"objectives": OBJ, "population_size": 7})
    assert runs["evolution (val_accuracy only)"] == ("evolution", {"population_size": 7})
    assert runs["random"] == ("random", {})
    # given weights are used as they are; a first objective other than accuracy is scored
    # alone by a one-term weighted sum, negated when it is minimised
    runs, weights = nb.bench.pareto.strategy_runs(table, [("cost", "min"),
                                                          ("val_accuracy", "max")],
                                                  weights={"cost": -2.0, "val_accuracy": 1.0})
    assert weights == {"cost": -2.0, "val_accuracy": 1.0}
    name, options = runs["evolution (cost only)"]
    history = nb.bench.simulate(name, 12, seed=0, table=table, **options)
    assert history["single"].to_numpy() == pytest.approx(-history.cost.to_numpy())
    frame = nb.bench.pareto_compare(runs, table, OBJ, budgets=[12], seeds=range(2))
    assert set(frame.label) == set(runs) and len(frame) == 8


def test_paired_regret_pairs_by_seed_and_a_tie_is_not_lower():
    rows = []
    for seed, (a, b, c) in enumerate([(0.10, 0.30, 0.10), (0.20, 0.35, 0.20),
                                      (0.15, 0.40, 0.15), (0.12, 0.31, 0.12)]):
        rows += [{"label": "NSGA-II", "seed": seed, "budget": 50, "regret": a},
                 {"label": "random", "seed": seed, "budget": 50, "regret": b},
                 {"label": "twin", "seed": seed, "budget": 50, "regret": c},
                 {"label": "NSGA-II", "seed": seed, "budget": 99, "regret": 1.0}]
    frame = pd.DataFrame(rows)
    out = nb.bench.pareto.paired_regret(frame, "NSGA-II", 50)
    assert out.index.tolist() == ["random", "twin"]
    d = np.array([0.10 - 0.30, 0.20 - 0.35, 0.15 - 0.40, 0.12 - 0.31])
    ref = nb.stats.paired_difference(d, np.zeros(4))
    assert out.loc["random", "n"] == 4
    assert out.loc["random", "difference"] == pytest.approx(d.mean())
    assert out.loc["random", ["low", "high"]].tolist() == pytest.approx([ref.low, ref.high])
    assert out.loc["random", "verdict"] == nb.stats.verdict(d, 0.0, better="lower").word == "met"
    assert out.loc["random", "claim"] == "NSGA-II lower than random"
    # equal on every seed: not lower, whatever the (zero-width) interval says
    assert out.loc["twin", "verdict"] == "missed" and out.loc["twin", "difference"] == 0.0
    with pytest.raises(ValueError, match="no run labelled"):
        nb.bench.pareto.paired_regret(frame, "NSGA", 50)


def weights_reach(points, directions, n=20001):
    """Brute force: the rows that some positive weighting of the (maximised, scaled) columns
    makes the unique best."""
    p = np.asarray(points, float) * np.array([1.0 if d == "max" else -1.0 for d in directions])
    p = (p - p.min(0)) / np.where(np.ptp(p, 0) > 0, np.ptp(p, 0), 1.0)
    hits = set()
    for angle in np.linspace(1e-6, np.pi / 2 - 1e-6, n):
        scores = p @ np.array([np.cos(angle), np.sin(angle)])
        best = np.flatnonzero(scores >= scores.max() - 1e-12)
        if len(best) == 1:
            hits.add(int(best[0]))
    return np.array([i in hits for i in range(len(p))])


def test_supported_points_are_those_a_weighted_sum_can_reach():
    # (0.7, 2.9) lies in a concave dent of the front: no positive weights make it the best
    front = pd.DataFrame({"acc": [0.9, 0.8, 0.7, 0.6], "cost": [5.0, 3.0, 2.9, 1.0]},
                         index=[10, 11, 12, 13])
    got = nb.bench.pareto.supported(front, HAND_OBJ)
    assert got.index.tolist() == [10, 11, 12, 13]
    assert got.tolist() == [True, True, False, True]
    rng = np.random.default_rng(3)
    for _ in range(5):
        x = np.sort(rng.uniform(size=9))
        pts = pd.DataFrame({"acc": x, "cost": np.sort(rng.uniform(size=9))})  # a front
        assert pareto_mask(pts.to_numpy(), MAXMIN).all()
        assert nb.bench.pareto.supported(pts, HAND_OBJ).tolist() == \
            weights_reach(pts.to_numpy(), MAXMIN).tolist()
    with pytest.raises(ValueError, match="two objectives"):
        nb.bench.pareto.supported(front.assign(z=1.0), [("acc", "max"), ("cost", "min"),
                                                        ("z", "min")])
