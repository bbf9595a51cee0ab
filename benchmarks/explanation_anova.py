"""Which architecture decisions make a model's explanations faithful, and are they the ones
that make it accurate? Each faithfulness measure read against its baseline and its noise.

Reads the explanation-quality table (``nb.bench.load_explanations()``: every architecture of
the benchmark space retrained with the recipe, its integrated-gradients and saliency maps
scored on 200 test examples; seed 0, and seed 1 where the table has it) and prints:

1. the confidence check: the deletion and insertion AUCs of a *random* order of positions
   against test accuracy. A raw AUC is read off the model's probability of the true class, so
   a confident, robust model scores a high deletion AUC whatever the order; each AUC is
   therefore also read against the random order of the same model and inputs
   (``<method>_<curve>_vs_random`` = AUC - random AUC, the primary form; ``_ratio`` = AUC /
   random AUC; ``nb.bench.AGAINST_RANDOM``);
2. for every measure, its Spearman correlation with test accuracy across the architectures
   (seed 0; 95% percentile bootstrap over architectures, ``nasbook.oneshot.audit.bootstrap``),
   the same on seed 1, the measure's seed-to-seed Spearman (its reliability:
   ``nasbook.oneshot.audit.noise_ceiling``), the ceiling of the correlation actually computed
   (about sqrt(reliability of accuracy x reliability of the measure)), and, for the measures
   that are not deletion or insertion AUCs, the verdict (``nb.stats.verdict``, one correlation
   per training seed) on "the measure is better in more accurate models";
3. every deletion and insertion AUC against its no-information null (``nb.explain.against_null``):
   the random order's AUC correlates about +0.98 with accuracy, so a difference or ratio against
   it correlates with accuracy whatever the method does. Per training seed: the permutation null
   (the method's AUCs shuffled among the architectures, the same form recomputed), the excess of
   the observed correlation over it, and the partial Spearman of accuracy and the raw AUC given
   the random AUC, each with a bootstrap interval over architectures; the verdicts
   (``nb.explain.null_verdicts``: ``nb.stats.verdict`` on one figure per training seed) on "more
   accurate, more faithful" beyond that null, and on the opposite from the partial;
4. the exact functional ANOVA of each measure over the six decisions on seed 0
   (``nb.explain.variance_shares``: main effects, all pairwise interactions, the rest) and,
   with seed 1, the noise floor of every term (``nb.explain.noise_floor``: the share that a
   seed-to-seed difference alone produces in a one-run table);
   The ANOVA includes ``<method>_<curve>_beyond_random``: the raw AUC's residual after a linear
   fit on the random AUC within each seed (``nb.explain.residual_given``), what the method's AUC
   does beyond the random order; and the verdict on max pooling's effect on it (one difference
   of means per training seed);
5. the mean of the key measures by decision value (seed 0);
6. how far equally accurate models differ (seed 0: the spread of each measure among the
   architectures within ``--near`` of the best test accuracy; the map agreement with the most
   accurate model leaves out that model itself).

Usage: .venv/bin/python benchmarks/explanation_anova.py [--table CSV] [--boot 1000] [--perm 1000]
       [--near 0.03]
"""
import argparse
import time

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

import nasbook as nb
from nasbook.oneshot import audit

