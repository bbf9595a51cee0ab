"""nb.search: a real search on mnist1d, stop conditions, failures, duplicates, resume after kill -9.

Budgets are tiny (300 training examples, 1-2 epochs, 1-5 trials) so that the file runs in about
a minute; what is checked is behaviour, against Keras and scikit-learn recomputing the numbers.
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import keras_tuner
import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score

import nasbook as nb
from nasbook.results import SearchResult
from nasbook.search import KILLED, RECORD, SearchError

N_TRAIN, N_VAL = 300, 200


@pytest.fixture(scope="module")
def ds():
    return nb.load_dataset("mnist1d", seed=0).subset(n_train=N_TRAIN, n_val=N_VAL, seed=0)


@pytest.fixture(scope="module")
def space(ds):
    return nb.space.preset("cnn", ds.input_shape, ds.num_classes, n_blocks=[1, 2],
                           filters=[8, 16])


@pytest.fixture(scope="module")
def run(ds, space, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("search") / "run"
    result = nb.search(ds, space, strategy="random", max_trials=5, epochs=2,
                       early_stopping_patience=1, run_dir=run_dir, seed=0, progress=False)
    return result


class Modes(keras_tuner.HyperModel):
    """A tiny MLP whose one decision makes a trial train, diverge or fail to build; walked in
    order by keras-tuner's grid search."""

    def __init__(self, modes):
        super().__init__()
        self.modes = list(modes)

    def build(self, hp):
        mode = hp.Choice("mode", self.modes)
        if mode.startswith("broken"):
            raise ValueError(f"no layer kind called {mode!r}")
        inputs = keras.Input((40, 1))
        h = keras.layers.Flatten()(inputs)
        for _ in range(2):
            h = keras.layers.Dense(32, activation="relu")(h)
        model = keras.Model(inputs, keras.layers.Dense(10)(h))
        lr = 100.0 if mode == "diverge" else 0.05  # SGD at lr=100 drives the loss to NaN
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"])
        return model

    def active_values(self, values):
        return {"mode": values.get("mode", self.modes[0])}


def grid(n):
    return keras_tuner.oracles.GridSearchOracle(objective="val_accuracy", max_trials=n)


# --- a normal search -------------------------------------------------------------------------

def test_five_trials_recorded_with_models_and_metrics(run, ds, space):
    trials = run.trials
    assert len(trials) == 5 and set(trials.status) <= {"completed", "duplicate"}
    assert (run.run_dir / "manifest.json").exists()
    for number, row in trials[trials.status == "completed"].iterrows():
        model = run.model(number)
        pred = np.asarray(model(ds.x_val, training=False)).argmax(axis=1)
        # The saved model is the best epoch's, and its numbers are the recorded ones.
        assert row.val_accuracy == pytest.approx(accuracy_score(ds.y_val, pred), abs=1e-6)
        assert row.val_f1 == pytest.approx(f1_score(ds.y_val, pred, average="macro"), abs=1e-6)
        assert row.params == model.count_params()
        curve = run.curves(number)
        assert len(curve) == row.epochs_run and row.val_accuracy == curve.val_accuracy.max()
        # Only decisions that shaped the model are filled in.
        active = space.active_values(run.config(number))
        for name in run.decisions:
            assert (name in active) == (not _missing(row[name])), name
    assert run.best_score == trials.val_accuracy.max()
    assert run.best_config == space.active_values(run.config(run.best_trial))


def _missing(value):
    return value is None or (isinstance(value, float) and np.isnan(value))


def test_history_is_best_so_far(run):
    hist = run.history()
    assert list(hist.trial) == sorted(hist.trial)
    assert np.allclose(hist.best_so_far, np.maximum.accumulate(hist.score))
    assert (np.diff(hist.elapsed_s) > 0).all()


def test_same_seed_same_configurations(run, ds, space, tmp_path):
    again = nb.search(ds, space, max_trials=2, epochs=1, run_dir=tmp_path / "a", seed=0,
                      progress=False)
    assert [again.config(i) for i in range(2)] == [run.config(i) for i in range(2)]


# --- stop conditions -------------------------------------------------------------------------

class TrialClock:
    """``time`` as nasbook.rundir sees it, with a search clock the test moves: it stands still
    except while a trial's model is built, which takes an hour of it. So a budget of a minute is
    unspent before the first trial and certainly spent after it, on any machine."""

    def __init__(self):
        self.now = 0.0

    def __getattr__(self, name):
        return getattr(time, name)

    def perf_counter(self):
        return self.now


