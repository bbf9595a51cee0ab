"""Cheap estimates inside a search, on the benchmark table, with the cost counted honestly.

Cost is in seconds: each architecture a search trains costs its table ``train_time_s`` (the
full 15-epoch recipe, mean over seeds, on the machine that built the table, one TensorFlow
thread per run: about one CPU-second per second); the cheap estimate costs what its caller
passes as ``upfront_s``, paid before the first training. Pass its **CPU seconds** (the
proxies' ``attrs["cpu_time_s"]``, a supernet run's ``cpu_time_s``), not its wall time: the
wall time of a run on a shared machine includes waiting for other processes, and the table's
clock was not this run's. A search picks by validation accuracy and is judged by the mean
test accuracy of its pick, as :func:`nasbook.bench.simulate` does; the validation accuracy it
sees is the mean of the table's two seeds, less noisy than one training run, so every search
here is a little optimistic.

- :func:`prescreen_search`: keep the top ``keep`` fraction of architectures by a cheap score,
  then run a strategy (evolution by default) on the survivors only: a proposal outside them
  is rejected without training (cost 0; the strategy sees a failed trial).
- :func:`pruned_search`: train a small sample (random, or biased: the trials an evolution run
  trains right after its random initial population, so that selection shaped them), rank the
  decisions by importance on it (``nasbook.explain.search``), fix the
  ``fix`` most important ones to their best value in the sample, and search what is left.
- :func:`baseline`: plain random search or evolution with the same cost bookkeeping.

All return a history with ``cumulative_seconds`` and ``regret``, so
``nb.bench.regret_summary(frame, at=[...], x="cumulative_seconds")`` compares them at equal
cost with Student-t intervals over seeds. Usage::

    frame = cheap.compare({"random": functools.partial(cheap.baseline, "random"),
                           "prescreen": cheap.prescreen(scores, upfront_s=30),
                           "pruned": cheap.pruned(sample=20, fix=2)},
                          budget_s=1200, seeds=100)
"""
from __future__ import annotations

import functools

import keras_tuner as kt
import numpy as np
import pandas as pd

from nasbook.bench.space import DECISIONS

__all__ = ["prescreen_search", "pruned_search", "baseline", "prescreen", "pruned", "compare",
           "paired_regret", "verdict_lines", "pruned_space", "pruning_danger", "CheapSearchError", "FILL"]

NAMES = list(DECISIONS)


class CheapSearchError(ValueError):
    """A search asked for something the table cannot answer."""


def _truth(table):
    from nasbook.oneshot.audit import truth

    if table is None:
        from nasbook.bench.table import load

        table = load()
    return truth(table)


def _index(t):
    return {tuple(row): i for i, row in zip(t.index, t[NAMES].itertuples(index=False))}


def _oracle(strategy, allowed, budget, seed, options):
    from nasbook import strategies

    oracle = strategies.get(strategy, objective=kt.Objective("val_accuracy", "max"),
                            max_trials=budget, seed=seed, **options)
    hp = kt.HyperParameters()
    for name in NAMES:
        values = list(allowed[name])
        if len(values) > 1:
            hp.Choice(name, values)
        else:
            hp.Fixed(name, values[0])
    oracle.hyperparameters = hp
    return oracle


def _run(strategy, allowed, seed, options, evaluate, done=lambda: False):
    """Drive ``strategy`` over the ``allowed`` grid until it is exhausted or ``done()``."""
    from nasbook.strategies.base import drive

    size = int(np.prod([len(v) for v in allowed.values()]))
    oracle = _oracle(strategy, allowed, size, seed, dict(options))
    oracle.max_consecutive_failed_trials = size + 1   # screened-out proposals are expected

    def scored(values):
        try:
            return evaluate(values)
        finally:
            if done():   # the budget is spent: this is the last trial
                oracle.max_trials = len(oracle.trials)

    return drive(oracle, scored, size, persist=False)


class _Spend:
    """Running cost of the trained architectures, to stop a search at its budget."""

    def __init__(self, t, budget_s, upfront_s=0.0):
        self.t, self.budget_s, self.spent, self.seen = t, budget_s, float(upfront_s), set()

    def add(self, i):
        if i not in self.seen:
            self.seen.add(i)
            self.spent += float(self.t.loc[i, "train_time_s"])

    def done(self):
        return self.spent > self.budget_s


