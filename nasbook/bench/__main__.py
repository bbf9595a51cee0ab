"""``nasbook bench build [--out PATH] [--workers N] [--limit N] [--seeds 0 1] [--task near]``
and ``nasbook bench explain-build [--out PATH] [--workers N] [--limit N] [--seeds 0]``
and ``nasbook bench explain-ship BUILT [--dest PATH] [--maps FILE] [--keep TABLE]`` (a
finished build -> the shipped table with agreement columns and its checksum)
(also ``python -m nasbook.bench``)."""
import argparse

from nasbook.bench.build import build, default_build_path
from nasbook.bench.explain_build import (EXAMPLES, default_explain_path, explain_build,
                                         pack_maps, ship)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="nasbook bench")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="train what is missing from the benchmark table")
    b.add_argument("--out", default=None, help=f"CSV to append to (default "
                                               f"{default_build_path()})")
    b.add_argument("--workers", type=int, default=2)
    b.add_argument("--limit", type=int, default=None, help="train at most this many runs")
    b.add_argument("--seeds", type=int, nargs="+", default=None)
    b.add_argument("--task", default="original", help="original (MNIST-1D), near (more noise) "
                                                      "or far (positions shuffled)")
    e = sub.add_parser("explain-build", help="train and explain what is missing from the "
                                             "explanation-quality table")
    e.add_argument("--out", default=None, help=f"CSV to append to (default "
                                               f"{default_explain_path()}); maps go to "
                                               f"<out>_maps/")
    e.add_argument("--workers", type=int, default=2)
    e.add_argument("--limit", type=int, default=None, help="run at most this many")
    e.add_argument("--seeds", type=int, nargs="+", default=[0])
    e.add_argument("--epochs", type=int, default=None,
                   help="override the recipe's epochs (quick looks and tests only)")
    e.add_argument("--examples", type=int, default=EXAMPLES,
                   help="how many test examples to explain (the first ones)")
    s = sub.add_parser("explain-ship", help="a finished explain-build -> data/ table with "
                                            "agreement columns and its SHA-256")
    s.add_argument("built", help="the CSV the build wrote (its maps in <built>_maps/)")
    s.add_argument("--dest", default=None, help="default data/mnist1d_explanations.csv")
    s.add_argument("--maps", default=None, help="also pack every map into this .npz")
    s.add_argument("--keep", default=None, help="a shipped table whose rows stay as they are "
                                                "(add a new seed beside them)")
    args = parser.parse_args(argv)
    if args.command == "build":
        path = build(args.out, seeds=args.seeds, workers=args.workers, limit=args.limit,
                     task=args.task)
    elif args.command == "explain-ship":
        path = ship(args.built, args.dest, keep=args.keep)
        if args.maps:
            print(pack_maps(args.built, args.maps))
    else:
        extra = {} if args.epochs is None else {"epochs": args.epochs}
        path = explain_build(args.out, seeds=args.seeds, workers=args.workers,
                             limit=args.limit, examples=args.examples, **extra)
    print(path)


if __name__ == "__main__":
    main()
