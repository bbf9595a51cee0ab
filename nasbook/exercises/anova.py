"""Checks for notebook 10: a decision's main-effect and interaction shares by hand."""
from __future__ import annotations

import numpy as np

from nasbook.exercises._base import Verdict, _number_answer, _verdict

__all__ = ["check_main_effect_share", "check_interaction_share"]


def _factorial_table(seed, replicates=2):
    """A synthetic full-factorial table: 3 decisions, additive effects, one interaction, noise."""
    import itertools

    import pandas as pd

    rng = np.random.default_rng(seed)
    levels = {"blocks": [1, 2, 3], "filters": [16, 32], "kernel": [3, 5, 7, 9]}
    effect = {"blocks": rng.normal(size=3) * 0.03, "filters": rng.normal(size=2) * 0.02,
              "kernel": rng.normal(size=4) * 0.01}
    inter = rng.normal(size=(3, 4)) * 0.01
    rows = []
    for combo in itertools.product(*(range(len(v)) for v in levels.values())):
        for rep in range(replicates):
            b, f, k = combo
            score = (0.8 + effect["blocks"][b] + effect["filters"][f] + effect["kernel"][k]
                     + inter[b, k] + rng.normal() * 0.005)
            rows.append({"blocks": levels["blocks"][b], "filters": levels["filters"][f],
                         "kernel": levels["kernel"][k], "seed": rep, "score": score})
    return pd.DataFrame(rows).sample(frac=1.0, random_state=seed).reset_index(drop=True)


def _r2_one_hot(table, columns, score="score"):
    """R² of a least-squares fit of the score on one-hot codes of ``columns`` (scikit-learn)."""
    import pandas as pd
    from sklearn.linear_model import LinearRegression

    design = pd.get_dummies(table[list(columns)].astype(str)).to_numpy(float)
    return LinearRegression().fit(design, table[score]).score(design, table[score])


def _architecture_means(table, score="score"):
    """One row per architecture: the mean score over its seeds (private)."""
    decisions = [c for c in table.columns if c not in ("seed", score)]
    return table.groupby(decisions)[score].mean().reset_index()


def _share_cases():
    return {"seed 0, decision 'blocks'": (0, "blocks"),
            "seed 0, decision 'kernel'": (0, "kernel"),
            "seed 1, decision 'filters'": (1, "filters"),
            "seed 2, decision 'kernel'": (2, "kernel")}


def check_main_effect_share(fn, quiet=False) -> Verdict:
    """Check ``fn(table, decision) -> float``: the fANOVA main effect of one decision, as a
    share of the variance, in a full-factorial table (a DataFrame with one column per decision,
    a ``"seed"`` column and a ``"score"`` column; every architecture was run with two seeds).
    As in notebook 10: average each architecture's seeds first; then the share is the variance
    of the group means over the decision's values (around the grand mean, each value weighted
    equally) divided by the variance of the architectures' scores (both with ddof=0).
    Compared with a hidden computation by a different route on synthetic tables."""
    for case, (seed, decision) in _share_cases().items():
        table = _factorial_table(seed)
        cells = _architecture_means(table)
        ref = _r2_one_hot(cells, [decision])
        got, bad = _number_answer(fn, (table.copy(), decision), case, quiet)
        if bad is not None:
            return bad
        diff = abs(got - ref) if np.isfinite(got) else float("inf")
        if not diff <= 1e-9:
            y = cells["score"]
            means = cells.groupby(decision)["score"].mean()
            hint = ""
            if np.isclose(got, _r2_one_hot(table, [decision]), rtol=1e-6):
                hint = (" You used every run: average each architecture's seeds first (the "
                        "seed-to-seed noise is not a decision's effect).")
            elif np.isclose(got, ref * y.var(ddof=0), rtol=1e-6):
                hint = " That is the main effect's variance: divide by the total variance."
            elif np.isclose(got, means.var(ddof=1) / y.var(ddof=0), rtol=1e-6) or np.isclose(
                    got, means.var(ddof=1) / y.var(ddof=1), rtol=1e-6) or np.isclose(
                    got, means.var(ddof=0) / y.var(ddof=1), rtol=1e-6):
                hint = " Use ddof=0 for both variances (a population variance over the levels)."
            elif np.isclose(got, 1 - ref, rtol=1e-6):
                hint = " That is the share left over: the within-group part."
            return _verdict(False, f"case '{case}': you said {got:.6g}, the main effect's share "
                            f"is {ref:.6g}.{hint}", quiet, case=case, difference=diff)
    return _verdict(True, f"your main-effect shares match in all {len(_share_cases())} cases.",
                    quiet, difference=0.0)


def check_interaction_share(fn, quiet=False) -> Verdict:
    """Check ``fn(table, a, b) -> float``: the fANOVA pairwise interaction of decisions ``a``
    and ``b`` in the tables of :func:`check_main_effect_share` (average each architecture's
    seeds first): the variance of the (a, b) group means after removing both main effects
    (pair mean - mean of a's value - mean of b's value + grand mean, over the architectures)
    divided by the variance of the architectures' scores (ddof=0)."""
    pairs = {"seed 0, blocks x kernel": (0, "blocks", "kernel"),
             "seed 1, blocks x filters": (1, "blocks", "filters"),
             "seed 3, filters x kernel": (3, "filters", "kernel")}
    for case, (seed, a, b) in pairs.items():
        table = _factorial_table(seed)
        cells = _architecture_means(table)
        pair = cells.assign(cell=cells[a].astype(str) + "|" + cells[b].astype(str))
        both = _r2_one_hot(pair, ["cell"])
        ref = both - _r2_one_hot(cells, [a]) - _r2_one_hot(cells, [b])
        got, bad = _number_answer(fn, (table.copy(), a, b), case, quiet)
        if bad is not None:
            return bad
        diff = abs(got - ref) if np.isfinite(got) else float("inf")
        if not diff <= 1e-9:
            hint = ""
            rows = table.assign(cell=table[a].astype(str) + "|" + table[b].astype(str))
            row_ref = (_r2_one_hot(rows, ["cell"]) - _r2_one_hot(table, [a])
                       - _r2_one_hot(table, [b]))
            if np.isclose(got, both, rtol=1e-6):
                hint = (" That is the share of the cell means with both main effects still in: "
                        "subtract each level's mean of a and of b, add the grand mean.")
            elif np.isclose(got, ref * cells["score"].var(ddof=0), rtol=1e-6):
                hint = " That is the interaction's variance: divide by the total variance."
            elif np.isclose(got, row_ref, rtol=1e-6):
                hint = " You used every run: average each architecture's seeds first."
            return _verdict(False, f"case '{case}': you said {got:.6g}, the interaction's share "
                            f"is {ref:.6g}.{hint}", quiet, case=case, difference=diff)
    return _verdict(True, f"your interaction shares match in all {len(pairs)} cases.", quiet,
                    difference=0.0)


