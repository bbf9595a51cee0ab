"""Load the shipped benchmark table, checking it against its published SHA-256.

Usage::

    table = nb.bench.load()                 # one row per (architecture, seed)
    table.groupby("arch_id").test_accuracy.mean().max()
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from nasbook.bench.space import DECISIONS

__all__ = ["load", "TABLE_PATH", "BenchmarkError", "sha256"]

# The table ships in the repository's data/ folder, beside its README and checksum.
TABLE_PATH = Path(__file__).resolve().parents[2] / "data" / "mnist1d_bench.csv"


class BenchmarkError(ValueError):
    """A missing, altered or malformed benchmark table."""


def sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load(path=None, *, verify=True):
    """The benchmark as a DataFrame: one row per (architecture, seed), with the decisions,
    test/validation accuracy and loss, parameter count, training time and per-epoch curves
    (``val_accuracy_e01`` ...). ``verify`` checks the SHA-256 in ``<path>.sha256``. ``attrs``
    hold the trials format (:mod:`nasbook.trials`): decisions, domains, objective
    ``val_accuracy``, direction ``max``."""
    from nasbook.trials import tag

    import pandas as pd

    path = Path(path) if path is not None else TABLE_PATH
    if not path.exists():
        raise BenchmarkError(f"no benchmark table at {path}. It ships in the repository's "
                             f"data/ folder; from an installed package, pass path=..., or "
                             f"build one with `python -m nasbook.bench build --out FILE`.")
    if verify:
        sums = path.with_name(path.name + ".sha256")
        if not sums.exists():
            raise BenchmarkError(f"no checksum file {sums}; pass verify=False to load an "
                                 f"unpublished table")
        expected = sums.read_text().split()[0]
        if sha256(path) != expected:
            raise BenchmarkError(f"{path} does not match its published SHA-256 (it was "
                                 f"changed or truncated); restore it with git checkout")
    table = pd.read_csv(path)
    missing = [c for c in ["arch_id", "seed", *DECISIONS, "test_accuracy", "val_accuracy"]
               if c not in table.columns]
    if missing:
        raise BenchmarkError(f"{path} lacks the columns {missing}")
    return tag(table, decisions=list(DECISIONS), domains=DECISIONS, objective="val_accuracy",
               direction="max")
