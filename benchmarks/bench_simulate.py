"""Simulated search on the tabular benchmark: speed; regret at 25/50/100/200 evaluations and at
equal cost in epochs; evaluations to a top-1% architecture, with random search as reference.

Regret = (best mean test accuracy in the table) - (mean test accuracy of the architecture the
search picked by validation accuracy). Picking by validation can trade a better validation
score for a worse test score, so regret need not fall to zero. Hyperband evaluates at 2, 5 and
15 epochs, so it is compared at equal cost as well: 25/50/100/200 full trainings = 375/750/1500/
3000 epochs. It runs until it stops on its own (no unseen architecture left to draw), and its
final pick is carried forward to the costs it did not reach.

Usage: .venv/bin/python benchmarks/bench_simulate.py [--seeds 100] [--bayesian-seeds 5]
       [--strategies random greedy greedy-random-start evolution reinforce hyperband bayesian]
       [--table data/mnist1d_bench.csv] [--save frame.csv]
"""
import argparse
import os
import time
import warnings

import numpy as np
import pandas as pd

import nasbook as nb

BUDGETS = (25, 50, 100, 200)
# keras-tuner's Bayesian oracle spends seconds per trial maximising its acquisition function
# (about 4 s on a busy 2-core machine, 200 trials in 14 min): it gets fewer seeds
SLOW = {"bayesian"}
UNTIL_DONE = {"hyperband": 10_000}   # run until the oracle stops by itself
# greedy starts from the default configuration, the same for every seed (only its restarts
# are random); the random-start variant makes the seeds independent searches
VARIANTS = {"greedy-random-start": ("greedy", {"start": "random"})}


def _ci_table(summary, column):
    """mean ± half-width, one row per strategy, one column per point."""
    text = summary.apply(lambda r: f"{r['mean']:.4f} ± {r['half_width']:.4f}", axis=1)
    table = text.unstack(column)
    table.columns = [f"{column.split('_')[-1]}={c:g}" for c in table.columns]
    seeds = summary.groupby(level=0, sort=False)["runs"].first()
    return table.assign(seeds=seeds).loc[seeds.index]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--bayesian-seeds", type=int, default=5,
                        help="seeds for the slow strategies (bayesian)")
    parser.add_argument("--table", default=None, help="CSV (default: the shipped table)")
    parser.add_argument("--strategies", nargs="+",
                        default=["random", "greedy", "greedy-random-start", "evolution",
                                 "reinforce", "hyperband", "bayesian"],
                        help=f"registry names, or {', '.join(VARIANTS)}")
    parser.add_argument("--save", default=None, help="write the long frame of all runs here")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")   # the Bayesian GP's convergence warnings, per trial
    table = nb.bench.load(args.table, verify=args.table is None)
    best_test = nb.bench.lookup_table(table)["test_accuracy"].max()
    epochs = len(nb.bench.curve_columns(table)) or nb.bench.RECIPE["epochs"]
    print(f"table: {table.arch_id.nunique()} architectures x {table.seed.nunique()} seeds, "
          f"{epochs} epochs; best mean test accuracy {best_test:.4f}; "
          f"{os.cpu_count()} CPU cores", flush=True)
    frames, speed = [], []
    for name in args.strategies:
        seeds = args.bayesian_seeds if name in SLOW else args.seeds
        budget = UNTIL_DONE.get(name, max(BUDGETS))
        start = time.perf_counter()
        strategy, options = VARIANTS.get(name, (name, {}))
        frame = nb.bench.compare({name: strategy}, budget, seeds, table=table,
                                 options={name: options})
        elapsed = time.perf_counter() - start
        per_run = frame.groupby("seed")
        speed.append({"strategy": name, "seeds": seeds, "budget": budget,
                      "trials/s": f"{len(frame) / elapsed:.0f}" if len(frame) > elapsed
                      else f"{len(frame) / elapsed:.2f}",
                      "mean trials": per_run.size().mean(),
                      "mean epochs": per_run["cumulative_epochs"].last().mean(),
                      "seconds": round(elapsed, 1)})
        print(f"  {name}: {seeds} seeds in {elapsed:.1f} s", flush=True)
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True)
    if args.save:
        frame.to_csv(args.save, index=False)

    print("\nspeed (simulated trials per second, one process):")
    print(pd.DataFrame(speed).set_index("strategy").to_string(float_format="%.0f"))

    print(f"\nmean regret (test accuracy) at N evaluations, ± 95% t-interval half-width:")
    print(_ci_table(nb.bench.regret_summary(frame, BUDGETS), "evaluation").to_string())
    cost = tuple(epochs * b for b in BUDGETS)
    print(f"\nmean regret at equal cost, in epochs ({epochs} epochs = one full training), "
          f"± 95% t-interval half-width:")
    print(_ci_table(nb.bench.regret_summary(frame, cost, x="cumulative_epochs"),
                    "cumulative_epochs").to_string())

    for by in ("evaluated", "picked"):
        top = nb.bench.evaluations_to_top(frame, 0.01, table=table, by=by)
        k = top.attrs["top_k"]
        what = ("first evaluates one (at any fidelity)" if by == "evaluated" else
                "first picks one (its best-by-validation is one)")
        print(f"\nevaluations until a search {what} of the top 1% = best {k} architectures "
              f"by mean test accuracy; censored = never within the run; median counts censored "
              f"runs as later than the budget; ratio = median / random's median:")
        print(top.to_string(float_format="%.2f"))
    n = table.arch_id.nunique()
    draws = np.arange(n + 1)
    miss = np.prod([(n - draws - j).clip(0) / (n - j) for j in range(k)], axis=0)
    print(f"\nreference, uniform sampling without replacement from {n} with {k} marked: mean "
          f"first hit (n+1)/(k+1) = {(n + 1) / (k + 1):.1f}, median "
          f"{int(np.argmax(1 - miss >= 0.5))}, P(none in {max(BUDGETS)}) = "
          f"{miss[max(BUDGETS)]:.3f}")


if __name__ == "__main__":
    main()
