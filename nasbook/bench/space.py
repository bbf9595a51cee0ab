"""The benchmark's search space and training recipe: small, full-factorial, unconditional.

Every decision applies to every architecture (one ``filters`` and one ``kernel`` shared by all
blocks), so each decision's effect is defined everywhere and a functional ANOVA over the full
table is exact. It is an ordinary nasbook SearchSpace, so a real search runs over it too::

    space = nb.bench.bench_space()
    space.size()        # 324
"""
from __future__ import annotations

import itertools

from nasbook.space.core import Decision, Layer, Ref, SearchSpace, Stage

__all__ = ["DECISIONS", "RECIPE", "TASKS", "task_dataset", "bench_space", "all_configs"]

DECISIONS = {
    "n_blocks": [1, 2, 3],
    "filters": [16, 32, 64],
    "kernel": [3, 5, 7],
    "pooling": ["max", "average"],
    "activation": ["relu", "tanh", "sigmoid"],
    "connection": ["full", "residual"],
}
# The fixed training recipe: every architecture, every seed, trained exactly like this.
RECIPE = {
    "dataset": "mnist1d", "split_seed": 0, "val_fraction": 0.2,
    "optimizer": "adam", "learning_rate": 3e-3, "batch_size": 64, "epochs": 15,
    "dropout": 0.0, "l2": 0.0, "early_stopping": None, "seeds": [0, 1],
    "threads_per_run": 1,
}


# The tasks the same architectures are trained on under the same recipe (one table each): the
# original, a near task (the same digits under more noise) and a far task (positions shuffled);
# the datasets are nasbook.data.MNIST1D_VARIANTS.
TASKS = {"original": "mnist1d", "near": "mnist1d_near", "far": "mnist1d_shuffled"}


def task_dataset(task: str) -> str:
    """The dataset name of a benchmark task; a clear error for an unknown one."""
    if task not in TASKS:
        raise ValueError(f"unknown benchmark task {task!r}; the tasks are {', '.join(TASKS)}")
    return TASKS[task]


def bench_space(input_shape=(40, 1), num_classes=10) -> SearchSpace:
    """The benchmark space as a SearchSpace (training settings fixed by :data:`RECIPE`)."""
    depth = max(DECISIONS["n_blocks"])
    copies = [[Layer("conv", {"filters": Ref("filters"), "kernel": Ref("kernel"),
                              "padding": "same"}, label=f"Conv1D {j + 1}"),
               Layer("pool", {"pool_type": Ref("pooling"), "pool_size": 2, "padding": "same"},
                     label=f"pooling {j + 1}")] for j in range(depth)]
    decisions = [Decision(name, values) for name, values in DECISIONS.items()
                 if name not in ("activation", "connection")]
    decisions += [Decision("activation", DECISIONS["activation"], group="activation"),
                  Decision("connection", DECISIONS["connection"], group="connection"),
                  Decision("dropout", [RECIPE["dropout"]], group="regularisation"),
                  Decision("l2", [RECIPE["l2"]], group="regularisation"),
                  Decision("optimizer", [RECIPE["optimizer"]], group="optimizer"),
                  Decision("learning_rate", [RECIPE["learning_rate"]], group="optimizer")]
    stage = Stage(copies=copies, count=Ref("n_blocks"), label="convolution blocks")
    return SearchSpace(tuple(input_shape), num_classes, [stage], decisions, name="bench")


def all_configs() -> list:
    """Every architecture of the benchmark, as ``{decision: value}``, in a fixed order."""
    names = list(DECISIONS)
    return [dict(zip(names, combo)) for combo in itertools.product(*DECISIONS.values())]
