"""The latency protocol on models whose cost is known to scale, and FLOPs by hand."""
import keras
import pytest

from nasbook.bench.latency import flops, machine, measure, measure_stable


def dense(width, inputs=1024):
    x = keras.Input((inputs,))
    return keras.Model(x, keras.layers.Dense(10)(keras.layers.Dense(width)(x)))


def test_a_wider_dense_layer_takes_longer_whatever_the_machine():
    narrow, wide = dense(16), dense(4096)   # 256x the multiply-adds of the first layer
    # relative, with a wide margin, and each model's least disturbed of three rounds taken in
    # turns: a load that comes or goes between two measurements on a shared machine moves
    # the medians, not the minimum of the rounds (a model cannot run faster than it can)
    n, w = [], []
    for _ in range(3):
        n.append(measure(narrow, 256, repeats=20))
        w.append(measure(wide, 256, repeats=20))
    assert all(r["repeats"] == 20 and r["iqr_ms"] >= 0 for r in n + w)
    fastest = {name: min(r["median_ms"] for r in rounds) for name, rounds in (("narrow", n),
                                                                               ("wide", w))}
    assert fastest["wide"] > 3 * fastest["narrow"], fastest


def test_measure_stable_stops_at_the_first_two_medians_that_agree(monkeypatch):
    """The rounds logic on scripted medians (a real machine's medians are whatever its load
    makes them): it stops when a median is within ``tolerance`` of the one before."""
    from nasbook.bench import latency

    def scripted(medians):
        calls = iter(medians)
        return lambda model, batch_size, **kw: {"median_ms": next(calls), "iqr_ms": 0.0,
                                                "repeats": kw["repeats"], "load_1min": 0.0}

    monkeypatch.setattr(latency, "measure", scripted([1.0, 2.0, 2.1, 9.0]))
    row = latency.measure_stable(None, 1, repeats=5, tolerance=0.1)
    assert (row["rounds"], row["stable"], row["median_ms"]) == (3, True, 2.1)
    monkeypatch.setattr(latency, "measure", scripted([1.0, 2.0, 4.0, 8.0, 16.0]))
    row = latency.measure_stable(None, 1, repeats=5, tolerance=0.1, max_rounds=5)
    assert (row["rounds"], row["stable"], row["median_ms"]) == (5, False, 16.0)


def test_measure_stable_reports_its_rounds_and_the_machine():
    row = measure_stable(dense(64), 1, repeats=10, max_rounds=3)
    assert 2 <= row["rounds"] <= 3 and row["median_ms"] > 0 and row["repeats"] == 10
    assert row["stable"] or row["rounds"] == 3   # unstable only after its last round
    info = machine()
    assert info["cores"] >= 1 and "cpu" in info and "load_1min" in info
    with pytest.raises(ValueError, match="repeats >= 5"):
        measure(dense(8), 1, repeats=2)


def test_flops_by_hand():
    assert flops(dense(16, inputs=100)) == 2 * 100 * 16 + 2 * 16 * 10
    x = keras.Input((40, 3))
    h = keras.layers.Conv1D(8, 5, padding="same")(x)            # 40 positions out
    h = keras.layers.MaxPooling1D(2)(h)
    h = keras.layers.Conv1D(4, 3, padding="valid")(h)           # 20 -> 18 positions
    model = keras.Model(x, keras.layers.Dense(10)(keras.layers.Flatten()(h)))
    assert flops(model) == 2 * 40 * 5 * 3 * 8 + 2 * 18 * 3 * 8 * 4 + 2 * 72 * 10


def test_the_cpu_clock_scales_with_the_work_too():
    narrow, wide = dense(16), dense(4096)
    n = min(measure(narrow, 256, repeats=20)["cpu_median_ms"] for _ in range(3))
    w = min(measure(wide, 256, repeats=20)["cpu_median_ms"] for _ in range(3))
    assert 0 < n and w > 3 * n, (n, w)


def test_latency_is_a_trial_metric_of_a_real_search(tmp_path):
    import nasbook as nb
    from nasbook.bench.latency import latency_metric

    ds = nb.load_dataset("mnist1d", seed=0).subset(n_train=200, n_val=100, seed=0)
    space = nb.space.preset("mlp", ds.input_shape, ds.num_classes, n_dense=[1], units=[8, 64])
    result = nb.search(ds, space, "random", max_trials=2, epochs=1, run_dir=tmp_path / "run",
                       progress=False, trial_metrics={"latency_ms": latency_metric(1)})
    values = result.trials["latency_ms"]
    assert len(values) == 2 and (values > 0).all(), result.trials
    with pytest.raises(ValueError, match="clock"):
        latency_metric(1, clock="gpu")


