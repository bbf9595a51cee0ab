"""nasbook: Neural Architecture Search and its interpretability, on a laptop CPU.

Usage::

    import nasbook as nb
    ds = nb.load_dataset("mnist1d")      # offline, deterministic splits
    EPOCHS = nb.budget(quick=2, full=20) # NASBOOK_QUICK=1 shrinks budgets

Submodules (``nb.data``, ``nb.optim``, ``nb.metrics``, ``nb.explain``, ...) load on first use,
so ``import nasbook`` does not pay for TensorFlow until a lesson needs it.
"""
from __future__ import annotations

import importlib

from nasbook.config import budget, data_dir, is_quick, set_seed
from nasbook.data import Dataset, DatasetError, DatasetUnavailableError, from_arrays, load_dataset

__version__ = "0.1.0"

# Submodules imported lazily on first attribute access (nb.plot, nb.optim, ...).
_SUBMODULES = {
    "config", "data", "plot", "optim", "metrics", "exercises", "explain", "attention",
    "widgets", "space", "search", "results", "strategies", "bench", "cli", "models",
    "oneshot",
}

__all__ = [
    "Dataset", "DatasetError", "DatasetUnavailableError", "budget", "data_dir", "from_arrays",
    "is_quick", "load_dataset", "set_seed", *sorted(_SUBMODULES),
]


def __getattr__(name):
    if name in _SUBMODULES:
        module = importlib.import_module(f"nasbook.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'nasbook' has no attribute {name!r}")
