"""TensorBoard logs of a search, read back with TensorBoard's own reader, and the server found
serving the HParams plugin."""
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2
from tensorboard.util import tensor_util

import nasbook as nb
from nasbook import tensorboard as tb

pytestmark = pytest.mark.timeout(600)
HANG_S = 180  # a server that has not answered after this long is stuck, however busy


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    ds = nb.load_dataset("mnist1d", seed=0).subset(n_train=200, n_val=100, seed=0)
    space = nb.space.preset("mlp", ds.input_shape, ds.num_classes, n_dense=[1, 2],
                            units=[16, 32])
    base = tmp_path_factory.mktemp("tb")
    result = nb.search(ds, space, "random", max_trials=3, epochs=2, run_dir=base / "on",
                       progress=False)
    off = nb.search(ds, space, "random", max_trials=1, epochs=1, run_dir=base / "off",
                    progress=False, tensorboard=False)
    return result, off


def _accumulator(path):
    acc = EventAccumulator(str(path), size_guidance={"tensors": 0})
    acc.Reload()
    return acc


def _values(acc, tag):
    return [(e.step, float(tensor_util.make_ndarray(e.tensor_proto))) for e in acc.Tensors(tag)]


def _records(run_dir):
    return {p.parent.name: json.loads(p.read_text())
            for p in Path(run_dir).glob("trial_*/nasbook_trial.json")}


def test_every_trial_has_per_epoch_scalars(run):
    result, _ = run
    records = _records(result.run_dir)
    assert len(records) == 3
    for name, rec in records.items():
        base = tb.log_dir(result.run_dir, rec["trial_id"])
        val = _accumulator(base / "validation")
        train = _accumulator(base / "train")
        for tag in ("epoch_accuracy", "epoch_loss", "epoch_f1", "epoch_precision",
                    "epoch_recall"):
            assert tag in val.Tags()["tensors"], (name, tag)
        assert {"epoch_accuracy", "epoch_loss"} <= set(train.Tags()["tensors"])
        # one point per epoch trained, equal to what the trial's record says for that epoch
        got = _values(val, "epoch_accuracy")
        want = [(row["epoch"], row["val_accuracy"]) for row in rec["history"]]
        assert [s for s, _ in got] == [s for s, _ in want]
        np.testing.assert_allclose([v for _, v in got], [v for _, v in want], rtol=1e-6)
        got_loss = [v for _, v in _values(train, "epoch_loss")]
        np.testing.assert_allclose(got_loss, [row["loss"] for row in rec["history"]],
                                   rtol=1e-6)


def test_every_trial_has_an_hparams_session_with_its_decisions_and_final_metrics(run):
    result, _ = run
    for rec in _records(result.run_dir).values():
        acc = _accumulator(tb.log_dir(result.run_dir, rec["trial_id"]))
        content = acc.PluginTagToContent("hparams")
        start = plugin_data_pb2.HParamsPluginData.FromString(
            content["_hparams_/session_start_info"]).session_start_info
        got = {}
        for key, value in start.hparams.items():
            kind = value.WhichOneof("kind")
            got[key] = getattr(value, kind)
        want = rec["active_values"]
        assert set(got) == set(want)
        for key, value in want.items():
            assert got[key] == pytest.approx(value) if isinstance(value, float) else \
                got[key] == value, key
        end = plugin_data_pb2.HParamsPluginData.FromString(
            content["_hparams_/session_end_info"]).session_end_info
        assert end.status == api_pb2.Status.STATUS_SUCCESS
        # the final metrics are the trial's best epoch, the model kept
        for metric in ("val_accuracy", "val_loss", "val_f1"):
            (step, value), = _values(acc, metric)
            assert step == rec["best_epoch"]
            assert value == pytest.approx(rec["metrics"][metric], rel=1e-6)
        (_, params), = _values(acc, "params")
        assert params == rec["params"]


def test_the_experiment_lists_every_decision_and_metric(run):
    result, _ = run
    acc = _accumulator(tb.log_dir(result.run_dir))
    experiment = plugin_data_pb2.HParamsPluginData.FromString(
        acc.PluginTagToContent("hparams")["_hparams_/experiment"]).experiment
    names = [h.name for h in experiment.hparam_infos]
    oracle = json.loads((Path(result.run_dir) / "oracle.json").read_text())
    declared = list(dict.fromkeys(hp["config"]["name"]
                                  for hp in oracle["hyperparameters"]["space"]))
    assert names == declared and "units_2" in names  # conditional decisions included
    units = next(h for h in experiment.hparam_infos if h.name == "units_1")
    assert [v.number_value for v in units.domain_discrete.values] == [16, 32]
    metrics = [m.name.tag for m in experiment.metric_infos]
    assert metrics[0] == "val_accuracy" and "val_f1" in metrics and "params" in metrics


def test_tensorboard_false_writes_no_logs(run):
    _, off = run
    assert not (Path(off.run_dir) / "tensorboard").exists()
    with pytest.raises(FileNotFoundError, match="no TensorBoard logs"):
        tb.start(off.run_dir)


def test_the_server_serves_the_hparams_plugin(run):
    result, _ = run
    proc = subprocess.Popen([sys.executable, "-m", "nasbook.cli", "tensorboard",
                             str(result.run_dir), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert "http://127.0.0.1:" in line, proc.stderr.read()
        url = next(w for w in line.split() if w.startswith("http://"))
        port = int(url.rstrip("/").rsplit(":", 1)[1])
        # TensorBoard loads the event files a moment after it answers (a few seconds; the
        # limits below are hang protection for a busy machine, not what is tested)
        deadline = time.time() + HANG_S
        while True:
            with urllib.request.urlopen(url + "data/plugins_listing", timeout=HANG_S) as resp:
                listing = json.load(resp)
            if listing.get("hparams", {}).get("enabled") or time.time() > deadline:
                break
            time.sleep(1)
        assert listing["hparams"]["enabled"] is True
        assert listing["scalars"]["enabled"] is True
        with urllib.request.urlopen(url + "data/runs", timeout=HANG_S) as resp:
            runs = json.load(resp)
        assert {"trial_0", "trial_0/validation", "trial_2/train"} <= set(runs)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(HANG_S) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    with socket.socket() as sock:  # the server went with it
        assert sock.connect_ex(("127.0.0.1", port)) != 0


def test_hparams_table_reads_each_trials_session_back(run):
    """nb.tensorboard.hparams_table: the HParams dashboard's table, from the event files."""
    result, off = run
    table = tb.hparams_table(result.run_dir)
    records = _records(result.run_dir)
    assert sorted(table.index) == sorted(records)
    for name, rec in records.items():
        row = table.loc[name]
        assert row["status"] == "success"
        for key, value in rec["active_values"].items():
            assert row[key] == pytest.approx(value), (name, key)
        for metric in ("val_accuracy", "val_loss", "val_f1"):
            assert row[metric] == pytest.approx(rec["metrics"][metric], rel=1e-6)
        assert row["params"] == rec["params"]
    assert not any(c.startswith("_hparams_") for c in table.columns)
    with pytest.raises(FileNotFoundError, match="no TensorBoard logs"):
        tb.hparams_table(off.run_dir)