def _latency_table(n=30, seed=0):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    flops_ = rng.integers(1_000, 100_000, n)
    rows = []
    for batch in (1, 256):
        wall = flops_ * 1e-5 * batch ** 0.5 + rng.uniform(0, 1e-3, n)
        rows.append(pd.DataFrame({"arch_id": range(n), "params": rng.permutation(flops_),
                                  "flops": flops_, "batch": batch, "median_ms": wall,
                                  "iqr_ms": 0.01, "cpu_median_ms": wall * 0.9,
                                  "cpu_iqr_ms": 0.01}))
    return pd.concat(rows, ignore_index=True)


def test_latency_correlations_recover_a_monotone_and_an_unrelated_predictor():
    from nasbook.bench.latency import correlations

    figures = correlations(_latency_table(), n_boot=200)
    by = figures.set_index(["batch", "x", "y"])["rho"]
    assert by[(1, "flops", "cpu_median_ms")] > 0.95            # latency ~ FLOPs here
    assert abs(by[(1, "params", "median_ms")]) < 0.5            # params shuffled: unrelated
    assert by[(256, "median_ms", "cpu_median_ms")] == pytest.approx(1.0)
    assert (figures["low"] <= figures["rho"] + 1e-12).all()
    assert (figures["rho"] <= figures["high"] + 1e-12).all()


def test_flops_against_params_is_judged_on_a_paired_bootstrap():
    from nasbook.bench.latency import flops_vs_params

    table = _latency_table()   # latency follows FLOPs; params are FLOPs shuffled
    judged = flops_vs_params(table, n_boot=200).set_index("batch")
    assert (judged["verdict"] == "met").all() and (judged["bound"] > 0.3).all()
    assert (judged["low"] <= judged["difference"]).all()
    # the same table with the two columns swapped: params now predict, FLOPs do not
    swapped = table.rename(columns={"flops": "params", "params": "flops"})
    assert (flops_vs_params(swapped, n_boot=200)["verdict"] == "missed").all()
    # identical predictors: a difference of 0 with a bound of 0, not a win ("not shown", as
    # nasbook.stats says of a mean exactly at the goal)
    same = table.assign(params=table["flops"])
    assert (flops_vs_params(same, n_boot=50)["verdict"] == "not shown").all()
    with pytest.raises(ValueError, match="clock"):
        flops_vs_params(table, clock="gpu")


def test_drift_is_the_coefficient_of_variation_of_each_reference():
    import pandas as pd

    from nasbook.bench.latency import drift

    ref = pd.DataFrame({"arch_id": [0, 0, 0, 323, 323, 323], "batch": 1,
                        "median_ms": [1.0, 2.0, 3.0, 5.0, 5.0, 5.0],
                        "cpu_median_ms": [1.0, 1.0, 1.0, 4.0, 5.0, 6.0]})
    cpu = drift(ref).set_index("arch_id")["cv"]
    assert cpu[0] == 0.0 and cpu[323] == pytest.approx(0.2)
    assert drift(ref, clock="wall").set_index("arch_id")["cv"][0] == pytest.approx(0.5)
    assert (drift(ref)["n"] == 3).all()
    with pytest.raises(ValueError, match="clock"):
        drift(ref, clock="gpu")


def test_the_latency_table_joins_the_benchmark_and_refuses_what_it_lacks(tmp_path):
    import hashlib

    import pandas as pd

    from nasbook.bench.latency import load_latency, with_latency
    from nasbook.bench.table import BenchmarkError

    lat = _latency_table()
    table = pd.DataFrame({"arch_id": [0, 0, 5], "seed": [0, 1, 0], "val_accuracy": 0.5})
    joined = with_latency(table, lat, batch=1, clock="wall")
    expected = lat[lat.batch == 1].set_index("arch_id").loc[[0, 0, 5], "median_ms"].to_numpy()
    assert joined["latency_ms"].tolist() == pytest.approx(expected.tolist())
    with pytest.raises(ValueError, match="no latency for architectures \\[99\\]"):
        with_latency(pd.DataFrame({"arch_id": [99]}), lat)
    with pytest.raises(ValueError, match="batch 8"):
        with_latency(table, lat, batch=8)
    with pytest.raises(ValueError, match="clock"):
        with_latency(table, lat, clock="gpu")
    path = tmp_path / "lat.csv"
    lat.to_csv(path, index=False)
    (tmp_path / "lat.csv.sha256").write_text(
        hashlib.sha256(path.read_bytes()).hexdigest() + "  lat.csv\n")
    assert len(load_latency(path)) == len(lat)
    path.write_text(path.read_text().replace("256", "255", 1))
    with pytest.raises(BenchmarkError, match="SHA-256"):
        load_latency(path)


