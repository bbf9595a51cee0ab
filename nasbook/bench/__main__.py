"""``nasbook bench build [--out PATH] [--workers N] [--limit N] [--seeds 0 1]``
(also ``python -m nasbook.bench build ...``)."""
import argparse

from nasbook.bench.build import build, default_build_path


def main(argv=None):
    parser = argparse.ArgumentParser(prog="nasbook bench")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="train what is missing from the benchmark table")
    b.add_argument("--out", default=None, help=f"CSV to append to (default "
                                               f"{default_build_path()})")
    b.add_argument("--workers", type=int, default=2)
    b.add_argument("--limit", type=int, default=None, help="train at most this many runs")
    b.add_argument("--seeds", type=int, nargs="+", default=None)
    args = parser.parse_args(argv)
    path = build(args.out, seeds=args.seeds, workers=args.workers, limit=args.limit)
    print(path)


if __name__ == "__main__":
    main()
