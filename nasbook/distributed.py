"""Distributed search on keras-tuner's chief/worker engine (its Oracle and gRPC protocol).

Usage::

    result = nb.search(ds, space, "evolution", max_trials=20, run_dir="runs/d", workers=2)

or, on several machines sharing a file system (see the README)::

    nasbook search --chief --host 0.0.0.0 --port 8000 --out /shared/runs/d ...   # one chief
    nasbook worker --chief chief-host:8000 --run-dir /shared/runs/d                 # per worker

How it works. The calling process is the chief: it holds the strategy's Oracle (the one
``nb.search`` made, reloaded from the run directory on resume) and serves it over gRPC on
127.0.0.1 (unless told otherwise) with a subclass of keras-tuner's ``OracleServicer``. Each worker is a
``nasbook worker`` process: keras-tuner sees ``KERASTUNER_TUNER_ID`` / ``KERASTUNER_ORACLE_IP``
/ ``KERASTUNER_ORACLE_PORT`` and proxies the Oracle through its ``OracleClient``; the worker runs
nasbook's trial loop (the same runner as ``workers=1``) on the trials the chief hands out.

Who writes what in the run directory (one writer per file):

- the chief: ``manifest.json`` (one session per call), ``oracle.json`` and every
  ``trial_NN/trial.json`` (keras-tuner's Oracle state), ``nasbook_job.pkl`` (what the workers
  need: dataset, space, training settings), ``nasbook_chief.json`` (address, pid, worker pids,
  state), and the failed record of a trial whose worker died twice;
- a worker: the files of the trial it runs (``trial_NN/nasbook_trial.json``, ``model.keras``,
  ``tensorboard/trial_NN``) and ``tuner<i>.json``; its log goes to ``workers/<id>.log``.

Which part is whose. keras-tuner provides the Oracle, the gRPC protocol (its ``Oracle``
service and messages), the servicer that nasbook subclasses (:func:`_servicer`: ``CreateTrial``
and ``EndTrial`` go through :class:`_Chief`, which applies nasbook's stop conditions, heartbeats
arrive as ``GetTrial`` requests and are answered by nasbook, every other call is keras-tuner's,
taken under one lock) and the client side of a worker (``OracleClient``, chosen by the three
environment variables above). The worker's loop (:func:`run_worker`) and everything about
*processes* is nasbook's: starting the local workers, noticing that one died, and giving its
trial to another.
keras-tuner 1.4.8 alone never does the last: ``Oracle.create_trial`` hands a running trial back
only to the *same* tuner id, and ``oracle_chief.start_server`` never asks whether a worker is
alive, so a killed worker's trial would wait forever. nasbook's :meth:`_Chief.give_away` puts
it on the Oracle's private ``_retry_queue`` (the list keras-tuner itself uses to retry a failed
trial and to resume), which ties this module to keras-tuner's internals (tested on 1.4.8).
A killed worker loses no finished trial, but its interrupted attempt's training is lost: the
trial runs again from the start (so a trial may be trained twice, never recorded twice).

Threads and GPUs of local workers (:func:`worker_env`). TensorFlow gives each process an
intra-op pool of one thread per core, so N workers on C cores would run N*C threads; each
local worker gets ``TF_NUM_INTRAOP_THREADS = max(1, C // N)`` and ``TF_NUM_INTEROP_THREADS =
1`` (TensorFlow's own variables; set in the chief's environment they are passed on instead;
``worker_threads=`` overrides both, ``(0, 0)`` is TensorFlow's default), which the worker applies with ``tf.config.threading`` and reports in its log. With
several GPUs visible, worker i gets ``CUDA_VISIBLE_DEVICES`` = the i-th of them (modulo their
number); with any GPU visible, ``TF_FORCE_GPU_ALLOW_GROWTH=true`` (unless set), since by
default TensorFlow maps nearly all the memory of every visible GPU in each process. A worker
started by hand (``nasbook worker``) gets what its environment says: set the same variables.

What the chief does that keras-tuner's ``start_server`` does not (measured on 1.4.8: it lingers
~20 s after the last trial and hangs when the failure limit is hit): it watches its workers
(process exit, and a heartbeat every second for workers on other machines) and ends as soon as
no trial is left; a trial whose worker died is run again by another worker (a replacement worker
is started locally, at most N per call), and recorded failed if it kills a second worker; nasbook's stop conditions
(time budget, target, failures in a row) are applied by not handing out more trials. A worker
whose chief stops answering exits within a few seconds, saying so.

Security: the gRPC chief has no authentication. It listens on 127.0.0.1 unless asked; across
machines use a private network or an SSH tunnel.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from nasbook import rundir
from nasbook import runner as runner_module
from nasbook.progress import fmt_seconds

__all__ = ["check_args", "serve", "run_worker", "parse_address", "worker_processes",
           "cpu_cores", "thread_counts", "visible_gpus", "worker_env", "kill_busy_worker",
           "JOB_FILE", "CHIEF_FILE"]

JOB_FILE = "nasbook_job.pkl"
CHIEF_FILE = "nasbook_chief.json"
WORKERS_DIR = "workers"
HEARTBEAT = "nasbook-heartbeat:"  # a GetTrial request with this prefix is a worker's heartbeat
HEARTBEAT_EVERY = 1.0              # seconds between a worker's heartbeats
CHIEF_SILENCE = 2.5                # a worker gives up after this long without an answer
REMOTE_SILENCE = 60.0              # the chief gives a remote worker's trial away after this
GRACE = 2.0                        # seconds a finished worker gets to exit before SIGTERM
REAPED = "INVALID"                 # heartbeat answer: your trial went to another worker
ENDED_GRACE = 60.0                 # a chief file saying "ended": wait this long for a chief
                                   # that resumes the search before taking it as over


def _error(message):
    return rundir.SearchError(message)


# --- arguments --------------------------------------------------------------------------------

def parse_address(text, default_host="127.0.0.1"):
    """``"host:port"`` (or ``":port"``, ``"port"``) as ``(host, port)``; raises SearchError."""
    text = str(text).strip()
    host, _, port = text.rpartition(":")
    host = host.strip("[]") or default_host
    try:
        port = int(port)
    except ValueError:
        raise _error(f"expected an address HOST:PORT, e.g. 127.0.0.1:8000, got {text!r}") \
            from None
    if not 0 <= port <= 65535:
        raise _error(f"port must be between 0 and 65535 (0 = any free port), got {port}")
    return host, port


def check_args(workers, listen, worker_threads=None) -> None:
    """Raise SearchError for a bad ``workers`` / ``listen`` / ``worker_threads`` (see
    :func:`nasbook.search`). With local workers on a GPU machine, also turn on memory growth in
    this process while TensorFlow has not started (:func:`_chief_gpu_memory`): ``nb.search``
    calls this before it builds a model."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0 or (
            workers == 0 and listen is None):
        raise _error(f"workers must be a positive integer (the number of local worker "
                     f"processes; 1 = train in this process), got {workers!r}; workers=0 is "
                     f"only for a chief that serves workers started elsewhere (listen=...)")
    if listen is not None:
        parse_address(listen)
    if worker_threads is not None:
        thread_counts(max(workers, 1), worker_threads)
    if workers > 1:
        _chief_gpu_memory(workers)


