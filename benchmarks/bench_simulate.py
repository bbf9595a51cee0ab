"""Simulated search on the tabular benchmark: speed, and regret at 25/50/100/200 evaluations.

Regret = (best test accuracy in the table) - (test accuracy of the architecture the search
picked by validation accuracy), both on the mean over the table's seeds. Picking by validation
can trade a better validation score for a worse test score, so regret need not fall
monotonically with the budget.

Usage: .venv/bin/python benchmarks/bench_simulate.py [--seeds 100] [--table data/mnist1d_bench.csv]
"""
import argparse
import os
import time

import numpy as np
import pandas as pd

import nasbook as nb

BUDGETS = (25, 50, 100, 200)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--table", default=None, help="CSV (default: the shipped table)")
    parser.add_argument("--strategies", nargs="+",
                        default=["random", "greedy", "evolution", "reinforce"])
    args = parser.parse_args()
    table = nb.bench.load(args.table, verify=args.table is None)
    best_test = nb.bench.lookup_table(table)["test_accuracy"].max()
    print(f"table: {table.arch_id.nunique()} architectures x {table.seed.nunique()} seeds; "
          f"best mean test accuracy {best_test:.4f}; {os.cpu_count()} CPU cores")
    rows = []
    for name in args.strategies:
        start, regrets, trials = time.perf_counter(), [], 0
        for seed in range(args.seeds):
            h = nb.bench.simulate(name, max(BUDGETS), seed=seed, table=table)
            trials += len(h)   # greedy may stop early, at a local optimum
            picked = h["test_of_best_so_far"].to_numpy()
            regrets.append([best_test - picked[min(b, len(picked)) - 1] for b in BUDGETS])
        elapsed = time.perf_counter() - start
        r = np.array(regrets)
        row = {"strategy": name, "trials/s": trials / elapsed,
               "mean trials": trials / args.seeds}
        for i, b in enumerate(BUDGETS):
            half = 1.96 * r[:, i].std(ddof=1) / np.sqrt(len(r))
            row[f"regret@{b}"] = f"{r[:, i].mean():.4f} ± {half:.4f}"
        rows.append(row)
    print(f"mean regret (test accuracy, ± 95% CI over {args.seeds} seeds):")
    print(pd.DataFrame(rows).set_index("strategy").to_string(float_format="%.0f"))


if __name__ == "__main__":
    main()
