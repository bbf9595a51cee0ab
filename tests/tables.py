"""Synthetic benchmark tables with a known additive score, shared by the test files (one
builder instead of one per file). Not a test module: imported as ``from tables import ...``
(pytest puts tests/ on the path, as ``from test_bench import ...`` already relied on)."""
import pandas as pd

import nasbook as nb

# The additive effects most tests use: activation matters most, kernel least.
EFFECTS = {"n_blocks": {1: 0.0, 2: 0.05, 3: 0.08}, "filters": {16: 0.0, 32: 0.02, 64: 0.03},
           "kernel": {3: 0.0, 5: 0.02, 7: 0.01}, "pooling": {"max": 0.01, "average": 0.0},
           "activation": {"relu": 0.03, "tanh": 0.0, "sigmoid": -0.2},
           "connection": {"full": 0.0, "residual": 0.04}}


def additive_table(effects=EFFECTS, noise=0.0, curve_epochs=None) -> pd.DataFrame:
    """Every architecture of the benchmark space, two seeds each: val_accuracy = 0.6 + the sum
    of ``effects`` -/+ ``noise`` (cancels in the mean over seeds), test_accuracy 0.01 lower.
    ``curve_epochs`` adds a per-epoch validation curve rising to the final value with the same
    shape for every architecture."""
    rows = []
    for arch_id, config in enumerate(nb.bench.all_configs()):
        score = 0.6 + sum(effects[k][v] for k, v in config.items())
        for seed in (0, 1):
            eps = noise * (1 if seed else -1)
            curve = {} if curve_epochs is None else {
                f"val_accuracy_e{e:02d}": score + eps - 0.3 * (1 - e / curve_epochs) ** 2
                for e in range(1, curve_epochs + 1)}
            rows.append({"arch_id": arch_id, "seed": seed, **config, "status": "completed",
                         "val_accuracy": score + eps, "test_accuracy": score - 0.01, **curve})
    return pd.DataFrame(rows)


def best_test(effects=EFFECTS) -> float:
    """The table's best test accuracy (every decision at its best value)."""
    return 0.6 + sum(max(e.values()) for e in effects.values()) - 0.01