# --- threads and GPUs of local workers ----------------------------------------------------------

def cpu_cores() -> int:
    """The cores this process may run on: its CPU affinity (what a SLURM allocation or a
    container allows), else ``os.cpu_count()``."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # macOS, Windows
        return os.cpu_count() or 1


def thread_counts(workers, threads=None, cores=None) -> tuple:
    """``(intra_op, inter_op)`` TensorFlow threads of each of ``workers`` local worker processes.

    ``threads=None``: ``max(1, cores // workers)`` intra-op threads (the pool that runs one
    operation, a matrix product, over several cores) and 1 inter-op thread (the pool that runs
    independent operations at once; a small model's step has few), so the workers together use
    the cores once instead of ``workers`` times over. An int sets the intra-op count (inter-op
    1); a pair ``(intra, inter)`` sets both; 0 means TensorFlow's own default (one per core).
    ``cores`` defaults to :func:`cpu_cores`.
    """
    if threads is None:
        cores = cpu_cores() if cores is None else int(cores)
        return max(1, cores // max(1, workers)), 1
    pair = (threads, 1) if isinstance(threads, int) and not isinstance(threads, bool) else threads
    try:
        intra, inter = pair
        ok = all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in pair)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise _error(f"worker_threads must be None (cores // workers intra-op threads and 1 "
                     f"inter-op thread per worker), an int >= 0 (intra-op threads) or a pair "
                     f"(intra_op, inter_op) of ints >= 0 (0 = TensorFlow's default), got "
                     f"{threads!r}")
    return int(intra), int(inter)


def visible_gpus() -> list:
    """The GPUs this process's TensorFlow sees, as ``CUDA_VISIBLE_DEVICES`` entries (the i-th
    entry of this process's own ``CUDA_VISIBLE_DEVICES`` when it is set, else ``"i"``)."""
    import tensorflow as tf

    n = len(tf.config.list_physical_devices("GPU"))
    if n == 0:
        return []
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is None:
        return [str(i) for i in range(n)]
    return [e.strip() for e in env.split(",") if e.strip()][:n]


def worker_env(index, workers, threads=None, gpus=(), base=None, cores=None) -> dict:
    """The environment of local worker ``index`` (0-based) of ``workers``: ``base`` (default
    ``os.environ``) plus ``TF_NUM_INTRAOP_THREADS`` / ``TF_NUM_INTEROP_THREADS`` from
    :func:`thread_counts` (with ``threads=None`` a value ``base`` already holds stays, so that
    ``TF_NUM_INTRAOP_THREADS=4 nasbook search --workers 2`` gives each worker 4; a count of 0
    leaves the variable as ``base`` has it); with two or more ``gpus``
    (:func:`visible_gpus`), ``CUDA_VISIBLE_DEVICES`` = ``gpus[index % len(gpus)]``; with any,
    ``TF_FORCE_GPU_ALLOW_GROWTH=true`` unless ``base`` sets it (so that workers sharing a GPU do
    not each reserve nearly all its memory)."""
    env = dict(os.environ if base is None else base)
    intra, inter = thread_counts(workers, threads, cores)
    for name, count in (("TF_NUM_INTRAOP_THREADS", intra), ("TF_NUM_INTEROP_THREADS", inter)):
        if count and threads is None:
            env.setdefault(name, str(count))
        elif count:
            env[name] = str(count)
    gpus = list(gpus)
    if len(gpus) >= 2:
        env["CUDA_VISIBLE_DEVICES"] = gpus[index % len(gpus)]
    if gpus:
        env.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")
    return env


def _apply_threads() -> str:
    """In a worker, before TensorFlow runs anything: apply ``TF_NUM_INTRAOP_THREADS`` /
    ``TF_NUM_INTEROP_THREADS`` with ``tf.config.threading``; return what the worker now has, as
    its log says it."""
    import tensorflow as tf

    threading_ = tf.config.threading
    for name, setter in (("TF_NUM_INTRAOP_THREADS", threading_.set_intra_op_parallelism_threads),
                         ("TF_NUM_INTEROP_THREADS", threading_.set_inter_op_parallelism_threads)):
        value = os.environ.get(name, "").strip()
        if value.isdigit():
            with contextlib.suppress(RuntimeError):  # already initialised: reported below
                setter(int(value))
    intra = threading_.get_intra_op_parallelism_threads()
    inter = threading_.get_inter_op_parallelism_threads()
    gpu = {k: os.environ[k] for k in ("CUDA_VISIBLE_DEVICES", "TF_FORCE_GPU_ALLOW_GROWTH")
           if k in os.environ}
    default = " (0: TensorFlow's default, one per core)" if 0 in (intra, inter) else ""
    return (f"threads: intra-op {intra}, inter-op {inter}, on {cpu_cores()} cores{default}"
            + "".join(f"; {k}={v}" for k, v in gpu.items()))


def _chief_gpu_memory(workers) -> None:
    """A chief with local workers on a GPU machine: memory growth on in this process where it
    is not too late, else say that this process may hold most of the GPU's memory."""
    import tensorflow as tf

    if not workers:
        return
    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # TensorFlow already runs here
            # TensorFlow reads TF_FORCE_GPU_ALLOW_GROWTH itself; get_memory_growth does not show it
            if os.environ.get("TF_FORCE_GPU_ALLOW_GROWTH") == "true":  # TensorFlow's spelling
                continue
            if not tf.config.experimental.get_memory_growth(gpu):
                print(f"nasbook: this process started TensorFlow on {gpu.name} without memory "
                      f"growth, so it may hold most of that GPU's memory and leave little to "
                      f"its workers; set TF_FORCE_GPU_ALLOW_GROWTH=true before starting Python",
                      file=sys.stderr)


@contextlib.contextmanager
def _silent_protos():
    """keras-tuner 1.4.8's ``Parent.to_proto`` prints the first value of every conditional
    decision each time a trial crosses the wire (lines of "2", "3" in a notebook cell); give
    that one module a ``print`` that prints nothing while we serve or work."""
    from keras_tuner.src.engine import conditions

    had = "print" in vars(conditions)
    conditions.print = lambda *args, **kwargs: None
    try:
        yield
    finally:
        if not had:
            del conditions.print


def _search_id(manifest) -> str:
    """A stable id of the search held by a run directory (its creation and its request)."""
    parts = [manifest.get("created"), manifest.get("dataset"), manifest.get("strategy"),
             manifest.get("seed"), manifest.get("objective")]
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _picklable(obj, what):
    fn = getattr(obj, "fn", None)  # a build function wrapped in a HyperModel
    for item in (obj, fn, type(obj)):
        module = getattr(item, "__module__", None)
        if item is not None and module == "__main__":
            name = getattr(item, "__name__", item)
            raise _error(f"workers>1 sends the {what} to other processes, which cannot import "
                         f"objects defined in a notebook or script ({name!r} lives in "
                         f"__main__); move it into a module, or use a nasbook space "
                         f"(nb.space.preset / nb.space.from_dict)")
    try:
        return pickle.dumps(obj)
    except Exception as exc:
        raise _error(f"workers>1 sends the {what} to other processes by pickling, and it cannot "
                     f"be pickled ({type(exc).__name__}: {exc}); use a nasbook space or move "
                     f"the code into a module") from exc


# --- who runs what (read side) --------------------------------------------------------------------

def worker_processes(run_dir) -> list:
    """The live worker processes a chief started for the search in ``run_dir``, each as
    ``{"tuner_id", "pid", "trial_id"}`` (``trial_id``: the trial it is running, None between
    trials), from the chief's ``nasbook_chief.json`` and the Oracle's ``oracle.json``.

    Usage (another thread or process, while ``nb.search(..., workers=2)`` runs)::

        busy = [w for w in distributed.worker_processes(run_dir) if w["trial_id"]]
        os.kill(busy[0]["pid"], signal.SIGKILL)     # the chief runs that trial again
    """
    run_dir = Path(run_dir)
    info = rundir.read_json(run_dir / CHIEF_FILE) or {}
    if info.get("state") != "serving":
        return []
    try:
        oracle = json.loads((run_dir / "oracle.json").read_text())
    except (OSError, ValueError):
        oracle = {}
    holding = oracle.get("ongoing_trials") or {}   # tuner id -> trial id
    out = []
    for tuner_id, pid in sorted((info.get("workers") or {}).items()):
        if not _pid_alive(pid):
            continue
        trial = holding.get(tuner_id)
        record = rundir.read_json(run_dir / f"trial_{trial}" / rundir.RECORD) if trial else None
        running = trial is not None and (record is None or record.get("status") == "running")
        out.append({"tuner_id": tuner_id, "pid": int(pid),
                    "trial_id": trial if running else None})
    return out


def kill_busy_worker(run_dir, *, deadline_s=600.0, poll_s=0.05) -> dict | None:
    """Wait until a trial of the search in ``run_dir`` has finished while a worker runs another,
    then kill that worker abruptly, as a crash would: ``SIGKILL`` (Linux, macOS; no chance to
    clean up), ``TerminateProcess`` on Windows (``os.kill`` with ``SIGTERM`` there). Returns
    ``{"tuner_id", "pid", "trial_id", "at" (time.time()), "finished_before" ({trial id:
    ended_at})}``, or None if ``deadline_s`` seconds passed first. Notebook 13 runs it in a
    thread beside ``nb.search(..., workers=2)``; the chief runs the killed trial again.
    ``poll_s``: seconds between looks at the run directory."""
    import signal

    run_dir = Path(run_dir)
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            done = {t: r["ended_at"] for t, r in rundir.records(run_dir).items()
                    if r["status"] == "completed"}
            busy = [w for w in worker_processes(run_dir) if w["trial_id"]]
        except (OSError, ValueError, KeyError):  # a file being written right now
            done, busy = {}, []
        if done and busy:
            os.kill(busy[0]["pid"], getattr(signal, "SIGKILL", signal.SIGTERM))
            return dict(busy[0], at=time.time(), finished_before=done)
        time.sleep(poll_s)
    return None


# --- the chief ----------------------------------------------------------------------------------

class _Chief:
    """The Oracle's keeper: hands out trials, applies nasbook's stop conditions, notices dead
    workers. Every touch of the Oracle goes through ``self.lock``."""

    def __init__(self, oracle, run_dir, search_id, objective, max_trials, time_budget, target,
                 max_consecutive_failures):
        self.oracle, self.run_dir, self.search_id = oracle, Path(run_dir), search_id
        self.objective, self.max_trials = objective, max_trials
        self.time_budget, self.target = time_budget, target
        self.max_failures = max_consecutive_failures
        self.lock = threading.RLock()
        self.start = time.perf_counter()
        self.hard_reason = None   # time budget, target, failure limit: no trial handed out
        self.soft_reason = None   # the Oracle said STOPPED (max_trials, space exhausted)
        self.failures = []        # reasons of the failed trials at the end of the end order
        self.last_seen = {}       # tuner id -> monotonic time of its last call
        self.reaped = set()       # tuner ids whose trial was given away
        self.deaths = {}          # trial id -> how many workers died running it
        self.ended = 0            # trials ended in this call
        self.failed_out = False   # stopped by the failure limit (not a finished search)

    # -- helpers --

    def _stopped_trial(self):
        from keras_tuner.src.engine import trial as trial_module

        return trial_module.Trial(self.oracle.get_space(), status="STOPPED")

    def _clean(self, trial):
        """keras-tuner's protobuf round trip fills inactive decisions with their defaults;
        drop them so a trial's values are the same as in a one-process search."""
        hps = trial.hyperparameters
        hps.values = {k: v for k, v in hps.values.items() if hps.is_active(k)}
        return trial

    def check_stops(self, target=True):
        """Set ``hard_reason`` once the time budget is spent or (``target``: checked) the
        target reached."""
        if self.hard_reason is not None:
            return
        elapsed = time.perf_counter() - self.start
        if target and self.target is not None:
            best = rundir.best_score(rundir.records(self.run_dir).values(), self.objective)
            if best is not None and (best >= self.target if self.objective.direction == "max"
                                     else best <= self.target):
                self.hard_reason = (f"target reached ({self.objective.name} {best:.4g} vs "
                                    f"{self.target})")
                return
        if self.time_budget is not None and elapsed >= self.time_budget:
            self.hard_reason = (f"time budget spent ({fmt_seconds(elapsed)} of "
                                f"{fmt_seconds(self.time_budget)})")

    # -- the gRPC calls --

    def create_trial(self, tuner_id):
        with self.lock:
            self.last_seen[tuner_id] = time.monotonic()
            self.reaped.discard(tuner_id)
            self.check_stops()
            if self.hard_reason is not None:
                self.oracle.tuner_ids.discard(tuner_id)
                return self._stopped_trial()
            trial = self.oracle.create_trial(tuner_id)
            if trial.status == "STOPPED":
                self.soft_reason = (f"max_trials reached ({self.max_trials} trials)"
                                    if len(self.oracle.trials) >= self.max_trials else
                                    "the strategy has no more configurations to propose")
            return trial

    def end_trial(self, trial, tuner_id=None):
        with self.lock:
            ongoing = {t.trial_id: tid for tid, t in self.oracle.ongoing_trials.items()}
            if trial.trial_id not in ongoing:  # given away meanwhile: the other run counts
                return
            self.last_seen[ongoing[trial.trial_id]] = time.monotonic()
            self.oracle.end_trial(self._clean(trial))
            self.oracle.save()  # Oracle.end_trial saves before it lets go of the trial
            self.ended += 1
            rec = rundir.read_json(self.run_dir / f"trial_{trial.trial_id}" / rundir.RECORD) or {}
            if rec.get("status") == "failed" or trial.status == "FAILED":
                self.failures.append(rec.get("failure_reason") or rundir.last_line(trial.message))
            else:
                self.failures = []
            if len(self.failures) >= self.max_failures and self.hard_reason is None:
                self.hard_reason = f"{len(self.failures)} failed trials in a row"
                self.failed_out = True

    def heartbeat(self, tuner_id):
        import keras_tuner
        from keras_tuner.src.engine import trial as trial_module

        with self.lock:
            self.last_seen[tuner_id] = time.monotonic()
            status = REAPED if tuner_id in self.reaped else "RUNNING"
        return trial_module.Trial(keras_tuner.HyperParameters(), trial_id=self.search_id,
                                  status=status)

    # -- dead workers --

    def give_away(self, tuner_id, why) -> str | None:
        """The worker ``tuner_id`` is gone: run its trial again (first time) or record it failed
        (its second dead worker). Returns the trial id, or None if it held none."""
        from keras_tuner.src.engine import trial as trial_module

        with self.lock:
            self.oracle.tuner_ids.discard(tuner_id)
            trial = self.oracle.ongoing_trials.pop(tuner_id, None)
            if trial is None:
                return None
            self.reaped.add(tuner_id)
            tid = trial.trial_id
            self.deaths[tid] = self.deaths.get(tid, 0) + 1
            if self.deaths[tid] < 2:
                self.oracle._retry_queue.append(tid)  # what Oracle.reload does on resume
                self.oracle.save()
                print(f"nasbook: worker {tuner_id} {why}; trial {tid} will run again",
                      file=sys.stderr)
                return tid
            reason = f"its worker process died twice ({why})"
            path = self.run_dir / f"trial_{tid}" / rundir.RECORD
            rec = rundir.read_json(path) or {"format": rundir.FORMAT_VERSION, "trial_id": tid,
                                        "number": int(tid), "started_at": time.time(),
                                        "values": dict(trial.hyperparameters.values),
                                        "objective": self.objective.name,
                                        "direction": self.objective.direction}
            rec.update(status="failed", failure_reason=reason, score=None,
                       ended_at=time.time())
            rec["duration_s"] = rec["ended_at"] - rec.get("started_at", rec["ended_at"])
            rundir.write_json(path, rec)
            self.oracle.ongoing_trials[tuner_id] = trial
            trial.status, trial.message = trial_module.TrialStatus.FAILED, reason
            self.end_trial(trial)
            print(f"nasbook: worker {tuner_id} {why}; trial {tid} is recorded failed (its "
                  f"second dead worker)", file=sys.stderr)
            return tid

    def finished(self) -> bool:
        """True once no trial runs or waits and no more will be handed out."""
        with self.lock:
            if self.oracle.ongoing_trials:
                return False
            if self.hard_reason is not None:  # the trials waiting for a retry stay for resume
                return True
            if self.oracle._retry_queue:
                return False
            if self.soft_reason is None and self.hard_reason is None and \
                    len(self.oracle.trials) >= self.max_trials:
                self.soft_reason = f"max_trials reached ({self.max_trials} trials)"
            return self.hard_reason is not None or self.soft_reason is not None

    def reason(self):
        return self.hard_reason or self.soft_reason


def _servicer(chief):
    from keras_tuner.src import protos
    from keras_tuner.src.distribute import oracle_chief
    from keras_tuner.src.engine import trial as trial_module

    service = protos.get_service()

    class Servicer(oracle_chief.OracleServicer):
        """keras-tuner's servicer; trials are created and ended through the chief."""

        def CreateTrial(self, request, context):  # noqa: N802 - gRPC names
            trial = chief.create_trial(request.tuner_id)
            return service.CreateTrialResponse(trial=trial.to_proto())

        def EndTrial(self, request, context):  # noqa: N802
            chief.end_trial(trial_module.Trial.from_proto(request.trial))
            return service.EndTrialResponse()

        def GetTrial(self, request, context):  # noqa: N802
            if request.trial_id.startswith(HEARTBEAT):
                trial = chief.heartbeat(request.trial_id[len(HEARTBEAT):])
                return service.GetTrialResponse(trial=trial.to_proto())
            with chief.lock:
                return super().GetTrial(request, context)

        def UpdateTrial(self, request, context):  # noqa: N802
            with chief.lock:
                return super().UpdateTrial(request, context)

        def UpdateSpace(self, request, context):  # noqa: N802
            with chief.lock:
                return super().UpdateSpace(request, context)

        def GetSpace(self, request, context):  # noqa: N802
            with chief.lock:
                return super().GetSpace(request, context)

        def GetBestTrials(self, request, context):  # noqa: N802
            with chief.lock:
                return super().GetBestTrials(request, context)

    return Servicer(chief.oracle)


def _start_server(chief, host, port):
    import grpc
    from concurrent import futures

    from keras_tuner.src import protos

    # no SO_REUSEPORT: a port that is taken must fail here, not be shared with another server
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8),
                         options=[("grpc.so_reuseport", 0)])
    protos.get_service_grpc().add_OracleServicer_to_server(_servicer(chief), server)
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        bound = server.add_insecure_port(address)
    except RuntimeError:
        bound = 0
    if not bound:
        server.stop(None)
        raise _error(f"the chief cannot listen on {host}:{port}: the port is in use (or the "
                     f"address is not this machine's); choose another port, or 0 for any free "
                     f"one")
    server.start()
    return server, bound


