"""Multi-objective search on the tabular benchmark: NSGA-II vs single-objective evolution
(accuracy only) vs scalarised evolution (a weighted sum) vs random search, by hypervolume
regret against the table's exact Pareto front, at several budgets, over many seeds.

Hypervolume regret = HV(exact front of the table) - HV(front of the architectures the search
evaluated), divided by HV(exact front): the share of the best reachable hypervolume the search
missed (0 = it evaluated the whole front). The hypervolume of a set of points is the area (in
two objectives) of the region between them and a reference point that at least one of them
dominates; the reference point is the worst value of each objective over the table. Points
are per architecture (one seed's rows, or the mean over seeds: ``--seed``). Intervals: mean ±
95% Student-t half-width over seeds (nasbook.stats.mean_ci via nb.bench.pareto_summary).

The second objective is meant to be an explanation-quality measure: join the shipped table,
``--join data/mnist1d_explanations.csv --objectives val_accuracy:max ig_deletion_vs_random:min``
(the runs in benchmarks/README.md). A joined table gets the baseline-relative measures
(``nb.bench.against_random``: ``ig_deletion_vs_random`` = IG's deletion AUC minus the random
order's on the same model and inputs, the primary form, and ``ig_deletion_ratio``), since a raw
deletion AUC mostly measures the model's confidence. Without ``--join`` the default is a
STAND-IN, labelled as such: accuracy vs model size, log10(parameter count) minimised.

A baseline-relative second objective (``<method>_<curve>_vs_random`` or ``_ratio``) carries the
random order's AUC, which ranks the architectures like accuracy does; so the script also prints
its **no-information front**: the same form built from one constant (the method's mean AUC) in
place of the method's AUC, that is from the random AUC alone, and how many architectures the
two fronts share. A front equal to its no-information front is a front of confidence.

``--seed 0`` (the default) uses one training run per architecture, that seed's rows, as
notebook 12 does; ``--seed all`` the mean over the table's seeds. The four searches are
``nb.bench.pareto.strategy_runs`` (every evolution with ``--population`` members; 12 by
default, at least the size of every front studied here, so NSGA-II can hold a whole front).
After the table of regrets: NSGA-II's regret minus each other search's at every budget,
paired by seed, with its paired t interval and the verdict on "lower"
(``nb.bench.pareto.paired_regret``: ``nb.stats.paired_difference`` and ``nb.stats.verdict``).
Notebook 12 calls the same functions, so its full mode (100 seeds) prints these figures.

Usage: .venv/bin/python benchmarks/explainable_search.py [--seeds 100]
       [--table data/mnist1d_bench.csv] [--join EXTRA.csv] [--seed 0|all]
       [--objectives val_accuracy:max log10_params:min] [--budgets 10 25 50 100]
       [--weights 1 -0.41] [--population 12] [--save frame.csv]
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
    arch_id (and seed, when both have it) with ``join`` and given the measures against the
    random order (``nb.bench.against_random``); ``log10_params`` is added from ``params``."""
    table = nb.bench.load(path, verify=path is None)
    if join:
        extra = pd.read_csv(join)
        keys = ["arch_id"] + (["seed"] if "seed" in extra and "seed" in table else [])
        extra = extra.drop(columns=[c for c in extra.columns
                                    if c in table.columns and c not in keys])
        table = nb.bench.against_random(
            table.merge(extra, on=keys, how="inner", validate="one_to_one"))
    if "params" in table and "log10_params" not in table:
        table["log10_params"] = np.log10(table["params"].astype(float))
    return table


def parse_objectives(texts):
    pairs = []
    for text in texts:
        name, _, direction = text.partition(":")
        pairs.append((name, direction or "max"))
    return nb.strategies.nsga2.check_objectives(pairs)


