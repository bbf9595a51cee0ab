"""What one row of the explanation-quality table costs: training and explaining time per
architecture, read from a (partly) built table, and the projected time of the full build; and
whether the rebuilt runs repeat the accuracy table's runs of the same seed.

    .venv/bin/python benchmarks/explain_build_cost.py /work/xai_build/explanations.csv

Times are the builder's own per-run measurements (``train_time_s``: ``model.fit`` only;
``explain_time_s``: test evaluation, IG and saliency maps, deletion/insertion curves, the
randomised model's maps, completeness and ground-truth scores, saving the maps). They depend on
how busy the machine was; the script says how many rows it read.
"""
import argparse
import os
import sys

import pandas as pd


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("table", help="the CSV written by `python -m nasbook.bench "
                                      "explain-build --out ...`")
    parser.add_argument("--workers", type=int, default=2,
                        help="processes of the build (for the projection)")
    args = parser.parse_args(argv)
    table = pd.read_csv(args.table)
    if table.empty:
        sys.exit(f"{args.table} has no rows yet")
    table["total_s"] = table.train_time_s + table.explain_time_s
    print(f"{len(table)} rows of {args.table}; {os.cpu_count()} CPU cores on this machine; "
          f"epochs {sorted(int(e) for e in table.epochs.unique())}")
    cols = ["train_time_s", "explain_time_s", "total_s"]
    print("\nper architecture (seconds):")
    print(table[cols].describe(percentiles=[0.5, 0.9]).loc[["mean", "50%", "90%", "max"]]
          .round(2).to_string())
    print("\nmean seconds by depth and width:")
    print(table.groupby(["n_blocks", "filters"])[cols].mean().round(2).to_string())
    import nasbook as nb

    bench = nb.bench.load()[["arch_id", "seed", "test_accuracy"]]
    joined = table.merge(bench, on=["arch_id", "seed"], suffixes=("", "_table"))
    gap = (joined.test_accuracy - joined.test_accuracy_table).abs()
    print(f"\ntest accuracy vs data/mnist1d_bench.csv (same seed): {len(joined)} runs, "
          f"{int((gap < 5e-6).sum())} identical, mean |difference| {gap.mean():.4f}, "
          f"max {gap.max():.4f}")
    print()
    for label, per_run in (("mean", table.total_s.mean()), ("median", table.total_s.median())):
        full = 324 * per_run / 3600
        print(f"projected full build from the {label} run: {full:.2f} h of one core = "
              f"{full / args.workers:.2f} h with {args.workers} workers")
    if len(table) < 324:
        print("(a projection: the rows read are not all 324, and deeper, wider architectures "
              "come later in the build's order)")


if __name__ == "__main__":
    main()
