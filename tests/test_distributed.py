"""nb.search(workers=N) on keras-tuner's gRPC chief/worker engine: real worker processes, real
kills (SIGKILL), the chief and `nasbook worker` command lines.

Budgets are tiny (200 training examples, a 1-2 layer MLP, 1-3 epochs, 2-4 trials); what costs
time is that every worker process imports TensorFlow (5-20 s on a loaded 2-core machine), so
the number of searches here is kept small.

A busy machine is slower, not wrong: the tests check what the processes did (their records,
logs and exit messages), and their time limits are hang protection, many times the normal time.
Two bound a time, each by ten times or more what it normally takes, only to tell a wrong
behaviour from a slow machine (a chief that lingers 20 s, a worker that ignores its 2-s connect
timeout). How fast a search ends and how fast workers follow a killed chief are measured by
benchmarks/distributed_delays.py.
"""
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import nasbook as nb
from nasbook import distributed, rundir
from nasbook.results import SearchResult
from nasbook.search import RECORD, SearchError
from nasbook.space.identity import architecture_key

pytestmark = pytest.mark.timeout(900)
HANG_S = 300  # hang protection for one wait on another process (normally a few seconds)

N_TRAIN, N_VAL = 200, 100


@pytest.fixture(scope="module")
def ds():
    return nb.load_dataset("mnist1d", seed=0).subset(n_train=N_TRAIN, n_val=N_VAL, seed=0)


@pytest.fixture(scope="module")
def space(ds):
    return nb.space.preset("mlp", ds.input_shape, ds.num_classes, n_dense=[1, 2],
                           units=[16, 32])


def _records(run_dir):
    out = {}
    for path in Path(run_dir).glob(f"trial_*/{RECORD}"):
        rec = json.loads(path.read_text())
        out[rec["trial_id"]] = rec
    return out


def _completed(run_dir):
    return {t: r for t, r in _records(run_dir).items() if r["status"] == "completed"}


def _running(run_dir):
    """``{trial_id: tuner_id}`` of the trials the chief has handed out that have no record yet
    (a record is written when its trial ends)."""
    try:
        oracle = json.loads((Path(run_dir) / "oracle.json").read_text())
    except (OSError, ValueError):
        return {}
    recs = _records(run_dir)
    return {trial: tuner for tuner, trial in oracle["ongoing_trials"].items()
            if trial not in recs}


def _alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie (killed, not yet reaped by its new parent) is gone for our purpose
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True


def _worker_logs(run_dir) -> dict:
    return {p.stem: p.read_text() for p in (Path(run_dir) / "workers").glob("*.log")}


@contextlib.contextmanager
def _first_trials_wait_for(n):
    """The chief hands out no trial until ``n`` different workers have asked for one, so that
    each of them runs one however unevenly a busy machine starts their processes (a worker
    imports TensorFlow for 5-20 s, then a trial takes a second or two: one worker could
    otherwise run them all before the other asks). Patched in this process, the chief's."""
    asked, everyone = set(), threading.Condition()
    create_trial = distributed._Chief.create_trial

    def create_trial_when_all_asked(self, tuner_id):
        with everyone:  # not the chief's lock: heartbeats and the others' calls go on
            asked.add(tuner_id)
            everyone.notify_all()
            everyone.wait_for(lambda: len(asked) >= n, timeout=HANG_S)
        return create_trial(self, tuner_id)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(distributed._Chief, "create_trial", create_trial_when_all_asked)
        yield


@pytest.fixture(scope="module")
def pair(ds, space, tmp_path_factory):
    """The same 4-trial random search with workers=1 and workers=2 (each worker runs at least
    one trial); the time from the last trial's end to nb.search returning; the workers' logs
    of that search."""
    base = tmp_path_factory.mktemp("pair")
    one = nb.search(ds, space, "random", max_trials=4, epochs=1, run_dir=base / "one",
                    progress=False)
    with _first_trials_wait_for(2):
        two = nb.search(ds, space, "random", max_trials=4, epochs=1, run_dir=base / "two",
                        progress=False, workers=2)
    returned = time.time()
    last_end = max(r["ended_at"] for r in _records(base / "two").values())
    return one, two, returned - last_end, _worker_logs(two.run_dir)


