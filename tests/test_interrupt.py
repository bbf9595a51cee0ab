"""Ctrl-C during a trial interrupts the search; it never turns into a failed trial, even when
the KeyboardInterrupt surfaces inside TensorFlow as another exception (seen in CI: a
TypeError from a Flatten layer being traced), and the interrupted trial is trained on resume."""
import json
from pathlib import Path

import keras
import pytest

import nasbook as nb
from nasbook.monitor import Interrupt


def _build(ctrl_c_after_first_trial_of=None):
    fired = []

    def build(hp):
        units = hp.Int("units", 4, 64, step=4)
        run_dir = ctrl_c_after_first_trial_of
        if run_dir is not None and not fired and "completed" in _statuses(run_dir).values():
            fired.append(True)
            Interrupt.flag = True   # what the SIGINT handler does, then TensorFlow re-raised:
            raise TypeError("Failed to convert elements of (None, 40) to Tensor")
        model = keras.Sequential([keras.Input((40, 1)), keras.layers.Flatten(),
                                  keras.layers.Dense(units, activation="relu"),
                                  keras.layers.Dense(10)])
        model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"])
        return model

    return build


def _statuses(run_dir):
    return {json.loads(p.read_text())["trial_id"]: json.loads(p.read_text())["status"]
            for p in Path(run_dir).glob("trial_*/nasbook_trial.json")}


def test_an_error_raised_by_ctrl_c_is_an_interruption_not_a_failed_trial(tmp_path):
    ds = nb.load_dataset("mnist1d", seed=0).subset(n_train=200, n_val=100, seed=0)
    run_dir = tmp_path / "run"
    options = dict(max_trials=3, epochs=1, seed=0, progress=False, tensorboard=False,
                   run_dir=run_dir)
    with pytest.raises(KeyboardInterrupt):
        nb.search(ds, _build(ctrl_c_after_first_trial_of=run_dir), "random", **options)
    first = _statuses(run_dir)
    assert first.get("0") == "completed" and "failed" not in first.values()
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["sessions"][-1]["stop_reason"] == "interrupted"

    result = nb.search(ds, _build(), "random", **options)   # resume
    assert sorted(_statuses(run_dir).values()) == ["completed"] * 3
    assert result.counts()["failed"] == 0
