"""Where a trial's time goes (nasbook/phases.py, recorded by the runner for every trial) and the
lean-trial cuts: one trace of the training step, no leaked traced graphs.

A real tiny search (300 training examples, 2 epochs, 3 trials) is read back through the trial
records and ``SearchResult.phases()``; the phases are checked against the runner's own,
separately measured ``train_time_s`` and ``duration_s``, and the RSS against psutil.
"""
import json
import shutil
from pathlib import Path

import keras
import keras_tuner
import numpy as np
import psutil
import pytest
import tensorflow as tf
from tensorflow.python.framework import ops as tf_ops

import nasbook as nb
from nasbook import phases, runner
from nasbook.results import SearchResult

PARTS = ("build_s", "trace_s", "fit_s", "evaluate_s", "save_s", "other_s")


def _custom_gradients():
    return {k for k in tf_ops._gradient_registry._registry if k.startswith("CustomGradient-")}


@pytest.fixture(scope="module")
def ds():
    return nb.load_dataset("mnist1d", seed=0).subset(n_train=300, n_val=200, seed=0)


@pytest.fixture(scope="module")
def run(ds, tmp_path_factory):
    space = nb.space.preset("cnn", ds.input_shape, ds.num_classes, n_blocks=[1],
                            filters=[8, 16])
    leaked_before = _custom_gradients()
    result = nb.search(ds, space, "random", max_trials=3, epochs=2, seed=0, progress=False,
                       tensorboard=False, run_dir=tmp_path_factory.mktemp("phases") / "run")
    return result, _custom_gradients() - leaked_before


def _records(run_dir):
    return sorted((json.loads(p.read_text()) for p in Path(run_dir).glob("trial_*/"
                                                                          "nasbook_trial.json")),
                  key=lambda r: r["number"])


def test_every_trial_records_its_phases_and_they_add_up(run):
    result, _ = run
    records = _records(result.run_dir)
    assert [r["status"] for r in records] == ["completed"] * 3
    for rec in records:
        ph = rec["phases"]
        assert all(ph[k] >= 0 for k in (*PARTS, "total_s", "tuner_s", "log_s")), ph
        assert sum(ph[k] for k in PARTS) == pytest.approx(ph["total_s"], rel=1e-4, abs=1e-4)
        # the runner's own clocks, measured separately: the whole run_trial, model.fit
        run_s = ph["total_s"] - ph["tuner_s"]
        assert run_s == pytest.approx(rec["duration_s"], abs=0.5 + 0.1 * rec["duration_s"])
        inside_fit = ph["fit_s"] + ph["evaluate_s"] + ph["trace_s"]
        assert inside_fit <= rec["train_time_s"] + 1e-3  # training, validation, their tracing
        assert ph["fit_s"] > 0 and ph["build_s"] > 0 and ph["save_s"] > 0
        assert ph["trace_s"] > 0  # the first call of a traced function costs more than later
        assert ph["overhead_fraction"] == pytest.approx(1 - ph["fit_s"] / ph["total_s"],
                                                        abs=1e-5)
    assert records[0]["phases"]["tuner_s"] == 0  # the first trial of a process has no gap
    assert all(r["phases"]["tuner_s"] > 0 for r in records[1:])


def test_rss_is_this_process_memory(run):
    result, _ = run
    now = psutil.Process().memory_info().rss / 2 ** 20
    for rec in _records(result.run_dir):
        assert 100 < rec["rss_mb"] < psutil.virtual_memory().total / 2 ** 20
        assert rec["rss_mb"] == pytest.approx(now, rel=0.5)  # the same process ran the trials


def test_phases_table(run):
    result, _ = run
    table = result.phases()
    assert list(table.columns) == ["trial_id", "status", *phases.COLUMNS]
    assert list(table.index) == list(result.trials.index)
    for rec in _records(result.run_dir):
        row = table.loc[rec["number"]]
        assert row.trial_id == rec["trial_id"] and row.status == rec["status"]
        for name in PARTS:
            assert row[name] == pytest.approx(rec["phases"][name])
        assert row.rss_mb == pytest.approx(rec["rss_mb"])
    assert table[list(phases.COLUMNS)].dtypes.map(lambda d: d.kind == "f").all()


def test_a_run_directory_from_before_phases_reads_as_nan(run, tmp_path):
    result, _ = run
    old = tmp_path / "old"
    shutil.copytree(result.run_dir, old)
    first = sorted(old.glob("trial_*/nasbook_trial.json"))[0]
    for path in old.glob("trial_*/nasbook_trial.json"):
        rec = json.loads(path.read_text())
        if path == first:  # one trial written by the new code: a resumed old search
            continue
        rec.pop("phases"), rec.pop("rss_mb")
        path.write_text(json.dumps(rec))
    table = SearchResult.load(old).phases()
    assert len(table) == 3 and (table.status == "completed").all()
    assert table.iloc[1:][list(phases.COLUMNS)].isna().all().all()
    assert table.iloc[0][list(phases.COLUMNS)].notna().all()


