"""nasbook: Neural Architecture Search and its interpretability, on a laptop CPU.

Usage::

    import nasbook as nb
    ds = nb.load_dataset("mnist1d")      # offline, deterministic splits
    EPOCHS = nb.budget(quick=2, full=20) # NASBOOK_QUICK=1 shrinks budgets

Submodules (``nb.data``, ``nb.optim``, ``nb.metrics``, ``nb.explain``, ...) load on first use,
so ``import nasbook`` does not pay for TensorFlow until a lesson needs it. One exception: inside
a Jupyter kernel, TensorFlow is imported at once with its C++ start-up log silenced (see
:func:`_quiet_tensorflow_import`).
"""
from __future__ import annotations

import importlib
import os
import sys

from nasbook.config import budget, data_dir, is_quick, set_seed
from nasbook.data import Dataset, DatasetError, DatasetUnavailableError, from_arrays, load_dataset

__version__ = "0.1.0"

# Submodules imported lazily on first attribute access (nb.plot, nb.optim, ...).
_SUBMODULES = {
    "config", "data", "plot", "optim", "metrics", "exercises", "explain", "attention",
    "widgets", "space", "search", "results", "strategies", "bench", "cli", "models",
    "oneshot", "pareto", "distributed", "tensorboard", "stats",
}

__all__ = [
    "Dataset", "DatasetError", "DatasetUnavailableError", "budget", "data_dir", "from_arrays",
    "is_quick", "load_dataset", "set_seed", *sorted(_SUBMODULES),
]


def _quiet_tensorflow_import():
    """Import TensorFlow once with file descriptor 2 pointed at /dev/null, in notebooks only.

    TensorFlow 2.21 writes C++ start-up lines at import (a oneDNN notice and absl's "WARNING:
    All log messages before absl::InitializeLog() is called ...") straight to file descriptor
    2, past ``TF_CPP_MIN_LOG_LEVEL``; Jupyter shows them in the reader's cell as a warning.
    Only that import is silenced: Python errors still raise, and later messages are shown.
    """
    if "ipykernel" not in sys.modules or "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        saved = os.dup(2)
    except OSError:
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        sys.stderr.flush()
        os.dup2(devnull, 2)
        try:
            import tensorflow  # noqa: F401
        except ImportError:
            pass  # a broken install reports itself where TensorFlow is first used
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


_quiet_tensorflow_import()


def __getattr__(name):
    if name in _SUBMODULES:
        module = importlib.import_module(f"nasbook.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'nasbook' has no attribute {name!r}")
