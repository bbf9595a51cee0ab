"""Weight transfer between benchmark tasks: a supernet trained on task A, then trained on task B
for ``k`` epochs, against a supernet trained on B from scratch for the same ``k`` epochs; both
read against B's truth (Kendall tau of the sub-networks' validation accuracies with B's mean
test accuracy). This is the source's "pretrained models reduce the search" (§8.1 item 4,
§9.1 items 4-5) asked of weight sharing. A third arm, ``zero-shot``, scores A's supernet on B
with no training on B at all (only its BatchNorm statistics recalibrated on B, as every
scoring does).

The unit is the training seed: each seed trains its own A supernet, so the comparison of arms
is paired by seed (:func:`compare`). The cost on B is the same ``k`` epochs in both trained
arms; A's training is the price of the pretrained model, reported, not hidden.

Usage::

    from nasbook.oneshot import transfer
    scores = transfer.runs("original", ("near", "far"), seeds=(1, 2, 3), epochs=(10, 30))
    far = scores[scores.target == "far"]
    taus = transfer.taus(far, oneshot.audit.truth(nb.bench.load(task="far")))
    for line in transfer.compare(taus): print(line)
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd

__all__ = ["ARMS", "runs", "taus", "compare"]

ARMS = ("zero-shot", "transfer", "scratch")


def _dataset(task):
    """A task's recipe split (:data:`nasbook.bench.TASKS`), or a Dataset passed as it is."""
    if hasattr(task, "x_train"):
        return task
    from nasbook.bench.build import recipe_data

    return recipe_data(task)[0]


def runs(source="original", targets=("near",), *, seeds=(1, 2, 3), epochs=(10, 30),
         pretrain_epochs=None, method="uniform", progress=True) -> pd.DataFrame:
    """Train, per seed: a ``method`` supernet on ``source`` (a task name of
    :data:`nasbook.bench.TASKS`, or a Dataset; ``pretrain_epochs``, default the method's),
    then for each target task and each ``k`` in ``epochs`` one supernet from it and one from
    scratch on the target; score every sub-network on the target's validation split. One row
    per (target, seed, arm, epochs, arch_id): ``score``, the arm's ``cpu_s`` on the target (for
    ``zero-shot``: scoring only) and ``source_cpu_s`` (the pretrained supernet's training).
    ``targets``: one task (or Dataset) or several, or ``{name: Dataset}``; the source supernet
    is trained once per seed.

    Usage: ``runs("original", ("near", "far"), seeds=(1, 2), epochs=(10,))``
    """
    from nasbook.oneshot.scoring import score_supernet
    from nasbook.oneshot.train import TUNING_SEEDS, train_supernet

    if isinstance(targets, str) or hasattr(targets, "x_train"):
        targets = (targets,)
    if isinstance(targets, dict):
        names, targets = list(targets), list(targets.values())
    else:
        names = [t if isinstance(t, str) else f"target_{i}" for i, t in enumerate(targets)]
    seeds = [int(s) for s in seeds]
    epochs = [int(k) for k in epochs]
    if not seeds or not epochs or min(epochs) < 1 or not targets:
        raise ValueError(f"need a target, at least one seed and epochs >= 1, got seeds={seeds}, "
                         f"epochs={epochs}, targets={targets!r}")
    tuned = sorted(set(seeds) & set(TUNING_SEEDS))
    if tuned:
        raise ValueError(f"seed(s) {tuned} tuned the supernet recipe (TUNING_SEEDS); judge "
                         f"on other seeds")
    if isinstance(source, str) and source in names:
        raise ValueError(f"{source!r} is the source and a target: pick two tasks")
    src = _dataset(source)
    frames = []

    def keep(scores, target, seed, arm, k, cpu, source_cpu):
        frames.append(scores[["arch_id", "score"]].assign(
            target=target, seed=seed, arm=arm, epochs=k, cpu_s=cpu, source_cpu_s=source_cpu))

    for seed in seeds:
        pre = train_supernet(method, src, epochs=pretrain_epochs, seed=seed, progress=progress)
        for name, target in zip(names, targets):
            dst = _dataset(target)
            start = time.process_time()
            zero = score_supernet(pre.supernet, dst, seed=seed)
            keep(zero, name, seed, "zero-shot", 0, time.process_time() - start,
                 pre.cpu_time_s)
            for k in epochs:
                moved = train_supernet(method, dst, epochs=k, seed=seed, init=pre.supernet,
                                       progress=progress)
                keep(moved.scores, name, seed, "transfer", k, moved.cpu_time_s, pre.cpu_time_s)
                fresh = train_supernet(method, dst, epochs=k, seed=seed, progress=progress)
                keep(fresh.scores, name, seed, "scratch", k, fresh.cpu_time_s, 0.0)
    out = pd.concat(frames, ignore_index=True)
    out = out[["target", "seed", "arm", "epochs", "arch_id", "score", "cpu_s", "source_cpu_s"]]
    out.attrs.update(source=str(source), method=method, pretrain_epochs=pretrain_epochs)
    return out


