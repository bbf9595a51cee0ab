"""How rankings and importances carry from one task's table to another's (the same 324
architectures trained under one recipe on several tasks), and what task A's table is worth to a
search on task B.

Per-architecture scores are means over a table's seeds (:func:`~nasbook.bench.lookup_table`);
two tables are joined on the decisions. Intervals are percentile bootstraps that resample
architectures. A cross-task correlation is read beside each task's noise ceiling: the
correlation between two training seeds of the same task (what "the same ranking" looks like
through training noise); a task with one seed has none, and says so.

Usage::

    a, b = nb.bench.load(), nb.bench.load(task="near")
    print(nb.bench.rank_correlation(a, b))                 # Kendall tau, Spearman rho, n
    print(nb.bench.noise_ceiling(a))                        # seed 0 vs seed 1 of task A
    print(nb.bench.rank_correlation(a, b, top=0.1))         # among A's top 10%
    nb.bench.anova_side_by_side({"original": a, "near": b})
    nb.bench.transfer_regret(a, b)                          # A's pick, scored on B
    frame = nb.bench.transfer_compare(a, b, budget=100, seeds=100)   # warm vs cold searches
    nb.bench.transfer_verdicts(frame, at=(375, 750))       # paired, by cost in epochs
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nasbook.bench.compare import compare, paired_comparison, regret_on_grid
from nasbook.bench.simulate import lookup_table
from nasbook.bench.space import DECISIONS, RECIPE

__all__ = ["Correlation", "rank_correlation", "noise_ceiling", "anova_side_by_side", "top_overlap",
           "TransferRegret", "transfer_regret", "transfer_options", "transfer_compare",
           "transfer_verdicts", "transfer_lines", "TRANSFER_LABELS"]


@dataclass(frozen=True)
class Correlation:
    """Kendall tau and Spearman rho over ``n`` architectures with bootstrap intervals (NaN,
    with a ``note``, where there is nothing to correlate)."""

    what: str
    n: int
    tau: float
    tau_low: float
    tau_high: float
    rho: float
    rho_low: float
    rho_high: float
    level: float
    note: str = ""

    def __str__(self) -> str:
        head = f"{self.what}: " if self.what else ""
        if not np.isfinite(self.tau):
            return f"{head}no figure ({self.note})"
        tail = f"; {self.note}" if self.note else ""
        return (f"{head}Kendall tau {self.tau:+.3f} [{self.tau_low:+.3f}, {self.tau_high:+.3f}],"
                f" Spearman rho {self.rho:+.3f} [{self.rho_low:+.3f}, {self.rho_high:+.3f}] "
                f"(n = {self.n} architectures, bootstrap {self.level:.0%} over architectures"
                f"{tail})")


def _scores(table, score, seed=None):
    rows = table if seed is None else table[table["seed"] == seed]
    if rows.empty:
        raise ValueError(f"the table has no runs with seed {seed}; it has seeds "
                         f"{sorted(table['seed'].unique())}")
    return lookup_table(rows)[score] if score in ("val_accuracy", "test_accuracy") else \
        lookup_table(rows, columns=[score])[score]


def _correlate(x, y, what, n_boot, seed, level, note=""):
    from scipy import stats

    x, y = np.asarray(x, float), np.asarray(y, float)
    n = len(x)
    if n < 3:
        return Correlation(what, n, *(math.nan,) * 6, level,
                           note or f"{n} architectures in common: too few to correlate")
    tau, rho = stats.kendalltau(x, y)[0], stats.spearmanr(x, y)[0]
    rng = np.random.default_rng(seed)
    boot = np.empty((n_boot, 2))
    for i in range(n_boot):
        j = rng.integers(0, n, n)
        boot[i] = stats.kendalltau(x[j], y[j])[0], stats.spearmanr(x[j], y[j])[0]
    lo, hi = np.nanquantile(boot, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return Correlation(what, n, float(tau), float(lo[0]), float(hi[0]), float(rho),
                       float(lo[1]), float(hi[1]), level, note)


def rank_correlation(table_a, table_b, *, score="test_accuracy", top=None, seeds=None,
                     n_boot=1000, seed=0, level=0.95, what="") -> Correlation:
    """Kendall tau and Spearman rho of the per-architecture ``score`` of two tables (means
    over each table's seeds; ``seeds=(sa, sb)``: one run of each instead, the figure to read
    beside :func:`noise_ceiling`), over the architectures both have. ``top``: only the best
    ``top`` fraction of ``table_a``'s architectures by its ``score`` (0.1: A's top 10%),
    where a ranking matters to a search. Bootstrap (``n_boot`` resamples of architectures,
    generator ``seed``) for the ``level`` intervals.

    Usage: ``nb.bench.rank_correlation(nb.bench.load(), nb.bench.load(task="far"), top=0.1)``
    """
    sa, sb = (None, None) if seeds is None else seeds
    a, b = _scores(table_a, score, sa), _scores(table_b, score, sb)
    note = ""
    if top is not None:
        if not 0 < top <= 1:
            raise ValueError(f"top is a fraction of table A's architectures in (0, 1], got "
                             f"{top!r}")
        k = max(1, math.ceil(top * len(a) - 1e-9))
        a = a.sort_values(ascending=False).iloc[:k]
        note = f"A's top {top:.0%}: its best {k} by {score}"
    both = pd.concat([a.rename("a"), b.rename("b")], axis=1, join="inner")
    return _correlate(both["a"], both["b"], what, n_boot, seed, level, note)


def noise_ceiling(table, *, score="test_accuracy", seeds=(0, 1), n_boot=1000, seed=0,
                  level=0.95, what="") -> Correlation:
    """The correlation between two training seeds of one task over the architectures run
    with both: how well a task's ranking agrees with itself through training noise, the
    ceiling a cross-task correlation of single runs is read against. A table with fewer than
    two of ``seeds`` gives NaN and a note that no ceiling can be given.

    Usage: ``print(nb.bench.noise_ceiling(nb.bench.load()))``
    """
    have = sorted(int(s) for s in table["seed"].unique()) if "seed" in table.columns else []
    s0, s1 = seeds
    if s0 not in have or s1 not in have:
        return Correlation(what, 0, *(math.nan,) * 6, level,
                           f"the table has seed(s) {have}: one seed, no noise ceiling can be "
                           f"given")
    a, b = _scores(table, score, s0), _scores(table, score, s1)
    both = pd.concat([a.rename("a"), b.rename("b")], axis=1, join="inner")
    return _correlate(both["a"], both["b"], what, n_boot, seed, level,
                      f"seed {s0} vs seed {s1}")


def anova_side_by_side(tables: dict, *, score="test_accuracy", max_order=2) -> pd.DataFrame:
    """The exact functional ANOVA (:func:`nasbook.explain.functional_anova`) of each task's
    table, one column per task (share of that task's variance), one row per term (main
    effects, then two-way interactions up to ``max_order``), ordered by the first task's
    shares; a ``rest`` row holds what the listed terms leave. Each table must hold every
    architecture.

    Usage: ``nb.bench.anova_side_by_side({"original": a, "far": b})``
    """
    from nasbook.explain.anova import functional_anova

    if not tables:
        raise ValueError("pass {task: table} for at least one task")
    columns = {}
    order = None
    for task, table in tables.items():
        anova = functional_anova(table, score=score, decisions=list(DECISIONS))
        anova = anova[anova["order"] <= max_order]
        if order is None:
            order = anova[["term", "order"]]
        columns[task] = anova.set_index("term")["fraction"]
    out = pd.DataFrame(columns).loc[order.sort_values("order", kind="stable")["term"]]
    out.loc["rest"] = 1.0 - out.sum()
    out.index.name = "term"
    out.attrs["score"] = score
    return out


def top_overlap(table_a, table_b, *, k=10, score="test_accuracy") -> int:
    """How many of task B's ``k`` best architectures (by mean ``score``) are among task A's
    ``k`` best: where a warm start of ``k`` can find B's best at once.

    Usage: ``nb.bench.top_overlap(nb.bench.load(), nb.bench.load(task="far"), k=10)``
    """
    a, b = _scores(table_a, score), _scores(table_b, score)
    top_a = set(a.sort_values(ascending=False, kind="stable").index[:k])
    return int(sum(i in top_a for i in b.sort_values(ascending=False, kind="stable").index[:k]))


@dataclass(frozen=True)
class TransferRegret:
    """Task A's pick scored on task B: ``regret`` = B's best mean ``score`` minus B's mean
    ``score`` of the architecture picked (B's validation accuracy picks among A's ``k`` best
    by A's validation accuracy); ``own_regret``: the same with B's own validation accuracy
    picking among all of B's architectures (what selecting by validation costs on B)."""

    k: int
    picked: dict
    regret: float
    own_regret: float
    best_on_b: float
    rank_on_b: int
    n: int

    def __str__(self) -> str:
        arch = ", ".join(f"{d}={v}" for d, v in self.picked.items())
        best = "A's best" if self.k == 1 else f"the pick of A's best {self.k}"
        return (f"{best} ({arch}) on B: regret {self.regret:.4f} (rank {self.rank_on_b} of "
                f"{self.n} on B; B's best {self.best_on_b:.4f}); B's own validation pick: "
                f"regret {self.own_regret:.4f}")


def transfer_regret(table_a, table_b, *, k=1, select="val_accuracy",
                    score="test_accuracy") -> TransferRegret:
    """The regret on task B of task A's best architecture (``k`` = 1: selected by A's mean
    ``select``, scored by B's mean ``score``), or of the best of A's top ``k`` as B's own
    ``select`` would pick it (``k`` trials on B). The regret of a task's own pick on itself is
    0 exactly when its validation and test accuracy agree on the best architecture.

    Usage: ``print(nb.bench.transfer_regret(nb.bench.load(), nb.bench.load(task="near")))``
    """
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k is a positive number of architectures, got {k!r}")
    a, b = lookup_table(table_a), lookup_table(table_b)
    b_best = float(b[score].max())
    top_a = a[select].sort_values(ascending=False, kind="stable").index[:k]
    shared = [i for i in top_a if i in b.index]
    if not shared:
        raise ValueError("none of A's picks is in table B: the tables share no architecture")
    pick = b.loc[shared, select].idxmax()
    rank = int((b[score] > b.loc[pick, score]).sum()) + 1
    own = b.loc[b[select].idxmax(), score]
    picked = {d: (v.item() if isinstance(v, np.generic) else v)
              for d, v in zip(DECISIONS, pick)}
    return TransferRegret(int(k), picked, b_best - float(b.loc[pick, score]),
                          b_best - float(own), b_best, rank, len(b))


def transfer_options(table_a, *, k=10, warm=True, prior=True, temperature=0.05,
                     floor=0.1) -> dict:
    """The options of strategy ``"transfer"`` learnt from task A's table: ``warm_start`` =
    A's ``k`` best architectures by mean validation accuracy (best first), ``prior`` =
    :func:`nasbook.strategies.transfer.fit_prior` on A's validation accuracy. Nothing of A's
    test accuracy is used.

    Usage: ``nb.bench.simulate("transfer", 50, table=b, **nb.bench.transfer_options(a))``
    """
    from nasbook.strategies.transfer import fit_prior

    out = {}
    scores = lookup_table(table_a)["val_accuracy"]
    if warm:
        best = scores.sort_values(ascending=False, kind="stable").index[:k]
        out["warm_start"] = [{d: (v.item() if isinstance(v, np.generic) else v)
                              for d, v in zip(DECISIONS, key)} for key in best]
    if prior:
        out["prior"] = fit_prior(scores.reset_index(), list(DECISIONS), "val_accuracy",
                                 temperature=temperature, floor=floor)
    return out


# the strategies of a transfer comparison: cold starts and three ways of using task A
TRANSFER_LABELS = ("random", "evolution", "warm_start", "prior", "warm_prior")


def transfer_compare(table_a, table_b, budget=100, seeds=100, *, k=10, population_size=10,
                     sample_size=3, temperature=0.05, floor=0.1, progress=None) -> pd.DataFrame:
    """Simulated searches on task B (:func:`~nasbook.bench.compare`, cost in epochs): cold
    starts (``random``, ``evolution``) against aging evolution that uses task A's table
    (``warm_start``: A's top ``k`` first; ``prior``: sampling from A's main effects;
    ``warm_prior``: both), all evolutions with the same population and tournament.

    Usage: ``frame = nb.bench.transfer_compare(a, b, budget=100, seeds=100)``
    """
    evo = {"population_size": population_size, "sample_size": sample_size}
    fit = {"k": k, "temperature": temperature, "floor": floor}
    options = {"evolution": evo,
               "warm_start": {**evo, **transfer_options(table_a, prior=False, **fit)},
               "prior": {**evo, **transfer_options(table_a, warm=False, **fit)},
               "warm_prior": {**evo, **transfer_options(table_a, **fit)}}
    labels = {"random": "random", "evolution": "evolution", "warm_start": "transfer",
              "prior": "transfer", "warm_prior": "transfer"}
    return compare(labels, budget, seeds, table=table_b, options=options, progress=progress)


def transfer_verdicts(frame, at, *, against=("evolution", "random"), level=0.95,
                      what="") -> pd.DataFrame:
    """Paired comparisons (:func:`~nasbook.bench.paired_comparison`) of every strategy of
    ``frame`` against each of ``against``, at each cost ``at`` (epochs trained,
    :data:`RECIPE` ``["epochs"]`` per architecture), pairing runs by seed. Both claims are
    judged: ``verdict`` on "a has lower regret than b" (transfer helps) and ``verdict_worse``
    on "a has higher regret than b" (it hurts); at most one can be met. One row per (cost,
    pair) with ``cumulative_epochs`` and ``evaluations`` in front; :func:`transfer_lines`
    prints them.

    Usage: ``nb.bench.transfer_verdicts(frame, at=(150, 375, 750, 1500))``
    """
    at = list(np.atleast_1d(at))
    grid = regret_on_grid(frame, "cumulative_epochs", grid=at)
    rows = []
    for cost, part in grid.groupby("cumulative_epochs", sort=True):
        wide = part.pivot(index="seed", columns="strategy", values="regret")
        wide = wide[[s for s in dict.fromkeys(frame["strategy"]) if s in wide.columns]]
        baselines = [b for b in against if b in wide.columns]
        # every strategy against each baseline; two baselines compared once (later - earlier)
        pairs = [(s, b) for i, b in enumerate(baselines) for s in wide.columns
                 if s != b and s not in baselines[:i]]
        label = what or f"regret at {cost:g} epochs"
        table = paired_comparison(wide, pairs, better="lower", level=level, what=label)
        worse = paired_comparison(wide, pairs, better="higher", level=level, what=label)
        table["verdict_worse"], table["bound_worse"] = worse["verdict"], worse["bound"]
        table.insert(0, "evaluations", cost / RECIPE["epochs"])
        table.insert(0, "cumulative_epochs", cost)
        rows.append(table)
    out = pd.concat(rows, ignore_index=True)
    out.attrs["level"] = level
    return out


def transfer_lines(verdicts) -> list:
    """One printed line per row of :func:`transfer_verdicts`: the paired difference of
    regrets with its two-sided interval, and the verdicts on "lower" and on "higher" with the
    one-sided bounds that decide them (at ``level`` 0.95: the ends of the two-sided 90%
    interval).

    Usage: ``print(*nb.bench.transfer_lines(nb.bench.transfer_verdicts(f, 375)), sep="\\n")``
    """
    lines, level = [], verdicts.attrs.get("level", 0.95)
    for r in verdicts.itertuples(index=False):
        lines.append(f"{r.cumulative_epochs:g} epochs ({r.evaluations:g} evaluations): "
                     f"{r.a} - {r.b} regret {r.difference:+.4f} (n = {r.n} seeds, paired t "
                     f"{level:.0%} [{r.low:+.4f}, {r.high:+.4f}], p = {r.p_value:.3g}); "
                     f"{r.a} lower: {r.verdict.upper()} (one-sided {level:.0%} upper bound "
                     f"{r.bound:+.4f}); {r.a} higher: {r.verdict_worse.upper()} (lower bound "
                     f"{r.bound_worse:+.4f})")
    return lines