def _spawn_worker(run_dir, port, tuner_id, env):
    log_dir = Path(run_dir) / WORKERS_DIR
    log_dir.mkdir(exist_ok=True)
    log = open(log_dir / f"{tuner_id}.log", "ab")
    cmd = [sys.executable, "-m", "nasbook.cli", "worker", "--chief", f"127.0.0.1:{port}",
           "--run-dir", str(run_dir), "--tuner-id", tuner_id]
    env = dict(env, PYTHONUNBUFFERED="1", NASBOOK_CHIEF_PID=str(os.getpid()))
    # its own session: a Ctrl-C in the terminal reaches the chief, which stops the workers
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=env, start_new_session=True)
    log.close()
    return proc


def _tail(path, n=15) -> str:
    try:
        lines = Path(path).read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return "\n".join("    " + ln for ln in lines[-n:])


def _stop_processes(procs, grace):
    deadline = time.monotonic() + grace
    for proc in procs:
        if proc.poll() is None:
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def serve(tuner, *, run_dir, dataset, space, objective, epochs, patience, batch_size, seed,
          tensorboard, max_trials, time_budget, target, max_consecutive_failures, workers,
          listen, log, bar, worker_threads=None):
    """Serve ``tuner.oracle`` to ``workers`` local worker processes (and to any started with
    ``nasbook worker`` when ``listen`` is given) until the search is over. Each local worker
    gets :func:`worker_env` (its share of the cores, one GPU of several) for ``worker_threads``.

    Returns ``(stop_reason, failed_reasons_in_a_row)`` as the one-process loop does; called by
    :func:`nasbook.search` with ``workers != 1`` or ``listen``.
    """
    run_dir = Path(run_dir)
    host, port = parse_address(listen) if listen is not None else ("127.0.0.1", 0)
    session, manifest = log.entry, log.manifest
    search_id = _search_id(manifest)
    job = {"format": 1, "search_id": search_id, "dataset": dataset,
           "objective": objective.name, "epochs": epochs, "patience": patience,
           "batch_size": batch_size, "seed": int(seed), "tensorboard": bool(tensorboard),
           "max_trials": max_trials}
    payload = pickle.dumps(job)
    space_payload = _picklable(space, "search space")
    tmp = run_dir / f".{JOB_FILE}.{os.getpid()}.tmp"
    tmp.write_bytes(pickle.dumps({"job": payload, "space": space_payload}))
    os.replace(tmp, run_dir / JOB_FILE)

    oracle = tuner.oracle
    chief = _Chief(oracle, run_dir, search_id, objective, max_trials, time_budget, target,
                   max_consecutive_failures)
    quiet = contextlib.ExitStack()
    quiet.enter_context(_silent_protos())
    try:
        server, port = _start_server(chief, host, port)
    except BaseException:
        quiet.close()
        raise
    procs = {}
    info = {"host": host, "port": port, "pid": os.getpid(), "hostname": socket.gethostname(),
            "search_id": search_id, "state": "serving", "workers": {}}

    def write_info():
        info["workers"] = {tid: p.pid for tid, p in procs.items() if p.poll() is None}
        rundir.write_json(run_dir / CHIEF_FILE, info)

    session["workers"] = workers
    gpus = visible_gpus() if workers else []
    envs = {}  # tuner id -> its environment (a replacement inherits the dead worker's)
    if workers:  # what the workers are given (0: TensorFlow's default)
        first = worker_env(0, workers, worker_threads, gpus)
        session["worker_threads"] = [int(first.get(k, 0) or 0) for k in (
            "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")]
    if listen is not None:
        session["chief"] = f"{host}:{port}"
    write_json_manifest = log.save
    write_json_manifest()
    replacements = 0
    finished_at = None   # set once no trial is left: the chief file then says "ended"
    exit_codes = {}
    seen_done = {tid for tid, r in rundir.records(run_dir).items() if r.get("status") != "running"}
    try:
        for i in range(workers):
            envs[f"tuner{i}"] = worker_env(i, workers, worker_threads, gpus)
            procs[f"tuner{i}"] = _spawn_worker(run_dir, port, f"tuner{i}", envs[f"tuner{i}"])
        write_info()
        if listen is not None:
            shown = socket.gethostname() if host in ("0.0.0.0", "::") else host
            print(f"nasbook: chief serving {run_dir.name} on {host}:{port}; start workers with"
                  f"\n  nasbook worker --chief {shown}:{port} --run-dir {run_dir}",
                  file=sys.stderr, flush=True)
        last_ended = -1
        while True:
            runner_module.Interrupt.check()
            time.sleep(0.1)
            # local workers: an exit while holding a trial gives that trial away
            for tid, proc in list(procs.items()):
                code = proc.poll()
                if code is None or tid in exit_codes:
                    continue
                exit_codes[tid] = code
                trial_id = chief.give_away(tid, f"exited with code {code}")
                if trial_id is not None and replacements < workers:
                    replacements += 1
                    new_id = f"tuner{workers + replacements - 1}"
                    envs[new_id] = envs[tid]
                    procs[new_id] = _spawn_worker(run_dir, port, new_id, envs[new_id])
                write_info()
            # remote workers: silence gives their trial away
            now = time.monotonic()
            with chief.lock:
                holders = list(oracle.ongoing_trials)
            for tid in holders:
                if tid not in procs and now - chief.last_seen.get(tid, now) > REMOTE_SILENCE:
                    chief.give_away(tid, f"sent no heartbeat for {REMOTE_SILENCE:.0f} s")
            # progress and the manifest, when a trial has ended
            new = []
            if chief.ended != last_ended:
                last_ended = chief.ended
                records = rundir.records(run_dir)
                new = [r for tid, r in sorted(records.items())
                       if r.get("status") != "running" and tid not in seen_done]
            for rec in new:
                seen_done.add(rec["trial_id"])
                bar.trial_ends(rec, rundir.best_score(records.values(), objective),
                               time.perf_counter() - chief.start)
            if new:
                session["trials_run"] = chief.ended
                session["seconds"] = time.perf_counter() - chief.start
                write_json_manifest()
            with chief.lock:
                chief.check_stops(target=False)  # the target is checked as trials are asked
            if chief.finished():
                if finished_at is None:
                    finished_at = time.monotonic()
                    info["finished_at"] = time.time()
                alive = [p for p in procs.values() if p.poll() is None]
                if not alive and (workers or time.monotonic() - finished_at > GRACE):
                    break
                if alive and time.monotonic() - finished_at > GRACE:
                    _stop_processes(alive, 0)
                    break
                continue
            alive = [p for p in procs.values() if p.poll() is None]
            if workers and not alive and listen is None:
                logs = "\n".join(f"  {tid} (exit code {exit_codes.get(tid)}):\n"
                                 f"{_tail(run_dir / WORKERS_DIR / f'{tid}.log')}"
                                 for tid in procs)
                raise _error(f"all worker processes exited before the search was over; their "
                             f"logs ({run_dir / WORKERS_DIR}) end with:\n{logs}\nThe finished "
                             f"trials are kept; call search again to resume.")
    finally:
        alive = [p for p in procs.values() if p.poll() is None]
        if alive:
            _stop_processes(alive, 0)
        server.stop(None)
        quiet.close()
        # "ended": the search is over (a worker started later exits 0); "stopped": interrupted
        # or failed (Ctrl-C, an error, the failure limit): its workers exit with an error, so a
        # Kubernetes restart waits for the chief that resumes it
        info["state"] = ("ended" if finished_at is not None and not chief.failed_out
                         else "stopped")
        info["ended_at"] = time.time()
        write_info()
        session["trials_run"] = chief.ended
    return chief.reason(), list(chief.failures)


