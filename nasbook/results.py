"""Read a search back from its run directory: trials as a table, the best model, the history.

The run directory is the single source of truth: a notebook, the CLI and a resumed search all
read the same files (see :mod:`nasbook.rundir`)::

    result = nb.results.SearchResult.load("runs/demo")
    result.trials                 # one row per trial: decisions, metrics, params, time, status
    result.best_config            # the decisions of the best trial
    model = result.best_model()   # restored from its .keras file (Keras safe mode)
    result.history()              # best so far against trial number and wall time
    result.curves()               # per-epoch learning curves of every trial
    result.phases()               # where each trial's time went (build, trace, epochs, ...)
    result.to_csv("trials.csv")
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from nasbook import rundir
from nasbook import trials as trials_format
from nasbook.labels import same
from nasbook.phases import COLUMNS as PHASE_COLUMNS

__all__ = ["SearchResult", "ResultError", "STATUSES"]

# completed: trained and scored; duplicate: same active decisions as an earlier trial, its score
# reused without training; failed: did not build, diverged or raised (see failure_reason);
# unfinished: running now, or interrupted (a resumed search runs it again).
STATUSES = ("completed", "duplicate", "failed", "unfinished")

_METRIC_ORDER = ("val_accuracy", "val_loss", "val_precision", "val_recall", "val_f1",
                 "accuracy", "loss")


class ResultError(ValueError):
    """A path that is not a search run directory, or a question it cannot answer."""


class SearchResult:
    """Everything a search wrote, as tables.  Usage: ``SearchResult.load("runs/demo")``"""

    def __init__(self, run_dir, manifest, records):
        self.run_dir = Path(run_dir)
        self.manifest = manifest
        self._records = records
        objective = manifest.get("objective") or {}
        self.objective = objective.get("name", "val_accuracy")
        self.direction = objective.get("direction", "max")

    # -- loading --

    @classmethod
    def load(cls, run_dir) -> "SearchResult":
        """Read ``run_dir`` (written by ``nb.search``); works while a search is still running."""
        run_dir = Path(run_dir).expanduser()
        manifest = rundir.read_json(run_dir / rundir.MANIFEST)
        if manifest is None:
            hint = (" It exists but has no manifest: was it written by nb.search?"
                    if run_dir.is_dir() else " It does not exist.")
            raise ResultError(f"{run_dir} is not a search run directory.{hint} Run "
                              f"nb.search(..., run_dir={str(run_dir)!r}) first.")
        records = rundir.read_records(run_dir)
        return cls(run_dir, manifest, records)

    def reload(self) -> "SearchResult":
        """Read the run directory again (e.g. while a search in another process goes on)."""
        return type(self).load(self.run_dir)

    # -- the trials table --

    @property
    def decisions(self) -> list:
        """Decision names, in the space's declaration order."""
        names = [d[0] for d in self.manifest.get("space", {}).get("decisions", [])]
        for rec in self._sorted():
            for key in (rec.get("active_values") or rec.get("values") or {}):
                if key not in names and not key.startswith("tuner/"):
                    names.append(key)
        return names

    @property
    def domains(self) -> dict:
        """``{decision: its choices}`` as the space declared them (the values that occur for a
        decision the space did not declare)."""
        declared = {d: list(v) for d, v in self.manifest.get("space", {}).get("decisions", [])}
        out = {}
        for name in self.decisions:
            if name in declared:
                out[name] = declared[name]
            else:
                seen = []
                for rec in self._sorted():
                    v = (rec.get("active_values") or rec.get("values") or {}).get(name)
                    if v is not None and v not in seen:
                        seen.append(v)
                out[name] = sorted(seen, key=str)
        return out

    def _sorted(self) -> list:
        return sorted(self._records.values(), key=lambda r: r["number"])

    @property
    def trials(self) -> pd.DataFrame:
        """One row per trial, indexed by trial number.

        Columns: status, one column per decision (empty where the decision did not shape the
        model, e.g. the units of a layer that was not built), the objective, the other metrics
        at the trial's best epoch, params, train_time_s, duration_s, epochs_run, best_epoch,
        architecture, duplicate_of, failure_reason. ``attrs`` hold the trials format
        (:mod:`nasbook.trials`): decisions, domains, objective, direction.
        """
        return trials_format.tag(self._trials_table(), decisions=self.decisions,
                                 domains=self.domains, objective=self.objective,
                                 direction=self.direction)

    def _trials_table(self) -> pd.DataFrame:
        decisions = self.decisions
        rows = []
        for rec in self._sorted():
            active = rec.get("active_values")
            if active is None:
                active = {k: v for k, v in (rec.get("values") or {}).items()
                          if not k.startswith("tuner/")}
            row = {"trial": rec["number"], "status": rec["status"]}
            for name in decisions:
                row[name] = active.get(name, None)
            metrics = rec.get("metrics") or {}
            row[self.objective] = rec.get("score", metrics.get(self.objective))
            for name in _METRIC_ORDER:
                if name != self.objective:
                    row[name] = metrics.get(name)
            for name in ("params", "train_time_s", "duration_s", "epochs_run", "best_epoch",
                         "architecture", "duplicate_of", "failure_reason"):
                row[name] = rec.get(name)
            if rec.get("continues") is not None:
                row["continues"] = rec["continues"]
            rows.append(row)
        columns = (["trial", "status", *decisions, self.objective]
                   + [m for m in _METRIC_ORDER if m != self.objective]
                   + ["params", "train_time_s", "duration_s", "epochs_run", "best_epoch",
                      "architecture", "duplicate_of", "failure_reason"])
        frame = pd.DataFrame(rows)
        if frame.empty:
            return pd.DataFrame(columns=columns).set_index("trial")
        extra = [c for c in frame.columns if c not in columns]
        frame = frame.reindex(columns=columns + extra)
        for col in [self.objective, *_METRIC_ORDER, "train_time_s", "duration_s"]:
            if col in frame:
                frame[col] = pd.to_numeric(frame[col], errors="coerce")
        if decisions:  # inactive decisions: NaN throughout, numbers stay numeric
            block = frame[decisions].astype(object)
            frame[decisions] = block.where(block.notna(), np.nan).infer_objects()
        for col in ("params", "epochs_run", "best_epoch"):
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("Int64")
        return frame.set_index("trial")

    def phases(self) -> pd.DataFrame:
        """Where each trial's time went, and the process's memory after it: one row per trial,
        indexed by trial number like :attr:`trials`.

        Columns (wall seconds; see :mod:`nasbook.phases` for how each is measured):
        trial_id, status, ``build_s`` (clear the session, build and compile), ``trace_s``
        (tracing the training, validation and metrics functions), ``fit_s`` (the epochs
        themselves, steady state), ``evaluate_s`` (the validation split after each epoch),
        ``save_s`` (the model file), ``other_s`` (the rest: keras-tuner's bookkeeping, fit's
        set-up, callbacks, logs), ``total_s`` (their sum), ``overhead_fraction``
        ((total_s - fit_s) / total_s), ``rss_mb`` (resident memory of the process that ran
        the trial, at its end), and two parts of other_s: ``tuner_s`` (keras-tuner between
        the previous trial in the same process and this one; 0 for a process's first trial)
        and ``log_s`` (the TensorBoard HParams record). A duplicate trial trains nothing, so
        it is nearly all overhead; filter on ``status == "completed"`` for training trials.

        A trial written before nasbook recorded phases (or one still running) has NaN in
        every phase column: old run directories read without error, and a resumed old search
        mixes both kinds of rows.

        Usage: ``result.phases().query("status == 'completed'")[["fit_s", "total_s"]].mean()``
        """
        rows = []
        for rec in self._sorted():
            row = {"trial": rec["number"], "trial_id": rec.get("trial_id"),
                   "status": rec.get("status")}
            measured = rec.get("phases") or {}
            for name in PHASE_COLUMNS:
                value = rec.get("rss_mb") if name == "rss_mb" else measured.get(name)
                row[name] = np.nan if value is None else float(value)
            rows.append(row)
        frame = pd.DataFrame(rows, columns=["trial", "trial_id", "status", *PHASE_COLUMNS])
        frame[list(PHASE_COLUMNS)] = frame[list(PHASE_COLUMNS)].astype(float)
        return frame.set_index("trial")

    def counts(self) -> dict:
        """``{status: number of trials}`` for every status."""
        statuses = [r["status"] for r in self._records.values()]
        return {s: statuses.count(s) for s in STATUSES}

    def to_csv(self, path) -> Path:
        """Write :attr:`trials` as CSV; returns the path.  Usage: ``result.to_csv("t.csv")``"""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.trials.to_csv(path)
        return path

    # -- the best trial --

    def _ranked(self) -> list:
        """Completed trials (with their own model), best first; ties go to the earlier one."""
        done = [r for r in self._sorted() if r.get("status") == "completed"
                and isinstance(r.get("score"), (int, float)) and math.isfinite(r["score"])]
        sign = -1 if self.direction == "max" else 1
        return sorted(done, key=lambda r: (sign * r["score"], r["number"]))

    def _best_record(self) -> dict:
        ranked = self._ranked()
        if not ranked:
            raise ResultError(f"no completed trial in {self.run_dir} yet "
                              f"({self._counts_text()}); run or resume the search first")
        return ranked[0]

    @property
    def best_trial(self) -> int:
        """The number of the best completed trial."""
        return self._best_record()["number"]

    @property
    def best_score(self) -> float:
        """The best trial's objective value (at its best epoch)."""
        return float(self._best_record()["score"])

    @property
    def best_config(self) -> dict:
        """The decisions that shaped the best model (``space.active_values``)."""
        rec = self._best_record()
        return dict(rec.get("active_values") or rec.get("values") or {})

    def config(self, trial) -> dict:
        """All decision values of one trial, as keras-tuner proposed them."""
        rec = self._record(trial)
        return {k: v for k, v in (rec.get("values") or {}).items() if not k.startswith("tuner/")}

    def _record(self, trial) -> dict:
        for rec in self._records.values():
            if rec["number"] == int(trial):
                return rec
        raise ResultError(f"there is no trial {trial} in {self.run_dir}; trials: "
                          f"{sorted(r['number'] for r in self._records.values())}")

    def model(self, trial, *, compile=True):
        """The trained model of one trial, loaded from its .keras file with safe mode on."""
        import keras

        rec = self._record(trial)
        if rec.get("status") == "duplicate":
            rec = self._record(int(rec["duplicate_of"]))
        if rec.get("status") != "completed":
            raise ResultError(f"trial {trial} has status {rec.get('status')!r} and no trained "
                              f"model; choose a completed trial")
        path = self.run_dir / f"trial_{rec['trial_id']}" / rec.get("model_file", rundir.MODEL_FILE)
        if not path.exists():
            raise ResultError(f"the model file {path} is missing; the run directory is "
                              f"incomplete (copied without it?)")
        return keras.saving.load_model(path, compile=compile, safe_mode=True)

    def best_model(self, *, compile=True):
        """The best trial's model, restored from its .keras file (weights of its best epoch).

        Usage: ``model = result.best_model(); model.evaluate(ds.x_test, ds.y_test)``
        """
        return self.model(self.best_trial, compile=compile)

    # -- the search over time --

    def history(self) -> pd.DataFrame:
        """Best so far against trial number and wall time, one row per finished trial.

        Columns: trial, status, score (this trial's objective), best_so_far, elapsed_s (the
        summed duration of the trials so far: search time, excluding pauses between resumed
        sessions), finished (the clock time it ended).
        """
        finished = [r for r in self._records.values()
                    if r.get("status") in ("completed", "duplicate", "failed")
                    and r.get("ended_at") is not None]
        finished.sort(key=lambda r: (r["ended_at"], r["number"]))
        rows, best, elapsed = [], None, 0.0
        better = (lambda a, b: a > b) if self.direction == "max" else (lambda a, b: a < b)
        for rec in finished:
            elapsed += float(rec.get("duration_s") or 0.0)
            score = rec.get("score") if rec["status"] != "failed" else None
            if score is not None and math.isfinite(score) and (best is None or
                                                               better(score, best)):
                best = float(score)
            rows.append({"trial": rec["number"], "status": rec["status"],
                         "score": np.nan if score is None else float(score),
                         "best_so_far": np.nan if best is None else best,
                         "elapsed_s": elapsed,
                         "finished": pd.Timestamp(rec["ended_at"], unit="s", tz="UTC")})
        columns = ["trial", "status", "score", "best_so_far", "elapsed_s", "finished"]
        return pd.DataFrame(rows, columns=columns)

    def curves(self, trial=None) -> pd.DataFrame:
        """Per-epoch metrics (loss, accuracy, val_loss, val_accuracy, val_f1, ...) of every
        trained trial, or of one: columns trial, epoch (counted from 1), then the metrics."""
        frames = []
        for rec in self._sorted():
            if trial is not None and rec["number"] != int(trial):
                continue
            hist = rec.get("history") or []
            if hist:
                frame = pd.DataFrame(hist)
                frame["epoch"] = frame["epoch"] + 1
                frame.insert(0, "trial", rec["number"])
                frames.append(frame)
        if trial is not None and not frames:
            self._record(trial)  # raises for an unknown trial
        if not frames:
            return pd.DataFrame(columns=["trial", "epoch"])
        return pd.concat(frames, ignore_index=True)

    def architecture_curves(self, architecture, metric=None, *, decisions=None) -> list:
        """Per-epoch ``metric`` (default: the objective) of every completed trial that built
        ``architecture`` (its recorded key), one array per trial in trial order. With
        ``decisions`` (``{name: value}``), trials with no recorded key are matched on those.

        Usage: ``result.architecture_curves(result.trials.architecture.iloc[0])``
        """
        metric = metric or self.objective
        done = [r for r in self._sorted() if r.get("status") == "completed"]
        match = [r for r in done if str(r.get("architecture")) == str(architecture)]
        if not match and decisions is not None:
            def values(rec):
                return rec.get("active_values") or rec.get("values") or {}
            match = [r for r in done if all(same(values(r).get(d), v)
                                            for d, v in decisions.items())]
        runs = []
        for rec in match:
            frame = self.curves(rec["number"])
            if metric in frame.columns and len(frame):
                runs.append(frame.sort_values("epoch")[metric].to_numpy(float))
        return runs

    # -- text --

    @property
    def stop_reason(self) -> str | None:
        """Why the latest search call stopped ("max_trials reached", "time budget spent", ...)."""
        sessions = self.manifest.get("sessions") or []
        return sessions[-1].get("stop_reason") if sessions else None

    def _counts_text(self) -> str:
        counts = self.counts()
        parts = [f"{n} {s}" for s, n in counts.items() if n]
        return ", ".join(parts) if parts else "no trials"

    def summary(self) -> str:
        """One line: trials by status and the best trial."""
        text = f"{len(self._records)} trials ({self._counts_text()})"
        if self._ranked():
            text += (f"; best {self.objective} {self.best_score:.4f} (trial {self.best_trial})")
        return text + f"; run dir {self.run_dir}"

    def table(self, columns=None, max_rows=None) -> str:
        """The trials table as plain text: decisions, objective, params, time, status."""
        frame = self.trials
        if columns is None:
            columns = [*self.decisions, self.objective]
            columns += [c for c in ("val_f1", "params", "train_time_s", "status")
                        if c != self.objective]
            if frame["failure_reason"].notna().any():
                columns.append("failure_reason")
        frame = frame[[c for c in columns if c in frame.columns]]
        if max_rows is not None:
            frame = frame.head(max_rows)
        with pd.option_context("display.max_columns", None, "display.width", 200,
                               "display.max_colwidth", 60, "display.float_format",
                               "{:.4g}".format):
            return frame.to_string()

    def __repr__(self) -> str:
        return f"SearchResult({self.summary()})"

    def __len__(self) -> int:
        return len(self._records)
