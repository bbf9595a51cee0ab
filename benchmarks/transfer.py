"""Transfer between tasks on the tabular benchmark (issue 25, parts 2-3): the same 324
architectures trained under one recipe on the original MNIST-1D, a near task (more shear and
scale) and a far task (positions shuffled); how rankings, importances and picks carry from one
table to another, and what the original table is worth to a search on the near and the far task.

Printed, every figure from nasbook.bench.transfer:
1. the rows each table holds (seeds, architectures; whether it is complete);
2. each task's noise ceiling (Kendall tau between its two training seeds, over architectures run
   with both; a task with one seed has none, and the line says so);
3. Kendall tau / Spearman rho between tasks of per-architecture mean test accuracy, with 95%
   bootstrap intervals over architectures: all architectures, A's top 10%, and single runs of
   different seeds (A seed 1 vs B seed 0: the figure to read beside the ceilings; same-seed
   runs share their initialisation, so their agreement is not independent of training noise);
4. the exact functional ANOVA of each task side by side (shares of test-accuracy variance);
5. the regret on B of A's best architecture (picked by A's validation accuracy, scored by B's
   test accuracy), of the pick among A's best k (k trials on B), and of B's own validation pick;
   how many of B's best k are among A's best k;
6. simulated searches on the near and on the far task, --seeds seeds each, cost in epochs:
   random and aging evolution from a cold start against evolution warm-started with the
   original's best k by validation accuracy, evolution drawing from a prior fitted on the
   original's main effects, and both; then the reverse of the far pair (the far task's table
   used for a search on the original); regret bands (mean, 95% Student-t interval, n) at equal
   cost; each strategy paired by seed against evolution, random and the prior alone with the
   verdicts on "lower regret" (transfer helps) and on "higher regret" (it hurts), from
   nb.stats.verdict.
   The settings (k = 10, temperature 0.05, floor 0.1, population 10, tournament 3) are fixed
   in advance, not tuned on the targets.

Usage: .venv/bin/python benchmarks/transfer.py [--near PATH] [--far PATH] [--seeds 100]
       [--budget 100] [--at 15 45 75 150 375 750 1500] [--k 10] [--boot 1000]
       [--save frame.csv]
       (without --near/--far: the shipped tables, nb.bench.load(task=...))
"""
import argparse
import datetime
import os
import time

import pandas as pd

import nasbook as nb
from nasbook.bench import transfer as tr


def load(task, path):
    if path is None:
        return nb.bench.load(task=task)
    return nb.bench.load(path, verify=False, task=task)