# --- the worker ---------------------------------------------------------------------------------

_STATE = {"trial": None}  # the trial this worker process is running, for its last words


def _trial_note():
    trial = _STATE.get("trial")
    return (f" Trial {trial} was not finished; it runs again when the search resumes."
            if trial else "")


def _chief_gone(pid: int, wait: float = 0.5) -> bool:
    """Whether the chief ``pid`` died, watched for up to ``wait`` seconds. The kernel sends the
    death signal when the chief's *thread* that started this worker exits, possibly before the
    process is gone and this worker reparented, so ``getppid()`` alone can still name it."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if os.getppid() != pid:
            return True
        try:
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


def die_with_chief() -> None:
    """In a worker that a local chief started (``NASBOOK_CHIEF_PID``), on Linux: ask the kernel
    for SIGTERM when the chief dies, whatever this process is doing (importing TensorFlow,
    training), and exit at once saying why. Call it first thing."""
    expected = os.environ.get("NASBOOK_CHIEF_PID", "")
    if not expected.isdigit() or not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    def on_term(signum, frame):
        if not _chief_gone(int(expected)):  # the chief itself stops its workers
            print("nasbook worker: stopped by the chief", file=sys.stderr, flush=True)
            os._exit(0)
        print(f"nasbook worker: the chief (pid {expected}) was killed or crashed, so this "
              f"worker stops.{_trial_note()} Start the search again (the same nb.search / "
              f"nasbook search command) to resume.", file=sys.stderr, flush=True)
        os._exit(3)

    signal.signal(signal.SIGTERM, on_term)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != int(expected):  # the chief died before we asked
        on_term(None, None)


def _default_tuner_id():
    host = socket.gethostname().split(".")[0].replace("chief", "chf") or "host"
    return f"tuner-{host}-{os.getpid()}"


def _load_job(run_dir, wait=0.0):
    """The manifest and the job in ``run_dir``, waiting up to ``wait`` seconds for the chief
    to write them."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and not (
            (run_dir / rundir.MANIFEST).exists() and (run_dir / JOB_FILE).exists()):
        time.sleep(1.0)
    manifest = rundir.read_json(run_dir / rundir.MANIFEST)
    if manifest is None:
        raise _error(f"{run_dir} holds no search ({rundir.MANIFEST} is missing); give the chief's "
                     f"--out directory as --run-dir, on a file system both machines share")
    try:
        outer = pickle.loads((run_dir / JOB_FILE).read_bytes())
        job = pickle.loads(outer["job"])
    except (OSError, pickle.UnpicklingError, KeyError, EOFError) as exc:
        raise _error(f"{run_dir} has no readable {JOB_FILE} ({exc}); it is written by a chief "
                     f"(nasbook search --chief, or nb.search(workers=N)): start it first") \
            from None
    try:
        job["space"] = pickle.loads(outer["space"])
    except Exception as exc:
        raise _error(f"the search space in {run_dir / JOB_FILE} cannot be loaded here "
                     f"({type(exc).__name__}: {exc}); install the same nasbook (and the "
                     f"module defining the space) on this machine") from exc
    if job["search_id"] != _search_id(manifest):
        raise _error(f"{run_dir / JOB_FILE} belongs to another search than {rundir.MANIFEST}; "
                     f"restart the chief for this run directory")
    return manifest, job