def _frame(arch_ids, t, *, upfront_s=0.0, label="search", seed=0,
           budget_s=np.inf) -> pd.DataFrame:
    """Rows of trained architectures in order, with cost and regret; cut at ``budget_s``."""
    best = t["test"].max()
    rows, best_val, best_test, spent = [], -np.inf, np.nan, float(upfront_s)
    for step, i in enumerate(arch_ids, start=1):
        cost = float(t.loc[i, "train_time_s"])
        if spent + cost > budget_s:
            break
        spent += cost
        val, test = float(t.loc[i, "val"]), float(t.loc[i, "test"])
        if val > best_val:
            best_val, best_test = val, test
        rows.append({"strategy": label, "seed": seed, "evaluation": step, "arch_id": i,
                     **t.loc[i, NAMES].to_dict(), "val_accuracy": val, "test_accuracy": test,
                     "cost_s": cost, "cumulative_seconds": spent, "best_val_so_far": best_val,
                     "test_of_best_so_far": best_test, "regret": best - best_test})
    frame = pd.DataFrame(rows)
    frame["budget"] = np.inf   # cut by cost, not by a number of evaluations
    return frame


def baseline(strategy="random", *, table=None, truth_frame=None, seed=0, budget_s=np.inf,
             label=None, **options) -> pd.DataFrame:
    """Plain ``strategy`` over the whole space, cost in seconds. Usage: ``baseline("evolution")``"""
    t = _truth(table) if truth_frame is None else truth_frame
    index = _index(t)
    order, spend = [], _Spend(t, budget_s)

    def evaluate(values):
        i = index[tuple(values[n] for n in NAMES)]
        order.append(i)
        spend.add(i)
        return t.loc[i, "val"]

    _run(strategy, DECISIONS, seed, options, evaluate, spend.done)
    return _frame(order, t, label=label or strategy, seed=seed, budget_s=budget_s)


def prescreen_search(scores, *, keep=0.25, strategy="evolution", upfront_s=0.0, table=None,
                     truth_frame=None, seed=0, budget_s=np.inf, label="prescreen",
                     **options) -> pd.DataFrame:
    """Keep the top ``keep`` fraction by ``scores`` (a Series by arch_id; ties at the cut are
    kept; an integer ``keep`` > 1 is a number of architectures; unscored architectures, NaN,
    rank last), then ``strategy`` on the survivors; ``upfront_s`` is the cheap estimate's cost.
    ``attrs["survivors"]``: the kept arch_ids; ``attrs["best_kept"]``: whether the true best
    survived. Usage: ``prescreen_search(proxy_scores, keep=0.25, upfront_s=40)``"""
    from nasbook.oneshot.audit import as_scores

    t = _truth(table) if truth_frame is None else truth_frame
    if not 0 < keep <= len(t) or (keep > 1 and keep != int(keep)):
        raise CheapSearchError(f"keep is a fraction in (0, 1] or a number of architectures, "
                               f"got {keep!r}")
    s = as_scores(pd.Series(scores, dtype=float).reindex(t.index), t.index)
    n_keep = int(keep) if keep > 1 else max(1, int(round(keep * len(s))))
    cut = s.sort_values(ascending=False).iloc[n_keep - 1]
    survivors = set(s.index[s >= cut])
    index = _index(t)
    order, spend = [], _Spend(t, budget_s, upfront_s)

    def evaluate(values):
        i = index[tuple(values[n] for n in NAMES)]
        if i not in survivors:
            raise CheapSearchError("screened out")   # not trained: a failed trial, cost 0
        order.append(i)
        spend.add(i)
        return t.loc[i, "val"]

    _run(strategy, DECISIONS, seed, options, evaluate, spend.done)
    frame = _frame(order, t, upfront_s=upfront_s, label=label, seed=seed, budget_s=budget_s)
    frame.attrs.update(survivors=sorted(survivors), best_kept=t["test"].idxmax() in survivors)
    return frame


