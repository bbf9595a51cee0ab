"""Multi-objective search on the tabular benchmark: NSGA-II vs single-objective evolution
(accuracy only) vs scalarised evolution (a weighted sum) vs random search, by hypervolume
regret against the table's exact Pareto front, at several budgets, over many seeds.

Hypervolume regret = HV(exact front of the table) - HV(front of the architectures the search
evaluated), divided by HV(exact front): the share of the best reachable hypervolume the search
missed (0 = it evaluated the whole front). Points are per architecture, the mean over the
table's seeds (what the simulated strategies see). The reference point is the worst value of
each objective over the table. Intervals: mean ± 95% Student-t half-width over seeds
(nasbook.stats.mean_ci via nb.bench.pareto_summary).

The second objective is meant to be an explanation-quality measure: join the shipped table,
``--join data/mnist1d_explanations.csv --objectives val_accuracy:max ig_deletion_auc:min``
(the run in benchmarks/README.md). Without ``--join`` the default is a STAND-IN, labelled as
such: accuracy vs model size, log10(parameter count) minimised.

Usage: .venv/bin/python benchmarks/explainable_search.py [--seeds 100]
       [--table data/mnist1d_bench.csv] [--join EXTRA.csv]
       [--objectives val_accuracy:max log10_params:min] [--budgets 10 25 50 100]
       [--weights 1 -0.41] [--population 10] [--save frame.csv]
"""
import argparse
import os
import time

import numpy as np
import pandas as pd

import nasbook as nb

STAND_IN = ["val_accuracy:max", "log10_params:min"]


def load_table(path, join):
    """The accuracy table (checked against its SHA-256 when it is the shipped one), joined on
    arch_id (and seed, when both have it) with ``join``; ``log10_params`` is added from
    ``params``."""
    table = nb.bench.load(path, verify=path is None)
    if join:
        extra = pd.read_csv(join)
        keys = ["arch_id"] + (["seed"] if "seed" in extra and "seed" in table else [])
        extra = extra.drop(columns=[c for c in extra.columns
                                    if c in table.columns and c not in keys])
        table = table.merge(extra, on=keys, how="inner", validate="one_to_one")
    if "params" in table and "log10_params" not in table:
        table["log10_params"] = np.log10(table["params"].astype(float))
    return table


def parse_objectives(texts):
    pairs = []
    for text in texts:
        name, _, direction = text.partition(":")
        pairs.append((name, direction or "max"))
    return nb.strategies.nsga2.check_objectives(pairs)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--table", default=None, help="CSV (default: the shipped table)")
    parser.add_argument("--join", default=None,
                        help="a second CSV joined on arch_id (e.g. explanation quality)")
    parser.add_argument("--objectives", nargs=2, default=STAND_IN, metavar="COLUMN:DIR")
    parser.add_argument("--budgets", nargs="+", type=int, default=[10, 25, 50, 100])
    parser.add_argument("--weights", nargs=2, type=float, default=None,
                        help="scalarised evolution's weights (default: +-1 / the "
                             "objective's range over the table, signed by its direction)")
    parser.add_argument("--population", type=int, default=10)
    parser.add_argument("--save", default=None, help="write the long frame of all runs here")
    args = parser.parse_args()

    table = load_table(args.table, args.join)
    objectives = parse_objectives(args.objectives)
    names = [n for n, _ in objectives]
    stand_in = [f"{n}:{d}" for n, d in objectives] == STAND_IN and args.join is None
    points = nb.bench.architecture_points(table, objectives)
    front = nb.bench.pareto_front(table, objectives)
    ref = nb.bench.reference_point(table, objectives)
    best = nb.bench.front_hypervolume(table, objectives, ref)
    spans = points[names].max() - points[names].min()
    if args.weights is None:
        weights = {n: (1.0 if d == "max" else -1.0) / spans[n] for n, d in objectives}
        how = "+-1 / the objective's range over the table (equal weight after scaling)"
    else:
        weights, how = dict(zip(names, args.weights)), "given"
    if stand_in:
        print("STAND-IN OBJECTIVES (no --join): the second objective is model size, "
              "log10(parameter count), minimised; this compares the strategies on a real "
              "accuracy-size trade-off, not on faithfulness.")
    print(f"table: {table.arch_id.nunique()} architectures x {table.seed.nunique()} seeds; "
          f"objectives {objectives} (mean over seeds per architecture); "
          f"{os.cpu_count()} CPU cores")
    print(f"exact Pareto front: {len(front)} of {len(points)} architectures; reference point "
          f"(worst of each objective) {np.round(ref, 4).tolist()}; HV(front) = {best:.4f}")
    print(front[[*nb.bench.DECISIONS, *names]].to_string(index=False,
                                                         float_format="%.4f"))
    print(f"scalarised evolution maximises {' + '.join(f'{w:.4g}*{n}' for n, w in weights.items())}"
          f" (weights: {how})\n", flush=True)

    runs = {
        "NSGA-II": ("nsga2", {"objectives": objectives, "population_size": args.population}),
        f"evolution ({names[0]} only)": ("evolution", {"population_size": args.population}
                                         if names[0] == "val_accuracy" else
                                         {"population_size": args.population,
                                          "objective": nb.strategies.weighted(
                                              {names[0]: 1.0 if objectives[0][1] == "max"
                                               else -1.0}, name="single")}),
        "scalarised evolution": ("evolution", {"population_size": args.population,
                                               "objective": nb.strategies.weighted(weights)}),
        "random": ("random", {}),
    }
    frames = []
    for label, run in runs.items():
        start = time.perf_counter()
        frames.append(nb.bench.pareto_compare({label: run}, table, objectives, args.budgets,
                                              range(args.seeds), reference=ref))
        print(f"  {label}: {args.seeds} seeds x {max(args.budgets)} evaluations in "
              f"{time.perf_counter() - start:.1f} s", flush=True)
    frame = pd.concat(frames, ignore_index=True)
    if args.save:
        frame.to_csv(args.save, index=False)
    summary = nb.bench.pareto_summary(frame)
    text = summary.apply(lambda r: f"{r['mean']:.4f} ± {r['half_width']:.4f}", axis=1)
    table_out = text.unstack("budget").loc[list(runs)]
    table_out.columns = [f"N={b}" for b in table_out.columns]
    print(f"\nhypervolume regret / HV(front) after N evaluations, mean ± 95% t-interval "
          f"half-width over {args.seeds} seeds (0 = the whole front evaluated):")
    print(table_out.to_string())
    found = (frame.assign(hit=frame.regret <= 1e-12).groupby(["label", "budget"], sort=False)
             .hit.mean().unstack("budget").loc[list(runs)])
    found.columns = [f"N={b}" for b in found.columns]
    print("\nshare of seeds whose evaluated architectures include the whole exact front:")
    print(found.to_string(float_format="%.2f"))


if __name__ == "__main__":
    main()