def _watchdog(stub, tuner_id, address, run_dir, state):
    """Heartbeat the chief every second; if it stops answering, say so and end this process."""
    from keras_tuner.src import protos

    silent_since = None
    while True:
        time.sleep(HEARTBEAT_EVERY)
        try:
            resp = stub.GetTrial(protos.get_service().GetTrialRequest(
                trial_id=HEARTBEAT + tuner_id), timeout=2)
            silent_since = None
            if resp.trial.status == REAPED and state.get("trial"):
                print(f"nasbook worker {tuner_id}: the chief gave trial {state['trial']} to "
                      f"another worker (this one was silent too long); stopping",
                      file=sys.stderr, flush=True)
                os._exit(4)
        except Exception:
            silent_since = silent_since or time.monotonic()
            if time.monotonic() - silent_since < CHIEF_SILENCE:
                continue
            info = rundir.read_json(Path(run_dir) / CHIEF_FILE) or {}
            if info.get("state") == "ended":
                print(f"nasbook worker {tuner_id}: the search has ended; stopping",
                      file=sys.stderr, flush=True)
                os._exit(0)
            print(f"nasbook worker {tuner_id}: the chief at {address} stopped answering "
                  f"(killed or crashed?), so this worker stops.{_trial_note()} Start the "
                  f"chief again "
                  f"(the same nb.search / nasbook search --chief command) to resume.",
                  file=sys.stderr, flush=True)
            os._exit(3)


