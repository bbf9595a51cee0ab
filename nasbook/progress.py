"""The search's progress bar: trials done, best so far, time left; never clears a cell.

Usage (what ``nb.search`` does)::

    bar = Progress(enabled=True, total=10, time_budget=300, objective=objective)
    bar.start(done=0, best=None); bar.trial_begins("00"); bar.trial_ends(record, best, s)
"""
from __future__ import annotations

import time

__all__ = ["Progress", "fmt_seconds"]


def fmt_seconds(s) -> str:
    """Seconds as ``12s`` or ``3m05s``."""
    s = max(0, int(round(s)))
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


class Progress:
    """A tqdm.auto bar: a widget in JupyterLab, text in a terminal. Never clears the cell."""

    def __init__(self, enabled, total, time_budget, objective):
        self.enabled, self.total = enabled, total
        self.time_budget, self.objective = time_budget, objective
        self.bar = None
        self.best = None
        self.t0 = time.perf_counter()

    def start(self, done, best):
        self.best = best
        if not self.enabled:
            return
        from tqdm.auto import tqdm

        self.bar = tqdm(total=self.total, initial=min(done, self.total), unit="trial",
                        desc="search", dynamic_ncols=True, leave=True)
        self._postfix()

    def _postfix(self, extra=None):
        if self.bar is None:
            return
        parts = {}
        if self.best is not None:
            parts["best"] = f"{self.best:.4f}"
        if self.time_budget is not None:
            left = self.time_budget - (time.perf_counter() - self.t0)
            parts["left"] = fmt_seconds(left)
        if extra:
            parts.update(extra)
        self.bar.set_postfix(parts, refresh=True)

    def trial_begins(self, trial_id):
        self._postfix({"trial": trial_id})

    def epoch(self, trial_id, epoch, epochs):
        self._postfix({"trial": trial_id, "epoch": f"{epoch}/{epochs}"})

    def trial_ends(self, record, best, elapsed):
        self.best = best
        if self.bar is not None:
            if self.bar.n < self.total:
                self.bar.update(1)
            status = record.get("status", "?")
            self._postfix({"last": status})

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
