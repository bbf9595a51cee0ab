"""nasbook as a user installs it: the wheel built from this tree, installed into a clean virtual
environment, used from an empty folder outside the repository. Nothing may resolve a path
against the repository: the tables and notebooks come from the package data.

Slow (a few minutes: the venv's dependencies install from the registry or pip's cache), so it
runs once, in one test."""
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.timeout(1800)

USE = """
import json, sys
import nasbook as nb
assert "{root}" not in nb.__file__, nb.__file__
bench, expl = nb.bench.load(), nb.bench.load_explanations()   # checksums verified
assert "{root}" not in str(nb.bench.TABLE_PATH)
ds = nb.load_dataset("mnist1d", seed=0).subset(n_train=200, n_val=100, seed=0)
space = nb.space.preset("mlp", ds.input_shape, ds.num_classes, n_dense=[1], units=[16])
result = nb.search(ds, space, max_trials=2, epochs=1, run_dir="runs/wheel", progress=False)
print(json.dumps({{"file": nb.__file__, "bench": len(bench), "expl": len(expl),
                  "trials": len(result), "status": result.trials.status.tolist()}}))
"""


def run(cmd, cwd, env, timeout=1200):
    out = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True,
                         text=True, timeout=timeout)
    assert out.returncode == 0, f"{cmd}\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out.stdout


def test_the_wheel_works_outside_the_repository(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(TF_CPP_MIN_LOG_LEVEL="2", NASBOOK_QUICK="1",
               NASBOOK_DATA_DIR=str(tmp_path / "cache"))
    # built from a copy, so that the build's own folders (build/, *.egg-info) stay out of the tree
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "runs", "*.egg-info", "__pycache__", ".pytest_cache"))
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", tmp_path / "dist",
         source], tmp_path, env)
    (wheel,) = (tmp_path / "dist").glob("nasbook-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for table in ("mnist1d_bench.csv", "mnist1d_explanations.csv", "mnist1d_bench_near.csv",
                  "mnist1d_bench_far.csv", "mnist1d_latency.csv", "mnist1d_latency_reference.csv"):
        assert f"nasbook/tables/{table}" in names and f"nasbook/tables/{table}.sha256" in names
    assert sum(n.startswith("nasbook/lessons/") and n.endswith(".ipynb") for n in names) >= 15

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", venv], tmp_path, env)
    python = venv / "bin" / "python"
    run([python, "-m", "pip", "install", "--quiet", f"{wheel}[test]"], tmp_path, env)
    user = tmp_path / "user"          # an empty folder outside the repository
    user.mkdir()
    line = run([python, "-c", USE.format(root=ROOT)], user, env).strip().splitlines()[-1]
    used = json.loads(line)
    assert used["file"].startswith(str(venv)) and used["bench"] == 648 and used["expl"] == 648
    assert used["trials"] == 2 and used["status"] == ["completed", "completed"]
    nasbook = venv / "bin" / "nasbook"
    run([nasbook, "report", "runs/wheel", "-o", "report.html"], user, env)
    assert (user / "report.html").stat().st_size > 10_000
    run([nasbook, "notebooks", "lessons"], user, env)
    copied = sorted(p.name for p in (user / "lessons").glob("*.ipynb"))
    assert len(copied) >= 15 and copied[0].startswith("00_")
    # one research notebook, copied out alone, runs top to bottom in quick mode
    alone = user / "alone"
    alone.mkdir()
    (user / "lessons" / "10_explaining_the_search.ipynb").rename(alone / "10.ipynb")
    script = ("from nasbook.book import execute\n"
              "run = execute('alone/10.ipynb', quick=True, timeout=600)\n"
              "assert run.error is None, run.error\nprint('ran', round(run.seconds))")
    assert "ran" in run([python, "-c", script], user, env, timeout=1500)