def test_time_budget_and_target_stop_between_trials(ds, space, tmp_path, monkeypatch):
    clock, build = TrialClock(), space.build

    def build_for_an_hour(hp):
        clock.now += 3600.0
        return build(hp)

    monkeypatch.setattr(nb.rundir, "time", clock)
    monkeypatch.setattr(space, "build", build_for_an_hour)
    spent = nb.search(ds, space, max_trials=5, epochs=1, time_budget=60,
                      run_dir=tmp_path / "t", progress=False)
    # checked between trials: the running trial finished, the next one did not start
    assert len(spent) == 1 and spent.stop_reason.startswith("time budget spent")
    assert spent.trials.status.tolist() == ["completed"]
    monkeypatch.undo()
    reached = nb.search(ds, space, max_trials=5, epochs=1, target=0.0, run_dir=tmp_path / "t",
                        overwrite=True, seed=1, progress=False)
    assert len(reached) == 1 and reached.stop_reason.startswith("target reached")
    assert len(reached.manifest["sessions"]) == 1  # overwrite=True started afresh
    assert reached.config(0) != spent.config(0)  # another seed, another configuration


def test_resuming_a_finished_search_trains_nothing(run, ds, space):
    before = {p: p.stat().st_mtime_ns for p in run.run_dir.glob("trial_*/*")}
    again = nb.search(ds, space, max_trials=5, epochs=2, early_stopping_patience=1,
                      run_dir=run.run_dir, seed=0, progress=False)
    assert len(again) == 5 and again.stop_reason.startswith("max_trials reached")
    assert {p: p.stat().st_mtime_ns for p in run.run_dir.glob("trial_*/*")} == before


# --- failures and duplicates -------------------------------------------------------------------

def test_nan_and_build_failures_are_recorded_and_the_search_goes_on(ds, tmp_path):
    modes = ["ok", "diverge", "broken", "broken_too", "ok_again"]
    with pytest.raises(SearchError, match="3 trials in a row failed") as info:
        nb.search(ds, Modes(modes), grid(5), max_trials=5, epochs=2,
                  run_dir=tmp_path / "f", max_consecutive_failures=3, progress=False)
    assert "no layer kind called 'broken_too'" in str(info.value)  # the reasons are listed
    result = SearchResult.load(tmp_path / "f")
    table = result.trials
    assert list(table["mode"]) == modes[:4]  # stopped after three failures in a row
    assert list(table.status) == ["completed", "failed", "failed", "failed"]
    assert "nan" in table.failure_reason[1].lower()
    assert "no layer kind called 'broken'" in table.failure_reason[2]
    assert result.best_trial == 0 and result.best_model() is not None  # finished trial kept


def test_identical_configurations_are_not_retrained(ds, tmp_path):
    class Unused(Modes):  # "note" never reaches the model: both trials build the same one
        def build(self, hp):
            hp.Choice("note", ["a", "b"])
            return super().build(hp)

    result = nb.search(ds, Unused(["ok"]), grid(2), max_trials=2, epochs=1,
                       run_dir=tmp_path / "d", progress=False)
    first, second = result.trials.iloc[0], result.trials.iloc[1]
    assert list(result.trials.status) == ["completed", "duplicate"]
    assert second.duplicate_of == "0" and second.val_accuracy == first.val_accuracy
    assert second.train_time_s == 0 and not (result.run_dir / "trial_1" / "model.keras").exists()


# --- bad input: clear errors, before anything is trained ------------------------------------------

def test_clear_errors(ds, space, run, tmp_path):
    with pytest.raises(SearchError, match="max_trials must be a positive integer"):
        nb.search(ds, space, max_trials=0, run_dir=tmp_path / "x")
    with pytest.raises(SearchError, match="Did you mean 'random'"):
        nb.search(ds, space, strategy="randm", run_dir=tmp_path / "x")
    with pytest.raises(SearchError, match="does not take option"):
        nb.search(ds, space, strategy="random", run_dir=tmp_path / "x", populaton=3)
    with pytest.raises(SearchError, match="unknown objective"):
        nb.search(ds, space, objective="val_acc", run_dir=tmp_path / "x")
    with pytest.raises(SearchError, match="default configuration does not build"):
        nb.search(ds, Modes(["broken"]), grid(1), run_dir=tmp_path / "x")
    with pytest.raises(SearchError, match="input shape"):
        nb.search(nb.load_dataset("digits"), space, run_dir=tmp_path / "x")
    mlp = nb.space.preset("mlp", ds.input_shape, ds.num_classes)
    with pytest.raises(SearchError, match="different search space"):
        nb.search(ds, mlp, max_trials=5, run_dir=run.run_dir)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(SearchError, match="not a search run directory"):
        nb.search(ds, space, run_dir=tmp_path / "mine", overwrite=True)
    assert (tmp_path / "mine" / "notes.txt").exists()
    assert not (tmp_path / "x").exists()