def test_a_search_leaves_no_traced_gradient_behind(run):
    _, leaked = run
    assert not leaked, f"gradient functions left registered by the search: {sorted(leaked)}"


def test_released_gradients_removes_only_what_was_registered_inside():
    @tf.custom_gradient
    def double(x):
        return 2 * x, lambda dy: 2 * dy

    @tf.function
    def grad(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = double(x)
        return tape.gradient(y, x)

    outside = _custom_gradients()
    grad(tf.constant(1.0))  # traced outside: its entry stays
    kept = _custom_gradients() - outside
    assert len(kept) == 1
    with phases.released_gradients():
        assert float(grad(tf.constant([1.0, 2.0]))[0]) == 2.0  # a new shape: a new trace
        assert len(_custom_gradients() - outside) == 2
    assert _custom_gradients() - outside == kept


def test_building_state_first_traces_the_training_step_once_and_trains_the_same(ds):
    space = nb.space.preset("cnn", ds.input_shape, ds.num_classes, n_blocks=[1], filters=[8])
    histories, traces = [], []
    for prebuild in (False, True):
        keras.backend.clear_session()
        keras.utils.set_random_seed(3)
        model = space.build(keras_tuner.HyperParameters())
        step, count = model.train_step, []

        def counted(data, step=step, count=count):
            count.append(1)
            return step(data)

        model.train_step = counted
        if prebuild:
            runner._build_state(model, ds.x_train[:1], ds.y_train[:1])
        h = model.fit(ds.x_train, ds.y_train, epochs=2, batch_size=64, verbose=0)
        histories.append(h.history)
        traces.append(len(count))
    assert traces == [2, 1]  # Keras creates the variables in the first trace, then retraces
    for key in histories[0]:
        np.testing.assert_allclose(histories[1][key], histories[0][key], rtol=1e-6)


def test_clock_rejects_a_negative_gap_and_sums_its_phases():
    with pytest.raises(ValueError, match="tuner_s"):
        phases.Clock(tuner_s=-1)
    with pytest.raises(ValueError, match="tuner_s"):
        phases.Clock(tuner_s="soon")
    clock = phases.Clock(tuner_s=5.0)  # more than the made-up phases below
    with clock.phase("build"):
        sum(range(10_000))
    clock.add("save", 0.5)
    clock.train_batches += [1.0, 0.1, 0.1, 0.1]
    clock.epochs += [1.3]
    out = clock.summary()
    assert out["trace_s"] == pytest.approx(0.9)  # first batch minus the median later batch
    assert out["fit_s"] == pytest.approx(0.4)
    assert out["save_s"] == 0.5 and out["tuner_s"] == 5.0 and out["other_s"] > 3
    assert sum(out[k] for k in PARTS) == pytest.approx(out["total_s"], abs=1e-5)


def test_peak_rss_is_at_least_the_current_rss():
    # the peak so far cannot be below what the process holds now (psutil's RSS)
    assert phases.peak_rss_mb() >= psutil.Process().memory_info().rss / 2 ** 20 - 1.0


def _tiny_model(ds):
    def build():
        model = keras.Sequential([keras.Input(ds.input_shape), keras.layers.Flatten(),
                                  keras.layers.Dense(ds.num_classes)])
        model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        return model
    return build


def test_trial_by_hand_adds_up(ds):
    out = phases.trial_by_hand(_tiny_model(ds), ds.x_train, ds.y_train, ds.x_val, ds.y_val,
                               epochs=2, batch_size=64)
    parts = ("build_s", "trace_s", "fit_s", "evaluate_s", "save_s")
    assert all(out[k] >= 0 for k in parts)
    assert out["total_s"] == pytest.approx(sum(out[k] for k in parts))
    assert out["overhead_fraction"] == pytest.approx(1 - out["fit_s"] / out["total_s"])
    assert out["params"] == 40 * ds.num_classes + ds.num_classes
    assert out["peak_rss_mb_after"] >= out["peak_rss_mb_before"] > 0


def test_step_costs_table_and_line(ds):
    table, fits = phases.step_costs(_tiny_model(ds), ds.x_train, ds.y_train, [4, 16], steps=3)
    assert list(table.index) == [("/CPU:0", 4), ("/CPU:0", 16)]
    assert (table.ms_per_step > 0).all()
    ms = table.ms_per_step.to_numpy()
    assert table.us_per_example.to_numpy() == pytest.approx(1e3 * ms / [4, 16])
    step_s, example_s = fits["/CPU:0"]
    # two points: the line passes through both unless a part was clipped at zero
    slope = (ms[1] - ms[0]) / 1e3 / 12
    if slope > 0 and ms[0] / 1e3 - 4 * slope > 0:
        assert step_s + 4 * example_s == pytest.approx(ms[0] / 1e3)
        assert example_s == pytest.approx(slope)
    assert step_s >= 0 and example_s >= 0
