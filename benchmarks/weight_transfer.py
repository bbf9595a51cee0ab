"""Does a supernet trained on one task rank another task's architectures better after k epochs
than one trained on that task from scratch for the same k epochs? (issue 25, part 4)

Usage::

    .venv/bin/python benchmarks/weight_transfer.py                      # train, then judge
    .venv/bin/python benchmarks/weight_transfer.py --scores ws.csv --judge-only

Fixed before any run: the uniform single-path supernet (the estimator notebook 11 found
useful), pretrained on the original task for its default 120 epochs on each of seeds 1-5 (seed
0 tuned the recipe: ``oneshot.TUNING_SEEDS``), then ``k`` = 10 and 30 epochs on the near and
the far task, from those weights ("transfer") and from scratch ("scratch"); "zero-shot" scores
the pretrained supernet on the target with only its BatchNorm statistics recalibrated. Every
arm is read by Kendall tau against the target's truth (mean test accuracy over the target
table's seeds); transfer minus scratch is paired by seed, and its verdict is "transfer ranks
better" (the one-sided 95% bound of the difference above 0). Scores go to ``--scores`` (CSV),
so the tables' truth can be applied again without training.
"""
import argparse
import os
import sys
from pathlib import Path

import pandas as pd

import nasbook as nb
from nasbook import oneshot
from nasbook.oneshot import transfer


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--epochs", type=int, nargs="+", default=[10, 30])
    parser.add_argument("--targets", nargs="+", default=["near", "far"])
    parser.add_argument("--scores", default="weight_transfer_scores.csv")
    parser.add_argument("--judge-only", action="store_true",
                        help="read --scores instead of training")
    parser.add_argument("--table", action="append", default=[], metavar="TASK=PATH",
                        help="a target's table where it is not shipped yet (verify=False)")
    args = parser.parse_args(argv)
    tables = dict(item.split("=", 1) for item in args.table)

    print(f"ran: seeds={args.seeds} epochs={args.epochs} targets={args.targets} "
          f"cores={os.cpu_count()} load={os.getloadavg()[0]:.1f}")
    if args.judge_only:
        scores = pd.read_csv(args.scores)
    else:
        scores = transfer.runs("original", tuple(args.targets), seeds=args.seeds,
                               epochs=args.epochs, progress=False)
        scores.to_csv(args.scores, index=False)
    cost = scores.groupby(["arm", "epochs"])["cpu_s"].mean()
    source = scores.groupby("seed")["source_cpu_s"].max()
    print(f"pretraining on the original task: {source.mean():.0f} CPU s per seed; on the "
          f"target, mean CPU s per run: " + ", ".join(
              f"{arm} {k}: {v:.0f}" for (arm, k), v in cost.items()))
    for target in args.targets:
        path = tables.get(target)
        table = nb.bench.load(path, verify=False, task=target) if path else \
            nb.bench.load(task=target)
        truth = oneshot.audit.truth(table)
        seeds = sorted(table["seed"].unique().tolist())
        t = transfer.taus(scores[scores.target == target], truth)
        print(f"\n== target {target!r} (truth: mean test accuracy over table seeds {seeds}) ==")
        print(t.pivot_table(index="seed", columns=["arm", "epochs"], values="tau")
              .round(3).to_string())
        for line in transfer.compare(t):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