def test_the_shipped_table_was_measured_in_a_random_order_with_its_references():
    """The machine drifts during a run: in arch_id order (which follows FLOPs) that drift
    would pass for an effect of FLOPs, so the shipped table was measured in a random order."""
    from scipy.stats import spearmanr

    from nasbook.bench.latency import drift, load_latency, load_latency_reference

    lat = load_latency()
    for _, rows in lat.groupby("batch"):
        assert sorted(rows["order"]) == list(range(324))      # a permutation of the positions
        assert abs(spearmanr(rows["order"], rows["arch_id"]).statistic) < 0.2
    ref = load_latency_reference()
    assert set(ref["arch_id"]) == {0, 323} and len(ref) == 48  # 12 re-measurements x 2 x 2
    d = drift(ref)
    assert len(d) == 4 and d["cv"].between(0, 1).all()


def test_front_kept_under_drift_is_whole_without_drift_and_shrinks_with_it():
    import numpy as np
    import pandas as pd

    from nasbook.bench.latency import front_kept_under_drift

    rng = np.random.default_rng(0)
    points = pd.DataFrame({"val_accuracy": rng.uniform(0.5, 0.9, 300),
                           "latency_ms": rng.uniform(0.1, 1.0, 300)})
    still = front_kept_under_drift(points, 0.0, draws=5)
    assert still["kept"] == 1.0 and still["members"] >= 2
    small, large = (front_kept_under_drift(points, cv, draws=100, seed=1)["kept"]
                    for cv in (0.01, 0.5))
    assert 1.0 >= small > large > 0.0, (small, large)
    assert front_kept_under_drift(points, 0.3, seed=2) == front_kept_under_drift(points, 0.3,
                                                                                 seed=2)
    for bad, match in (({"cv": -0.1}, "cv is a spread"), ({"cv": None}, "cv is a spread"),
                       ({"cv": True}, "cv is a spread"),
                       ({"cv": 0.1, "draws": 0}, "draws is a whole number"),
                       ({"cv": 0.1, "draws": True}, "draws is a whole number")):
        with pytest.raises(ValueError, match=match):
            front_kept_under_drift(points, **bad)
    with pytest.raises(ValueError, match="no points"):
        front_kept_under_drift(points.iloc[:0], 0.1)


def test_front_kept_under_drift_moves_latency_only_and_keeps_the_directions():
    import pandas as pd

    from nasbook.bench.latency import front_kept_under_drift

    # accuracy up, latency down: the front is p (most accurate) and q (fastest, by 1%); d is
    # dominated (it would be the whole front with the directions swapped). p can never leave;
    # q leaves whenever noise makes p the faster, about half the time; noise on accuracy
    # instead (0.9 against 0.5) would rarely move either
    points = pd.DataFrame({"val_accuracy": [0.9, 0.5, 0.4],
                           "latency_ms": [1.0, 0.99, 5.0]}, index=list("pqd"))
    out = front_kept_under_drift(points, 0.2, draws=400, seed=0)
    assert out["members"] == 2
    assert 0.65 < out["kept"] < 0.85, out
    # accuracies 1% apart, latencies 10x apart: latency noise of cv 0.2 never swaps them
    # (noise on accuracy would)
    far = pd.DataFrame({"val_accuracy": [0.90, 0.89], "latency_ms": [10.0, 1.0]})
    assert front_kept_under_drift(far, 0.2, draws=400, seed=0)["kept"] == 1.0
    # a second measurement: each latency is moved by a factor of log-variance 2 ln(1 + 0.04);
    # q leaves when the two factors' log difference (variance 4 ln 1.04) beats the 1.25x gap,
    # P(N(0, 4 ln 1.04) > ln 1.25) = 0.287, so kept = (1 + 0.713) / 2 = 0.857 (one
    # measurement's noise, log-sd 0.2, would give 0.893)
    gap = pd.DataFrame({"val_accuracy": [0.9, 0.5], "latency_ms": [1.25, 1.0]})
    assert abs(front_kept_under_drift(gap, 0.2, draws=4000, seed=0)["kept"] - 0.857) < 0.015
