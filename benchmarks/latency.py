"""Measured inference latency of every benchmark architecture on this CPU (issue 25, part 5).

For each of the 324 architectures of ``nb.bench.bench_space()`` (weights as built: latency does
not depend on their values), ``nasbook.bench.latency.measure_stable`` at batch 1 and batch 256
(3 warm-up calls, then rounds of 20 timed calls until two medians agree within 10%), with the
parameter count and FLOPs beside it, one TensorFlow thread (as the table's recipe trains), the CPU
and the load average recorded per row, by the wall clock and by the process's CPU time (see
``nasbook.bench.latency``). The architectures are measured in a seeded random order (column
``order``), so that a drift of the machine during the run falls on architectures at random: in
``arch_id`` order it would follow FLOPs (``arch_id`` and FLOPs have Spearman rho 0.87) and bias
every correlation with them. Two reference architectures (0 and 323) are measured again every
27 architectures (into ``<out>.reference.csv``), so the drift is measured, not assumed. Then
Spearman's rho of params and of FLOPs with the measured latency (both clocks), with bootstrap
intervals over architectures (HW-NAS-Bench's question on our space), the two clocks against
each other, and whether FLOPs predict the CPU-clock latency better than params (a paired
bootstrap, ``flops_vs_params``). Resumable: rows already in ``--out`` are kept (a fresh
``--out`` starts a fresh reference file).

    .venv/bin/python benchmarks/latency.py --out latency.csv          # ~4 minutes, quiet machine
    .venv/bin/python benchmarks/latency.py --out latency.csv --report-only   # figures of a file
    .venv/bin/python benchmarks/latency.py --limit 10                 # a quick look
"""
from __future__ import annotations

import argparse
import csv
import os
from pathlib import Path


COLUMNS = ["arch_id", "params", "flops", "batch", "median_ms", "iqr_ms", "cpu_median_ms",
           "cpu_iqr_ms", "rounds", "stable", "load_1min", "cpu", "intra_op_threads", "order"]
# re-measured every REFERENCE_EVERY architectures (into <out>.reference.csv): how much the
# machine drifted while the table was measured, by each clock
REFERENCE_ARCHS = (0, 323)
REFERENCE_EVERY = 27


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="latency.csv")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 256])
    parser.add_argument("--boot", type=int, default=1000)
    parser.add_argument("--order-seed", type=int, default=0,
                        help="seed of the random order the architectures are measured in")
    parser.add_argument("--report-only", action="store_true",
                        help="measure nothing: print the figures of the rows already in --out")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras
    import numpy as np
    import pandas as pd

    import nasbook as nb
    from nasbook.bench.latency import flops, machine, measure_stable

    out = Path(args.out)
    done = set()
    if out.exists():
        done = {(int(r["arch_id"]), int(r["batch"])) for r in csv.DictReader(open(out))}
    space, configs = nb.bench.bench_space(), nb.bench.all_configs()
    fixed = {"dropout": 0.0, "l2": 0.0, "optimizer": "adam", "learning_rate": 3e-3}
    sequence = np.random.default_rng(args.order_seed).permutation(len(configs)).tolist()
    position = {arch: k for k, arch in enumerate(sequence)}
    todo = [i for i in sequence if any((i, b) not in done for b in args.batches)][:args.limit]
    info = machine()
    print(f"machine: {info}")
    reference = out.with_name(out.name + ".reference.csv")

    def rows_of(i, batches, order):
        keras.utils.clear_session()
        model = space.build_model(dict(configs[i], **fixed))
        for b in batches:
            row = measure_stable(model, b)
            yield {"arch_id": i, "params": model.count_params(), "flops": flops(model),
                   "batch": b, **{k: round(row[k], 4) for k in ("median_ms", "iqr_ms",
                                                                 "cpu_median_ms", "cpu_iqr_ms")},
                   "rounds": row["rounds"], "stable": row["stable"],
                   "load_1min": row["load_1min"], "cpu": info["cpu"], "intra_op_threads": 1,
                   "order": order}

    if not args.report_only:
        fresh = not done   # a fresh table starts a fresh reference file
        with open(out, "a", newline="") as f, open(reference, "w" if fresh else "a",
                                                   newline="") as g:
            writer, ref_writer = (csv.DictWriter(h, fieldnames=COLUMNS) for h in (f, g))
            if fresh:
                writer.writeheader()
            if g.tell() == 0:
                ref_writer.writeheader()
            for n, i in enumerate(todo):
                if n % REFERENCE_EVERY == 0:   # order: the position of the next architecture
                    for r in REFERENCE_ARCHS:
                        ref_writer.writerows(rows_of(r, args.batches, position[i]))
                    g.flush()
                writer.writerows(rows_of(i, [b for b in args.batches if (i, b) not in done],
                                         position[i]))
                f.flush()
    table = pd.read_csv(out)
    if reference.exists():
        ref = pd.read_csv(reference)
        for (arch, b), rows in ref.groupby(["arch_id", "batch"]):
            cv = {c: rows[c].std(ddof=1) / rows[c].mean() for c in ("median_ms",
                                                                    "cpu_median_ms")}
            print(f"reference arch {arch}, batch {b}: {len(rows)} re-measurements, wall "
                  f"{rows.median_ms.min():.3f}-{rows.median_ms.max():.3f} ms (cv "
                  f"{cv['median_ms']:.2f}), cpu {rows.cpu_median_ms.min():.3f}-"
                  f"{rows.cpu_median_ms.max():.3f} ms (cv {cv['cpu_median_ms']:.2f}), load "
                  f"{rows.load_1min.min():.1f}-{rows.load_1min.max():.1f}")
    from nasbook.bench.latency import correlations, flops_vs_params

    figures = correlations(table, n_boot=args.boot, seed=0)
    better = flops_vs_params(table, n_boot=args.boot, seed=0).set_index("batch")
    for b, rows in table.groupby("batch"):
        print(f"\nbatch {b}: {len(rows)} architectures, median latency wall "
              f"{rows.median_ms.median():.3f} ms, cpu {rows.cpu_median_ms.median():.3f} ms, "
              f"{(~rows.stable.astype(bool)).sum()} not stable, load "
              f"{rows.load_1min.min():.1f}-{rows.load_1min.max():.1f}")
        if "order" in rows:
            from scipy.stats import spearmanr
            print(f"  measuring order: Spearman rho(order, arch_id) "
                  f"{spearmanr(rows.order, rows.arch_id).statistic:+.3f}, rho(order, flops) "
                  f"{spearmanr(rows.order, rows.flops).statistic:+.3f} (a random order: near 0)")
        for r in figures[figures.batch == b].itertuples():
            print(f"  Spearman rho({r.x}, {r.y}) {r.rho:+.3f} [{r.low:+.3f}, {r.high:+.3f}] "
                  f"(95% bootstrap over {r.n} architectures)")
        d = better.loc[b]
        print(f"  FLOPs predict cpu latency better than params: {d.verdict.upper()} (rho "
              f"difference {d.difference:+.3f}, paired bootstrap 95% [{d.low:+.3f}, "
              f"{d.high:+.3f}], one-sided 95% lower bound {d.bound:+.3f}, n = {d.n})")

if __name__ == "__main__":
    main()