# measure -> (direction in which explanations are better, what it says)
MEASURES = {
    "test_accuracy": ("higher", "accuracy (the model, not its explanation)"),
    "random_deletion_auc": ("lower", "deletion AUC of a random order (no explanation at all)"),
    "random_insertion_auc": ("higher", "insertion AUC of a random order"),
    "ig_deletion_auc": ("lower", "IG deletion AUC, raw: removing top-attributed inputs first"),
    "ig_deletion_vs_random": ("lower", "IG deletion AUC - random order's (primary form)"),
    "ig_deletion_ratio": ("lower", "IG deletion AUC / random order's"),
    "ig_insertion_auc": ("higher", "IG insertion AUC, raw: adding top-attributed inputs first"),
    "ig_insertion_vs_random": ("higher", "IG insertion AUC - random order's"),
    "ig_insertion_ratio": ("higher", "IG insertion AUC / random order's"),
    "saliency_deletion_auc": ("lower", "saliency deletion AUC, raw"),
    "saliency_deletion_vs_random": ("lower", "saliency deletion AUC - random order's"),
    "saliency_deletion_ratio": ("lower", "saliency deletion AUC / random order's"),
    "saliency_insertion_auc": ("higher", "saliency insertion AUC, raw"),
    "saliency_insertion_vs_random": ("higher", "saliency insertion AUC - random order's"),
    "saliency_insertion_ratio": ("higher", "saliency insertion AUC / random order's"),
    "ig_sanity_spearman": ("lower", "IG map vs the randomised model's (lower = passes)"),
    "saliency_sanity_spearman": ("lower", "saliency map vs the randomised model's"),
    "ig_completeness_gap": ("lower", "IG completeness gap (median relative)"),
    "ig_region_mass": ("higher", "share of |IG| on the digit template (localisation)"),
    "saliency_region_mass": ("higher", "share of |saliency| on the digit template"),
    "ig_pointing_game": ("higher", "IG's top position on the template (localisation)"),
    "saliency_pointing_game": ("higher", "saliency's top position on the template"),
    "ig_rank_correlation": ("higher", "IG agreement with the most accurate model (Spearman)"),
}
# the AUCs read against their no-information null (no verdict on their plain correlation)
CURVES = [("ig", "deletion"), ("ig", "insertion"), ("saliency", "deletion"),
          ("saliency", "insertion")]
AUC_MEASURES = {f"{m}_{c}_{form}" for m, c in CURVES for form in ("auc", "vs_random", "ratio")}
# what each method's raw AUC does beyond the random order's (residual of a fit, per seed)
BEYOND = {f"{m}_{c}_beyond_random": (f"{m}_{c}_auc", f"random_{c}_auc") for m, c in CURVES}
# the measures of the by-decision table (the full one is too wide to read)
KEY = ["test_accuracy", "random_deletion_auc", "ig_deletion_auc", "ig_deletion_vs_random",
       "ig_deletion_ratio", "ig_deletion_beyond_random", "ig_insertion_vs_random",
       "ig_region_mass"]


