"""A tabular NAS benchmark on MNIST-1D: every architecture of a small space trained under one
recipe, so a search can be simulated by looking scores up instead of training.

Usage: ``python -m nasbook.bench build`` (resumable; see :mod:`nasbook.bench.build`).
"""
from nasbook.bench.space import DECISIONS, RECIPE, all_configs, bench_space
from nasbook.bench.simulate import lookup_table, simulate
from nasbook.bench.table import TABLE_PATH, BenchmarkError, load

__all__ = ["DECISIONS", "RECIPE", "all_configs", "bench_space", "load", "TABLE_PATH",
           "BenchmarkError", "simulate", "lookup_table"]
