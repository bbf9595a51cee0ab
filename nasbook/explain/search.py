"""Explain a search itself: which decisions mattered, how, together with what, and why the
winner won. Works on any search: a SearchResult read from a run directory, or the trials of a
simulated search on the benchmark (``nb.bench.simulate``).

Every function first calls :func:`prepare`, which keeps finished trials only, blanks out
decisions that did not shape the model that was built (the width of a layer that was not built
is ``None``, its own level "not built"), and merges trials that built the same architecture.

Usage::

    from nasbook.explain import search as xs
    trials = nb.bench.simulate("random", 200, seed=0)
    xs.importance(trials)                  # fANOVA, PED-ANOVA and SHAP of a tree surrogate
    xs.marginal_effects(trials)            # partial dependence with its spread
    xs.interactions(trials)                # strongest pairwise interactions
    xs.rules(trials)                       # "connection = residual and kernel ≥ 5 → top 10%"
    xs.winner_vs_runners_up(trials)        # the winner, decision by decision

Caveat: importance and partial dependence describe the trials a strategy chose to run. A
strategy that samples near the best region (evolution, Bayesian optimisation, RL) gives a
biased picture of the whole space (Moosbauer et al., 2021); random trials do not.
"""
from __future__ import annotations

import hashlib
import itertools
import math
import warnings
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nasbook import trials as trials_format
from nasbook.labels import NOT_BUILT, same as _same

__all__ = ["prepare", "importance", "surrogate", "Surrogate", "marginal_effects",
           "interactions", "rules", "winner_vs_runners_up", "METHODS", "NOT_BUILT",
           "SearchExplainError"]

METHODS = ("fanova", "ped_anova", "shap")
# NOT_BUILT (how a masked decision is labelled) lives in nasbook.labels with the other words


class SearchExplainError(ValueError):
    """Trials that cannot be explained as asked (too few, no decisions, unknown method)."""


# --- preparing the trials ----------------------------------------------------------------


