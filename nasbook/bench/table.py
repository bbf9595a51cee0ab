"""Load the shipped benchmark table, checking it against its published SHA-256.

Usage::

    table = nb.bench.load()                 # one row per (architecture, seed)
    table.groupby("arch_id").test_accuracy.mean().max()
"""
from __future__ import annotations

import hashlib
from importlib.resources import files
from pathlib import Path

from nasbook.bench.space import DECISIONS

__all__ = ["load", "task_path", "load_explanations", "against_random", "AGAINST_RANDOM",
           "TABLE_PATH", "EXPLANATIONS_PATH", "BenchmarkError", "sha256"]

# The tables are package data (nasbook.tables: the repository's data/ folder, beside their
# README and checksums), found with importlib.resources, so an installed nasbook has them too.
TABLE_PATH = Path(files("nasbook.tables") / "mnist1d_bench.csv")
EXPLANATIONS_PATH = TABLE_PATH.with_name("mnist1d_explanations.csv")


class BenchmarkError(ValueError):
    """A missing, altered or malformed benchmark table."""


def sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _check(path, verify, how):
    if not path.exists():
        raise BenchmarkError(f"no benchmark table at {path}. The shipped ones are package data "
                             f"of nasbook (data/ in the repository); pass path=..., or build "
                             f"one with {how}.")
    if verify:
        sums = path.with_name(path.name + ".sha256")
        if not sums.exists():
            raise BenchmarkError(f"no checksum file {sums}; pass verify=False to load an "
                                 f"unpublished table")
        expected = sums.read_text().split()[0]
        if sha256(path) != expected:
            raise BenchmarkError(f"{path} does not match its published SHA-256 (it was "
                                 f"changed or truncated); restore it with git checkout")


def task_path(task="original") -> Path:
    """Where the table of a benchmark task (:data:`nasbook.bench.space.TASKS`) ships."""
    from nasbook.bench.space import task_dataset

    task_dataset(task)
    return TABLE_PATH if task == "original" else TABLE_PATH.with_name(
        f"mnist1d_bench_{task}.csv")


def load(path=None, *, verify=True, task="original"):
    """The benchmark as a DataFrame: one row per (architecture, seed), with the decisions,
    test/validation accuracy and loss, parameter count, training time and per-epoch curves
    (``val_accuracy_e01`` ...). ``task`` picks the table of another task trained with the same
    recipe (``"near"``, ``"far"``: :data:`nasbook.bench.space.TASKS`); ``path`` overrides it.
    ``verify`` checks the SHA-256 in ``<path>.sha256``. ``attrs`` hold the trials format
    (:mod:`nasbook.trials`): decisions, domains, objective ``val_accuracy``, direction ``max``,
    and ``task``.

    Usage: ``nb.bench.load()``, ``nb.bench.load(task="far")``"""
    from nasbook.trials import tag

    import pandas as pd

    path = Path(path) if path is not None else task_path(task)
    _check(path, verify, f"`python -m nasbook.bench build --task {task} --out FILE`")
    table = pd.read_csv(path)
    missing = [c for c in ["arch_id", "seed", *DECISIONS, "test_accuracy", "val_accuracy"]
               if c not in table.columns]
    if missing:
        raise BenchmarkError(f"{path} lacks the columns {missing}")
    table = tag(table, decisions=list(DECISIONS), domains=DECISIONS, objective="val_accuracy",
                direction="max")
    table.attrs["task"] = task
    return table


# Deletion and insertion AUC against the random-order curve of the same model and inputs:
# ``<method>_<curve>_vs_random`` = method AUC - random AUC (the signed area between the two
# curves; 0 = no better than deleting or inserting in a random order; better is lower for
# deletion, higher for insertion, as for the raw AUC) and ``<method>_<curve>_ratio`` = method
# AUC / random AUC (1 = random). The difference is the primary form: it is the area between
# two curves of one model on one input set, in the raw AUC's own units, stays defined when the
# random AUC is near zero (a model near chance), and is what nb.explain.auc_table reports.
AGAINST_RANDOM = {f"{m}_{c}_{form}": (m, c, form) for m in ("ig", "saliency")
                  for c in ("deletion", "insertion") for form in ("vs_random", "ratio")}


def against_random(table):
    """``table`` with the :data:`AGAINST_RANDOM` columns added from its ``*_auc`` columns (a
    copy; a measure whose two AUCs are not both there is left out).

    Usage: ``against_random(ex)[["ig_deletion_auc", "ig_deletion_vs_random"]]``"""
    table = table.copy()
    for name, (method, curve, form) in AGAINST_RANDOM.items():
        own, rand = f"{method}_{curve}_auc", f"random_{curve}_auc"
        if own in table and rand in table:
            table[name] = (table[own] - table[rand] if form == "vs_random"
                           else table[own] / table[rand])
    return table


def load_explanations(path=None, *, verify=True, join=True):
    """The explanation-quality table (:mod:`nasbook.bench.explain_build`): one row per
    (architecture, seed) with deletion/insertion AUCs, sanity and completeness scores and the
    ground-truth region scores of integrated gradients and saliency. With ``join`` the
    accuracy table's ``val_accuracy`` and ``test_accuracy`` of the same run are added as
    ``bench_val_accuracy`` and ``bench_test_accuracy`` (joined on ``arch_id`` and ``seed``).
    The deletion and insertion AUCs also come against the random order of the same model and
    inputs (:data:`AGAINST_RANDOM`: ``ig_deletion_vs_random`` ..., ``ig_deletion_ratio`` ...),
    since a raw AUC mostly measures how confident and robust the model is. ``attrs`` hold the
    trials format with objective ``test_accuracy``.

    Usage: ``ex = nb.bench.load_explanations(); ex.ig_deletion_vs_random.describe()``
    """
    from nasbook.trials import tag

    import pandas as pd

    path = Path(path) if path is not None else EXPLANATIONS_PATH
    _check(path, verify, "`python -m nasbook.bench explain-build --out FILE` (about an hour "
                         "on two cores)")
    table = pd.read_csv(path)
    missing = [c for c in ["arch_id", "seed", *DECISIONS, "test_accuracy"]
               if c not in table.columns]
    if missing:
        raise BenchmarkError(f"{path} lacks the columns {missing}")
    if join:
        acc = load()[["arch_id", "seed", "val_accuracy", "test_accuracy"]]
        acc = acc.rename(columns={"val_accuracy": "bench_val_accuracy",
                                  "test_accuracy": "bench_test_accuracy"})
        table = table.merge(acc, on=["arch_id", "seed"], how="left")
    table = against_random(table.sort_values(["arch_id", "seed"]).reset_index(drop=True))
    return tag(table, decisions=list(DECISIONS), domains=DECISIONS, objective="test_accuracy",
               direction="max")