def pruned_space(sample, *, fix=2, method="fanova", seed=0) -> dict:
    """From trained ``sample`` trials (decisions + ``val_accuracy``): the importance of each
    decision by ``method`` (fanova, ped_anova or shap, as ``nasbook.explain.search``), and the
    ``fix`` most important decisions fixed to the value with the best mean validation
    accuracy in the sample. Returns ``{decision: [allowed values]}`` for every decision."""
    from nasbook.explain import search as xs

    imp = xs.importance(sample[NAMES + ["val_accuracy"]], methods=[method], seed=seed)[method]
    allowed = {n: list(v) for n, v in DECISIONS.items()}
    for name in imp.sort_values(ascending=False).index[:fix]:
        best = sample.groupby(name)["val_accuracy"].mean().idxmax()
        allowed[name] = [best.item() if isinstance(best, np.generic) else best]
    return allowed


FILL = 10   # evolution's population: its first FILL trials are random, selection starts after


def _sample(source, n, t, seed, fill=FILL):
    """``(paid, sample)``: the architectures trained, and the ones the pruning looks at.

    ``"random"``: n drawn uniformly (paid = sample). ``"evolution"``: an evolution run with a
    population of ``fill``; its first ``fill`` trials are its random initial population, so
    the biased sample is the n trials after them (trials fill + 1 … fill + n, all of them
    children chosen by selection); all fill + n were trained and are paid for."""
    if source == "random":
        rng = np.random.default_rng(seed)
        first = list(rng.choice(t.index.to_numpy(), size=n, replace=False))
        return first, first
    if source == "evolution":   # the run stops once it has trained fill + n
        index, paid = _index(t), []

        def evaluate(values):
            paid.append(index[tuple(values[name] for name in NAMES)])
            return t.loc[paid[-1], "val"]

        _run("evolution", DECISIONS, seed, {"population_size": fill}, evaluate,
             lambda: len(paid) >= fill + n)
        return paid[:fill + n], paid[fill:fill + n]
    raise CheapSearchError(f"sample source must be 'random' or 'evolution', got {source!r}")


def pruned_search(*, sample=20, fix=2, source="random", method="fanova", strategy="evolution",
                  table=None, truth_frame=None, seed=0, budget_s=np.inf, label="pruned",
                  fill=FILL, **options) -> pd.DataFrame:
    """Train ``sample`` architectures (``source`` random, or evolution after its ``fill``
    random ones: see :func:`_sample`), prune the space with :func:`pruned_space`, then run
    ``strategy`` on the smaller space; every trained trial is part of the history (already
    paid for; met again, it costs nothing).
    ``attrs``: ``allowed`` (the pruned space), ``best_kept`` (whether the true best is in it).
    Usage: ``pruned_search(sample=20, fix=2, seed=0)``"""
    t = _truth(table) if truth_frame is None else truth_frame
    paid, first = _sample(source, sample, t, seed, fill)
    allowed = pruned_space(t.loc[first, NAMES].assign(val_accuracy=t.loc[first, "val"]),
                           fix=fix, method=method, seed=seed)
    index = _index(t)
    order, spend = list(paid), _Spend(t, budget_s)
    for i in paid:
        spend.add(i)

    def evaluate(values):
        i = index[tuple(values[n] for n in NAMES)]
        order.append(i)
        spend.add(i)
        return t.loc[i, "val"]

    if not spend.done():
        _run(strategy, allowed, seed, options, evaluate, spend.done)
    seen, unique = set(), []
    for i in order:   # a sampled architecture met again is looked up, not retrained
        if i not in seen:
            seen.add(i)
            unique.append(i)
    frame = _frame(unique, t, label=label, seed=seed, budget_s=budget_s)
    best = t.loc[t["test"].idxmax(), NAMES]
    frame.attrs.update(allowed=allowed,
                       best_kept=all(best[n] in allowed[n] for n in NAMES))
    return frame


# --- factories for compare() --------------------------------------------------------------------


def prescreen(scores, *, keep=0.25, upfront_s=0.0, strategy="evolution", **options):
    """A search factory for :func:`compare`: ``prescreen_search`` with these settings."""
    return functools.partial(prescreen_search, scores, keep=keep, upfront_s=upfront_s,
                             strategy=strategy, **options)


def pruned(*, sample=20, fix=2, source="random", method="fanova", strategy="evolution",
           fill=FILL, **options):
    """A search factory for :func:`compare`: ``pruned_search`` with these settings."""
    return functools.partial(pruned_search, sample=sample, fix=fix, source=source,
                             method=method, strategy=strategy, fill=fill, **options)


