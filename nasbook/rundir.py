"""The run directory of a search: its file names, JSON I/O, trial records and manifest.

A run directory is the single source of truth of a search: ``nb.search`` writes it, and
``SearchResult``, the CLI and a resumed search read it. Both :mod:`nasbook.search` and
:mod:`nasbook.results` import this module; it imports neither.

Layout (``run_dir`` is keras-tuner's project directory)::

    run_dir/manifest.json             what was asked + one entry per call ("session")
    run_dir/oracle.json               keras-tuner's state (the strategy)
    run_dir/trial_NN/trial.json       keras-tuner's record of the trial
    run_dir/trial_NN/nasbook_trial.json   our record (decisions, metrics, history, status)
    run_dir/trial_NN/model.keras      the trained model at its best epoch

Usage::

    from nasbook import rundir
    rundir.read_records("runs/demo")    # {trial_id: record}, keras-tuner's failures included
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

__all__ = ["MANIFEST", "RECORD", "MODEL_FILE", "KILLED", "FORMAT_VERSION", "SearchError",
           "read_json", "write_json", "jsonable", "now", "trial_dir", "records",
           "read_records", "best_score", "last_line", "prepare", "Session", "dataset_signature",
           "space_signature", "num_classes"]

MANIFEST = "manifest.json"
RECORD = "nasbook_trial.json"
MODEL_FILE = "model.keras"
KILLED = "killed or crashed (never ended)"
FORMAT_VERSION = 1


class SearchError(RuntimeError):
    """The search cannot start or cannot go on: a bad argument, a space whose default model does
    not build, a run directory holding a different search, or too many failed trials in a row."""


# --- JSON ------------------------------------------------------------------------------------

def now() -> str:
    """The current UTC time, ISO format to the second."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def jsonable(value):
    """``value`` with numpy scalars made Python numbers and anything unknown made a string."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def write_json(path, obj) -> None:
    """Write JSON atomically (temporary file, then rename), so kill -9 never leaves half a file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as f:
        json.dump(jsonable(obj), f, indent=1, allow_nan=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_json(path):
    """The JSON object in ``path``, or None if it is missing or unreadable."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


# --- trial records ---------------------------------------------------------------------------

def trial_dir(run_dir, trial_id) -> Path:
    """The directory of one trial: ``run_dir/trial_<id>``."""
    return Path(run_dir) / f"trial_{trial_id}"


def records(run_dir) -> dict:
    """``{trial_id: record}`` for every nasbook trial record in ``run_dir`` (ours only)."""
    out = {}
    for path in sorted(Path(run_dir).glob(f"trial_*/{RECORD}")):
        rec = read_json(path)
        if rec is not None:
            out[rec["trial_id"]] = rec
    return out


def best_score(records, objective, best=None):
    """The best finite score among completed/duplicate ``records`` (an iterable of records) and
    ``best`` (or None), by ``objective.direction``."""
    scores = [rec["score"] for rec in records
              if rec.get("status") in ("completed", "duplicate")
              and isinstance(rec.get("score"), (int, float)) and math.isfinite(rec["score"])]
    if best is not None:
        scores.append(best)
    if not scores:
        return None
    return (max if objective.direction == "max" else min)(scores)


def last_line(message) -> str:
    """The last non-blank line of an error message (keras-tuner's trial messages end with the
    error itself), or "unknown error"."""
    lines = [ln for ln in str(message or "").strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "unknown error"


def read_records(run_dir) -> dict:
    """``{trial_id: record}`` of every trial, merged with keras-tuner's own ``trial.json``.

    A trial that keras-tuner failed outside nasbook's code gets status ``failed`` with the last
    line of its message; one still running (or killed) gets status ``unfinished``.
    """
    out = {}
    for tdir in sorted(Path(run_dir).glob("trial_*")):
        kt = read_json(tdir / "trial.json")
        ours = read_json(tdir / RECORD)
        if kt is None and ours is None:
            continue
        rec = dict(ours or {})
        trial_id = rec.get("trial_id") or (kt or {}).get("trial_id")
        if trial_id is None:
            continue
        rec["trial_id"] = trial_id
        rec.setdefault("number", int(trial_id))
        kt_status = (kt or {}).get("status")
        if ours is None or rec.get("status") == "running":
            if kt_status == "FAILED":  # failed outside nasbook's own trial code
                lines = [ln for ln in str(kt.get("message") or "").splitlines() if ln]
                rec.update(status="failed",
                           failure_reason=lines[-1] if lines else "unknown error")
            else:
                rec["status"] = "unfinished"
            if not rec.get("values") and kt:
                rec["values"] = kt.get("hyperparameters", {}).get("values", {})
        out[trial_id] = rec
    return out


# --- what was asked: signatures kept in the manifest ------------------------------------------

def num_classes(ds) -> int:
    """The dataset's number of classes (counted from its labels if it does not say)."""
    n = getattr(ds, "num_classes", None)
    return int(n) if n is not None else int(max(ds.y_train.max(), ds.y_val.max()) + 1)


def dataset_signature(ds) -> dict:
    """Name, shapes, sizes and a fingerprint of the arrays: a resumed search checks it."""
    h = hashlib.sha256()
    for arr in (ds.x_train, ds.y_train, ds.x_val, ds.y_val):
        h.update(np.ascontiguousarray(arr).tobytes())
    return {"name": getattr(ds, "name", "custom"), "input_shape": list(ds.x_train.shape[1:]),
            "num_classes": int(num_classes(ds)), "n_train": int(len(ds.y_train)),
            "n_val": int(len(ds.y_val)), "fingerprint": h.hexdigest()[:16]}


def space_signature(space) -> dict:
    """The space's class, decisions (with choices), size and description, as far as it has them."""
    info = {"class": type(space).__name__}
    if hasattr(space, "decisions"):
        info["decisions"] = [[name, jsonable(list(choices))]
                             for name, choices in space.decisions()]
    if hasattr(space, "size"):
        try:
            info["size"] = int(space.size())
        except Exception:  # a size that cannot be counted is not needed to search
            pass
    if hasattr(space, "describe"):
        try:
            info["describe"] = str(space.describe())
        except Exception:
            pass
    return info


# --- preparing the directory -----------------------------------------------------------------

def prepare(run_dir: Path, overwrite: bool, request: dict) -> dict:
    """Create, check or wipe the run directory; return its manifest (not yet written).

    Raises SearchError when ``run_dir`` is a file, is not ours to overwrite, or holds a search
    with another dataset, space, strategy, objective, seed or batch size.
    """
    manifest_path = run_dir / MANIFEST
    if run_dir.exists() and not run_dir.is_dir():
        raise SearchError(f"run_dir {run_dir} is a file; give a directory")
    if overwrite and run_dir.exists():
        looks_ours = (manifest_path.exists() or (run_dir / "oracle.json").exists()
                      or not any(run_dir.iterdir()))
        if not looks_ours:
            raise SearchError(f"overwrite=True would delete {run_dir}, which is not a search "
                              f"run directory (no {MANIFEST}); choose another run_dir")
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    manifest = read_json(manifest_path)
    if manifest is None:
        if (run_dir / "oracle.json").exists():
            raise SearchError(f"{run_dir} holds a keras-tuner project that nasbook did not "
                              f"write (no {MANIFEST}); use another run_dir or overwrite=True")
        return {"format": FORMAT_VERSION, "created": now(), **request, "sessions": []}
    for key, label in (("dataset", "dataset"), ("space", "search space"),
                       ("strategy", "strategy"), ("objective", "objective"),
                       ("seed", "seed"), ("batch_size", "batch size")):
        old, new = manifest.get(key), request.get(key)
        if key == "space":
            old = {k: v for k, v in (old or {}).items() if k in ("class", "decisions")}
            new = {k: v for k, v in new.items() if k in ("class", "decisions")}
        if jsonable(old) != jsonable(new):
            raise SearchError(f"{run_dir} holds a search with a different {label} "
                              f"(saved: {_short(old)}; now: {_short(new)}). To resume, call "
                              f"search with the same {label}; to start another search use a "
                              f"new run_dir, or overwrite=True to replace this one.")
    manifest.update({k: v for k, v in request.items() if k not in ("space",)})
    for session in manifest.get("sessions", []):
        if session.get("stop_reason") == "running":  # that process never got to say why
            session["stop_reason"] = KILLED
    return manifest


def _short(value, limit=160) -> str:
    text = json.dumps(jsonable(value), sort_keys=True)
    return text if len(text) <= limit else text[:limit] + "..."


class Session:
    """One call of ``nb.search``, logged in the manifest: started, ended, stop reason, trials
    run, seconds spent searching. Every change is written at once (atomically).

    Usage: ``log = Session(run_dir, manifest, max_trials=10); log.clock(); log.end("done")``
    """

    def __init__(self, run_dir, manifest, **limits):
        self.path = Path(run_dir) / MANIFEST
        self.manifest = manifest
        self.entry = {"started": now(), "ended": None, "stop_reason": "running", **limits,
                      "trials_run": 0, "seconds": 0.0}
        manifest.setdefault("sessions", []).append(self.entry)
        self.t0 = None
        self.save()

    def save(self) -> None:
        write_json(self.path, self.manifest)

    def clock(self) -> None:
        """Start the search clock (the time budget counts searching, not setting up)."""
        self.t0 = time.perf_counter()

    def elapsed(self) -> float:
        return 0.0 if self.t0 is None else time.perf_counter() - self.t0

    def trial_done(self) -> None:
        self.entry["trials_run"] += 1
        self.entry["seconds"] = self.elapsed()
        self.save()

    def end(self, reason: str) -> None:
        self.entry.update(ended=now(), stop_reason=reason)
        if self.t0 is not None:
            self.entry["seconds"] = self.elapsed()
        self.save()
