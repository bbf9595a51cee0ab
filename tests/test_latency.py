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