def _canonical(value, domain):
    """``value`` as the domain's own object (32.0 -> 32); None for a blank cell."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    for option in domain:
        if _same(option, value):
            return option
    return value


def _from_result(result, objective):
    frame = result.trials
    name = objective or result.objective
    done = frame[frame["status"] == "completed"]
    keys = done["architecture"].where(done["architecture"].notna(), None)
    return (done, list(frame.attrs["decisions"]), dict(frame.attrs["domains"]), name,
            result.direction, keys)


def _from_frame(frame, objective, space, decisions, direction):
    """A DataFrame of trials: what its columns mean comes from its ``attrs`` (the trials format
    of :mod:`nasbook.trials`), from ``space``/``decisions``/``direction`` when given, or from the
    documented convention for a frame without attrs; nothing is guessed from names."""
    objective = objective or frame.attrs.get("objective")
    if objective is None:
        objective = next((c for c in ("val_accuracy", "score") if c in frame.columns), None)
        if objective is None:
            raise SearchExplainError("say which column holds the score: objective='...'")
    if objective not in frame.columns:
        raise SearchExplainError(f"no column {objective!r}; the trials have {list(frame.columns)}")
    direction = direction or frame.attrs.get("direction", "max")
    if direction not in ("max", "min"):
        raise SearchExplainError(f"direction must be 'max' or 'min', got {direction!r}")
    rows = frame[frame["status"].isin(["completed", "COMPLETED"])] if "status" in frame else frame
    if "epochs" in rows and rows["epochs"].nunique() > 1:
        # a multi-fidelity history (Hyperband): scores after 2 and 15 epochs are not the same
        # quantity; explain the fully trained architectures only
        rows = rows[rows["epochs"] == rows["epochs"].max()]
    if decisions is None:
        if space is not None:
            decisions = [n for n, _ in space.decisions() if n in frame.columns]
        else:
            decisions = trials_format.decision_columns(frame, objective)
    if not decisions:
        raise SearchExplainError("no decision columns found: pass decisions=[...]")
    if space is not None:
        domains = {n: list(v) for n, v in space.decisions()}
    else:
        domains = trials_format.domains_of(frame, decisions)
    rows = rows.copy()
    if space is not None:  # blank what the built model does not use
        fixed = space.fixed_values()
        active = [space.active_values({**fixed, **{d: _canonical(r[d], domains[d])
                                                   for d in decisions}})
                  for _, r in rows.iterrows()]
        for d in decisions:
            rows[d] = [a.get(d) for a in active]
        keys = [space.architecture_key({**fixed, **a}) for a in active]
    else:
        keys = None
    return rows, decisions, domains, objective, direction, keys


def prepare(source, *, objective=None, space=None, decisions=None,
            direction=None) -> pd.DataFrame:
    """Finished trials, one row per distinct built architecture, decisions masked.

    ``source`` is a SearchResult, a run directory, or a DataFrame of trials (e.g.
    ``nb.bench.simulate``'s, which carries the trials format of :mod:`nasbook.trials` in its
    ``attrs``; for a frame without it, pass ``decisions``/``objective``/``direction``, whose
    defaults are that module's convention and ``"max"``). For a DataFrame, pass the ``space``
    (a SearchSpace) to mask decisions the built model does not use; of a multi-fidelity history (Hyperband, with an
    ``epochs`` column) only the trials at the highest fidelity are kept. Returns a DataFrame indexed by ``architecture``
    with one column per decision that varies (``None`` where it was not built), ``score``
    (mean over the architecture's runs) and ``n_runs``; ``attrs`` holds ``decisions``,
    ``domains``, ``objective`` and ``direction``.  Usage: ``xs.prepare(result)``
    """
    from nasbook.results import SearchResult

    if isinstance(source, pd.DataFrame) and "score" in source and "n_runs" in source \
            and "domains" in source.attrs:
        return source  # prepared already
    if isinstance(source, (str, bytes)) or hasattr(source, "__fspath__"):
        source = SearchResult.load(source)
    if isinstance(source, SearchResult):
        rows, decisions, domains, objective, direction, keys = _from_result(source, objective)
    elif isinstance(source, pd.DataFrame):
        rows, decisions, domains, objective, direction, keys = _from_frame(
            source, objective, space, decisions, direction)
    else:
        raise SearchExplainError(f"cannot explain a {type(source).__name__}: pass a "
                                 f"SearchResult, a run directory or a DataFrame of trials")
    for d in decisions:
        domains.setdefault(d, sorted(rows[d].dropna().unique().tolist(), key=str))
    data = pd.DataFrame({d: [_canonical(v, domains[d]) for v in rows[d]] for d in decisions},
                        index=rows.index, dtype=object)
    data["score"] = pd.to_numeric(rows[objective], errors="coerce").to_numpy()
    data = data[np.isfinite(data["score"].to_numpy(float))]
    if keys is None:
        keys = [_readable_key(r) for r in data[decisions].itertuples(index=False)]
    else:
        keys = list(pd.Series(list(keys), index=rows.index).loc[data.index])
        keys = [k if isinstance(k, str) else _readable_key(r)
                for k, r in zip(keys, data[decisions].itertuples(index=False))]
    data["architecture"] = keys
    if data.empty:
        raise SearchExplainError("no finished trial with a finite score to explain; run the "
                                 "search longer (failed and unfinished trials are left out)")
    first = data.groupby("architecture", sort=False)[decisions].first()
    stats = data.groupby("architecture", sort=False)["score"].agg(["mean", "size"])
    out = first.assign(score=stats["mean"], n_runs=stats["size"])
    varying = [d for d in decisions if out[d].map(lambda v: "∅" if v is None else str(v))
               .nunique() > 1]
    out = out[varying + ["score", "n_runs"]]
    out.attrs.update(decisions=varying, constant=[d for d in decisions if d not in varying],
                     domains={d: domains[d] for d in varying}, objective=objective,
                     direction=direction)
    return out


def _readable_key(values) -> str:
    return " · ".join("-" if v is None else str(v) for v in values)


def _need(trials, n, what):
    if not trials.attrs["decisions"]:
        raise SearchExplainError("every decision had the same value in every trial: there is "
                                 "nothing to attribute the score to")
    if len(trials) < n:
        raise SearchExplainError(f"{what} needs at least {n} distinct architectures; the search "
                                 f"has {len(trials)}. Run more trials.")


def _levels(trials, d) -> list:
    """The decision's values in domain order, then "not built" (None) if it occurs."""
    present = set(map(lambda v: "∅" if v is None else repr(v), trials[d]))
    levels = [v for v in trials.attrs["domains"][d] if repr(v) in present]
    return levels + ([None] if "∅" in present else [])


def _top(trials, fraction):
    score = trials["score"].to_numpy(float)
    if trials.attrs["direction"] == "max":
        cut = np.quantile(score, 1 - fraction)
        return score >= cut, cut
    cut = np.quantile(score, fraction)
    return score <= cut, cut


# --- the surrogate -------------------------------------------------------------------------


@dataclass
class Surrogate:
    """A random forest fitted to the trials on ordinal codes (domain order; "not built" = -1).

    ``cv_r2`` is its 5-fold cross-validated R²: below about 0.5 its explanations (SHAP,
    partial dependence, interactions) describe the forest more than the search.
    """
    model: object
    trials: pd.DataFrame
    X: np.ndarray
    y: np.ndarray
    cv_r2: float

    def encode(self, frame) -> np.ndarray:
        return _encode(self.trials, frame)

    def predict(self, X) -> np.ndarray:
        return self.model.predict(X)


def _encode(trials, frame) -> np.ndarray:
    """Ordinal codes of ``frame``'s decisions in the domain order of ``trials`` (-1: not built)."""
    cols = []
    for d in trials.attrs["decisions"]:
        domain = trials.attrs["domains"][d]
        cols.append([-1 if v is None else _code(v, domain) for v in frame[d]])
    return np.array(cols, dtype=float).T


def _code(value, domain):
    for i, option in enumerate(domain):
        if _same(option, value):
            return i
    raise SearchExplainError(f"value {value!r} is not in the decision's domain {domain}")


_FITTED: dict = {}   # the last few surrogates, by the trials' content: effects, interactions
                     # and importance of one search then share one fit


def surrogate(source, *, seed=0, n_estimators=100) -> Surrogate:
    """Fit the tree surrogate and state how well it predicts unseen trials.

    Usage: ``s = xs.surrogate(result); s.cv_r2``
    """
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.model_selection import KFold, cross_val_score

    trials = prepare(source)
    _need(trials, 5, "a surrogate")
    content = pd.util.hash_pandas_object(trials.astype(str), index=True).to_numpy()
    key = (hashlib.sha256(content.tobytes()).hexdigest(), trials.attrs["direction"], seed,
           n_estimators)
    if key in _FITTED:
        return _FITTED[key]
    model = RandomForestRegressor(n_estimators=n_estimators, min_samples_leaf=2,
                                  random_state=seed, n_jobs=1)
    s = Surrogate(model, trials, np.empty((0, 0)), trials["score"].to_numpy(float), math.nan)
    s.X = s.encode(trials)
    if len(trials) >= 10 and np.ptp(s.y) > 0:
        cv = KFold(5, shuffle=True, random_state=seed)
        s.cv_r2 = float(np.mean(cross_val_score(model, s.X, s.y, cv=cv, scoring="r2")))
    model.fit(s.X, s.y)
    while len(_FITTED) >= 8:
        _FITTED.pop(next(iter(_FITTED)))
    _FITTED[key] = s
    return s


# --- importance ----------------------------------------------------------------------------


def _study(trials):
    import optuna
    from optuna.distributions import CategoricalDistribution

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    direction = "maximize" if trials.attrs["direction"] == "max" else "minimize"
    study = optuna.create_study(direction=direction)
    names = trials.attrs["decisions"]
    dists = {}
    for d in names:
        choices = [_plain(v) for v in _levels(trials, d)]
        dists[d] = CategoricalDistribution(choices)
    for values, score in zip(trials[names].itertuples(index=False), trials["score"]):
        params = {d: _plain(v) for d, v in zip(names, values)}
        study.add_trial(optuna.trial.create_trial(params=params, distributions=dists,
                                                  value=float(score)))
    return study


def _plain(value):
    """A value Optuna's CategoricalDistribution accepts (Python scalars or None)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def importance(source, methods=METHODS, *, seed=0, ped_anova_quantile=0.1) -> pd.DataFrame:
    """Decision importance by several estimators, each normalised to sum to 1.

    - ``fanova``: Optuna's fANOVA (a random forest's functional ANOVA, Hutter et al. 2014):
      how much of the score's variance over the whole space each decision explains.
    - ``ped_anova``: Optuna's PED-ANOVA (Watanabe et al. 2023): which decisions separate the
      best ``ped_anova_quantile`` of trials from the rest (what matters *among the best*).
    - ``shap``: mean |SHAP value| of the tree surrogate (see :func:`surrogate`).

    The trials are loaded into an in-memory Optuna study, one categorical parameter per
    decision. Returns a DataFrame indexed by decision, one column per method; ``attrs`` holds
    ``n_trials`` and ``surrogate_r2``.  Usage: ``xs.importance(result)``
    """
    import optuna

    methods = (methods,) if isinstance(methods, str) else tuple(methods)
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise SearchExplainError(f"unknown importance method(s) {unknown}; choose from "
                                 f"{list(METHODS)}")
    trials = prepare(source)
    _need(trials, 5, "importance")
    names = trials.attrs["decisions"]
    out = pd.DataFrame(index=pd.Index(names, name="decision"))
    r2 = math.nan
    if {"fanova", "ped_anova"} & set(methods):
        study = _study(trials)
    for method in methods:
        if method == "fanova":
            evaluator = optuna.importance.FanovaImportanceEvaluator(seed=seed)
        elif method == "ped_anova":
            n_top = ped_anova_quantile * len(trials)
            if n_top < 2:
                raise SearchExplainError(
                    f"PED-ANOVA compares the top {ped_anova_quantile:.0%} of trials with the "
                    f"rest: {len(trials)} trials give fewer than 2 top trials; run more or "
                    f"raise ped_anova_quantile")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Optuna marks PED-ANOVA experimental
                evaluator = optuna.importance.PedAnovaImportanceEvaluator(
                    target_quantile=ped_anova_quantile)
        if method in ("fanova", "ped_anova"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                values = optuna.importance.get_param_importances(
                    study, evaluator=evaluator, params=names, normalize=False)
            col = pd.Series(values, dtype=float).reindex(names).fillna(0.0)
        else:
            import shap

            s = surrogate(trials, seed=seed)
            r2 = s.cv_r2
            phi = shap.TreeExplainer(s.model).shap_values(s.X)
            col = pd.Series(np.abs(phi).mean(axis=0), index=names)
        total = col.sum()
        out[method] = col / total if total > 0 else col
    out.attrs.update(n_trials=len(trials), surrogate_r2=r2)
    return out


# --- effects and interactions --------------------------------------------------------------


def marginal_effects(source, decisions=None, *, seed=0) -> pd.DataFrame:
    """Partial dependence of the score on each decision, with its spread, beside what the
    trials show directly.

    For each value: ``pd_mean`` is the surrogate's mean prediction with that value put into
    every trial; ``pd_low``/``pd_high`` the 10th/90th percentile of those per-trial
    predictions (a wide band means the effect depends on the other decisions);
    ``observed_mean``/``observed_std``/``n`` summarise the trials that really had the value.
    Usage: ``xs.marginal_effects(result, ["kernel"])``
    """
    s = surrogate(source, seed=seed)
    trials = s.trials
    names = trials.attrs["decisions"]
    decisions = names if decisions is None else [decisions] if isinstance(decisions, str) \
        else list(decisions)
    rows = []
    for d in decisions:
        if d not in names:
            raise SearchExplainError(f"no varying decision {d!r}; the trials vary {names}")
        j = names.index(d)
        domain = trials.attrs["domains"][d]
        for value in _levels(trials, d):
            code = -1 if value is None else _code(value, domain)
            X = s.X.copy()
            X[:, j] = code
            pred = s.predict(X)
            seen = s.y[s.X[:, j] == code]
            rows.append({"decision": d, "value": NOT_BUILT if value is None else value,
                         "pd_mean": pred.mean(), "pd_low": np.percentile(pred, 10),
                         "pd_high": np.percentile(pred, 90),
                         "observed_mean": seen.mean() if len(seen) else math.nan,
                         "observed_std": seen.std(ddof=1) if len(seen) > 1 else math.nan,
                         "n": len(seen)})
    frame = pd.DataFrame(rows)
    frame.attrs.update(objective=trials.attrs["objective"], surrogate_r2=s.cv_r2)
    return frame


def interactions(source, top=5, *, seed=0) -> pd.DataFrame:
    """The strongest pairwise interactions: for each pair of decisions, the share of the
    surrogate's variance carried by their two-way interaction term (the pair's partial
    dependence minus both main effects, levels weighted equally).
    Usage: ``xs.interactions(result, top=3)``
    """
    s = surrogate(source, seed=seed)
    trials = s.trials
    names = trials.attrs["decisions"]
    total = float(np.var(s.predict(s.X)))
    rows = []
    for a, b in itertools.combinations(range(len(names)), 2):
        ca = np.unique(s.X[:, a])
        cb = np.unique(s.X[:, b])
        X = np.repeat(s.X[None], len(ca) * len(cb), axis=0)
        for i, (va, vb) in enumerate(itertools.product(ca, cb)):
            X[i, :, a], X[i, :, b] = va, vb
        pred = s.predict(X.reshape(-1, len(names))).reshape(len(ca) * len(cb), -1)
        grid = pred.mean(axis=1).reshape(len(ca), len(cb))
        inter = grid - grid.mean(axis=1, keepdims=True) - grid.mean(axis=0) + grid.mean()
        strength = float(np.mean(inter ** 2) / total) if total > 0 else 0.0
        rows.append({"pair": f"{names[a]} × {names[b]}", "a": names[a], "b": names[b],
                     "strength": strength})
    frame = pd.DataFrame(rows, columns=["pair", "a", "b", "strength"])
    frame = frame.sort_values("strength", ascending=False, kind="stable").head(top)
    frame = frame.reset_index(drop=True)
    frame.attrs.update(surrogate_r2=s.cv_r2)
    return frame


# --- rules and the winner ------------------------------------------------------------------


def _describe(d, allowed, domain, present):
    """Readable condition for decision ``d`` limited to ``allowed`` codes of ``present``."""
    if set(allowed) >= set(present):
        return None
    labels = [NOT_BUILT if c < 0 else domain[int(c)] for c in sorted(allowed)]
    if len(labels) == 1:
        return f"{d} = {labels[0]}"
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in labels)
    codes = sorted(c for c in present if c >= 0)
    if numeric and all(c >= 0 for c in allowed):
        if sorted(allowed) == codes[:len(allowed)]:
            return f"{d} ≤ {labels[-1]}"
        if sorted(allowed) == codes[-len(allowed):]:
            return f"{d} ≥ {labels[0]}"
    return f"{d} in {{{', '.join(map(str, labels))}}}"


def rules(source, *, top_fraction=0.1, max_depth=3, min_leaf=None) -> pd.DataFrame:
    """Readable rules for reaching the top ``top_fraction`` of trials, from a shallow tree.

    A decision tree (depth ≤ ``max_depth``) learns "in the top or not" from the decisions;
    each leaf becomes a rule such as "connection = residual and kernel ≥ 5". Returns one row
    per leaf: ``rule``, ``n`` trials, ``top_share`` (fraction of them in the top),
    ``mean_score``; most promising first. ``attrs["threshold"]`` is the top cut-off.
    Usage: ``xs.rules(result, top_fraction=0.1)``
    """
    from sklearn.tree import DecisionTreeClassifier

    trials = prepare(source)
    _need(trials, 10, "rules")
    if not 0 < top_fraction < 1:
        raise SearchExplainError(f"top_fraction must be between 0 and 1, got {top_fraction}")
    names = trials.attrs["decisions"]
    X, y = _encode(trials, trials), trials["score"].to_numpy(float)
    is_top, cut = _top(trials, top_fraction)
    min_leaf = min_leaf or max(2, len(trials) // 50)
    tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=min_leaf,
                                  random_state=0).fit(X, is_top)
    t = tree.tree_
    present = [sorted(np.unique(X[:, j])) for j in range(len(names))]
    paths = {}

    def walk(node, allowed):
        if t.children_left[node] < 0:
            paths[node] = allowed
            return
        j, thr = t.feature[node], t.threshold[node]
        left = {**allowed, j: [c for c in allowed[j] if c <= thr]}
        right = {**allowed, j: [c for c in allowed[j] if c > thr]}
        walk(t.children_left[node], left)
        walk(t.children_right[node], right)

    walk(0, {j: list(p) for j, p in enumerate(present)})
    leaf = tree.apply(X)
    rows = []
    for node, allowed in paths.items():
        mask = leaf == node
        if not mask.any():
            continue
        parts = [_describe(names[j], allowed[j], trials.attrs["domains"][names[j]], present[j])
                 for j in range(len(names))]
        parts = [p for p in parts if p]
        rows.append({"rule": " and ".join(parts) or "all trials", "n": int(mask.sum()),
                     "top_share": float(is_top[mask].mean()),
                     "mean_score": float(y[mask].mean())})
    frame = pd.DataFrame(rows).sort_values(["top_share", "mean_score"], ascending=False,
                                           kind="stable").reset_index(drop=True)
    frame.attrs.update(threshold=float(cut), top_fraction=top_fraction,
                       base_rate=float(is_top.mean()))
    return frame


def winner_vs_runners_up(source, k=5) -> pd.DataFrame:
    """The best trial's decisions beside the next ``k`` best: does the winner's choice agree
    with the runners-up's, and how much better do trials with that value score on average?

    Columns: ``winner`` (its value), ``runners_up_agree`` (share of runners-up with the same
    value), ``runners_up`` (their values, counted), ``effect`` (mean score of trials with the
    winner's value minus the mean of all trials).  Usage: ``xs.winner_vs_runners_up(result)``
    """
    trials = prepare(source)
    _need(trials, 2, "a comparison with runners-up")
    ascending = trials.attrs["direction"] == "min"
    ranked = trials.sort_values("score", ascending=ascending, kind="stable")
    winner, runners = ranked.iloc[0], ranked.iloc[1:k + 1]
    overall = trials["score"].mean()
    rows = []
    for d in trials.attrs["decisions"]:
        w = winner[d]
        label = (lambda v: NOT_BUILT if v is None else v)
        same = [_same(v, w) for v in runners[d]]
        counts = Counter(str(label(v)) for v in runners[d])
        with_w = trials["score"][[_same(v, w) for v in trials[d]]]
        rows.append({"decision": d, "winner": label(w),
                     "runners_up_agree": float(np.mean(same)) if same else math.nan,
                     "runners_up": ", ".join(f"{v} ×{n}" for v, n in counts.most_common()),
                     "effect": float(with_w.mean() - overall)})
    frame = pd.DataFrame(rows).set_index("decision")
    frame.attrs.update(winner_score=float(winner["score"]), k=len(runners),
                       winner=str(winner.name))
    return frame
