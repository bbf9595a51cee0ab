"""How good an architecture does a time-boxed search find on MNIST-1D? (issue 15, part 4)

Goal: **>= 96% mean test accuracy over 3 search seeds from a 15-minute, 2-core search** on
MNIST-1D's standard split (3200 train, 800 validation, 1000 test). Each seed runs one real
``nb.search`` for ``--minutes`` of search time on the train/validation splits (seed ``s`` also
chooses which training examples form the validation split), restores the winner (the best
validation accuracy) and judges it once on the untouched test split. The MNIST-1D paper reports
about 94% test accuracy for its CNN and 96% for a human (Greydanus 2020, arXiv:2011.14439).

The default space, ``human``, is the 15-minute recipe:

- **warm-started from the benchmark table** (``nb.bench.load()``, 324 architectures x 2 seeds,
  trained 15 epochs with one fixed recipe): the architecture decisions (blocks, filters, kernel,
  pooling, activation, connection) offer only the values of the table's ``--warm-top`` best
  architectures by mean *validation* accuracy (the table's test column is never read), plus
  one width twice the table's largest (the table's grid stops at 64 filters);
- **shift augmentation** (``shift``): each training example is rolled circularly by a random
  number of samples, as MNIST-1D's own generator shifts its templates (``nasbook.space.augment``);
- longer training than the table's (``--epochs``, early stopping with ``--patience``, the weights
  of the best validation epoch kept), a small choice of learning rate and dropout;
- ``--workers 2`` single-threaded worker processes (keras-tuner's chief/worker engine), which
  use two cores better than one two-threaded process for models this small.

Usage::

    .venv/bin/python benchmarks/search_mnist1d.py --seeds 1 2 3 --overwrite   # the measurement
    .venv/bin/python benchmarks/search_mnist1d.py --minutes 3 --seeds 0
    .venv/bin/python benchmarks/search_mnist1d.py --space project --workers 1 --minutes 5

Last run (``--seeds 0 1 2``, 2 shared CPU cores at load average 5-12, one search per seed):
test accuracy 0.9640, 0.9750, 0.9690, mean 0.9693 ± 0.0055 (sd), 26-46 trials per seed; see
benchmarks/README.md. Earlier five-minute runs (random search, seed 0, one process, no
augmentation) reached 0.927 (``project``: notebook 06's space), 0.921 (``residual_cnn``) and
0.877 (``cnn``).

Each seed's run directory (``--out``/seed_N, default ``runs/bench_search_mnist1d``) is
resumable: run the same command again to continue (``--overwrite`` starts afresh).
"""
from __future__ import annotations

import argparse
import os
import platform
import time

PAPER_CNN_TEST_ACCURACY = 0.94  # MNIST-1D paper, Table 1 ("CNN"), test accuracy
HUMAN_TEST_ACCURACY = 0.96      # MNIST-1D paper, Table 1 ("Human"), test accuracy
GOAL = 0.96                     # issue 15: mean test accuracy over 3 search seeds
# The recipe was found with single runs on seed 0's split, its test accuracy looked at once
# (see benchmarks/README.md), so seed 0 is a tuning seed: never among the judged ones.
TUNED_SEEDS = (0,)

# Notebook 06's space: the source text's dictionary, corrected for 1-D inputs.
PROJECT_SPACE = {
    "layers": [
        {"type": "Conv1D", "parameters": {"filters": [32, 64, 128], "kernel_size": [3, 5]},
         "repeat": [1, 2, 3]},
        {"type": "MaxPooling1D", "parameters": {"pool_size": [2]}},
        {"type": "Dense", "parameters": {"units": [64, 128, 256]}},
    ],
    "activation_functions": ["relu", "sigmoid", "tanh"],
    "connections": ["full", "sparse", "residual"],
    "regularization_methods": {"dropout": [0.2, 0.5], "weight_decay": [0.0001, 0.001]},
    "optimizers": ["adam", "sgd", "adagrad"],
    "learning_rates": [0.001, 0.003],
}