def describe(task, table, path):
    done = table[table["status"] == "completed"] if "status" in table else table
    per_seed = done.groupby("seed")["arch_id"].nunique().to_dict()
    complete = all(n == 324 for n in per_seed.values())
    seeds = ", ".join(f"seed {s}: {n} of 324" for s, n in per_seed.items())
    source = path or f"shipped ({nb.bench.task_path(task).name})"
    note = "" if complete else "  NOT COMPLETE: the table was still being built"
    print(f"  {task:9s} {len(done)} rows ({seeds}) from {source}{note}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--original", default=None)
    p.add_argument("--near", default=None)
    p.add_argument("--far", default=None)
    p.add_argument("--seeds", type=int, default=100)
    p.add_argument("--budget", type=int, default=100)
    p.add_argument("--at", type=float, nargs="+", default=[15, 45, 75, 150, 375, 750, 1500])
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--boot", type=int, default=1000)
    p.add_argument("--save", default=None)
    args = p.parse_args()
    start = time.time()
    print(f"transfer.py, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
          f"load average {os.getloadavg()[0]:.1f}")
    paths = {"original": args.original, "near": args.near, "far": args.far}
    tables = {task: load(task, path) for task, path in paths.items()}

    print("\n1. Table rows used")
    for task, table in tables.items():
        describe(task, table, paths[task])

    print("\n2. Noise ceilings (test accuracy, seed 0 vs seed 1 of the same task)")
    for task, table in tables.items():
        print("  " + str(tr.noise_ceiling(table, n_boot=args.boot, what=task)))

    print("\n3. Rankings between tasks (per-architecture mean test accuracy over each "
          "table's seeds)")
    pairs = [("original", "near"), ("original", "far"), ("near", "far")]
    for a, b in pairs:
        ta, tb = tables[a], tables[b]
        print(f"  {a} vs {b}")
        print("    all:       " + str(tr.rank_correlation(ta, tb, n_boot=args.boot)))
        print("    top 10%:   " + str(tr.rank_correlation(ta, tb, top=0.1, n_boot=args.boot)))
        for sa, sb in ((1, 0), (0, 0)):
            if sa in set(ta.seed) and sb in set(tb.seed):
                c = tr.rank_correlation(ta, tb, seeds=(sa, sb), n_boot=args.boot)
                kind = "different seeds" if sa != sb else "same seed, shared init"
                print(f"    runs {a} seed {sa} vs {b} seed {sb} ({kind}): {c}")

    print("\n4. Exact functional ANOVA of test accuracy, each task's share of its own "
          "variance")
    side = tr.anova_side_by_side(tables)
    shown = pd.concat([side.iloc[:6], side.iloc[6:-1].sort_values("original",
                                                                     ascending=False).head(5),
                       side.iloc[[-1]]])
    with pd.option_context("display.width", 120):
        print("    " + shown.round(3).to_string().replace("\n", "\n    "))
    print("    (main effects; the five largest pairs on the original; rest = all other terms)")

    print("\n5. A's best on B (selected by A's mean validation accuracy, scored by B's mean "
          "test accuracy)")
    for a, b in [("original", "near"), ("original", "far"), ("near", "far"),
                 ("far", "original")]:
        for k in dict.fromkeys((1, 3, 5, args.k)):
            r = tr.transfer_regret(tables[a], tables[b], k=k)
            print(f"  {a} -> {b}: {r}")
        print(f"  {a} -> {b}: {tr.top_overlap(tables[a], tables[b], k=args.k)} of B's best "
              f"{args.k} (by mean test accuracy) are among A's best {args.k}")

    print(f"\n6. Searches on the tables: {args.seeds} seeds, budget {args.budget} "
          f"evaluations of 15 epochs; source -> target")
    frames = []
    for source, target in (("original", "near"), ("original", "far"), ("far", "original")):
        t0 = time.time()
        frame = tr.transfer_compare(tables[source], tables[target], budget=args.budget,
                                    seeds=args.seeds, k=args.k, progress=False)
        frame.insert(0, "target", target)
        frame.insert(0, "source", source)
        label = f"{source} -> {target}"
        frames.append(frame)
        bands = nb.bench.regret_summary(frame, at=args.at, x="cumulative_epochs")
        print(f"\n  {label}: regret (B's best mean test accuracy minus that of the "
              f"search's validation pick), mean [95% t interval], n seeds "
              f"({time.time() - t0:.0f} s)")
        for (strategy, cost), r in bands.iterrows():
            print(f"    {strategy:11s} {cost:6g} epochs: {r['mean']:.4f} "
                  f"[{r['low']:.4f}, {r['high']:.4f}], n = {int(r['n'])}")
        verdicts = tr.transfer_verdicts(frame, at=args.at,
                                        against=("evolution", "random", "prior"))
        print(f"  {label}: a - b regret paired by seed (n = {args.seeds}), paired t "
              f"95% interval, p; verdicts on 'a lower' (transfer helps) and 'a higher' (it "
              f"hurts) with their one-sided 95% bounds")
        shown = verdicts.assign(pair=verdicts.a + " - " + verdicts.b)[
            ["cumulative_epochs", "pair", "n", "difference", "low", "high", "p_value",
             "verdict", "bound", "verdict_worse", "bound_worse"]].rename(
            columns={"cumulative_epochs": "epochs", "verdict": "lower", "bound": "upper_bd",
                     "verdict_worse": "higher", "bound_worse": "lower_bd"})
        with pd.option_context("display.width", 160, "display.max_rows", 500):
            signed = {c: "{:+.4f}".format for c in ("difference", "low", "high", "upper_bd",
                                                     "lower_bd")}
            print("    " + shown.to_string(index=False, formatters={
                **signed, "epochs": "{:g}".format, "p_value": "{:.2g}".format})
                .replace("\n", "\n    "))
    if args.save:
        pd.concat(frames, ignore_index=True).to_csv(args.save, index=False)
    print(f"\n{time.time() - start:.0f} s; load average at end "
          f"{os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
