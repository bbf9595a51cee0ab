"""The ``nasbook`` command: run a search headless, then look at it.

Usage::

    nasbook search --dataset mnist1d --space cnn --strategy random --max-trials 20 \\
        --time-budget 600 --out runs/demo
    nasbook show runs/demo              # the trials table and the best trial
    nasbook show runs/demo --csv runs/demo/trials.csv
    nasbook explain runs/demo           # which decisions mattered, rules, the winner
    nasbook bench build                 # (re)build the tabular benchmark, resumable
    nasbook bench explain-build         # explanation quality of every architecture, resumable
    nasbook report runs/demo -o report.html   # one self-contained HTML page of the search
    nasbook grade subs/*/03_*.ipynb --reference build/student/03_evaluation_metrics.ipynb
    nasbook search ... --workers 2      # two local worker processes train trials in parallel
    nasbook search ... --chief --port 8000   # serve the strategy to workers started elsewhere
    nasbook worker --chief HOST:8000 --run-dir runs/demo
    nasbook tensorboard runs/demo       # TensorBoard (scalars, HParams) on 127.0.0.1
    nasbook notebooks ~/nasbook         # copy the notebooks out of an installed nasbook

Running ``nasbook search`` again with the same ``--out`` resumes the search (``--overwrite``
starts afresh). ``--space`` takes a preset name (``mlp``, ``cnn``, ``residual_cnn``, or ``bench``
for the tabular benchmark's space) or a JSON file in the source text's dictionary format.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["main", "build_parser"]


def _option(text: str):
    """Parse ``key=value`` (value read as JSON when it can be: numbers, true, null, lists)."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    key, value = text.split("=", 1)
    try:
        return key.strip(), json.loads(value)
    except ValueError:
        return key.strip(), value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nasbook", description="Neural Architecture Search on a laptop CPU.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    s = sub.add_parser("search", help="run (or resume) a search into a run directory",
                       description="Run a search; run again with the same --out to resume.")
    s.add_argument("--dataset", default="mnist1d",
                   help="digits, mnist1d (offline), mnist, fashion_mnist (default mnist1d)")
    s.add_argument("--space", default="cnn",
                   help="preset name (mlp, cnn, residual_cnn; bench = the tabular "
                        "benchmark's space) or a JSON file in the source text's dictionary "
                        "format (default cnn)")
    s.add_argument("--strategy", default="random", help="random, bayesian, hyperband, ... "
                   "(nb.strategies.available())")
    s.add_argument("--objective", default="val_accuracy",
                   help="val_accuracy, val_loss, val_f1, ... (default val_accuracy)")
    s.add_argument("--max-trials", type=int, default=10)
    s.add_argument("--time-budget", type=float, default=None, help="seconds; no new trial "
                   "starts once spent")
    s.add_argument("--target", type=float, default=None,
                   help="stop once the objective reaches this value")
    s.add_argument("--epochs", type=int, default=10, help="epochs per trial (default 10)")
    s.add_argument("--patience", type=int, default=3,
                   help="early-stopping patience in epochs, 0 for none (default 3)")
    s.add_argument("--batch-size", type=int, default=64)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--n-train", type=int, default=None,
                   help="use at most this many training examples (quick runs)")
    s.add_argument("--n-val", type=int, default=None,
                   help="use at most this many validation examples")
    s.add_argument("--max-consecutive-failures", type=int, default=3)
    s.add_argument("--option", action="append", type=_option, default=[], metavar="KEY=VALUE",
                   help="a strategy option, e.g. --option num_initial_points=4 (repeatable)")
    s.add_argument("--out", required=True, help="the run directory")
    s.add_argument("--overwrite", action="store_true",
                   help="delete the run directory first and start afresh")
    s.add_argument("--no-progress", action="store_true", help="no progress bar")
    s.add_argument("--no-tensorboard", action="store_true",
                   help="write no TensorBoard logs (run_dir/tensorboard)")
    s.add_argument("--workers", type=int, default=None,
                   help="local worker processes training trials in parallel (default 1 = in "
                        "this process; with --chief default 0)")
    s.add_argument("--worker-threads", type=int, nargs="+", default=None, metavar="N",
                   help="TensorFlow threads of each local worker: INTRA [INTER] (default: "
                        "cores // workers intra-op and 1 inter-op; 0 0 = TensorFlow's own)")
    s.add_argument("--chief", action="store_true",
                   help="serve the strategy's Oracle (keras-tuner's gRPC chief) on --host:--port "
                        "for `nasbook worker` processes; ends when the search is over")
    s.add_argument("--host", default="127.0.0.1",
                   help="with --chief: the address to listen on (default 127.0.0.1; there is "
                        "no authentication: use a private network or an SSH tunnel)")
    s.add_argument("--port", type=int, default=8000, help="with --chief: the port (default "
                   "8000, 0 = any free port)")

    w = sub.add_parser("worker", help="train trials for a chief (nasbook search --chief)",
                       description="Connect to a chief and train the trials it hands out, "
                                   "writing them into the shared run directory; exits when "
                                   "the chief has no more.")
    w.add_argument("--chief", required=True, metavar="HOST:PORT", help="the chief's address")
    w.add_argument("--run-dir", required=True,
                   help="the chief's --out directory, on a file system shared with it")
    w.add_argument("--tuner-id", default=None,
                   help="this worker's name (default tuner-<host>-<pid>; must be unique)")
    w.add_argument("--connect-timeout", type=float, default=30.0,
                   help="seconds to wait for the chief to answer (default 30)")

    tb = sub.add_parser("tensorboard", help="start TensorBoard on a run directory's logs")
    tb.add_argument("run_dir")
    tb.add_argument("--port", type=int, default=6006, help="default 6006, 0 = any free port")

    show = sub.add_parser("show", help="print the trials of a run directory and its best trial")
    show.add_argument("run_dir")
    show.add_argument("--csv", default=None, help="also write the trials table to this CSV")
    show.add_argument("--all", action="store_true", help="show every column")

    ex = sub.add_parser("explain", help="explain a search: decision importance, interactions, "
                                        "rules for the top trials, the winner vs runners-up")
    ex.add_argument("run_dir")
    ex.add_argument("--methods", nargs="+", default=None,
                    help="importance estimators: fanova ped_anova shap (default: all that "
                         "the number of trials allows)")
    ex.add_argument("--top-fraction", type=float, default=0.1,
                    help="what counts as the top for rules and PED-ANOVA (default 0.1)")
    ex.add_argument("--seed", type=int, default=0)

    rep = sub.add_parser("report", help="write one self-contained HTML page of a run "
                                        "directory (no network needed to read it)")
    rep.add_argument("run_dir")
    rep.add_argument("-o", "--out", default=None,
                     help="the HTML file (default: RUN_DIR/report.html)")
    rep.add_argument("--seed", type=int, default=0)

    gr = sub.add_parser("grade", help="run students' notebooks headless and grade every "
                                      "auto-checked exercise",
                        description="Run each notebook in its own kernel (quick mode unless "
                                    "--full) and read each check's verdict: passed, not yet "
                                    "or error.")
    gr.add_argument("notebooks", nargs="+")
    gr.add_argument("--json", default=None, help="also write the grades to this JSON file")
    gr.add_argument("--timeout", type=float, default=600,
                    help="seconds per notebook (default 600)")
    gr.add_argument("--reference", default=None,
                    help="the handed-out (marked) notebook: its exercises are the ones "
                         "expected (a deleted one counts as missing) and its locked check "
                         "cells are put back into each submission before it runs (a changed "
                         "one is reported); without it the submitted check cells are trusted")
    gr.add_argument("--full", action="store_true",
                    help="run in full mode (default: quick mode; the checks are the same)")

    nbs = sub.add_parser("notebooks", help="copy the numbered notebooks out of the installed "
                                           "package, to open them in JupyterLab")
    nbs.add_argument("dest", help="the folder to copy them into (created if missing)")
    nbs.add_argument("--force", action="store_true",
                     help="overwrite notebooks already there")

    bench = sub.add_parser("bench", help="the tabular benchmark: `nasbook bench build --help`",
                           add_help=False)
    bench.add_argument("bench_args", nargs=argparse.REMAINDER)
    return parser