# --- resume after kill -9 ----------------------------------------------------------------------

def _finished(run_dir):
    out = {}
    for path in Path(run_dir).glob(f"trial_*/{RECORD}"):
        try:
            rec = json.loads(path.read_text())
        except ValueError:
            continue
        if rec.get("status") == "completed":
            out[rec["trial_id"]] = rec
    return out


def test_resume_after_kill_keeps_every_finished_trial(ds, tmp_path):
    run_dir = tmp_path / "killed"
    cmd = [sys.executable, "-m", "nasbook.cli", "search", "--dataset", "mnist1d", "--space",
           "cnn", "--max-trials", "4", "--epochs", "1", "--n-train", str(N_TRAIN), "--n-val",
           str(N_VAL), "--out", str(run_dir), "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.time() + 240
    try:
        while len(_finished(run_dir)) < 2:
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.time() < deadline, "the search in the subprocess is too slow"
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    kept = _finished(run_dir)
    assert 2 <= len(kept) < 4
    stamps = {tid: (run_dir / f"trial_{tid}" / "model.keras").stat().st_mtime_ns for tid in kept}

    space = nb.space.preset("cnn", ds.input_shape, ds.num_classes)
    result = nb.search(ds, space, max_trials=4, epochs=1, run_dir=run_dir, progress=False)
    assert list(result.trials.status) == ["completed"] * 4  # the requested count is reached
    for tid, rec in kept.items():  # ... and no finished trial was retrained or lost
        assert _finished(run_dir)[tid]["ended_at"] == rec["ended_at"]
        assert (run_dir / f"trial_{tid}" / "model.keras").stat().st_mtime_ns == stamps[tid]
    assert result.manifest["sessions"][0]["stop_reason"] == KILLED
    # (the kill may land between a trial's record and the manifest's count)
    assert len(kept) - 1 <= result.manifest["sessions"][0]["trials_run"] <= len(kept)
    assert result.stop_reason.startswith("max_trials reached")


def test_a_trial_orphaned_by_a_kill_between_keras_tuners_two_writes_is_run_again(ds, tmp_path):
    """keras-tuner writes a new trial's trial.json (RUNNING) before oracle.json; a kill between
    the two left a trial that counted toward max_trials but never ran (seen in this file's
    kill test, about one run in ten). The state is made here directly, as the kill leaves it."""
    mlp = nb.space.preset("mlp", ds.input_shape, ds.num_classes)
    run_dir = tmp_path / "orphan"
    nb.search(ds, mlp, max_trials=2, epochs=1, run_dir=run_dir, progress=False, seed=0)
    oracle = nb.strategies.get("random", objective=keras_tuner.Objective("val_accuracy", "max"),
                               max_trials=3, seed=0)
    oracle._set_project_dir(str(run_dir.parent), run_dir.name)
    oracle.reload()
    orphan = oracle.create_trial("tuner0")          # writes trial_02/trial.json, RUNNING
    state = json.loads((run_dir / "oracle.json").read_text())
    state["ongoing_trials"] = {}                    # ... as if killed before oracle.json
    (run_dir / "oracle.json").write_text(json.dumps(state))
    assert json.loads((run_dir / f"trial_{orphan.trial_id}" / "trial.json").read_text())["status"] == "RUNNING"

    result = nb.search(ds, mlp, max_trials=3, epochs=1, run_dir=run_dir, progress=False, seed=0)
    assert list(result.trials.status) == ["completed"] * 3
    record = json.loads((run_dir / f"trial_{orphan.trial_id}" / RECORD).read_text())
    assert record["status"] == "completed"


def test_hyperband_continues_the_best_trial_from_its_saved_model(ds, tmp_path):
    mlp = nb.space.preset("mlp", ds.input_shape, ds.num_classes)
    result = nb.search(ds, mlp, "hyperband", max_trials=4, epochs=3, factor=3,
                       run_dir=tmp_path / "hb", progress=False)
    trials = result.trials
    # Bracket 1 of Hyperband(max_epochs=3, factor=3): three 1-epoch trials, then the best of
    # them trained on from epoch 1 to epoch 3, starting from its saved model.
    assert list(trials.epochs_run) == [1, 1, 1, 2]
    parent = int(trials.continues[3])
    assert parent == trials.val_accuracy[:3].idxmax()
    assert result.config(3) == result.config(parent)
    assert list(result.curves(3).epoch) == [2, 3]
