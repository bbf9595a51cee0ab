"""SearchResult reads a run directory: the trials table, the best model, history, curves, CSV.

One real search (a tiny MLP on mnist1d, keras-tuner's grid search walking three widths, one of
which Keras refuses to build) minimises val_loss, so the "min" direction is exercised here.
"""
import json
import shutil

import keras
import keras_tuner
import numpy as np
import pandas as pd
import pytest

import nasbook as nb
from nasbook.results import ResultError, SearchResult


class Widths(keras_tuner.HyperModel):
    def build(self, hp):
        units = hp.Choice("units", [8, 16, 0])  # Dense(0) is an error Keras raises itself
        inputs = keras.Input((40, 1))
        h = keras.layers.Dense(units, activation="relu")(keras.layers.Flatten()(inputs))
        model = keras.Model(inputs, keras.layers.Dense(10)(h))
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"])
        return model


@pytest.fixture(scope="module")
def ds():
    return nb.load_dataset("mnist1d", seed=0).subset(n_train=300, n_val=200, seed=0)


@pytest.fixture(scope="module")
def result(ds, tmp_path_factory):
    oracle = keras_tuner.oracles.GridSearchOracle(
        objective=keras_tuner.Objective("val_loss", "min"), max_trials=3)
    return nb.search(ds, Widths(), oracle, objective="val_loss", max_trials=3, epochs=3,
                     early_stopping_patience=None,
                     run_dir=tmp_path_factory.mktemp("res") / "run", progress=False)


def test_not_a_run_directory(tmp_path):
    with pytest.raises(ResultError, match="does not exist"):
        SearchResult.load(tmp_path / "nothing")
    with pytest.raises(ResultError, match="no manifest"):
        SearchResult.load(tmp_path)


def test_trials_table(result):
    trials = result.trials
    assert list(trials.index) == [0, 1, 2]
    assert list(trials.columns[:3]) == ["status", "units", "val_loss"]
    assert list(trials.status) == ["completed", "completed", "failed"]
    assert list(trials.units) == [8, 16, 0]
    assert "units" in trials.failure_reason[2] and trials.val_loss.isna()[2]
    assert (trials.epochs_run[:2] == 3).all() and trials.params[0] < trials.params[1]
    assert result.counts() == {"completed": 2, "duplicate": 0, "failed": 1, "unfinished": 0}


def test_best_is_the_lowest_loss_and_its_model_reproduces_it(result, ds):
    trials = result.trials
    assert result.direction == "min"
    assert result.best_trial == trials.val_loss.idxmin()
    assert result.best_config == {"units": trials.units[result.best_trial]}
    model = result.best_model()
    loss, accuracy = model.evaluate(ds.x_val, ds.y_val, verbose=0)  # Keras recomputes them
    assert loss == pytest.approx(result.best_score, rel=1e-4)
    assert accuracy == pytest.approx(trials.val_accuracy[result.best_trial], abs=1e-6)
    with pytest.raises(ResultError, match="no trained model"):
        result.model(2)


def test_history_and_curves(result):
    records = [json.loads(p.read_text()) for p in
               sorted(result.run_dir.glob("trial_*/nasbook_trial.json"))]
    records.sort(key=lambda r: r["ended_at"])
    scores = np.array([r["score"] if r["status"] != "failed" else np.nan for r in records])
    hist = result.history()
    assert np.allclose(hist.score, scores, equal_nan=True)
    assert np.allclose(hist.best_so_far, np.fmin.accumulate(scores))  # min: lower is better
    assert np.allclose(hist.elapsed_s, np.cumsum([r["duration_s"] for r in records]))
    curves = result.curves()
    assert set(curves.trial) == {0, 1} and list(curves.epoch[curves.trial == 0]) == [1, 2, 3]
    assert {"loss", "val_loss", "val_accuracy", "val_f1"} <= set(curves.columns)
    best = result.trials.val_loss
    for trial in (0, 1):
        assert curves.val_loss[curves.trial == trial].min() == pytest.approx(best[trial])


def test_csv_round_trip(result, tmp_path):
    path = result.to_csv(tmp_path / "out" / "trials.csv")
    back = pd.read_csv(path, index_col="trial")
    pd.testing.assert_frame_equal(back[["units", "val_loss", "val_f1", "params"]],
                                  result.trials[["units", "val_loss", "val_f1", "params"]],
                                  check_dtype=False)


def test_unfinished_trial_after_a_kill(result, tmp_path):
    # The on-disk state kill -9 leaves mid-trial: keras-tuner's trial.json says RUNNING and
    # nasbook has not written its record yet.
    copy = tmp_path / "copy"
    shutil.copytree(result.run_dir, copy)
    state = json.loads((copy / "trial_1" / "trial.json").read_text())
    state["status"] = "RUNNING"
    (copy / "trial_1" / "trial.json").write_text(json.dumps(state))
    (copy / "trial_1" / "nasbook_trial.json").unlink()
    again = SearchResult.load(copy)
    assert list(again.trials.status) == ["completed", "unfinished", "failed"]
    assert again.trials.units[1] == 16 and again.best_trial == 0
    assert "1 unfinished" in again.summary()


def test_text(result):
    assert f"trial {result.best_trial}" in result.summary()
    table = result.table()
    assert "units" in table and "failure_reason" in table
    assert repr(result).startswith("SearchResult(3 trials")
