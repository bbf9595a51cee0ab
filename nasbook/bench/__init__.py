"""A tabular NAS benchmark on MNIST-1D: every architecture of a small space trained under one
recipe, so a search can be simulated by looking scores up instead of training.

Usage: ``python -m nasbook.bench build`` (resumable; see :mod:`nasbook.bench.build`);
``nb.bench.simulate("evolution", 100)`` runs a search on it; ``nb.bench.compare([...])``
compares strategies over many seeds (regret, evaluations to a top architecture);
``nb.bench.recovery(...)`` measures how well importance estimated from trials recovers the
exact functional ANOVA of the table. ``python -m nasbook.bench explain-build`` builds the
explanation-quality table (:mod:`nasbook.bench.explain_build`), read by
``nb.bench.load_explanations()``; ``nb.bench.pareto_front(...)`` and
``nb.bench.pareto_compare(...)`` compare searches over several objectives (hypervolume regret);
``nb.bench.rank_correlation(a, b)`` and ``nb.bench.transfer_compare(a, b)`` measure how one
task's table carries to another's (:mod:`nasbook.bench.transfer`).
"""
from nasbook.bench.space import DECISIONS, RECIPE, TASKS, all_configs, bench_space, task_dataset
from nasbook.bench.simulate import architecture_curves, curve_columns, lookup_table, simulate
from nasbook.bench.compare import (compare, evaluations_to_top, first_top, paired_comparison,
                                   regret_bands, regret_on_grid, regret_summary, time_to_top,
                                   top_architectures, top_hit_probability)
from nasbook.bench.pareto import (architecture_points, front_hypervolume, hypervolume_regret,
                                  pareto_compare, pareto_front, pareto_summary,
                                  reference_point, regret_at_budgets)
from nasbook.bench.table import (AGAINST_RANDOM, EXPLANATIONS_PATH, TABLE_PATH,
                                 BenchmarkError, against_random, load, load_explanations,
                                 task_path)
from nasbook.bench.explain_build import agreement_with, map_agreement
from nasbook.bench.recovery import (QUICK as RECOVERY_QUICK, recovery, recovery_bands,
                                    recovery_summary)
from nasbook.bench.transfer import (TRANSFER_LABELS, Correlation, TransferRegret,
                                    anova_side_by_side, noise_ceiling, rank_correlation,
                                    top_overlap, transfer_compare, transfer_lines, transfer_options,
                                    transfer_regret, transfer_verdicts)

__all__ = ["DECISIONS", "RECIPE", "TASKS", "task_dataset", "task_path", "all_configs",
           "bench_space", "load", "TABLE_PATH", "load_explanations", "against_random",
           "AGAINST_RANDOM", "EXPLANATIONS_PATH", "map_agreement", "agreement_with",
           "BenchmarkError", "simulate", "lookup_table", "curve_columns", "architecture_curves",
           "compare", "regret_on_grid", "regret_summary", "regret_bands", "top_hit_probability",
           "top_architectures", "first_top", "evaluations_to_top", "time_to_top",
           "paired_comparison", "recovery", "recovery_summary", "recovery_bands", "RECOVERY_QUICK",
           "architecture_points", "pareto_front", "reference_point", "front_hypervolume",
           "hypervolume_regret", "regret_at_budgets", "pareto_compare", "pareto_summary",
           "rank_correlation", "noise_ceiling", "Correlation", "anova_side_by_side",
           "transfer_regret", "TransferRegret", "transfer_options", "transfer_compare",
           "transfer_verdicts", "transfer_lines", "TRANSFER_LABELS", "top_overlap"]
