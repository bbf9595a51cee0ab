"""Build the tabular benchmark: train every architecture of the benchmark space with every
seed under one fixed recipe, and append one row per run to a CSV.

Resumable: runs already in the file are skipped, and a half-written last line (from a kill)
is dropped. Uses several worker processes (one TensorFlow thread each), so both cores work.

Usage::

    python -m nasbook.bench build --out data/mnist1d_bench.csv      # hours on 2 cores
    python -m nasbook.bench build --limit 4                         # a quick look
"""
from __future__ import annotations

import csv
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

from nasbook.bench.space import DECISIONS, RECIPE, all_configs, task_dataset

__all__ = ["build", "COLUMNS", "default_build_path", "train", "recipe_data", "init_worker",
           "run_tasks", "append_runs", "done_rows"]

EPOCHS = RECIPE["epochs"]
COLUMNS = (["arch_id", "seed", *DECISIONS, "status", "params", "train_time_s",
            "test_accuracy", "test_loss", "val_accuracy", "val_loss"]
           + [f"val_accuracy_e{e:02d}" for e in range(1, EPOCHS + 1)]
           + [f"val_loss_e{e:02d}" for e in range(1, EPOCHS + 1)])

_WORKER = {}


def default_build_path(task="original") -> Path:
    from nasbook import config

    suffix = "" if task == "original" else f"_{task}"
    return config.data_dir() / "bench" / f"mnist1d_bench{suffix}.csv"


def _exit_with_parent(parent: int, every: float = 2.0):
    """Exit this worker once its parent is gone (a killed build must not leave workers
    training on): the orphan is re-parented, so ``os.getppid()`` changes."""
    while os.getppid() == parent:
        time.sleep(every)
    os._exit(1)


def init_worker():
    """Set up a worker process: quiet TensorFlow, the recipe's thread count, and exit when
    the parent (the build) is killed."""
    import threading

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(RECIPE["threads_per_run"])
    tf.config.threading.set_inter_op_parallelism_threads(1)


def train(config: dict, seed: int, dataset, space, *, epochs: int = EPOCHS):
    """Train one architecture under :data:`RECIPE`: ``(model, history dict, seconds)``.

    ``config`` holds the six decisions; ``dataset`` is the recipe's split and ``space`` the
    benchmark space (passed in so a worker loads them once). ``epochs`` other than the recipe's
    is for tests and quick-mode lessons. TensorFlow's retracing warning for Keras' trainer
    functions is filtered while it trains (every call is a new model, by design).

    Usage: ``model, history, s = train(all_configs()[0], 0, ds, bench_space())``
    """
    import keras

    from nasbook.monitor import quiet_trainer_retracing

    values = dict(config, dropout=RECIPE["dropout"], l2=RECIPE["l2"],
                  optimizer=RECIPE["optimizer"], learning_rate=RECIPE["learning_rate"])
    keras.utils.clear_session()
    keras.utils.set_random_seed(seed)
    model = space.build_model(values)
    start = time.perf_counter()
    with quiet_trainer_retracing():
        history = model.fit(dataset.x_train, dataset.y_train,
                            validation_data=(dataset.x_val, dataset.y_val), epochs=epochs,
                            batch_size=RECIPE["batch_size"], verbose=0, shuffle=True).history
    return model, history, time.perf_counter() - start


def recipe_data(task="original"):
    """The recipe's dataset split of a task (:data:`nasbook.bench.space.TASKS`) and the
    benchmark space, loaded once per process."""
    import nasbook as nb
    from nasbook.bench.space import bench_space

    name = RECIPE["dataset"] if task == "original" else task_dataset(task)
    if ("ds", name) not in _WORKER:
        _WORKER[("ds", name)] = nb.load_dataset(name, seed=RECIPE["split_seed"],
                                                val_fraction=RECIPE["val_fraction"])
    if "space" not in _WORKER:
        _WORKER["space"] = bench_space()
    return _WORKER[("ds", name)], _WORKER["space"]


