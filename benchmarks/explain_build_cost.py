"""What one row of the explanation-quality table costs: training and explaining time per
architecture, read from a (partly) built table, and the projected time of the full build.

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
          f"epochs {sorted(table.epochs.unique())}")
    cols = ["train_time_s", "explain_time_s", "total_s"]
    print("\nper architecture (seconds):")
    print(table[cols].describe(percentiles=[0.5, 0.9]).loc[["mean", "50%", "90%", "max"]]
          .round(2).to_string())
    print("\nmean seconds by depth and width:")
    print(table.groupby(["n_blocks", "filters"])[cols].mean().round(2).to_string())
    full = 324 * table.total_s.mean()
    print(f"\nprojected full build: {full / 3600:.2f} h of one core = "
          f"{full / 3600 / args.workers:.2f} h with {args.workers} workers "
          f"(plus start-up; the rows read are {'not ' if len(table) < 324 else ''}all 324)")


if __name__ == "__main__":
    main()