def no_information_front(table, objectives, front):
    """Print the front of the second objective rebuilt from no information (the method's mean
    AUC in place of its AUC), when that objective is a form against the random order."""
    name, direction = objectives[1]
    for suffix, build in (("_vs_random", lambda c, r: c - r), ("_ratio", lambda c, r: c / r)):
        if not name.endswith(suffix):
            continue
        stem = name[: -len(suffix)]                     # e.g. ig_deletion
        auc, base = f"{stem}_auc", f"random_{stem.split('_', 1)[1]}_auc"
        if auc not in table or base not in table:
            return
        points = table.assign(no_information=build(table[auc].mean(), table[base]))
        null = nb.bench.pareto_front(points, [objectives[0], ("no_information", direction)])
        keys = list(nb.bench.DECISIONS)
        shared = len(null[keys].merge(front[keys], on=keys))
        ids = sorted(int(a) for a in null.merge(table[["arch_id", *keys]].drop_duplicates(),
                                                on=keys).arch_id)
        print(f"no-information front ({auc} replaced by its mean, {table[auc].mean():.4f}, "
              f"then {suffix[1:]} with {base}): {len(null)} architectures {ids}, {shared} of "
              f"them on the front above"
              + (": the front is that of the random order's AUC, of confidence"
                 if shared == len(null) == len(front) else ""))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--table", default=None, help="CSV (default: the shipped table)")
    parser.add_argument("--join", default=None,
                        help="a second CSV joined on arch_id (e.g. explanation quality)")
    parser.add_argument("--seed", default="0",
                        help="the training seed whose rows are used (one run per "
                             "architecture), or 'all' for the mean over the table's seeds")
    parser.add_argument("--objectives", nargs=2, default=STAND_IN, metavar="COLUMN:DIR")
    parser.add_argument("--budgets", nargs="+", type=int, default=[10, 25, 50, 100])
    parser.add_argument("--weights", nargs=2, type=float, default=None,
                        help="scalarised evolution's weights (default: +-1 / the "
                             "objective's range over the table, signed by its direction)")
    parser.add_argument("--population", type=int, default=12)
    parser.add_argument("--save", default=None, help="write the long frame of all runs here")
    args = parser.parse_args()
    start_all = time.perf_counter()

    table = load_table(args.table, args.join)
    if args.seed != "all":
        table = table[table.seed == int(args.seed)]
    objectives = parse_objectives(args.objectives)
    names = [n for n, _ in objectives]
    stand_in = [f"{n}:{d}" for n, d in objectives] == STAND_IN and args.join is None
    points = nb.bench.architecture_points(table, objectives)
    front = nb.bench.pareto_front(table, objectives)
    ref = nb.bench.reference_point(table, objectives)
    best = nb.bench.front_hypervolume(table, objectives, ref)
    given = None if args.weights is None else dict(zip(names, args.weights))
    runs, weights = nb.bench.pareto.strategy_runs(table, objectives,
                                                  population_size=args.population,
                                                  weights=given)
    how = ("+-1 / the objective's range over the table (equal weight after scaling)"
           if given is None else "given")
    if stand_in:
        print("STAND-IN OBJECTIVES (no --join): the second objective is model size, "
              "log10(parameter count), minimised; this compares the strategies on a real "
              "accuracy-size trade-off, not on faithfulness.")
    used = (f"mean over seeds {sorted(table.seed.unique().tolist())}" if args.seed == "all"
            else f"seed {args.seed}: one run per architecture")
    print(f"table: {table.arch_id.nunique()} architectures ({used}); objectives "
          f"{objectives}; {os.cpu_count()} CPU cores")
    reach = nb.bench.pareto.supported(front, objectives)
    print(f"exact Pareto front: {len(front)} of {len(points)} architectures; reference point "
          f"(worst of each objective) {np.round(ref, 4).tolist()}; HV(front) = {best:.4f}; "
          f"population of every evolution {args.population} "
          f"({'>=' if args.population >= len(front) else '<'} the front's size)")
    shown = front[[*nb.bench.DECISIONS, *names]].assign(
        weighted_sum_reaches=reach.map({True: "yes", False: "no"}))
    print(shown.to_string(index=False, float_format="%.4f"))
    print(f"{int(reach.sum())} of {len(front)} front points are supported (vertices of the "
          f"front's convex hull): the only ones a weighted sum can reach, whatever its weights")
    no_information_front(table, objectives, front)
    print(f"scalarised evolution maximises {' + '.join(f'{w:.4g}*{n}' for n, w in weights.items())}"
          f" (weights: {how})\n", flush=True)

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
    print("\nNSGA-II's regret minus each other search's, paired by seed (paired t 95% "
          "interval, p-value; verdict on 'NSGA-II lower': met when the one-sided 95% upper "
          "bound of the difference is below 0)")
    pairs = pd.concat({f"N={b}": nb.bench.pareto.paired_regret(frame, "NSGA-II", b)
                       for b in args.budgets}, names=["budget", "vs"])
    print(pairs[["n", "difference", "low", "high", "p_value", "bound", "verdict"]]
          .to_string(float_format="%.4f"))
    print(f"\n{time.perf_counter() - start_all:.1f} s in all")


if __name__ == "__main__":
    main()
