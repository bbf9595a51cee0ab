"""Run-wide settings: quick mode, the data directory, and seeding.

Quick mode is one switch, the environment variable ``NASBOOK_QUICK=1``. Notebooks read it
through :func:`budget`, so quick mode changes numbers (trials, epochs, samples), never the
code path::

    import nasbook as nb
    MAX_TRIALS = nb.budget(quick=3, full=30)
"""
from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np

QUICK_ENV = "NASBOOK_QUICK"
DATA_DIR_ENV = "NASBOOK_DATA_DIR"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def is_quick() -> bool:
    """True when ``NASBOOK_QUICK`` is set to 1/true/yes/on (CI and ``make test`` set it)."""
    value = os.environ.get(QUICK_ENV, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{QUICK_ENV}={value!r} is not understood; use 1 (quick) or 0 (full).")


def budget(quick, full):
    """Return ``quick`` in quick mode and ``full`` otherwise.

    Usage: ``EPOCHS = nb.budget(quick=2, full=20)``
    """
    return quick if is_quick() else full


def data_dir() -> Path:
    """Where downloaded datasets are cached: ``$NASBOOK_DATA_DIR`` or ``~/.cache/nasbook``."""
    root = os.environ.get(DATA_DIR_ENV) or Path.home() / ".cache" / "nasbook"
    path = Path(root).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and (if imported) Keras/TensorFlow in one call.

    Usage: ``nb.set_seed(0)``
    """
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(int(seed))
    np.random.seed(int(seed))
    import keras  # imported here so that `import nasbook` stays fast

    keras.utils.set_random_seed(int(seed))
