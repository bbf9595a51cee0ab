"""Compare search strategies on the benchmark: regret over many seeds, against evaluations and
against cost in epochs, and how many evaluations each needs to find a top architecture.

Regret = (best mean test accuracy in the table) - (mean test accuracy of the architecture the
search would pick, the one with the best validation accuracy so far). Picking by validation
can trade a better validation score for a worse test score, so regret need not reach zero.

Usage::

    frame = nb.bench.compare(["random", "evolution"], budget=200, seeds=100)
    nb.bench.regret_summary(frame, at=(25, 50, 100, 200))
    nb.bench.regret_summary(frame, at=(375, 750), x="cumulative_epochs")   # equal cost
    nb.bench.evaluations_to_top(frame, top=0.01)                            # random = 1.0
    spent = nb.bench.time_to_top(frame, top=0.01)       # per seed: evaluations to a top one
    nb.bench.paired_comparison(spent, against="random", better="lower")     # paired t, verdict

A difference between strategies is judged by :func:`paired_comparison` (the paired Student-t
interval and bootstrap of :func:`nasbook.stats.paired_difference`, the verdict of
:func:`nasbook.stats.verdict`), never by which mean is larger.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from nasbook.bench.simulate import lookup_table, simulate
from nasbook.bench.space import DECISIONS
from nasbook.stats import MISSED, grouped_mean_ci, paired_difference, verdict

__all__ = ["compare", "regret_on_grid", "regret_summary", "regret_bands", "top_architectures",
           "first_top", "evaluations_to_top", "top_hit_probability", "time_to_top",
           "paired_comparison"]

AXES = ("evaluation", "cumulative_epochs")


def _progress(total, show, desc):
    if show is None:
        show = total >= 20
    if not show:
        return None
    import sys

    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="run", file=sys.stderr, leave=False)


def compare(strategies, budget=200, seeds=100, *, table=None, options=None, progress=None):
    """Run every strategy ``seeds`` times for ``budget`` evaluations; one row per evaluation.

    ``strategies``: registry names, or ``{label: name}`` to run one strategy under several
    labels. ``seeds``: a count (seeds 0..n-1) or the seeds themselves. ``options``:
    ``{label: {option: value}}``, e.g. ``{"evolution": {"population_size": 10}}``.
    ``progress``: a progress bar over runs (default: when there are 20 runs or more).

    Returns a long DataFrame: ``strategy`` (the label), ``seed``, ``budget`` and
    :func:`~nasbook.bench.simulate`'s columns (``evaluation``, the decisions, ``epochs``,
    ``cost_epochs``, ``cumulative_epochs``, ``val_accuracy``, ``test_accuracy``,
    ``test_of_best_so_far`` ...) plus ``regret``. A run shorter than ``budget`` stopped on its
    own (greedy at a local optimum, a strategy that ran out of unseen architectures).
    """
    from nasbook.bench.table import load

    table = load() if table is None else table
    labels = dict(strategies) if isinstance(strategies, dict) else {s: s for s in strategies}
    if not labels:
        raise ValueError("no strategies to compare: pass names such as ['random', 'evolution']")
    options = dict(options or {})
    unknown = sorted(set(options) - set(labels))
    if unknown:
        raise ValueError(f"options given for {unknown}, which are not among the strategies "
                         f"{list(labels)}; key options by strategy label")
    seeds = list(range(seeds)) if isinstance(seeds, (int, np.integer)) else list(seeds)
    if not seeds:
        raise ValueError("seeds must be a positive count or a non-empty list of seeds")
    best_test = lookup_table(table)["test_accuracy"].max()
    bar = _progress(len(labels) * len(seeds), progress, "simulated searches")
    frames = []
    try:
        for label, name in labels.items():
            if bar is not None:
                bar.set_description(f"simulating {label}")
            for seed in seeds:
                h = simulate(name, budget, seed=seed, table=table, **options.get(label, {}))
                h.insert(0, "budget", budget)
                h.insert(0, "seed", seed)
                h.insert(0, "strategy", label)
                h["regret"] = best_test - h["test_of_best_so_far"]
                frames.append(h)
                if bar is not None:
                    bar.update()
    finally:
        if bar is not None:
            bar.close()
    return pd.concat(frames, ignore_index=True)


def _runs(frame):
    if "strategy" not in frame.columns or "seed" not in frame.columns:
        frame = frame.assign(strategy=frame.get("strategy", "search"), seed=frame.get("seed", 0))
    return frame.groupby(["strategy", "seed"], sort=False)


def regret_on_grid(frame, x="evaluation", grid=None) -> pd.DataFrame:
    """Each run's regret as a step function of ``x`` (``"evaluation"``,
    ``"cumulative_epochs"``, or another non-decreasing cost column such as
    ``"cumulative_seconds"``, which needs an explicit ``grid``), read at common ``grid``
    points: the regret after the last evaluation at or before each point. Before a run's first evaluation it is NaN; after its
    last, it is carried forward if the run stopped on its own (it would spend no more) and NaN
    if the budget cut it off. Default grid: every evaluation, or every multiple of the full
    training length (the largest ``epochs``) in epochs.

    Returns a long DataFrame: strategy, seed, ``x``, regret.
    """
    if x not in AXES and x not in frame.columns:
        raise ValueError(f"x must be one of {AXES} or another cumulative cost column of the "
                         f"frame (e.g. cumulative_seconds), got {x!r}")
    if grid is None:
        if x not in AXES:
            raise ValueError(f"pass grid=[...] for x={x!r}: the default grid exists only for "
                             f"{AXES}")
        top = frame[x].max()
        step = 1 if x == "evaluation" else int(frame["epochs"].max())
        grid = np.arange(step, top + step, step)
    grid = np.asarray(grid, dtype=float)
    out = []
    for (label, seed), run in _runs(frame):
        xs, regret = run[x].to_numpy(dtype=float), run["regret"].to_numpy(dtype=float)
        at = np.searchsorted(xs, grid, side="right") - 1
        values = np.where(at >= 0, regret[np.clip(at, 0, None)], np.nan)
        budget = run["budget"].iloc[0] if "budget" in run else np.inf
        if len(run) >= budget:   # cut off by the budget: unknown beyond its last evaluation
            values = np.where(grid > xs[-1], np.nan, values)
        out.append(pd.DataFrame({"strategy": label, "seed": seed, x: grid, "regret": values}))
    return pd.concat(out, ignore_index=True)


def _mean_ci(grouped, level):
    return grouped_mean_ci(grouped["regret"], level)


def regret_bands(frame, x="evaluation", grid=None, level=0.95):
    """Mean regret over seeds on a common grid of ``x``, with its Student-t ``level``
    interval: a DataFrame indexed by (strategy, ``x``) with columns n, mean, sd, half_width,
    low, high, seeds (runs of the strategy). What ``nb.plot.regret_curves`` draws.

    Usage: ``nb.bench.regret_bands(nb.bench.compare(["random"], 50, seeds=5))``
    """
    on_grid = regret_on_grid(frame, x, grid)
    out = _mean_ci(on_grid.groupby(["strategy", x], sort=False), level)
    seeds = on_grid.groupby("strategy", sort=False)["seed"].nunique()
    out["seeds"] = out.index.get_level_values("strategy").map(seeds).to_numpy()
    return out


def top_hit_probability(n_total, k, n):
    """P(at least one of ``k`` top architectures among ``n`` drawn uniformly without
    replacement from ``n_total``): the exact curve of random search, for reference."""
    n = np.asarray(n, dtype=int)
    miss = np.ones(len(n))
    for j in range(k):
        miss *= np.clip(n_total - n - j, 0, None) / (n_total - j)
    return 1 - miss


def regret_summary(frame, at=(25, 50, 100, 200), *, x="evaluation", level=0.95) -> pd.DataFrame:
    """Mean regret at each point of ``at`` (evaluations, or epochs with
    ``x="cumulative_epochs"``) with a Student-t confidence interval over seeds.

    Returns a DataFrame indexed by (strategy, ``x``): ``runs``, ``n`` (runs with a value
    there), ``mean``, ``sd``, ``half_width``, ``low``, ``high``.
    """
    at = list(np.atleast_1d(at))
    on_grid = regret_on_grid(frame, x, grid=at)
    if all(float(a).is_integer() for a in at):
        on_grid[x] = on_grid[x].astype(int)
    grouped = on_grid.groupby(["strategy", x], sort=False)
    out = _mean_ci(grouped, level)
    out.insert(0, "runs", grouped.size())
    return out


def top_architectures(table, top=0.01) -> pd.DataFrame:
    """The top ``top`` fraction of architectures by mean test accuracy over seeds: the best
    ``ceil(top * n_architectures)`` (at least one), plus any tied with the last of them.
    1% of 324 architectures is the best 4. Returns their rows of :func:`lookup_table`."""
    if not 0 < top <= 1:
        raise ValueError(f"top is a fraction of the table in (0, 1], got {top!r}")
    scores = lookup_table(table)["test_accuracy"].sort_values(ascending=False)
    k = max(1, math.ceil(top * len(scores) - 1e-9))
    return lookup_table(table).loc[scores.index[scores >= scores.iloc[k - 1]]]


def _as_frame(frame_or_histories):
    """A compare() frame, one simulate() history, or {label: [histories]} as one frame."""
    if isinstance(frame_or_histories, pd.DataFrame):
        return frame_or_histories
    if isinstance(frame_or_histories, dict):
        parts = []
        for label, histories in frame_or_histories.items():
            if isinstance(histories, pd.DataFrame):
                histories = [histories]
            for seed, h in enumerate(histories):
                parts.append(h.assign(strategy=label, seed=seed))
        return pd.concat(parts, ignore_index=True)
    raise TypeError(f"expected a DataFrame from compare()/simulate() or {{label: [histories]}}, "
                    f"got {type(frame_or_histories).__name__}")


def first_top(frame_or_histories, top=0.01, *, table=None, by="evaluated") -> pd.DataFrame:
    """Per run, when a top architecture (:func:`top_architectures`) was first reached.

    ``by="evaluated"``: the first evaluation of a top architecture (at any fidelity);
    ``by="picked"``: the first evaluation after which the search's pick (best validation
    accuracy so far) is a top architecture. Returns one row per run: strategy, seed, ``ran``
    (evaluations run), ``reached``, ``evaluations`` and ``cumulative_epochs`` at that point
    (NaN when the run never reached one: censored at ``ran``).
    """
    from nasbook.bench.table import load

    if by not in ("evaluated", "picked"):
        raise ValueError(f"by must be 'evaluated' or 'picked', got {by!r}")
    names = list(DECISIONS)
    best = set(top_architectures(load() if table is None else table, top).index)
    rows = []
    for (label, seed), run in _runs(_as_frame(frame_or_histories)):
        hit = np.array([key in best for key in run[names].itertuples(index=False, name=None)])
        if by == "picked":
            val = run["val_accuracy"].to_numpy(dtype=float)
            filled = np.where(np.isnan(val), -np.inf, val)
            new_best = filled > np.concatenate([[-np.inf], np.maximum.accumulate(filled)[:-1]])
            picked = np.maximum.accumulate(np.where(new_best, np.arange(len(run)), -1))
            hit = (picked >= 0) & hit[np.clip(picked, 0, None)]
        first = int(np.argmax(hit)) if hit.any() else None
        rows.append({"strategy": label, "seed": seed, "ran": len(run),
                     "reached": first is not None,
                     "evaluations": np.nan if first is None else
                     float(run["evaluation"].iloc[first]),
                     "cumulative_epochs": np.nan if first is None or
                     "cumulative_epochs" not in run else
                     float(run["cumulative_epochs"].iloc[first])})
    return pd.DataFrame(rows)


def evaluations_to_top(frame_or_histories, top=0.01, *, table=None, by="evaluated",
                       reference="random") -> pd.DataFrame:
    """How many evaluations (and epochs) each strategy needs to reach a top architecture.

    Censored runs (no top architecture within their budget) are counted, not dropped: the
    medians treat them as "later than the budget" (infinite when more than half the runs are
    censored), and ``mean_reached`` averages only the runs that reached one (an
    underestimate when any are censored). ``ratio`` and ``ratio_epochs`` divide each median by
    the ``reference`` strategy's (random search = 1.0; NaN without that strategy).

    Returns a DataFrame indexed by strategy: runs, reached, censored, median, mean_reached,
    median_epochs, ratio, ratio_epochs. ``attrs["top_k"]``: how many architectures count.
    """
    from nasbook.bench.table import load

    table = load() if table is None else table
    runs = first_top(frame_or_histories, top, table=table, by=by)
    rows = {}
    for label, r in runs.groupby("strategy", sort=False):
        evals = r["evaluations"].fillna(np.inf).to_numpy()
        epochs = r["cumulative_epochs"].fillna(np.inf).to_numpy()
        rows[label] = {"runs": len(r), "reached": int(r["reached"].sum()),
                       "censored": int((~r["reached"]).sum()),
                       "median": float(np.median(evals)),
                       "mean_reached": float(r["evaluations"].mean()),
                       "median_epochs": float(np.median(epochs))}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "strategy"
    ref = out.loc[reference] if reference in out.index else None
    with np.errstate(invalid="ignore", divide="ignore"):
        out["ratio"] = out["median"] / ref["median"] if ref is not None else np.nan
        out["ratio_epochs"] = (out["median_epochs"] / ref["median_epochs"]
                               if ref is not None else np.nan)
    out.attrs["top_k"] = len(top_architectures(table, top))
    out.attrs["by"] = by
    return out


def time_to_top(frame_or_histories, top=0.01, *, table=None, by="picked", x="evaluation",
                cap=None) -> pd.DataFrame:
    """Per run, what a search spent until its first top architecture (:func:`first_top`),
    capped: ``min(T, cap)``, a run that never reached one counted as ``cap``. A wide frame, one
    row per seed and one column per strategy; a column's mean is the *restricted mean* of T,
    a mean that counts the censored runs (a median does too, but no paired t interval
    applies to it), ready for :func:`paired_comparison`.

    ``x``: ``"evaluation"`` or ``"cumulative_epochs"``. ``cap`` (default): the least that any
    run cut off by its budget spent on ``x``, so that every run is known up to the cap: beyond
    it a cut-off run's time is unknown, while a run that stopped on its own without a top
    architecture would never have found one. ``by``: as :func:`first_top` (default
    ``"picked"``: the search's own pick is a top architecture; ``"evaluated"`` would count a
    top architecture seen after 2 epochs and dropped by Hyperband). ``attrs``: cap, x, by,
    top_k, censored (runs per strategy counted at the cap without a top architecture).

    Usage: ``nb.bench.time_to_top(nb.bench.compare(["random", "evolution"], 200, seeds=20))``
    """
    from nasbook.bench.table import load

    if x not in AXES:
        raise ValueError(f"x must be one of {AXES}, got {x!r}")
    table = load() if table is None else table
    frame = _as_frame(frame_or_histories)
    spent, cut = [], []
    for (label, seed), run in _runs(frame):
        spent.append(float(run[x].iloc[-1]))
        # without a budget column a run is taken as cut off by its budget (the safe side)
        cut.append(len(run) >= run["budget"].iloc[0] if "budget" in run else True)
    if cap is None:
        cut_off = [s for s, c in zip(spent, cut) if c]
        cap = min(cut_off) if cut_off else max(spent)
    if not cap > 0:
        raise ValueError(f"cap must be a positive amount of {x}, got {cap!r}")
    runs = first_top(frame, top, table=table, by=by)
    column = "evaluations" if x == "evaluation" else "cumulative_epochs"
    runs["capped"] = runs[column].fillna(np.inf).clip(upper=cap)
    wide = runs.pivot(index="seed", columns="strategy", values="capped")
    wide = wide[list(dict.fromkeys(runs["strategy"]))]
    wide.columns.name = "strategy"
    wide.attrs.update(cap=float(cap), x=x, by=by, top_k=len(top_architectures(table, top)),
                      censored=(runs.assign(miss=runs[column].isna() | (runs[column] > cap))
                                .groupby("strategy", sort=False)["miss"].sum().to_dict()))
    return wide


def paired_comparison(per_seed, pairs=None, *, against=None, better="higher", level=0.95,
                      what="") -> pd.DataFrame:
    """Compare columns of ``per_seed`` (one row per seed, one column per strategy or method,
    e.g. :func:`time_to_top`, a pivot of :func:`regret_on_grid` or of a recovery frame) two by
    two: for each pair ``(a, b)``, :func:`nasbook.stats.paired_difference` of ``a - b`` over
    the rows where both have a value, and :func:`nasbook.stats.verdict` of those differences
    against 0 for the claim "a is better than b" (``better``: whether higher or lower values
    are better): ``met`` when the one-sided ``level`` bound of the mean difference is on the
    better side of 0, ``not shown`` when only the mean is, ``missed`` when the mean is not (a
    tie included: equal is not better).

    What pairs the figures is the row: the seed. Two methods applied to the same search share
    its trials (a real pairing). Two strategies run with the same seed number may share draws:
    random search and Hyperband both draw from keras-tuner's random stream, so with one seed
    Hyperband's new architectures come in the order random search draws them (a real pairing
    too); strategies that propose differently (evolution, REINFORCE, greedy) share only the
    number, and the paired test is then as valid as an unpaired one, no more powerful.

    ``pairs``: a list of ``(a, b)``; or ``against=b`` for every other column against ``b``.
    Returns one row per pair: a, b, claim, n (pairs), mean_a, mean_b, difference, low, high
    (paired t), p_value, boot_low, boot_high (bootstrap over the pairs), verdict, bound
    (the verdict's one-sided bound). Usage:
    ``nb.bench.paired_comparison(nb.bench.time_to_top(runs), against="random", better="lower")``
    """
    if better not in ("higher", "lower"):
        raise ValueError(f"better must be 'higher' or 'lower', got {better!r}")
    columns = list(per_seed.columns)
    if pairs is None:
        if against is None:
            raise ValueError("say what to compare: pairs=[(a, b), ...] or against='random'")
        if against not in columns:
            raise ValueError(f"against={against!r} is not a column; the columns are {columns}")
        pairs = [(c, against) for c in columns if c != against]
    pairs = [tuple(p) for p in pairs]
    unknown = sorted({c for p in pairs for c in p} - set(columns), key=str)
    if unknown:
        raise ValueError(f"no column(s) {unknown} to compare; the columns are {columns}")
    word = "higher" if better == "higher" else "lower"
    rows = []
    for a, b in pairs:
        both = per_seed[[a, b]].astype(float).dropna()
        label = f"{what}: {a} - {b}" if what else f"{a} - {b}"
        if len(both) == 0:
            raise ValueError(f"{a} and {b} have no seed in common to pair")
        d = paired_difference(both[a], both[b], level=level, what=label)
        v = verdict(both[a] - both[b], 0.0, better=better, level=level, what=label)
        word_v = MISSED if v.gap <= 0 else v.word   # a tie is not "better"
        rows.append({"a": a, "b": b, "claim": f"{a} {word} than {b}", "n": d.n,
                     "mean_a": float(both[a].mean()), "mean_b": float(both[b].mean()),
                     "difference": d.mean, "low": d.low, "high": d.high,
                     "p_value": d.p_value, "boot_low": d.boot_low, "boot_high": d.boot_high,
                     "verdict": word_v, "bound": v.bound})
    out = pd.DataFrame(rows)
    out.attrs.update(level=level, better=better, what=what)
    return out
