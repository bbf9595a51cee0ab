"""What each local worker process is given: its TensorFlow threads and, with GPUs, its device
and memory growth (nasbook.distributed.worker_env), and that it reaches the real process.

There is no GPU here, so the GPU part checks the environment a worker process receives and
reports (CUDA_VISIBLE_DEVICES and TF_FORCE_GPU_ALLOW_GROWTH), with the chief told it sees two
GPUs; what TensorFlow then does with them on a GPU machine is TensorFlow's (documented in its
GPU guide), not tested here.
"""
import re
from pathlib import Path

import pytest

import nasbook as nb
from nasbook import distributed
from nasbook.search import SearchError

pytestmark = pytest.mark.timeout(900)


@pytest.mark.parametrize("cores, workers, expected", [
    (2, 1, (2, 1)), (2, 2, (1, 1)), (2, 3, (1, 1)), (16, 3, (5, 1)), (8, 8, (1, 1))])
def test_default_threads_share_the_cores(cores, workers, expected):
    assert distributed.thread_counts(workers, cores=cores) == expected


def test_threads_can_be_set():
    assert distributed.thread_counts(2, 3) == (3, 1)
    assert distributed.thread_counts(2, (4, 2)) == (4, 2)
    assert distributed.thread_counts(2, (0, 0)) == (0, 0)   # TensorFlow's own default
    for bad in (-1, (1,), (1, -2), "2", (1.5, 1), True):
        with pytest.raises(SearchError, match="worker_threads"):
            distributed.thread_counts(2, bad)
    with pytest.raises(SearchError, match="worker_threads"):
        distributed.check_args(2, None, (1, "x"))


def test_worker_env_threads_and_gpus():
    base = {"PATH": "/bin"}
    env = distributed.worker_env(1, 2, None, [], base=base, cores=4)
    assert env["TF_NUM_INTRAOP_THREADS"] == "2" and env["TF_NUM_INTEROP_THREADS"] == "1"
    assert "CUDA_VISIBLE_DEVICES" not in env and "TF_FORCE_GPU_ALLOW_GROWTH" not in env
    assert base == {"PATH": "/bin"}  # not changed in place
    # (0, 0): TensorFlow decides; a value the caller's environment holds stays
    env = distributed.worker_env(0, 2, (0, 0), [], base={"TF_NUM_INTRAOP_THREADS": "7"})
    assert env["TF_NUM_INTRAOP_THREADS"] == "7" and "TF_NUM_INTEROP_THREADS" not in env
    # the default split gives way to the caller's own variables; an explicit count does not
    env = distributed.worker_env(0, 2, None, [], base={"TF_NUM_INTRAOP_THREADS": "3"}, cores=8)
    assert env["TF_NUM_INTRAOP_THREADS"] == "3" and env["TF_NUM_INTEROP_THREADS"] == "1"
    env = distributed.worker_env(0, 2, (2, 2), [], base={"TF_NUM_INTRAOP_THREADS": "3"})
    assert env["TF_NUM_INTRAOP_THREADS"] == "2" and env["TF_NUM_INTEROP_THREADS"] == "2"
    # several GPUs: one each, round robin over this process's own list, growth on
    gpus = ["2", "5"]
    envs = [distributed.worker_env(i, 3, None, gpus, base={}, cores=6) for i in range(3)]
    assert [e["CUDA_VISIBLE_DEVICES"] for e in envs] == ["2", "5", "2"]
    assert all(e["TF_FORCE_GPU_ALLOW_GROWTH"] == "true" for e in envs)
    # one GPU: shared (no CUDA_VISIBLE_DEVICES change), growth on unless the caller said no
    env = distributed.worker_env(1, 2, None, ["0"], base={"CUDA_VISIBLE_DEVICES": "0"})
    assert env["CUDA_VISIBLE_DEVICES"] == "0" and env["TF_FORCE_GPU_ALLOW_GROWTH"] == "true"
    env = distributed.worker_env(0, 2, None, ["0"], base={"TF_FORCE_GPU_ALLOW_GROWTH": "false"})
    assert env["TF_FORCE_GPU_ALLOW_GROWTH"] == "false"


def test_the_environment_reaches_each_worker_process(tmp_path, monkeypatch):
    """A real search with two worker processes, told to use 1 intra-op and 2 inter-op threads
    and (faked in this, the chief's, process) two visible GPUs: each worker's log reports the
    thread counts its TensorFlow has and the GPU variables it received."""
    ds = nb.load_dataset("mnist1d", seed=0).subset(n_train=200, n_val=100, seed=0)
    space = nb.space.preset("mlp", ds.input_shape, ds.num_classes, n_dense=[1], units=[16, 32])
    monkeypatch.setattr(distributed, "visible_gpus", lambda: ["0", "1"])
    monkeypatch.delenv("TF_FORCE_GPU_ALLOW_GROWTH", raising=False)
    result = nb.search(ds, space, "random", max_trials=2, epochs=1, run_dir=tmp_path / "run",
                       progress=False, workers=2, worker_threads=(1, 2))
    assert list(result.trials.status) == ["completed"] * 2
    logs = {p.stem: p.read_text() for p in (Path(result.run_dir) / "workers").glob("*.log")}
    assert sorted(logs) == ["tuner0", "tuner1"]
    for i, (tuner, log) in enumerate(sorted(logs.items())):
        line = re.search(r"serving the chief at .*", log).group(0)
        assert "threads: intra-op 1, inter-op 2" in line, line
        assert f"CUDA_VISIBLE_DEVICES={i}" in line and "TF_FORCE_GPU_ALLOW_GROWTH=true" in line, \
            line
    assert result.manifest["sessions"][-1]["worker_threads"] == [1, 2]