def _train_one(arch_id: int, config: dict, seed: int, task: str = "original") -> dict:
    import numpy as np

    ds, space = recipe_data(task)
    model, history, elapsed = train(config, seed, ds, space)
    test_loss, test_acc = model.evaluate(ds.x_test, ds.y_test, verbose=0)
    val_acc, val_loss = history["val_accuracy"], history["val_loss"]
    finite = all(np.isfinite(v) for v in val_loss) and np.isfinite(test_loss)
    row = {"arch_id": arch_id, "seed": seed, **config,
           "status": "completed" if finite else "diverged", "params": model.count_params(),
           "train_time_s": round(elapsed, 3), "test_accuracy": round(float(test_acc), 5),
           "test_loss": round(float(test_loss), 5), "val_accuracy": round(val_acc[-1], 5),
           "val_loss": round(val_loss[-1], 5)}
    for e in range(EPOCHS):
        row[f"val_accuracy_e{e + 1:02d}"] = round(val_acc[e], 5)
        row[f"val_loss_e{e + 1:02d}"] = round(val_loss[e], 5)
    return row


def done_rows(path: Path, columns=COLUMNS) -> set:
    """(arch_id, seed) already in the CSV whose header is ``columns``; rewrites the file
    without a torn last line left by a kill."""
    if not path.exists():
        return set()
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return set()
    if rows[0] != list(columns):
        raise ValueError(f"{path} has other columns than this builder writes; use another "
                         f"--out or delete it")
    good = [r for r in rows[1:] if len(r) == len(columns)]
    if len(good) != len(rows) - 1:
        with open(path, "w", newline="") as f:
            csv.writer(f).writerows([list(columns), *good])
    return {(int(r[0]), int(r[1])) for r in good}


def build(out=None, *, seeds=None, workers=2, limit=None, progress=True,
          task="original") -> Path:
    """Train what is missing from ``out`` and append it; returns the CSV path.

    ``workers`` processes train in parallel, one TensorFlow thread each; ``workers=1`` trains
    in this process. ``task`` picks the dataset (:data:`nasbook.bench.space.TASKS`: the
    original MNIST-1D, ``near`` or ``far``), the recipe stays the same."""
    task_dataset(task)
    path = Path(out) if out is not None else default_build_path(task)
    seeds = list(RECIPE["seeds"] if seeds is None else seeds)
    options = {} if task == "original" else {"task": task}
    return append_runs(path, COLUMNS, _train_one, seeds=seeds, workers=workers, limit=limit,
                       progress=progress, desc=f"benchmark runs ({task})", **options)


def append_runs(path, columns, fn, *, seeds, workers, limit=None, progress=True, desc="runs",
                **options) -> Path:
    """Run ``fn(arch_id, config, seed, **options)`` for every (architecture, seed) of the
    benchmark space missing from the CSV ``path`` (at most ``limit`` of them) and append each
    returned row as it finishes, flushed and synced, so a kill loses only the runs under way.

    Usage: ``append_runs(Path("b.csv"), COLUMNS, _train_one, seeds=[0], workers=2)``
    """
    from tqdm.auto import tqdm

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    done = done_rows(path, columns)
    tasks = [(i, cfg, s) for s in seeds for i, cfg in enumerate(all_configs())
             if (i, s) not in done]
    if limit is not None:
        tasks = tasks[:limit]
    if not tasks:
        return path
    new_file = not path.exists() or path.stat().st_size == 0
    bar = tqdm(total=len(tasks), desc=desc, disable=not progress, file=sys.stderr)
    with open(path, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        if new_file:
            writer.writeheader()

        def record(row):
            writer.writerow(row)
            f.flush()   # every finished run is on disk before the next one is counted
            os.fsync(f.fileno())
            bar.update()

        try:
            run_tasks(fn, tasks, record, workers, **options)
        finally:
            bar.close()
    return path


def run_tasks(fn, tasks, record, workers: int, **options) -> None:
    """Call ``fn(*task, **options)`` for every task and ``record`` each result as it finishes:
    in this process when ``workers <= 1`` (tests, debugging), else in ``workers`` spawned
    processes (one TensorFlow thread each, see :func:`init_worker`). Ctrl-C cancels the rest.

    Usage: ``run_tasks(_train_one, [(arch_id, config, seed), ...], writer.writerow, 2)``
    """
    if workers <= 1:
        for task in tasks:
            record(fn(*task, **options))
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"),
                             initializer=init_worker) as pool:
        futures = [pool.submit(fn, *task, **options) for task in tasks]
        try:
            for future in as_completed(futures):
                record(future.result())
        except KeyboardInterrupt:
            for future in futures:
                future.cancel()
            raise
