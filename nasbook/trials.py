"""The one trials format: a DataFrame, one row per trial, that says what its columns mean.

``SearchResult.trials`` (a real search), ``nb.bench.simulate`` (a simulated one) and
``nb.bench.load()`` (the benchmark table) all return a DataFrame whose ``attrs`` hold:

- ``decisions``: the decision columns, in the space's order;
- ``domains``: ``{decision: [every value it can take, in natural order]}``;
- ``objective``: the column holding the score the search optimised;
- ``direction``: ``"max"`` or ``"min"`` for that objective.

So :mod:`nasbook.explain` reads what a column is instead of guessing it. pandas keeps ``attrs``
through filtering, ``head``, ``copy`` and concatenation of frames with equal ``attrs``.

A DataFrame without these ``attrs`` (one you built yourself) is read by a fixed, documented
convention (:func:`decision_columns`): every column is a decision except the bookkeeping and
metric columns in :data:`NON_DECISIONS` and those starting with ``val_``, ``test_`` or
``tuner/``; domains are the values that occur; direction is ``"max"`` unless you say
otherwise.

Usage::

    from nasbook import trials
    frame = trials.tag(frame, decisions=["kernel"], domains={"kernel": [3, 5]},
                       objective="val_accuracy", direction="max")
    trials.decision_columns(frame)      # ['kernel']
"""
from __future__ import annotations

__all__ = ["ATTRS", "NON_DECISIONS", "tag", "decision_columns", "domains_of"]

ATTRS = ("decisions", "domains", "objective", "direction")

# Columns that are never decisions in a frame without attrs: trial bookkeeping and metrics.
NON_DECISIONS = frozenset({
    "evaluation", "trial", "status", "score", "n_runs", "best_val_so_far",
    "test_of_best_so_far", "test_accuracy", "val_accuracy", "val_loss", "cost_epochs",
    "cumulative_epochs", "epochs", "architecture", "arch_id", "seed", "params",
    "train_time_s", "duration_s", "epochs_run", "best_epoch", "duplicate_of", "failure_reason",
    "continues", "accuracy", "loss", "test_loss", "budget", "strategy"})


def tag(frame, *, decisions, domains, objective, direction):
    """Write the trials format into ``frame.attrs`` (in place) and return ``frame``."""
    if direction not in ("max", "min"):
        raise ValueError(f"direction must be 'max' or 'min', got {direction!r}")
    frame.attrs.update(decisions=list(decisions),
                       domains={d: list(v) for d, v in dict(domains).items()},
                       objective=str(objective), direction=direction)
    return frame


def decision_columns(frame, objective=None) -> list:
    """The decision columns of ``frame``: ``attrs["decisions"]`` (those present) when it carries
    the trials format, else every column outside :data:`NON_DECISIONS` that is not the
    ``objective`` and does not start with ``val_``, ``test_`` or ``tuner/``."""
    if "decisions" in frame.attrs:
        return [d for d in frame.attrs["decisions"] if d in frame.columns]
    return [c for c in frame.columns if c not in NON_DECISIONS and c != objective
            and not str(c).startswith(("tuner/", "val_", "test_"))]


def domains_of(frame, decisions) -> dict:
    """``{decision: values}``: ``attrs["domains"]`` where known, else the values that occur
    (sorted by type, then value)."""
    known = frame.attrs.get("domains") or {}
    return {d: list(known[d]) if d in known else
            sorted(frame[d].dropna().unique().tolist(), key=lambda v: (str(type(v)), v))
            for d in decisions}