def _pid_alive(pid) -> bool:
    """Whether process ``pid`` on this machine runs. POSIX: signal 0 (no signal is sent). On
    Windows ``os.kill(pid, 0)`` would send Ctrl-C (signal 0 is CTRL_C_EVENT there), so psutil
    asks instead (if installed: it is not a dependency of nasbook); without it the process is
    taken as alive, so a dead chief is noticed by its silence (heartbeats), not its pid."""
    if os.name == "nt":  # pragma: no cover - the tests run on Linux
        try:
            import psutil
        except ImportError:
            return True
        try:
            return psutil.pid_exists(int(pid))
        except (ValueError, TypeError):
            return False
    try:
        os.kill(int(pid), 0)
    except (OSError, ValueError, TypeError):
        return False
    try:  # a zombie is dead for our purpose
        return "\nState:\tZ" not in Path(f"/proc/{int(pid)}/status").read_text()
    except OSError:
        return True


def _connect(address, run_dir, tuner_id, timeout, search_id=None):
    """The chief's first heartbeat answer; None if the search has ended. Waits up to
    ``timeout`` seconds for a chief that is not up yet. A chief file of this search that says
    "ended" (a worker started late) is trusted after ``ENDED_GRACE`` seconds without a chief,
    or at the deadline if that comes first: a chief resuming the search may still be starting.
    Gives up at once on a chief on this machine whose process is gone."""
    import grpc

    from keras_tuner.src import protos

    port = int(address.rsplit(":", 1)[1])
    deadline = time.monotonic() + timeout
    ended_seen = None  # when this worker first read "ended" for this search
    request = protos.get_service().GetTrialRequest(trial_id=HEARTBEAT + tuner_id)
    while True:
        # a fresh channel each try: gRPC's reconnect back-off would otherwise stretch the wait
        with grpc.insecure_channel(address) as channel:
            try:
                return protos.get_service_grpc().OracleStub(channel).GetTrial(
                    request, wait_for_ready=True, timeout=min(2.0, max(0.1, timeout)))
            except grpc.RpcError as exc:
                code = exc.code().name
        info = rundir.read_json(Path(run_dir) / CHIEF_FILE) or {}
        ours = info.get("port") == port and search_id in (None, info.get("search_id"))
        now = time.monotonic()
        if ours and info.get("state") == "ended":
            ended_seen = ended_seen or now
            if now - ended_seen >= ENDED_GRACE or now >= deadline:
                return None
        else:
            ended_seen = None
            if ours and info.get("hostname") == socket.gethostname() and \
                    not _pid_alive(info.get("pid")):
                raise _error(f"the chief of {run_dir} (pid {info.get('pid')} on this machine) "
                             f"is gone; start the search again (the same nb.search or nasbook "
                             f"search --chief command) to resume")
        if now >= deadline:
            raise _error(f"no nasbook chief answers at {address} after {timeout:.0f} s "
                         f"({code}); start it first (nasbook search --chief --port {port} "
                         f"...), check the host and port, and across machines the network or "
                         f"SSH tunnel")
        time.sleep(0.5)