def test_two_workers_give_the_same_trials_and_records_as_one(pair):
    one, two, _, worker_logs = pair
    assert len(one.trials) == len(two.trials) == 4
    assert list(two.trials.status) == ["completed"] * 4
    rec1, rec2 = _records(one.run_dir), _records(two.run_dir)
    assert sorted(rec1) == sorted(rec2)
    for tid in rec1:  # the same record format, and (random search, same seed) the same configs
        assert set(rec1[tid]) == set(rec2[tid]), tid
        assert rec1[tid]["values"] == rec2[tid]["values"], tid
        assert rec1[tid]["active_values"] == rec2[tid]["active_values"], tid
        assert rec1[tid]["architecture"] == rec2[tid]["architecture"], tid
        assert rec2[tid]["architecture"] == architecture_key(
            rec2[tid]["active_values"]), tid
        assert (Path(two.run_dir) / f"trial_{tid}" / "model.keras").exists()
        # each worker wrote its trial's TensorBoard logs (scalars and the HParams session)
        logs = Path(two.run_dir) / "tensorboard" / f"trial_{tid}"
        assert list((logs / "validation").glob("events.out.tfevents.*"))
        assert list(logs.glob("events.out.tfevents.*"))
    assert list(one.trials.columns) == list(two.trials.columns)
    session = two.manifest["sessions"][-1]
    assert session["workers"] == 2 and session["trials_run"] == 4
    assert session["stop_reason"] == "max_trials reached (4 trials)"
    # both workers trained trials; each wrote its own tuner file; the chief said it ended
    ran = {t: [int(n) for n in re.findall(r"the chief has no more trials; ran (\d+)", log)]
           for t, log in worker_logs.items()}
    assert sorted(ran) == ["tuner0", "tuner1"], ran
    assert all(len(n) == 1 and n[0] >= 1 for n in ran.values()), ran
    assert sum(n[0] for n in ran.values()) == 4
    assert {p.name for p in Path(two.run_dir).glob("tuner*.json")} == {"tuner0.json",
                                                                       "tuner1.json"}
    info = json.loads((Path(two.run_dir) / distributed.CHIEF_FILE).read_text())
    assert info["state"] == "ended" and info["host"] == "127.0.0.1"
    assert two.best_model().count_params() > 0  # nasbook show / explain read the same dir
    oracle = json.loads((Path(two.run_dir) / "oracle.json").read_text())
    assert sorted(oracle["end_order"]) == sorted(rec2) and oracle["ongoing_trials"] == {}


def test_the_chief_ends_once_the_last_trial_has_ended(pair):
    """What the chief does after the last trial: it tells each worker there is no more (they
    exit by themselves, none is stopped after a grace period) and returns. keras-tuner's own
    chief lingers ~20 s in a wait loop instead; nasbook's ends in about a second (1.2 s mean on
    2 cores at load ~12, benchmarks/distributed_delays.py), so the bound here is a dozen times
    that: it tells the linger from a slow machine."""
    _, _, delay, logs = pair
    print(f"nb.search returned {delay:.2f} s after the last trial ended")
    assert sorted(logs) == ["tuner0", "tuner1"]
    for log in logs.values():
        assert "the chief has no more trials" in log and "stopped by the chief" not in log, log
    assert delay < 15.0, f"nb.search returned {delay:.1f} s after the last trial ended"