def _load_space(name, ds):
    from nasbook import space as space_module

    if name == "bench":
        from nasbook.bench import bench_space

        return bench_space(ds.input_shape, ds.num_classes)
    path = Path(name)
    if path.suffix == ".json" or path.exists():
        try:
            source = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read the space file {path}: {exc}") from exc
        return space_module.from_dict(source, ds.input_shape, ds.num_classes)
    return space_module.preset(name, ds.input_shape, ds.num_classes)


def _cmd_search(args) -> int:
    import nasbook as nb
    from nasbook.search import search

    ds = nb.load_dataset(args.dataset, seed=args.seed)
    if args.n_train or args.n_val:
        ds = ds.subset(n_train=args.n_train, n_val=args.n_val, seed=args.seed)
    space = _load_space(args.space, ds)
    workers = args.workers if args.workers is not None else (0 if args.chief else 1)
    listen = f"{args.host}:{args.port}" if args.chief else None
    threads = args.worker_threads
    if threads is not None and len(threads) > 2:
        raise SystemExit(f"nasbook: error: --worker-threads takes INTRA [INTER], got {threads}")
    threads = None if threads is None else (threads[0] if len(threads) == 1 else tuple(threads))
    result = search(ds, space, strategy=args.strategy, objective=args.objective,
                    max_trials=args.max_trials, time_budget=args.time_budget,
                    target=args.target, epochs=args.epochs,
                    early_stopping_patience=args.patience or None,
                    batch_size=args.batch_size, run_dir=args.out, overwrite=args.overwrite,
                    seed=args.seed, max_consecutive_failures=args.max_consecutive_failures,
                    progress=not args.no_progress, workers=workers, listen=listen,
                    worker_threads=threads, tensorboard=not args.no_tensorboard,
                    **dict(args.option))
    print(result.table())
    _print_best(result)
    return 0