def taus(scores: pd.DataFrame, truth_frame: pd.DataFrame, *, column="test") -> pd.DataFrame:
    """Kendall tau of each (seed, arm, epochs)'s scores with ``truth_frame[column]`` (the
    target task's :func:`nasbook.oneshot.audit.truth`), one row each; ``scores`` holds one
    target task's rows (``scores[scores.target == "near"]``).

    Usage: ``taus(scores.query("target == 'near'"), audit.truth(nb.bench.load(task="near")))``
    """
    from scipy.stats import kendalltau

    if "target" in scores and scores["target"].nunique() > 1:
        raise ValueError(f"scores hold several target tasks ({sorted(scores.target.unique())}); "
                         f"pass one: scores[scores.target == name]")
    truth = truth_frame[column]
    rows = []
    for (seed, arm, k), part in scores.groupby(["seed", "arm", "epochs"], sort=True):
        s = part.set_index("arch_id")["score"]
        common = s.index.intersection(truth.index)
        rows.append({"seed": seed, "arm": arm, "epochs": k,
                     "tau": float(kendalltau(s[common], truth[common]).statistic),
                     "n_archs": len(common), "cpu_s": float(part["cpu_s"].iloc[0])})
    return pd.DataFrame(rows)


def compare(tau_frame: pd.DataFrame, *, level=0.95) -> list:
    """For each ``k``: transfer minus scratch, paired by seed (:func:`nasbook.stats.
    paired_difference`), and the verdict on "transfer's tau is higher" (the difference's
    one-sided bound above 0, :func:`nasbook.stats.verdict`); zero-shot's tau beside them.
    Returns printable lines.

    Usage: ``for line in compare(taus(scores, truth)): print(line)``
    """
    from nasbook.stats import paired_difference, verdict

    wide = tau_frame.pivot_table(index="seed", columns=["arm", "epochs"], values="tau")
    lines = []
    if ("zero-shot", 0) in wide:
        z = wide[("zero-shot", 0)].dropna()
        lines.append(f"zero-shot: tau {z.mean():.3f} (per seed "
                     f"{', '.join(f'{v:.3f}' for v in z)}; n = {len(z)})")
    for k in sorted({k for arm, k in wide.columns if arm == "transfer"}):
        pair = wide[[("transfer", k), ("scratch", k)]].dropna()
        a, b = pair[("transfer", k)].to_numpy(), pair[("scratch", k)].to_numpy()
        lines.append(f"{k} epochs on the target: transfer tau {a.mean():.3f}, scratch "
                     f"{b.mean():.3f}")
        if len(a) >= 2:
            lines.append("  " + str(paired_difference(a, b, level=level,
                                                      what=f"transfer - scratch, {k} epochs")))
        lines.append("  " + str(verdict(a - b, 0.0, level=level,
                                        what=f"transfer ranks better than scratch, {k} epochs")))
    return lines
