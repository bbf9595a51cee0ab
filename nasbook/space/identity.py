"""What makes two configurations "the same architecture": one function, used everywhere.

The search space (:meth:`SearchSpace.architecture_key`), the trial runner (duplicates are not
retrained) and the strategies (a proposal already seen is redrawn) all name a configuration by
:func:`architecture_key` of its *active* decisions, so they can never disagree.

Usage: ``architecture_key({"n_blocks": 1, "filters_0": 8})  # 'n_blocks=1|filters_0=8'``
"""
from __future__ import annotations

__all__ = ["architecture_key"]


def architecture_key(active_values: dict) -> str:
    """A stable, readable id of a configuration: ``name=value`` pairs joined by ``|``.

    Pass only the decisions that shaped the model (``space.active_values(values)``); the
    order is the dict's (a space gives its declaration order).
    """
    return "|".join(f"{k}={v}" for k, v in active_values.items())