def compare(searches: dict, *, budget_s, seeds=100, table=None, progress=None) -> pd.DataFrame:
    """Run each ``{label: factory}`` (``baseline``-like callables taking ``seed``,
    ``budget_s``, ``truth_frame``, ``label``) for every seed; one long frame. Factories:
    ``functools.partial(baseline, "random")``, :func:`prescreen`, :func:`pruned`.
    Usage: ``nb.bench.regret_summary(frame, at=[600, 1200], x="cumulative_seconds")``"""
    from tqdm.auto import tqdm

    t = _truth(table)
    seeds = list(range(seeds)) if isinstance(seeds, (int, np.integer)) else list(seeds)
    total = len(searches) * len(seeds)
    show = total >= 20 if progress is None else progress
    bar = tqdm(total=total, desc="searches", disable=not show, leave=False)
    frames, kept = [], []
    for label, factory in searches.items():
        for seed in seeds:
            f = factory(seed=seed, budget_s=budget_s, truth_frame=t, label=label)
            frames.append(f)
            kept.append({"strategy": label, "seed": seed,
                         "best_kept": f.attrs.get("best_kept", True)})
            bar.update()
    bar.close()
    out = pd.concat(frames, ignore_index=True)
    out.attrs["best_kept"] = pd.DataFrame(kept)
    return out


def paired_regret(frame, at, *, baseline="evolution", level=0.95) -> pd.DataFrame:
    """Each search's regret minus ``baseline``'s, seed by seed (the same seeds ran every
    search), at each cost in ``at`` (seconds): :func:`nasbook.bench.paired_comparison`
    (:func:`nasbook.stats.paired_difference` and :func:`nasbook.stats.verdict`) over the seeds
    where both had trained something. One row per (strategy, cost): ``pairs``,
    ``difference`` (negative: lower regret than the baseline), the paired t interval ``low``/
    ``high``, ``p_value``, the bootstrap interval ``boot_low``/``boot_high``, and two verdicts
    with their one-sided ``level`` bounds, both claims fixed in advance: ``verdict`` /
    ``bound`` on "lower regret than the baseline" (met when the upper bound of the mean
    difference is below 0) and ``verdict_higher`` / ``bound_higher`` on "higher regret than
    the baseline" (met when the lower bound is above 0); a tie is neither. Neither claim
    says "the same": equal regret is never shown by a verdict. ``pairs`` is 0 (and the rest
    NaN) where the search had not started, its up-front cost not yet paid.
    Usage: ``paired_regret(compare(...), at=[600, 1200])``"""
    from nasbook.bench.compare import paired_comparison, regret_on_grid

    wide = regret_on_grid(frame, "cumulative_seconds", grid=list(at)).pivot_table(
        index=["cumulative_seconds", "seed"], columns="strategy", values="regret",
        dropna=False)
    if baseline not in wide.columns:
        raise CheapSearchError(f"no search called {baseline!r}; there are "
                               f"{list(wide.columns)}")
    rows = []
    for label in [c for c in frame["strategy"].unique() if c != baseline]:
        for cost in at:
            part = wide.loc[float(cost)]
            both = part[[label, baseline]].dropna()
            row = {"strategy": label, "cumulative_seconds": cost, "pairs": len(both)}
            if len(both):
                lower, higher = (paired_comparison(both, pairs=[(label, baseline)],
                                                   better=better, level=level).iloc[0]
                                 for better in ("lower", "higher"))
                row.update(difference=lower["difference"], low=lower["low"],
                           high=lower["high"], p_value=lower["p_value"],
                           boot_low=lower["boot_low"], boot_high=lower["boot_high"],
                           verdict=lower["verdict"], bound=lower["bound"],
                           verdict_higher=higher["verdict"], bound_higher=higher["bound"])
            rows.append(row)
    out = pd.DataFrame(rows).set_index(["strategy", "cumulative_seconds"])
    out.attrs.update(baseline=baseline, level=level,
                     claims={"verdict": f"lower regret than {baseline}",
                             "verdict_higher": f"higher regret than {baseline}"})
    return out