def test_calling_again_resumes_with_more_trials(pair, ds, space):
    _, two, _, _ = pair
    before = _records(two.run_dir)
    more = nb.search(ds, space, "random", max_trials=5, epochs=1, run_dir=two.run_dir,
                     progress=False, workers=2)
    after = _records(two.run_dir)
    assert len(more.trials) == 5 and list(more.trials.status) == ["completed"] * 5
    for tid, rec in before.items():  # nothing finished was retrained
        assert after[tid]["ended_at"] == rec["ended_at"]
    assert more.manifest["sessions"][-1]["trials_run"] == 1


def test_bad_input_gets_a_clear_error(ds, space, pair, tmp_path):
    for bad in (0, -1, 1.5, "2", True):
        with pytest.raises(SearchError, match="workers must be a positive integer"):
            nb.search(ds, space, max_trials=1, run_dir=tmp_path / "w", workers=bad)
    with pytest.raises(SearchError, match="HOST:PORT"):
        nb.search(ds, space, max_trials=1, run_dir=tmp_path / "w", listen="localhost")
    # a port in use
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(SearchError, match=f"cannot listen on 127.0.0.1:{port}: the port "
                                              f"is in use"):
            nb.search(ds, space, max_trials=1, epochs=1, run_dir=tmp_path / "busy",
                      workers=1, listen=f"127.0.0.1:{port}", progress=False)
    # an unreachable chief (nothing listens on a port just freed)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free = sock.getsockname()[1]
    # it gives up after its connect_timeout (2 s), not after the default 30 s: bounded by ten
    # times the timeout, which a busy machine's overhead does not reach
    t0 = time.monotonic()
    with pytest.raises(SearchError, match=r"no nasbook chief answers at 127.0.0.1:\d+ after "
                                          r"[12] s"):
        distributed.run_worker(f"127.0.0.1:{free}", pair[1].run_dir, connect_timeout=2)
    assert time.monotonic() - t0 < 10 * 2
    # a directory that holds no search
    with pytest.raises(SearchError, match="holds no search"):
        distributed.run_worker(f"127.0.0.1:{free}", tmp_path, connect_timeout=2)


def test_a_worker_late_for_an_ended_search_exits_on_any_host(pair, tmp_path, monkeypatch):
    """A worker started after the chief ended (a Kubernetes Job restarting it, a late SLURM
    task) exits 0 instead of failing after --connect-timeout, on this machine or another: after
    ENDED_GRACE seconds without a chief (one resuming the search may still be starting), or at
    its deadline if that comes first."""
    run_dir = tmp_path / "ended"
    shutil.copytree(pair[1].run_dir, run_dir)
    info = json.loads((run_dir / distributed.CHIEF_FILE).read_text())
    assert info["state"] == "ended"
    address = f"127.0.0.1:{info['port']}"   # nothing listens there any more

    def seconds_to_exit(timeout, **changes):
        (run_dir / distributed.CHIEF_FILE).write_text(json.dumps(dict(info, **changes)))
        t0 = time.monotonic()
        assert distributed.run_worker(address, run_dir, connect_timeout=timeout) == 0
        return time.monotonic() - t0

    monkeypatch.setattr(distributed, "ENDED_GRACE", 9.0)
    here = seconds_to_exit(200)
    elsewhere = seconds_to_exit(200, hostname="elsewhere")
    monkeypatch.setattr(distributed, "ENDED_GRACE", 1000.0)
    short = seconds_to_exit(6, hostname="elsewhere")   # the deadline before the grace
    print(f"exit 0 after {here:.1f} s (this host), {elsewhere:.1f} s (another; grace 9 s), "
          f"{short:.1f} s (timeout 6 s, grace 1000 s)")
    # each waited out the grace (or the deadline) and stopped long before the timeout (bounds
    # of half the timeout: a busy machine's overhead does not reach them)
    assert 9.0 <= here < 100 and 9.0 <= elsewhere < 100 and 5.0 <= short < 100
    # another search's "ended" (a stale file of another search id) is not taken for this one's
    (run_dir / distributed.CHIEF_FILE).write_text(json.dumps(dict(info, search_id="other")))
    with pytest.raises(SearchError, match="no nasbook chief answers"):
        distributed.run_worker(address, run_dir, connect_timeout=5)
    # nor is a chief that was stopped (Ctrl-C, an error) rather than finished: on this machine,
    # with its process gone (that chief was this test process: a finished one stands in), the
    # worker says so at once
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (run_dir / distributed.CHIEF_FILE).write_text(json.dumps(dict(info, state="stopped",
                                                                  pid=gone.pid)))
    t0 = time.monotonic()
    with pytest.raises(SearchError, match="is gone; start the search again"):
        distributed.run_worker(address, run_dir, connect_timeout=60)
    assert time.monotonic() - t0 < 30


