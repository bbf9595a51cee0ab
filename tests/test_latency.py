"""The latency protocol on models whose cost is known to scale, and FLOPs by hand."""
import keras
import pytest

from nasbook.bench.latency import flops, machine, measure, measure_stable


def dense(width, inputs=1024):
    x = keras.Input((inputs,))
    return keras.Model(x, keras.layers.Dense(10)(keras.layers.Dense(width)(x)))


def test_a_wider_dense_layer_takes_longer_whatever_the_machine():
    narrow, wide = dense(16), dense(4096)   # 256x the multiply-adds of the first layer
    n = measure(narrow, 256, repeats=20)
    w = measure(wide, 256, repeats=20)
    assert n["repeats"] == w["repeats"] == 20 and n["iqr_ms"] >= 0
    assert w["median_ms"] > 3 * n["median_ms"]   # relative, with a wide margin: not speed


def test_measure_stable_reports_its_rounds_and_the_machine():
    row = measure_stable(dense(64), 1, repeats=10, tolerance=10.0)   # any two rounds agree
    assert row["stable"] and row["rounds"] == 2 and row["median_ms"] > 0
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