def verdict_lines(paired) -> list:
    """One line per row of :func:`paired_regret`: the difference with its paired interval and
    n, and both printed verdicts (each from :func:`nasbook.stats.verdict`, via
    :func:`nasbook.bench.paired_comparison`). Usage: ``print(*verdict_lines(p), sep="\\n")``"""
    base = paired.attrs.get("baseline", "the baseline")
    width = max(len(str(label)) for label, _ in paired.index)
    lines = []
    for (label, cost), r in paired.iterrows():
        head = f"{label:<{width}} {cost:>5g} s:"
        if not r["pairs"]:
            lines.append(f"{head} not started (its up-front cost not yet paid)")
            continue
        lines.append(f"{head} {r['difference']:+.4f} [{r['low']:+.4f}, {r['high']:+.4f}], "
                     f"p = {r['p_value']:.2g}, n = {int(r['pairs'])}; lower regret than "
                     f"{base}: {r['verdict'].upper()} (bound {r['bound']:+.4f}); higher: "
                     f"{r['verdict_higher'].upper()} (bound {r['bound_higher']:+.4f})")
    return lines


def pruning_danger(*, samples=(10, 20, 40), sources=("random", "evolution"), fix=2,
                   method="fanova", seeds=20, table=None, top=0.01, fill=FILL) -> pd.DataFrame:
    """How often pruning from a sample removes the true best architecture (and every one of
    the true top ``top``): one row per (source, sample size), shares over ``seeds`` runs with
    a Wilson 95% interval on the first. An evolution sample is drawn after its population of
    ``fill`` has filled (:func:`_sample`). Every source after the first is compared with the
    first at the same sample size by Fisher's exact test (two-sided; the runs of two sources
    are independent, not paired): ``p_vs_<first source>``; every larger sample is compared
    with the smallest of its source the same way: ``p_vs_<smallest sample size>``.
    Usage: ``pruning_danger(samples=(10, 40), seeds=50)``"""
    from scipy.stats import fisher_exact

    from nasbook.bench.compare import top_architectures

    if table is None:
        from nasbook.bench.table import load

        table = load()
    t = _truth(table)
    top_keys = set(top_architectures(table, top).index)
    best = t.loc[t["test"].idxmax(), NAMES]
    rows = []
    seeds = list(range(seeds)) if isinstance(seeds, (int, np.integer)) else list(seeds)
    lost = {}
    for source in sources:
        for n in samples:
            lost_best, lost_top = [], []
            for seed in seeds:
                _, first = _sample(source, n, t, seed, fill)
                allowed = pruned_space(t.loc[first, NAMES].assign(
                    val_accuracy=t.loc[first, "val"]), fix=fix, method=method, seed=seed)
                lost_best.append(not all(best[d] in allowed[d] for d in NAMES))
                lost_top.append(not any(all(dict(zip(NAMES, key))[d] in allowed[d]
                                            for d in NAMES) for key in top_keys))
            k, m = int(np.sum(lost_best)), len(seeds)
            lost[source, n] = (k, m)
            low, high = _wilson(k, m)
            rows.append({"source": source, "sample": n, "runs": m, "removes_best": k / m,
                         "low": low, "high": high, "removes_all_top": float(np.mean(lost_top))})
    out = pd.DataFrame(rows)
    first = sources[0]
    if len(sources) > 1:
        p = []
        for row in rows:
            if row["source"] == first:
                p.append(np.nan)
                continue
            (k1, m1), (k2, m2) = lost[first, row["sample"]], lost[row["source"], row["sample"]]
            p.append(float(fisher_exact([[k1, m1 - k1], [k2, m2 - k2]]).pvalue))
        out[f"p_vs_{first}"] = p
    smallest = min(samples)
    if len(set(samples)) > 1:   # each size against the smallest of the same source
        out[f"p_vs_{smallest}"] = [
            np.nan if row["sample"] == smallest else float(fisher_exact(
                [[k1, m1 - k1], [k2, m2 - k2]]).pvalue)
            for row in rows
            for (k1, m1), (k2, m2) in [(lost[row["source"], smallest],
                                        lost[row["source"], row["sample"]])]]
    out.attrs.update(fix=fix, method=method, top=top, fill=fill)
    return out


def _wilson(k, n, z=1.959964):
    if n == 0:
        return np.nan, np.nan
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(centre - half), float(centre + half)