def test_a_space_from_main_is_refused(ds, tmp_path):
    import keras

    def build(hp):
        model = keras.Sequential([keras.Input((40, 1)), keras.layers.Flatten(),
                                  keras.layers.Dense(10)])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    build.__module__ = "__main__"  # as if defined in a notebook cell
    with pytest.raises(SearchError, match="lives in __main__"):
        nb.search(ds, build, max_trials=1, epochs=1, run_dir=tmp_path / "m", workers=2,
                  progress=False)


@pytest.mark.parametrize("strategy", nb.strategies.available())
def test_every_strategy_runs_distributed(strategy, ds, space, tmp_path):
    options = {"num_initial_points": 1} if strategy == "bayesian" else {}
    if strategy == "hyperband":
        options = {"factor": 2}
    result = nb.search(ds, space, strategy, max_trials=3, epochs=2 if strategy == "hyperband"
                       else 1, run_dir=tmp_path / strategy, progress=False, workers=2,
                       **options)
    assert len(result.trials) == 3
    assert set(result.trials.status) <= {"completed", "duplicate"}
    assert result.stop_reason.startswith("max_trials reached")


def test_greedy_waits_for_its_step_so_workers_make_the_same_search(ds, space, tmp_path):
    """nasbook's greedy search is synchronous: it answers IDLE until every trial of a step has
    ended, so with two workers it proposes the same trials as one process, as long as the
    scores it compared were the same (a last-digit difference may break a tie another way).
    Both workers ask before the first trial is handed out, so the second one asks while trial
    0 runs: it must wait, since trial 0 is a step of its own."""
    common = dict(max_trials=5, epochs=1, progress=False, seed=0)
    one = nb.search(ds, space, "greedy", run_dir=tmp_path / "one", **common)
    with _first_trials_wait_for(2):
        two = nb.search(ds, space, "greedy", run_dir=tmp_path / "two", workers=2, **common)
    a, b = _records(one.run_dir), _records(two.run_dir)
    assert sorted(a) == sorted(b) and len(a) == 5
    order = sorted(a, key=int)
    assert b[order[1]]["started_at"] >= b[order[0]]["ended_at"]   # it waited for trial 0
    compared = 0
    for k, tid in enumerate(order):
        # the first two trials (the defaults, the first decision's first neighbour) depend on
        # no score; a later one only on the scores before it
        if k >= 2 and any(a[t]["score"] != b[t]["score"] for t in order[:k]):
            break
        assert a[tid]["active_values"] == b[tid]["active_values"], tid
        compared += 1
    print(f"greedy: the first {compared} of {len(order)} trials compared, all equal")


# --- faults: real processes, real SIGKILL ----------------------------------------------------

def _wait(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what} ({timeout} s)"
        time.sleep(0.1)


def _kill_mid_trial(worker, run_dir) -> bool:
    """SIGKILL ``worker`` (a ``worker_processes`` entry) if it is still running its trial.
    It is frozen first (SIGSTOP) and looked at again, so the kill cannot land just after the
    trial ended, however short a trial is on a fast machine; otherwise it goes on (SIGCONT)."""
    try:
        os.kill(worker["pid"], signal.SIGSTOP)
    except ProcessLookupError:  # it exited meanwhile
        return False
    try:
        now = {w["pid"]: w["trial_id"] for w in distributed.worker_processes(run_dir)}
    except (OSError, ValueError, KeyError):
        now = {}
    if now.get(worker["pid"]) != worker["trial_id"]:
        os.kill(worker["pid"], signal.SIGCONT)
        return False
    os.kill(worker["pid"], signal.SIGKILL)
    return True


