"""The ``nasbook`` command end to end, in subprocesses: search, Ctrl-C, resume, show, errors."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

SCRIPT = Path(sys.executable).parent / "nasbook"  # the console script pyproject declares
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")


def nasbook(*args, timeout=300):
    cmd = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "nasbook.cli"]
    return subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout, env=ENV)


def search_args(out, trials):
    return ["search", "--dataset", "mnist1d", "--space", "mlp", "--strategy", "random",
            "--max-trials", trials, "--time-budget", 600, "--epochs", 1, "--n-train", 300,
            "--n-val", 200, "--out", out, "--no-progress"]


def finished(run_dir):
    out = {}
    for path in Path(run_dir).glob("trial_*/nasbook_trial.json"):
        try:
            rec = json.loads(path.read_text())
        except ValueError:
            continue
        if rec["status"] != "running":
            out[rec["trial_id"]] = rec
    return out


def test_search_interrupt_resume_show(tmp_path):
    out = tmp_path / "demo"
    cmd = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "nasbook.cli"]
    # Ctrl-C as in a terminal (a background job may inherit SIGINT ignored; undo that).
    proc = subprocess.Popen(cmd + [str(a) for a in search_args(out, 4)], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 240
    while not finished(out):
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        assert time.time() < deadline, "the search is too slow"
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)  # Ctrl-C
    _, err = proc.communicate(timeout=120)
    first = finished(out)
    assert proc.returncode == 130 and "run the same command again to resume" in err
    assert 1 <= len(first) < 4
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["sessions"][-1]["stop_reason"] == "interrupted"

    done = nasbook(*search_args(out, 4))  # the same command resumes
    assert done.returncode == 0, done.stderr[-2000:]
    assert "best: trial" in done.stdout
    again = finished(out)
    assert len(again) == 4 and all(r["status"] == "completed" for r in again.values())
    for tid, rec in first.items():  # finished trials were kept, not retrained
        assert again[tid]["ended_at"] == rec["ended_at"]

    shown = nasbook("show", out, "--csv", tmp_path / "trials.csv")
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert "max_trials reached" in shown.stdout and "best: trial" in shown.stdout
    assert "n_dense" in shown.stdout  # a decision column of the mlp preset
    table = pd.read_csv(tmp_path / "trials.csv", index_col="trial")
    assert list(table.index) == [0, 1, 2, 3] and table.val_accuracy.notna().all()
    best = table.val_accuracy.idxmax()
    assert f"best: trial {best}, val_accuracy {table.val_accuracy[best]:.4f}" in shown.stdout


def test_errors_are_one_clear_line(tmp_path):
    missing = nasbook("show", tmp_path / "nothing")
    assert missing.returncode == 1
    assert missing.stderr.startswith("nasbook: error:") and "not a search run" in missing.stderr
    bad = nasbook("search", "--dataset", "mnist-1d", "--out", tmp_path / "x")
    assert bad.returncode == 1 and "Did you mean 'mnist1d'" in bad.stderr
    usage = nasbook("search")  # --out is required
    assert usage.returncode == 2 and "--out" in usage.stderr


def test_search_the_benchmark_space_then_explain_it(tmp_path, capsys):
    from nasbook.cli import main

    out = tmp_path / "bench_run"
    ran = nasbook("search", "--dataset", "mnist1d", "--space", "bench", "--strategy", "random",
                  "--max-trials", 6, "--epochs", 1, "--n-train", 300, "--n-val", 200,
                  "--out", out, "--no-progress")
    assert ran.returncode == 0, ran.stderr[-2000:]
    shown = nasbook("explain", out)
    assert shown.returncode == 0, shown.stderr[-2000:]
    text = shown.stdout
    assert "6 distinct architectures" in text and "fanova" in text and "shap" in text
    assert "ped_anova" not in text       # 10% of 6 trials is below PED-ANOVA's minimum
    assert "not cross-validated" in text and "rules: need at least 10" in text
    assert "the winner beside the runners-up" in text and "connection" in text
    capsys.readouterr()
    assert main(["explain", str(out), "--methods", "gini"]) == 1
    assert "unknown importance method" in capsys.readouterr().err
    with pytest.raises(SystemExit) as done:
        main(["bench", "build", "--help"])
    assert done.value.code == 0 and "--workers" in capsys.readouterr().out


def test_worker_threads_from_the_command_line(tmp_path):
    out = tmp_path / "threads"
    done = nasbook(*search_args(out, 2), "--workers", 2, "--worker-threads", 1, 1, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["sessions"][-1]["worker_threads"] == [1, 1]
    bad = nasbook(*search_args(tmp_path / "bad", 1), "--worker-threads", 1, 2, 3)
    assert bad.returncode != 0 and "--worker-threads takes INTRA [INTER]" in bad.stderr
