"""Importance recovery on the tabular benchmark: do a search's own trials reveal which decisions
matter?

For each strategy and seed one simulated search of max(sizes) trials is run; its first N trials
are explained by fANOVA, PED-ANOVA and SHAP of a tree surrogate (nasbook.explain.search), and
compared with the exact functional-ANOVA main effects of the full table (of the validation
accuracy the search saw, mean over the table's seeds): Spearman correlation (mean ± 95% CI,
Student's t over seeds) and top-1 agreement (the estimated most important decision is the true
one).

Usage: .venv/bin/python benchmarks/importance_recovery.py [--seeds 20] [--sizes 25 50 100 200]
       [--strategies random evolution reinforce] [--jobs 2] [--figure recovery.png]
"""
import argparse
import os
import time

import pandas as pd

import nasbook as nb
from nasbook.bench.recovery import recovery, recovery_summary


def _grid(summary, value):
    grid = summary.pivot_table(index=["strategy", "method"], columns="N", values="cell",
                               aggfunc="first", sort=False)
    grid.columns = [f"N={n}" for n in grid.columns]
    grid.index.names = ["strategy", "method"]
    return grid.rename_axis(columns=value)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--sizes", type=int, nargs="+", default=[25, 50, 100, 200])
    parser.add_argument("--strategies", nargs="+", default=["random", "evolution", "reinforce"])
    parser.add_argument("--methods", nargs="+", default=["fanova", "ped_anova", "shap"])
    parser.add_argument("--score", default="val_accuracy")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--table", default=None, help="CSV (default: the shipped table)")
    parser.add_argument("--figure", default=None, help="save the recovery curves as this PNG")
    args = parser.parse_args()
    table = nb.bench.load(args.table, verify=args.table is None)
    start = time.perf_counter()
    frame = recovery(table, strategies=args.strategies, sizes=args.sizes,
                     seeds=range(args.seeds), methods=args.methods, score=args.score,
                     n_jobs=args.jobs, progress=False)
    elapsed = time.perf_counter() - start
    print(f"table: {table.arch_id.nunique()} architectures x {table.seed.nunique()} seeds; "
          f"score explained: {args.score} (mean over the table's seeds)")
    print(f"{args.seeds} seeds per strategy; one search of {max(args.sizes)} trials per seed, "
          f"its first N explained; {len(frame)} importance estimates in {elapsed:.0f} s "
          f"({args.jobs} processes, {os.cpu_count()} CPU cores)")

    anova = nb.explain.functional_anova(table, score=args.score)
    main_fx = anova[anova.order == 1]
    pairs = anova[anova.order == 2]
    print("\nexact functional ANOVA (share of the variance of the architecture means):")
    print("  main effects: " + ", ".join(f"{r.a} {r.fraction:.3f}"
                                         for r in main_fx.itertuples()))
    print(f"  all main effects {main_fx.fraction.sum():.3f}, all pairs "
          f"{pairs.fraction.sum():.3f}, higher orders {1 - anova.fraction.sum():.3f}")
    print("  top pairwise interactions: " + ", ".join(
        f"{r.term} {r.fraction:.3f}" for r in pairs.head(5).itertuples()))

    summary = recovery_summary(frame)
    summary["cell"] = [f"{m:+.2f} ± {h:.2f}" if n > 1 else
                       ("n/a" if n == 0 else f"{m:+.2f}")
                       for m, h, n in zip(summary.spearman, summary.spearman_ci, summary.n)]
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print("\nSpearman correlation with the exact main effects (mean ± 95% CI over seeds; "
              "n/a: PED-ANOVA needs ≥ 20 trials):")
        print(_grid(summary, "spearman").to_string())
        summary["cell"] = [f"{r:.0%}" if r == r else "n/a" for r in summary.top1_rate]
        print("\ntop-1 agreement (share of seeds whose most important decision is the true "
              f"one, {main_fx.iloc[0].a}):")
        print(_grid(summary, "top-1").to_string())
        shap = frame[frame.method == "shap"]
        if not shap.empty:
            r2 = shap.groupby(["strategy", "N"], sort=False)["surrogate_r2"].mean().unstack()
            r2.columns = [f"N={n}" for n in r2.columns]
            print("\nSHAP surrogate's cross-validated R² (mean over seeds):")
            print(r2.round(2).to_string())
        seconds = frame.groupby(["method", "N"])["seconds"].mean().unstack()
        seconds.columns = [f"N={n}" for n in seconds.columns]
        print("\nseconds per importance call (mean):")
        print(seconds.round(2).to_string())
    if args.figure:
        fig = nb.plot.recovery_curves(frame)
        fig.savefig(args.figure, dpi=120, bbox_inches="tight")
        print(f"\nfigure: {args.figure}")


if __name__ == "__main__":
    main()