def _print_best(result):
    if result.counts()["completed"]:
        print(f"\nbest: trial {result.best_trial}, {result.objective} "
              f"{result.best_score:.4f}")
        print("  " + ", ".join(f"{k}={v}" for k, v in result.best_config.items()))
    else:
        print("\nno completed trial yet")


def _cmd_show(args) -> int:
    from nasbook.results import SearchResult

    result = SearchResult.load(args.run_dir)
    manifest = result.manifest
    print(f"run dir:   {result.run_dir}")
    print(f"dataset:   {manifest['dataset']['name']} (train {manifest['dataset']['n_train']}, "
          f"val {manifest['dataset']['n_val']})")
    print(f"strategy:  {manifest.get('strategy')}, objective {result.objective} "
          f"({result.direction})")
    print(f"stopped:   {result.stop_reason}")
    print(f"trials:    {result.summary()}\n")
    if len(result):
        frame_text = result.trials.to_string() if args.all else result.table()
        print(frame_text)
    _print_best(result)
    if args.csv:
        print(f"\nwrote {result.to_csv(args.csv)}")
    return 0


def _cmd_explain(args) -> int:
    import pandas as pd

    from nasbook.explain import search as xs
    from nasbook.results import SearchResult

    result = SearchResult.load(args.run_dir)
    trials = xs.prepare(result)
    n = len(trials)
    print(f"{n} distinct architectures finished ({result.summary()}); objective "
          f"{result.objective} ({result.direction}); decisions that varied: "
          f"{', '.join(trials.attrs['decisions']) or 'none'}")
    methods = args.methods or (["fanova", "shap"]
                               + (["ped_anova"] if n * args.top_fraction >= 2 else []))
    with pd.option_context("display.width", 120, "display.precision", 3):
        imp = xs.importance(result, methods=methods, seed=args.seed,
                            ped_anova_quantile=args.top_fraction)
        r2 = imp.attrs["surrogate_r2"]
        print(f"\ndecision importance (each column sums to 1); tree surrogate cross-validated "
              f"R² = {r2:.2f}" + (" (under 10 architectures: not cross-validated; treat "
                                   "shap as a guess)" if r2 != r2 else "" if r2 > 0.5 else
                                   " — too low to trust the surrogate-based numbers"))
        print(imp.sort_values(imp.columns[0], ascending=False).to_string())
        print("\nstrongest pairwise interactions (share of the surrogate's variance):")
        print(xs.interactions(result, top=3, seed=args.seed)[["pair", "strength"]]
              .to_string(index=False))
        if n >= 10:
            rules = xs.rules(result, top_fraction=args.top_fraction)
            print(f"\nrules for the top {args.top_fraction:.0%} "
                  f"({result.objective} {'≥' if result.direction == 'max' else '≤'} "
                  f"{rules.attrs['threshold']:.4f}):")
            print(rules.head(5).to_string(index=False))
        else:
            print("\nrules: need at least 10 architectures")
        print("\nthe winner beside the runners-up:")
        print(xs.winner_vs_runners_up(result).to_string())
    return 0


