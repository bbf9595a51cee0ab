"""Which architecture decisions make a model's explanations faithful, and are they the ones
that make it accurate?

Reads the explanation-quality table (``nb.bench.load_explanations()``: every architecture of
the benchmark space retrained with the recipe, seed 0, its integrated-gradients and saliency
maps scored on 200 test examples) and prints, for accuracy and for every explanation-quality
measure: the exact functional ANOVA over the six decisions (notebook 10's
``nb.explain.functional_anova``, unchanged: main effects, the sum of pairwise interactions and
the rest); the Spearman correlation of the measure with test accuracy across the architectures
(95% bootstrap interval over architectures); the value of each decision that the measure
favours; and how far equally accurate models differ (the spread of each measure among the
architectures within one point of the best accuracy).

Usage: .venv/bin/python benchmarks/explanation_anova.py [--table CSV] [--boot 1000] [--near 0.03]
"""
import argparse

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

import nasbook as nb

# measure -> (direction in which explanations are better, what it says)
MEASURES = {
    "test_accuracy": ("higher", "accuracy (the model, not its explanation)"),
    "ig_deletion_auc": ("lower", "IG deletion AUC: removing top-attributed inputs first"),
    "ig_insertion_auc": ("higher", "IG insertion AUC: adding top-attributed inputs first"),
    "saliency_deletion_auc": ("lower", "saliency deletion AUC"),
    "saliency_insertion_auc": ("higher", "saliency insertion AUC"),
    "ig_sanity_spearman": ("lower", "IG map vs the randomised model's (lower = passes)"),
    "saliency_sanity_spearman": ("lower", "saliency map vs the randomised model's"),
    "ig_completeness_gap": ("lower", "IG completeness gap (median relative)"),
    "ig_region_mass": ("higher", "share of |IG| on the digit template"),
    "saliency_region_mass": ("higher", "share of |saliency| on the digit template"),
    "ig_pointing_game": ("higher", "IG's top position on the template"),
    "saliency_pointing_game": ("higher", "saliency's top position on the template"),
    "ig_rank_correlation": ("higher", "IG agreement with the most accurate model (Spearman)"),
}


def _spearman_ci(x, y, boot, rng):
    rho = spearmanr(x, y).statistic
    n = len(x)
    draws = [spearmanr(x[i], y[i]).statistic
             for i in (rng.integers(0, n, n) for _ in range(boot))]
    low, high = np.nanpercentile(draws, [2.5, 97.5])
    return rho, low, high


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", default=None, help="default: the shipped table")
    parser.add_argument("--boot", type=int, default=1000)
    parser.add_argument("--near", type=float, default=0.03,
                        help="equally accurate: within this much test accuracy of the best")
    args = parser.parse_args(argv)
    table = nb.bench.load_explanations(args.table)
    table = table[table.seed == 0].copy()
    decisions = list(nb.bench.DECISIONS)
    measures = [m for m in MEASURES if m in table.columns]
    print(f"explanation-quality table: {len(table)} architectures (seed 0), "
          f"{len(measures) - 1} explanation measures")
    agree = (table.test_accuracy - table.bench_test_accuracy).abs()
    print(f"accuracy vs the accuracy table's seed-0 runs: max |difference| {agree.max():.4f}, "
          f"{int((agree == 0).sum())} of {len(table)} identical\n")

    rows = {}
    for m in measures:
        anova = nb.explain.functional_anova(table, score=m, decisions=decisions)
        main = anova[anova.order == 1].set_index("a").fraction
        row = {d: main.get(d, 0.0) for d in decisions}
        row["pairs"] = anova[anova.order == 2].fraction.sum()
        row["rest"] = max(0.0, 1 - sum(row.values()))
        rows[m] = row
    frame = pd.DataFrame(rows).T
    print("exact functional ANOVA: share of each measure's variance over the 324 architectures "
          "(main effects, all pairwise interactions, the rest)")
    print(frame.round(3).to_string())

    rng = np.random.default_rng(0)
    acc = table.test_accuracy.to_numpy()
    print(f"\nSpearman correlation with test accuracy across architectures "
          f"(95% bootstrap interval, {args.boot} resamples of architectures)")
    for m in measures[1:]:
        rho, low, high = _spearman_ci(acc, table[m].to_numpy(), args.boot, rng)
        better = MEASURES[m][0]
        print(f"  {m:26s} rho {rho:+.3f} [{low:+.3f}, {high:+.3f}]   "
              f"(better explanations: {better}; {MEASURES[m][1]})")

    print("\nmean of each measure by decision value (the values a measure favours)")
    long = []
    for d in decisions:
        means = table.groupby(d)[measures].mean()
        means.index = pd.MultiIndex.from_product([[d], means.index.astype(str)])
        long.append(means)
    print(pd.concat(long).round(3).to_string())

    best = acc.max()
    near = table[table.test_accuracy >= best - args.near]
    print(f"\nequally accurate models (test accuracy within {args.near * 100:g} points of the "
          f"best, {best:.4f}): "
          f"{len(near)} architectures")
    spread = near[measures[1:]].agg(["min", "median", "max"]).T
    spread["range / whole-space sd"] = ((spread["max"] - spread["min"])
                                        / table[measures[1:]].std())
    print(spread.round(3).to_string())


if __name__ == "__main__":
    main()
