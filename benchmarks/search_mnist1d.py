"""How good an architecture does a time-boxed search find on MNIST-1D?

Runs ``nb.search`` (random search over notebook 06's space by default) for ``--minutes`` of
search time on MNIST-1D's train/validation splits, restores the best model and prints its test
accuracy beside the plain CNN of the MNIST-1D paper (about 94% test accuracy, Greydanus 2020).
The test split is used once, for the winner only.

Usage::

    .venv/bin/python benchmarks/search_mnist1d.py                 # 15 minutes
    .venv/bin/python benchmarks/search_mnist1d.py --minutes 3 --strategy bayesian
    .venv/bin/python benchmarks/search_mnist1d.py --space residual_cnn

Five-minute runs on 2 shared CPU cores (random search, seed 0) reached test accuracy 0.927
(project), 0.921 (residual_cnn) and 0.877 (cnn).

The run directory (``--out``, default ``runs/bench_search_mnist1d``) is resumable: run the same
command again to continue a search that was interrupted (``--overwrite`` starts afresh).
"""
from __future__ import annotations

import argparse
import os
import platform
import time

PAPER_CNN_TEST_ACCURACY = 0.94  # MNIST-1D paper, Table 1 ("CNN"), test accuracy

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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=15.0, help="search time (default 15)")
    parser.add_argument("--space", default="project",
                        help="'project' (default: notebook 06's corrected source-text space) "
                             "or a preset: mlp, cnn, residual_cnn")
    parser.add_argument("--strategy", default="random")
    parser.add_argument("--epochs", type=int, default=40, help="epochs per trial at most")
    parser.add_argument("--patience", type=int, default=6, help="early-stopping patience")
    parser.add_argument("--max-trials", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/bench_search_mnist1d")
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)

    import numpy as np
    import tensorflow as tf
    from sklearn.metrics import accuracy_score

    import nasbook as nb

    ds = nb.load_dataset("mnist1d", seed=args.seed)
    if args.space == "project":
        space = nb.space.from_dict(PROJECT_SPACE, ds.input_shape, ds.num_classes)
    else:
        space = nb.space.preset(args.space, ds.input_shape, ds.num_classes)
    start = time.perf_counter()
    result = nb.search(ds, space, args.strategy, max_trials=args.max_trials,
                       time_budget=args.minutes * 60, epochs=args.epochs,
                       early_stopping_patience=args.patience, run_dir=args.out,
                       overwrite=args.overwrite, seed=args.seed)
    wall = time.perf_counter() - start
    model = result.best_model()
    pred = np.asarray(model.predict(ds.x_test, verbose=0)).argmax(axis=1)
    test_accuracy = accuracy_score(ds.y_test, pred)

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    counts = result.counts()
    print()
    print(f"machine:        {platform.processor() or platform.machine()}, {cores} CPU cores "
          f"visible, TensorFlow {tf.__version__} (intra-op threads "
          f"{tf.config.threading.get_intra_op_parallelism_threads() or 'default'})")
    print(f"search:         {args.strategy} over space {args.space!r} "
          f"({space.size():,} models), budget {args.minutes:g} min, {args.epochs} epochs max, "
          f"patience {args.patience}")
    print(f"trials:         {len(result)} ({counts['completed']} completed, "
          f"{counts['failed']} failed, {counts['duplicate']} duplicate); "
          f"this call {wall / 60:.1f} min; stop: {result.stop_reason}")
    print(f"best trial:     {result.best_trial}, val_accuracy {result.best_score:.4f}, "
          f"{int(result.trials.params[result.best_trial]):,} parameters")
    print(f"best config:    {result.best_config}")
    print(f"test accuracy:  {test_accuracy:.4f}   (the search never saw the test split)")
    print(f"paper CNN:      {PAPER_CNN_TEST_ACCURACY:.4f}   (MNIST-1D paper, test accuracy)")
    print(f"difference:     {test_accuracy - PAPER_CNN_TEST_ACCURACY:+.4f}")


if __name__ == "__main__":
    main()