def test_a_worker_killed_mid_trial_loses_nothing_and_its_trial_runs_again(ds, space, tmp_path):
    run_dir = tmp_path / "kill_worker"
    killed = {}

    def killer():
        # wait until some trial has finished and another is running, then kill its worker
        # (what a reader does in notebook 13: the public distributed.worker_processes)
        def target():
            done = _completed(run_dir)
            busy = [w for w in distributed.worker_processes(run_dir) if w["trial_id"]]
            if not done or not busy:
                return None
            return done, busy[0]

        deadline = time.monotonic() + HANG_S
        while time.monotonic() < deadline:
            try:
                found = target()
            except (OSError, ValueError, KeyError):
                found = None
            if found and _kill_mid_trial(found[1], run_dir):
                done, worker = found
                killed.update(done=done, trial=worker["trial_id"], tuner=worker["tuner_id"],
                              pid=worker["pid"], at=time.time())
                return
            time.sleep(0.05)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    result = nb.search(ds, space, "random", max_trials=4, epochs=3, run_dir=run_dir,
                       progress=False, workers=2)
    thread.join(5)
    assert killed, "no worker was killed (no trial was running beside a finished one)"
    assert killed["tuner"] in {"tuner0", "tuner1"}  # one of the two the chief started
    assert distributed.worker_processes(run_dir) == []  # the search is over: no live workers
    recs = _records(run_dir)
    assert sorted(recs) == ["0", "1", "2", "3"]  # no trial lost, none duplicated
    assert list(result.trials.status) == ["completed"] * 4
    for tid, rec in killed["done"].items():  # finished trials kept as they were
        assert recs[tid]["ended_at"] == rec["ended_at"]
    rerun = recs[killed["trial"]]
    assert rerun["started_at"] > killed["at"]  # the killed trial ran again, after the kill
    oracle = json.loads((run_dir / "oracle.json").read_text())
    assert sorted(oracle["end_order"]) == ["0", "1", "2", "3"]  # each trial ended once
    assert result.manifest["sessions"][-1]["trials_run"] == 4
    assert not _alive(killed["pid"])