# The training decisions of the ``human`` space (the table fixes none of them).
HUMAN_TRAINING = {"shift": [10, 20], "learning_rate": [3e-3, 1e-2], "dropout": [0.0, 0.2],
                  "l2": [0.0], "optimizer": ["adam"], "n_dense": [0]}


def warm_start(top=3):
    """The architecture choices of the table's ``top`` best architectures by mean validation
    accuracy (a dict of preset overrides), and those architectures (a DataFrame)."""
    import nasbook as nb

    table = nb.bench.load()
    decisions = list(table.attrs["decisions"])
    done = table[table["status"] == "completed"]
    best = (done.groupby(decisions)["val_accuracy"].mean().sort_values(ascending=False)
            .head(top).reset_index())
    choices = {d: sorted(set(best[d].tolist()), key=str) for d in decisions}
    choices["filters"] = sorted(set(choices["filters"]) | {2 * int(done["filters"].max())})
    return choices, best


def human_space(ds, top=3):
    """The 15-minute space: the table's best architecture choices + the training decisions."""
    import nasbook as nb

    arch, _ = warm_start(top)
    return nb.space.preset("cnn", ds.input_shape, ds.num_classes, **arch, **HUMAN_TRAINING,
                           defaults={"shift": 20, "learning_rate": 3e-3})


def make_space(name, ds, top):
    import nasbook as nb

    if name == "human":
        return human_space(ds, top)
    if name == "project":
        return nb.space.from_dict(PROJECT_SPACE, ds.input_shape, ds.num_classes)
    return nb.space.preset(name, ds.input_shape, ds.num_classes)


def load():
    return "/".join(f"{v:.2f}" for v in os.getloadavg())