def run_worker(chief, run_dir, tuner_id=None, connect_timeout=30.0) -> int:
    """Run trials for the chief at ``chief`` ("host:port") on the search in ``run_dir`` until
    the chief has no more; returns 0. Raises SearchError with what to do when it cannot.

    Usage: ``nasbook worker --chief 127.0.0.1:8000 --run-dir runs/d`` (the CLI calls this).
    """
    import grpc
    import keras_tuner

    from keras_tuner.src import protos

    from nasbook import strategies

    host, port = parse_address(chief)
    address = f"{host}:{port}"
    run_dir = Path(run_dir).expanduser().resolve()
    tuner_id = tuner_id or _default_tuner_id()
    if "chief" in tuner_id:
        raise _error(f"a worker's id must not contain 'chief' (keras-tuner would take it for "
                     f"the chief), got {tuner_id!r}")
    started = time.monotonic()
    threads_note = _apply_threads()  # before TensorFlow runs anything in this process
    manifest, job = _load_job(run_dir, wait=connect_timeout)
    connect_timeout = max(1.0, connect_timeout - (time.monotonic() - started))

    resp = _connect(address, run_dir, tuner_id, connect_timeout, job["search_id"])
    if resp is None:
        print(f"nasbook worker {tuner_id}: the search in {run_dir} has ended; nothing to do",
              file=sys.stderr, flush=True)
        return 0
    channel = grpc.insecure_channel(address)
    stub = protos.get_service_grpc().OracleStub(channel)
    if resp.trial.trial_id != job["search_id"]:
        raise _error(f"the chief at {address} serves another search than the one in {run_dir} "
                     f"(search id {resp.trial.trial_id} vs {job['search_id']}); give the "
                     f"chief's --out directory as --run-dir")

    ds, space = job["dataset"], job["space"]
    if rundir.dataset_signature(ds) != manifest.get("dataset"):
        raise _error(f"the dataset in {JOB_FILE} is not the one in {rundir.MANIFEST}; restart the "
                     f"chief for {run_dir}")
    os.environ.update(KERASTUNER_TUNER_ID=tuner_id, KERASTUNER_ORACLE_IP=host,
                      KERASTUNER_ORACLE_PORT=str(port))
    objective = strategies.make_objective(job["objective"])
    view = runner_module.SpaceView(space)
    state = _STATE
    threading.Thread(target=_watchdog, args=(stub, tuner_id, address, run_dir, state),
                     daemon=True, name="nasbook-heartbeat").start()

    def runner():
        return runner_module.Runner(view, ds, objective, job["epochs"], job["patience"],
                                    job["batch_size"], job["seed"], run_dir, None,
                                    tensorboard=job["tensorboard"])

    print(f"nasbook worker {tuner_id}: serving the chief at {address} (pid {os.getpid()}; "
          f"{threads_note})", file=sys.stderr, flush=True)
    with runner_module.keras_tuner_patched(), _silent_protos():
        local = keras_tuner.Oracle(objective=objective, max_trials=job["max_trials"])
        tuner = runner_module.make_tuner(runner(), local, view, run_dir)
        tuner.on_search_begin()
        n = 0
        while True:
            trial = tuner.oracle.create_trial(tuner.tuner_id)
            if trial.status == "STOPPED":
                break
            if trial.status == "IDLE":  # the strategy waits for other workers' trials
                time.sleep(0.5)
                continue
            hps = trial.hyperparameters
            hps.values = {k: v for k, v in hps.values.items() if hps.is_active(k)}
            state["trial"] = trial.trial_id
            tuner.runner = runner()  # sees the trials other workers finished meanwhile
            t0 = time.perf_counter()
            tuner.on_trial_begin(trial)
            tuner._try_run_and_update_trial(trial)
            tuner.on_trial_end(trial)
            state["trial"] = None
            n += 1
            rec = rundir.read_json(run_dir / f"trial_{trial.trial_id}" / rundir.RECORD) or {}
            print(f"nasbook worker {tuner_id}: trial {trial.trial_id} {rec.get('status', '?')}"
                  f" in {time.perf_counter() - t0:.1f} s, score {rec.get('score')}",
                  file=sys.stderr, flush=True)
        tuner.on_search_end()
    print(f"nasbook worker {tuner_id}: the chief has no more trials; ran {n}; exiting",
          file=sys.stderr, flush=True)
    return 0