def test_replacements_stop_at_n_per_call_and_the_search_resumes(ds, space, tmp_path):
    # workers=2 allows 2 replacements. The two workers the chief started are killed mid-trial
    # (both hold a trial at once: _first_trials_wait_for) and replaced; one replacement is
    # killed and not replaced, so the chief lists the other alone; that one finishes a trial
    # (the search goes on with fewer workers) and is killed too, which stops the search with
    # the finished trials kept; calling it again finishes it. The killer acts on what it sees,
    # never on time: if the chief replaced a third worker or stopped after the third kill, the
    # fourth kill never comes. Each kill lands on a trial not killed before (a trial that
    # kills a second worker is recorded failed: another test's matter).
    run_dir = tmp_path / "cap"
    killed, seen = [], {}

    def killer():
        deadline = time.monotonic() + HANG_S
        while len(killed) < 4 and time.monotonic() < deadline:
            try:
                workers = distributed.worker_processes(run_dir)
                done = len(_completed(run_dir))
            except (OSError, ValueError, KeyError):
                workers, done = [], 0
            gone = {k["tuner"] for k in killed}
            if len(killed) == 3 and "alone" not in seen:
                # the chief's own list, written after it decided on a replacement (a process
                # killed but not yet reaped is already missing from worker_processes)
                live = sorted((rundir.read_json(run_dir / distributed.CHIEF_FILE) or {})
                              .get("workers") or {})
                if live and live == sorted({"tuner2", "tuner3"} - gone):
                    seen.update(alone=live, done=done)   # the third kill was not replaced
            for w in workers:
                allowed = {"tuner0", "tuner1"} if len(killed) < 2 else {"tuner2", "tuner3"}
                if (not w["trial_id"] or w["tuner_id"] not in allowed - gone
                        or any(w["trial_id"] == k["trial"] for k in killed)):
                    continue
                if len(killed) == 3 and ("alone" not in seen or done <= seen["done"]):
                    continue   # the last one only after it finished a trial on its own
                if _kill_mid_trial(w, run_dir):
                    killed.append({"tuner": w["tuner_id"], "trial": w["trial_id"],
                                   "pid": w["pid"]})
                    break
            time.sleep(0.05)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    with _first_trials_wait_for(2), pytest.raises(
            SearchError, match="(?s)all worker processes exited before the search was over"
                               ".*call search again to resume"):
        nb.search(ds, space, "random", max_trials=10, epochs=3, run_dir=run_dir,
                  progress=False, workers=2)
    thread.join(5)
    assert len(killed) == 4, (killed, seen)
    assert sorted(_worker_logs(run_dir)) == ["tuner0", "tuner1", "tuner2", "tuner3"]  # no 5th
    assert distributed.worker_processes(run_dir) == []
    assert not any(_alive(k["pid"]) for k in killed)
    kept = _completed(run_dir)
    assert killed[3]["trial"] not in kept

    result = nb.search(ds, space, "random", max_trials=10, epochs=3, run_dir=run_dir,
                       progress=False, workers=2)
    recs = _records(run_dir)
    assert sorted(int(t) for t in recs) == list(range(10))  # ids "00".."09"
    assert list(result.trials.status) == ["completed"] * 10
    for tid, rec in kept.items():  # nothing finished was run again
        assert recs[tid]["ended_at"] == rec["ended_at"]


def _cli(*args):
    return [sys.executable, "-m", "nasbook.cli", *args]