def one_seed(args, seed):
    """One search and its winner's test accuracy; returns a dict of figures."""
    import numpy as np
    from sklearn.metrics import accuracy_score

    import nasbook as nb

    ds = nb.load_dataset("mnist1d", seed=seed)
    space = make_space(args.space, ds, args.warm_top)
    load_start = load()
    start = time.perf_counter()
    result = nb.search(ds, space, args.strategy, max_trials=args.max_trials,
                       time_budget=args.minutes * 60, epochs=args.epochs,
                       early_stopping_patience=args.patience,
                       run_dir=os.path.join(args.out, f"seed_{seed}"),
                       overwrite=args.overwrite, seed=seed, workers=args.workers,
                       progress=args.progress, tensorboard=False)
    wall = time.perf_counter() - start
    model = result.best_model()
    pred = np.asarray(model.predict(ds.x_test, verbose=0)).argmax(axis=1)  # the one test look
    test_accuracy = float(accuracy_score(ds.y_test, pred))
    counts = result.counts()
    trials = result.trials
    epochs_run = int(trials["epochs_run"].fillna(0).sum()) if "epochs_run" in trials else 0
    print(f"seed {seed}: {len(result)} trials ({counts['completed']} completed, "
          f"{counts['failed']} failed, {counts['duplicate']} duplicate; {epochs_run} epochs "
          f"trained), {wall / 60:.1f} min, stop: {result.stop_reason}; load {load_start} -> "
          f"{load()}", flush=True)
    print(f"  best trial {result.best_trial}: val_accuracy {result.best_score:.4f}, "
          f"{int(trials.params[result.best_trial]):,} parameters, {result.best_config}")
    print(f"  test accuracy {test_accuracy:.4f}   (the search never saw the test split)",
          flush=True)
    return {"seed": seed, "trials": len(result), "completed": counts["completed"],
            "val": float(result.best_score), "test": test_accuracy, "minutes": wall / 60,
            "load_start": load_start, "load_end": load()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=15.0, help="search time per seed")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0],
                        help="one search per seed (the measurement: --seeds 1 2 3; seed 0 "
                             "tuned the recipe, so its run is never judged)")
    parser.add_argument("--space", default="human",
                        help="'human' (default: the 15-minute recipe), 'project' (notebook "
                             "06's space) or a preset: mlp, cnn, residual_cnn")
    parser.add_argument("--warm-top", type=int, default=3,
                        help="the human space offers the choices of the table's N best "
                             "architectures by validation accuracy")
    parser.add_argument("--strategy", default="random")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--threads", type=int, default=1,
                        help="TensorFlow threads per worker process (0: TensorFlow's default)")
    parser.add_argument("--epochs", type=int, default=40, help="epochs per trial at most")
    parser.add_argument("--patience", type=int, default=8, help="early-stopping patience")
    parser.add_argument("--max-trials", type=int, default=500)
    parser.add_argument("--out", default="runs/bench_search_mnist1d")
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--progress", action="store_true", help="show the progress bar")
    args = parser.parse_args(argv)

    if args.threads:  # read by TensorFlow in this process and in the worker processes
        os.environ["TF_NUM_INTRAOP_THREADS"] = str(args.threads)
        os.environ["TF_NUM_INTEROP_THREADS"] = str(args.threads)
    import numpy as np
    import tensorflow as tf

    import nasbook as nb

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"machine:   {platform.processor() or platform.machine()}, {cores} CPU cores "
          f"visible, TensorFlow {tf.__version__}, {args.workers} worker process(es) x "
          f"{args.threads or 'default'} thread(s); load average (1/5/15 min) at start "
          f"{load()}")
    if args.space == "human":
        _, best = warm_start(args.warm_top)
        print(f"warm start: the table's {args.warm_top} best architectures by mean "
              f"val_accuracy:\n{best.to_string(index=False)}")
    ds = nb.load_dataset("mnist1d", seed=args.seeds[0])
    space = make_space(args.space, ds, args.warm_top)
    print(f"search:    {args.strategy} over space {args.space!r} ({space.size():,} models), "
          f"{args.minutes:g} min per seed, {args.epochs} epochs max, patience "
          f"{args.patience}")
    print(space.describe())
    print(flush=True)

    runs = [one_seed(args, seed) for seed in args.seeds]
    tests = np.array([r["test"] for r in runs])
    print()
    print("seed  trials  completed  minutes  best val  test    load start -> end")
    for r in runs:
        print(f"{r['seed']:>4}  {r['trials']:>6}  {r['completed']:>9}  {r['minutes']:>7.1f}  "
              f"{r['val']:.4f}    {r['test']:.4f}  {r['load_start']} -> {r['load_end']}")
    sd = float(tests.std(ddof=1)) if len(tests) > 1 else float("nan")
    mean = float(tests.mean())
    line = f"test accuracy: mean {mean:.4f} ± {sd:.4f} (sd over {len(tests)} seeds)"
    if len(tests) > 1:
        half = nb.stats.mean_ci(tests)[1]
        line += f"; 95% Student-t CI [{mean - half:.4f}, {mean + half:.4f}]"
    print(line)
    print(f"goal:          {GOAL:.4f} mean test accuracy (MNIST-1D paper: human "
          f"{HUMAN_TEST_ACCURACY:.2f}, CNN {PAPER_CNN_TEST_ACCURACY:.2f})")
    judged = [r["test"] for r in runs if r["seed"] not in TUNED_SEEDS]
    if judged:
        print("verdict:       " + str(nb.stats.verdict(
            judged, GOAL, what=f"seeds {[r['seed'] for r in runs if r['seed'] not in TUNED_SEEDS]}"
                               f" (tuning seeds {list(TUNED_SEEDS)} left out)")))
    else:
        print(f"verdict:       none: every seed run is a tuning seed {list(TUNED_SEEDS)}")
    print(f"load average (1/5/15 min) at the end: {load()}")


if __name__ == "__main__":
    main()