def _cmd_report(args) -> int:
    from nasbook.report import write_report

    path = write_report(args.run_dir, args.out, seed=args.seed)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


def _cmd_grade(args) -> int:
    from nasbook import grade

    results = grade.grade(args.notebooks, timeout=args.timeout, quick=not args.full,
                          reference=args.reference,
                          progress=lambda r: print(f"graded {r['notebook']}: {r['passed']}/"
                                                   f"{r['total']} in {r['seconds']:.0f} s",
                                                   file=sys.stderr, flush=True))
    print(grade.format_table(results))
    if args.json:
        print(f"\nwrote {grade.write_json(results, args.json)}")
    return 0


def _cmd_worker(args) -> int:
    import os

    from nasbook.distributed import die_with_chief, run_worker

    die_with_chief()  # before TensorFlow loads: a killed local chief takes its workers along
    code = run_worker(args.chief, args.run_dir, tuner_id=args.tuner_id,
                      connect_timeout=args.connect_timeout)
    # every file is written (atomically); skip TensorFlow's and gRPC's slow teardown so the
    # chief sees this worker gone at once
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _cmd_tensorboard(args) -> int:
    from nasbook import tensorboard

    server = tensorboard.start(args.run_dir, port=args.port)
    print(f"TensorBoard on {args.run_dir}: {server.url}  (Ctrl-C to stop)", flush=True)
    try:
        server.proc.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def _cmd_notebooks(args) -> int:
    from nasbook.book import copy_notebooks

    written = copy_notebooks(args.dest, force=args.force)
    print(f"copied {len(written)} notebooks into {Path(args.dest).expanduser()}; open them "
          f"with: jupyter lab {args.dest}")
    return 0


def _cmd_bench(args) -> int:
    from nasbook.bench.__main__ import main as bench_main

    bench_main(args.bench_args)
    return 0


def main(argv=None) -> int:
    """Entry point of the ``nasbook`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {"search": _cmd_search, "show": _cmd_show, "explain": _cmd_explain,
                "report": _cmd_report, "grade": _cmd_grade, "bench": _cmd_bench,
                "worker": _cmd_worker, "tensorboard": _cmd_tensorboard,
                "notebooks": _cmd_notebooks}
    try:
        return handlers[args.command](args)
    except KeyboardInterrupt:
        print("nasbook: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    except (ValueError, RuntimeError, OSError) as exc:  # our errors say what to do
        print(f"nasbook: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