def test_a_killed_chief_stops_its_workers_and_search_resumes(ds, space, tmp_path):
    run_dir = tmp_path / "kill_chief"
    cmd = _cli("search", "--dataset", "mnist1d", "--space", "mlp", "--max-trials", "4",
               "--epochs", "3", "--n-train", str(N_TRAIN), "--n-val", str(N_VAL), "--out",
               str(run_dir), "--no-progress", "--workers", "2")
    chief = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    info_path = run_dir / distributed.CHIEF_FILE
    try:
        def started():
            assert chief.poll() is None, chief.stderr.read().decode()[-3000:]
            return bool(_running(run_dir)) and info_path.exists()
        _wait(started, HANG_S, "a worker to start a trial")
        pids = json.loads(info_path.read_text())["workers"]
        assert len(pids) == 2
        os.kill(chief.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        chief.wait()
        _wait(lambda: not any(_alive(p) for p in pids.values()), HANG_S, "the workers to exit")
        print(f"the workers were gone {time.monotonic() - killed_at:.2f} s after the chief")
    finally:
        if chief.poll() is None:
            chief.kill()
    # each worker stopped on the kernel's death signal, at once, whatever it was doing (not
    # seconds later on its heartbeat's silence, nor after finishing its trial), and said why
    for tuner in pids:
        log = (run_dir / "workers" / f"{tuner}.log").read_text()
        assert f"the chief (pid {chief.pid}) was killed or crashed, so this worker stops" \
            in log, log
    kept = _completed(run_dir)

    space = nb.space.preset("mlp", ds.input_shape, ds.num_classes)  # what --space mlp made
    result = nb.search(ds, space, max_trials=4, epochs=3, run_dir=run_dir, progress=False,
                       workers=2)
    assert list(result.trials.status) == ["completed"] * 4
    for tid, rec in kept.items():
        assert _records(run_dir)[tid]["ended_at"] == rec["ended_at"]
    assert result.manifest["sessions"][0]["stop_reason"] == "killed or crashed (never ended)"


def test_the_failure_limit_stops_every_process(ds, tmp_path):
    # an L2 penalty of 1e38 makes the loss overflow float32 at the first batch: every trial
    # fails ("training loss became inf")
    diverging = nb.space.preset("mlp", ds.input_shape, ds.num_classes, n_dense=[1, 2],
                                units=[16, 32], l2=[1e38])
    run_dir = tmp_path / "failing"
    t0 = time.monotonic()
    with pytest.raises(SearchError, match="trials in a row failed"):  # (hang: pytest-timeout)
        nb.search(ds, diverging, max_trials=8, epochs=1, run_dir=run_dir, progress=False,
                  workers=2, max_consecutive_failures=2)
    print(f"stopped after {time.monotonic() - t0:.1f} s")
    recs = _records(run_dir)
    assert 2 <= len(recs) < 8 and {r["status"] for r in recs.values()} == {"failed"}
    assert all("became inf" in r["failure_reason"] for r in recs.values())
    info = json.loads((run_dir / distributed.CHIEF_FILE).read_text())
    # not "ended": the search did not finish, so workers are not told it is over
    assert info["state"] == "stopped" and info["workers"] == {}
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["sessions"][-1]["stop_reason"] == "2 failed trials in a row"


def test_chief_and_worker_command_lines(pair, tmp_path):
    """Two terminals on one machine: `nasbook search --chief` and `nasbook worker`."""
    run_dir = tmp_path / "cli"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    chief = subprocess.Popen(_cli("search", "--chief", "--port", str(port), "--dataset",
                                  "mnist1d", "--space", "mlp", "--max-trials", "2", "--epochs",
                                  "1", "--n-train", str(N_TRAIN), "--n-val", str(N_VAL),
                                  "--out", str(run_dir), "--no-progress"),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait(lambda: (run_dir / distributed.CHIEF_FILE).exists() or chief.poll() is not None,
              HANG_S, "the chief")
        assert chief.poll() is None, chief.stderr.read()
        # a worker pointed at a run directory of another search is refused
        other = subprocess.run(_cli("worker", "--chief", f"127.0.0.1:{port}", "--run-dir",
                                    str(pair[1].run_dir), "--connect-timeout", "20"),
                               capture_output=True, text=True, timeout=300)
        assert other.returncode == 1
        assert "serves another search than the one in" in other.stderr
        worker = subprocess.run(_cli("worker", "--chief", f"127.0.0.1:{port}", "--run-dir",
                                     str(run_dir), "--tuner-id", "w1"),
                                capture_output=True, text=True, timeout=300)
        assert worker.returncode == 0, worker.stderr[-3000:]
        assert "the chief has no more trials; ran 2" in worker.stderr
        out, err = chief.communicate(timeout=HANG_S)
    finally:
        if chief.poll() is None:
            chief.kill()
    assert chief.returncode == 0, err[-3000:]
    assert "best: trial" in out
    assert not re.search(r"^\d+$", out, re.M)  # keras-tuner's stray print in Parent.to_proto
    result = SearchResult.load(run_dir)
    assert list(result.trials.status) == ["completed"] * 2
    assert result.manifest["sessions"][-1]["chief"] == f"127.0.0.1:{port}"
    assert result.stop_reason == "max_trials reached (2 trials)"


def test_each_worker_gets_its_share_of_the_cores(pair):
    """By default a local worker gets cores // workers intra-op threads (at least 1) and one
    inter-op thread; each real worker process reports what its TensorFlow was given."""
    _, two, _, logs = pair
    intra, inter = max(1, distributed.cpu_cores() // 2), 1
    for tuner, log in logs.items():
        found = re.findall(r"threads: intra-op (\d+), inter-op (\d+)", log)
        assert found == [(str(intra), str(inter))], (tuner, log)
    assert two.manifest["sessions"][-1]["worker_threads"] == [intra, inter]