def correlations(table, measures, boot, seeds):
    """One row per measure: rho with test accuracy on seeds[0] and its bootstrap interval, rho
    on each other seed, the seed-to-seed rho of the measure, and the verdict on "accurate
    models explain better" from the per-seed correlations (signed by the measure's
    direction). Notebook 12 makes the same calls (audit.bootstrap with seed 0)."""
    rows = []
    per_seed = {s: table[table.seed == s].set_index("arch_id") for s in seeds}
    first = per_seed[seeds[0]]
    truth = pd.DataFrame({"test": first.test_accuracy})
    reliability_acc = (audit.noise_ceiling(table, score="test_accuracy", seeds=seeds[:2])
                       ["spearman"] if len(seeds) > 1 else np.nan)
    for m in measures:
        rhos = [spearmanr(per_seed[s].test_accuracy, per_seed[s][m]).statistic for s in seeds]
        low, high = audit.bootstrap(first[m], truth, target="test", n_boot=boot,
                                    seed=0)["spearman"]
        better = MEASURES[m][0]
        sign = 1.0 if better == "higher" else -1.0
        v = nb.stats.verdict(sign * np.array(rhos), 0.0, better="higher")
        row = {"measure": m, "better": better, "rho": rhos[0], "low": low, "high": high}
        for s, r in zip(seeds[1:], rhos[1:]):
            row[f"rho_seed{s}"] = r
        if len(seeds) > 1:
            row["seed_to_seed_rho"] = audit.noise_ceiling(table, score=m,
                                                          seeds=seeds[:2])["spearman"]
            row["ceiling"] = np.sqrt(reliability_acc * row["seed_to_seed_rho"])
        # a random order explains nothing: its correlation is the confidence check, no claim;
        # an AUC (raw or against random) is judged against its no-information null instead
        row["accurate_explain_better"] = ("-" if m.startswith("random_") or m in AUC_MEASURES
                                          else v.word)
        row["n_seeds"] = v.n
        rows.append(row)
    return pd.DataFrame(rows).set_index("measure")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", default=None, help="default: the shipped table")
    parser.add_argument("--boot", type=int, default=1000)
    parser.add_argument("--perm", type=int, default=1000,
                        help="shuffles of the no-information null")
    parser.add_argument("--near", type=float, default=0.03,
                        help="equally accurate: within this much test accuracy of the best")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    pd.set_option("display.width", 250)
    full = nb.bench.load_explanations(args.table)
    seeds = sorted(int(s) for s in full.seed.unique())
    table = full[full.seed == 0].copy()
    decisions = list(nb.bench.DECISIONS)
    for name, (auc, base) in BEYOND.items():
        if auc in full and base in full:
            full[name] = nb.explain.residual_given(full, auc, [base])
    table = full[full.seed == 0].copy()
    measures = [m for m in MEASURES if m in table.columns]
    anova_measures = measures + [m for m in BEYOND if m in table.columns]
    print(f"explanation-quality table: {table.arch_id.nunique()} architectures, seeds {seeds}; "
          f"{len(measures) - 1} measures; the ANOVA, the means and the spread are of seed 0")
    agree = (full.test_accuracy - full.bench_test_accuracy).abs()
    print(f"accuracy vs the accuracy table's runs of the same seeds: max |difference| "
          f"{agree.max():.4f}, {int((agree == 0).sum())} of {len(full)} identical\n")

    frame = correlations(full, measures[1:], args.boot, seeds)
    rand = frame.loc[["random_deletion_auc", "random_insertion_auc"], "rho"]
    print(f"confidence: a random order's deletion AUC has rho {rand.iloc[0]:+.3f} with test "
          f"accuracy, its insertion AUC {rand.iloc[1]:+.3f} (seed 0): a raw AUC mostly says how "
          f"confident the model is, so each is also read against the random order")
    print(f"\nSpearman correlation with test accuracy across architectures (seed 0; 95% bootstrap "
          f"interval, {args.boot} resamples of architectures)"
          + ("; on seed 1; the measure's seed-to-seed rho (its reliability); the ceiling of "
             "|rho with accuracy| from both reliabilities, sqrt(rel_accuracy * rel_measure) "
             "(Spearman's correction for attenuation, approximate for ranks)"
             if len(seeds) > 1 else "") +
          "; verdict on 'the measure is better in more accurate models' (nb.stats.verdict, goal: "
          "the correlation signed by the measure's direction > 0, one value per training seed) "
          "for the measures that are not deletion/insertion AUCs; those are judged against "
          "their no-information null below")
    for m, r in frame.iterrows():
        extra = "".join(f"  seed {s} {r[f'rho_seed{s}']:+.3f}" for s in seeds[1:])
        if "seed_to_seed_rho" in r:
            extra += (f"  seed-to-seed {r['seed_to_seed_rho']:+.3f}  ceiling "
                      f"{r['ceiling']:.3f}")
        print(f"  {m:29s} rho {r['rho']:+.3f} [{r['low']:+.3f}, {r['high']:+.3f}]{extra}   "
              f"{r['accurate_explain_better'].upper()} (n = {r['n_seeds']}; better: "
              f"{r['better']}; {MEASURES[m][1]})"
              .replace("   - (n", "   (no claim here; n"))

    print("\nagainst the no-information null (nb.explain.against_null: the method's AUCs "
          f"shuffled among the architectures, {args.perm} times, the same difference / ratio "
          "formed with each model's own random AUC; excess = observed rho - the null's mean, "
          "with a 95% bootstrap interval over architectures; partial = Spearman of accuracy "
          "and the raw AUC given the random AUC, with its interval); per training seed")
    for method, curve in CURVES:
        if f"{method}_{curve}_auc" not in full:
            continue
        frame_n = nb.explain.against_null(full, method=method, curve=curve, n_perm=args.perm,
                                          n_boot=args.boot)
        for s, r in frame_n.iterrows():
            print(f"  {method} {curve}, seed {s}: difference rho {r.rho_difference:+.3f}, null "
                  f"{r.null_difference:+.3f} [{r.null_difference_low:+.3f}, "
                  f"{r.null_difference_high:+.3f}], excess {r.excess_difference:+.3f} "
                  f"[{r.excess_difference_low:+.3f}, {r.excess_difference_high:+.3f}] p "
                  f"{r.p_difference:.3f}; ratio rho {r.rho_ratio:+.3f}, null {r.null_ratio:+.3f}"
                  f", excess {r.excess_ratio:+.3f} [{r.excess_ratio_low:+.3f}, "
                  f"{r.excess_ratio_high:+.3f}]; partial {r.partial:+.3f} "
                  f"[{r.partial_low:+.3f}, {r.partial_high:+.3f}]")
        for v in nb.explain.null_verdicts(frame_n):
            print(f"    {v}")
    both = ["random_deletion_auc", "random_insertion_auc"]
    for s in seeds:
        t = full[full.seed == s]
        print(f"  robustness, seed {s}: IG deletion's partial given both random curves "
              f"{nb.explain.partial_spearman(t.test_accuracy, t.ig_deletion_auc, t[both]):+.3f}")
    constant = table.ig_deletion_auc.mean()
    print(f"  an IG deletion AUC that knows nothing (one constant, seed 0): rho of constant - "
          f"random {spearmanr(table.test_accuracy, constant - table.random_deletion_auc).statistic:+.3f}, "
          f"of constant / random "
          f"{spearmanr(table.test_accuracy, constant / table.random_deletion_auc).statistic:+.3f}")

    shares = pd.DataFrame({m: nb.explain.variance_shares(table, score=m, decisions=decisions)
                           for m in anova_measures}).T
    print("\nexact functional ANOVA of seed 0: share of each measure's variance over the "
          f"{table.arch_id.nunique()} architectures (main effects, all pairwise interactions, "
          "the rest)")
    print(shares.round(3).to_string())
    if len(seeds) > 1:
        floors = {m: nb.explain.noise_floor(full, score=m, decisions=decisions,
                                            seeds=seeds[:2]) for m in anova_measures}
        floor = pd.DataFrame(floors).T
        floor["noise share"] = [floors[m].attrs["noise_share"] for m in anova_measures]
        print("\nnoise floor of that ANOVA: the share of a one-run table's variance that a "
              "seed-to-seed difference alone produces in each term (nb.explain.noise_floor: "
              "the ANOVA of (seed 0 - seed 1)/sqrt(2)); a share no larger than its floor could "
              "be training noise alone")
        print(floor.round(3).to_string())
        above = pd.DataFrame({"pairs": shares["pairs"], "pairs floor": floor["pairs"],
                              "rest": shares["rest"], "rest floor": floor["rest"]})
        print("\ninteractions against their floor (seed 0):")
        print(above.round(3).to_string())
    for name in [m for m in BEYOND if m in table.columns]:
        gap = [full[(full.seed == s) & (full.pooling == "max")][name].mean()
               - full[(full.seed == s) & (full.pooling == "average")][name].mean() for s in seeds]
        print(nb.stats.verdict(gap, 0.0, what=f"max pooling's {name} minus average pooling's "
                               f"(one per training seed: {', '.join(f'{g:+.4f}' for g in gap)})"))

    print("\nmean of the key measures by decision value (seed 0; the values a measure favours)")
    long = []
    key = [m for m in KEY if m in table.columns]
    for d in decisions:
        means = table.groupby(d)[key].mean()
        means.index = pd.MultiIndex.from_product([[d], means.index.astype(str)])
        long.append(means)
    print(pd.concat(long).round(3).to_string())

    acc = table.test_accuracy
    best = acc.max()
    near = table[acc >= best - args.near]
    seed_gap = None
    if len(seeds) > 1:
        wide = full.pivot(index="arch_id", columns="seed", values="test_accuracy")
        seed_gap = (wide[seeds[0]] - wide[seeds[1]]).abs().mean()
    print(f"\nequally accurate models (seed 0, test accuracy within {args.near * 100:g} points "
          f"of the best, {best:.4f}): {len(near)} architectures"
          + (f"; the mean seed-to-seed difference of test accuracy is {seed_gap:.4f}"
             if seed_gap is not None else ""))
    spread = near[measures[1:]].agg(["min", "median", "max"]).T
    spread["range / whole-space sd"] = ((spread["max"] - spread["min"])
                                        / table[measures[1:]].std())
    if "reference_arch_id" in near:
        others = near[near.arch_id != near.reference_arch_id]
        ref = int(near.reference_arch_id.iloc[0])
        col = others["ig_rank_correlation"]
        spread.loc["ig_rank_correlation", ["min", "median", "max"]] = [col.min(), col.median(),
                                                                      col.max()]
        spread.loc["ig_rank_correlation", "range / whole-space sd"] = (
            (col.max() - col.min()) / table.loc[table.arch_id != ref,
                                                "ig_rank_correlation"].std())
        print(f"(ig_rank_correlation: agreement with arch {ref}, the most accurate, over the "
              f"{len(others)} others; arch {ref} itself is left out)")
    print(spread.round(3).to_string())
    print(f"\n{time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
