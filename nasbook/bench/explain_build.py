"""Explanation quality of every benchmark architecture: retrain each one under the benchmark
recipe and measure, on a fixed set of test examples, how faithful its attribution maps are.

Per architecture (one row of a CSV, appended as each run finishes; resumable like
:mod:`nasbook.bench.build`: finished runs are skipped, a torn last line is dropped; two worker
processes, one TensorFlow thread each), all on the first :data:`EXAMPLES` test examples,
explaining each example's *true* class:

- ``test_accuracy`` on the whole test split (it must agree with the accuracy table's run of the
  same seed), ``subset_accuracy`` on the explained examples;
- deletion and insertion AUC (Petsiuk et al. 2018; softmax probability, fill 0, the dataset
  mean) of integrated gradients (``ig_``), saliency (``saliency_``) and a random map
  (``random_``);
- the randomisation sanity score (Adebayo et al. 2018): mean Spearman correlation of ``|map|``
  with the map of the model with every weighted layer re-initialised (the last step of the
  cascade of :func:`nasbook.explain.randomisation_check`; low = the map depends on the model);
- ``ig_completeness_gap``: median relative completeness gap of IG (0 = exact);
- ground truth (:mod:`nasbook.explain.ground_truth`): share of ``|map|`` inside the digit
  template's positions (``*_region_mass``; ``region_fraction`` is what a uniform map scores)
  and the pointing-game hit rate (``*_pointing_game``).

The IG and saliency maps of the explained examples are saved, one ``.npz`` per run in
``<out>_maps/``, written before the row, so :func:`agreement_with` can compare every
architecture's maps with a reference architecture's (rank correlation, top-k overlap) once
all are built.

Usage::

    python -m nasbook.bench explain-build --out /tmp/explanations.csv         # about 1 h
    python -m nasbook.bench explain-build --out /tmp/e.csv --limit 2         # a quick look
"""
from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np

from nasbook.bench.build import EPOCHS, append_runs, recipe_data, train
from nasbook.bench.space import DECISIONS, all_configs

__all__ = ["explain_build", "explain_one", "EXPLAIN_COLUMNS", "EXAMPLES", "IG_STEPS",
           "CURVE_STEPS", "maps_dir", "load_maps", "map_agreement", "agreement_with",
           "default_explain_path", "reference_arch", "ship", "pack_maps", "rashomon_control"]

EXAMPLES = 200        # the first 200 test examples are explained
IG_STEPS = 32         # integrated gradients: trapezoid rule, zeros baseline
CURVE_STEPS = 20      # deletion/insertion: 5% of the positions per step
SEEDS = (0,)
METHODS = ("ig", "saliency")
EXPLAIN_COLUMNS = (["arch_id", "seed", *DECISIONS, "status", "params", "epochs",
                    "train_time_s", "explain_time_s", "test_accuracy", "subset_accuracy"]
                   + [f"{m}_{c}_auc" for m in (*METHODS, "random")
                      for c in ("deletion", "insertion")]
                   + [f"{m}_sanity_spearman" for m in METHODS]
                   + ["ig_completeness_gap"]
                   + [f"{m}_{s}" for m in METHODS for s in ("region_mass", "pointing_game")]
                   + ["region_fraction"])


def default_explain_path() -> Path:
    from nasbook import config

    return config.data_dir() / "bench" / "mnist1d_explanations.csv"


def maps_dir(out) -> Path:
    """The folder of a table's saved maps: ``<out without .csv>_maps``."""
    out = Path(out)
    return out.with_name(out.stem + "_maps")


def _map_file(folder, arch_id, seed) -> Path:
    return Path(folder) / f"arch{int(arch_id):03d}_seed{int(seed)}.npz"


def _r(v, digits=5):
    return round(float(v), digits) if np.isfinite(v) else float("nan")


def explain_one(arch_id: int, config: dict, seed: int, *, epochs: int = EPOCHS,
                examples: int = EXAMPLES, folder=None) -> dict:
    """Train one architecture and measure its explanations; returns the CSV row and, with
    ``folder``, saves its maps there. ``epochs``/``examples`` other than the defaults are for
    tests and quick looks only.

    Usage: ``row = explain_one(0, all_configs()[0], 0, epochs=1, examples=20)``
    """
    from nasbook.explain.attributions import attribute, completeness
    from nasbook.explain.evaluate import (auc_table, deletion_insertion, randomised_copy,
                                          spearman)
    from nasbook.explain.ground_truth import ground_truth_scores, template_mask
    from nasbook.logits import logit_model, predict_classes

    ds, space = recipe_data()
    model, history, train_s = train(config, seed, ds, space, epochs=epochs)
    start = time.perf_counter()
    test_loss, test_acc = model.evaluate(ds.x_test, ds.y_test, verbose=0)
    finite = all(np.isfinite(v) for v in history["val_loss"]) and np.isfinite(test_loss)
    net = logit_model(model)
    x, y = ds.x_test[:examples], ds.y_test[:examples]
    mask = template_mask("test")[:examples]

    def maps_of(m):
        return {"ig": attribute(m, x, "integrated_gradients", target=y, steps=IG_STEPS),
                "saliency": attribute(m, x, "saliency", target=y)}

    maps = maps_of(net)
    row = {"arch_id": arch_id, "seed": seed, **config,
           "status": "completed" if finite else "diverged", "params": model.count_params(),
           "epochs": epochs, "train_time_s": round(train_s, 3),
           "test_accuracy": _r(test_acc),
           "subset_accuracy": _r(np.mean(predict_classes(net, x) == y))}
    aucs = auc_table(deletion_insertion(net, x, maps, target=y, fill=0.0, steps=CURVE_STEPS))
    for m in (*METHODS, "random"):
        row[f"{m}_deletion_auc"] = _r(aucs.loc[m, "deletion_auc"])
        row[f"{m}_insertion_auc"] = _r(aucs.loc[m, "insertion_auc"])
    # the cascade's last step: every weighted layer re-initialised, output side first
    layers = [layer.name for layer in net.layers if layer.weights][::-1]
    destroyed = maps_of(randomised_copy(net, layers, seed=0))
    for m in METHODS:
        rho = spearman(np.abs(maps[m]), np.abs(destroyed[m]))
        row[f"{m}_sanity_spearman"] = _r(np.nanmean(rho)) if np.isfinite(rho).any() else np.nan
    gaps = completeness(net, x, maps["ig"], target=y).relative_gap
    row["ig_completeness_gap"] = _r(np.median(gaps))
    for m in METHODS:
        scores = ground_truth_scores(maps[m], mask)
        row[f"{m}_region_mass"] = _r(scores["region_mass"])
        row[f"{m}_pointing_game"] = _r(scores["pointing_game"])
    row["region_fraction"] = _r(scores["region_fraction"])
    if folder is not None:
        Path(folder).mkdir(parents=True, exist_ok=True)
        target = _map_file(folder, arch_id, seed)
        tmp = target.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, ig=maps["ig"][..., 0], saliency=maps["saliency"][..., 0],
                            y=y)
        tmp.replace(target)   # the maps are complete on disk before the row is written
    row["explain_time_s"] = round(time.perf_counter() - start, 3)
    return row


def explain_build(out=None, *, seeds=SEEDS, workers=2, limit=None, epochs=EPOCHS,
                  examples=EXAMPLES, progress=True) -> Path:
    """Train and explain what is missing from ``out``, appending one row per run; returns the
    CSV path. ``workers`` processes in parallel (one TensorFlow thread each); ``workers=1``
    runs in this process. Maps go to :func:`maps_dir` of ``out``.

    Usage: ``explain_build("/tmp/e.csv", limit=2)``
    """
    path = Path(out) if out is not None else default_explain_path()
    folder = maps_dir(path)
    folder.mkdir(parents=True, exist_ok=True)
    return append_runs(path, EXPLAIN_COLUMNS, explain_one, seeds=seeds, workers=workers,
                       limit=limit, progress=progress, desc="explained runs", epochs=epochs,
                       examples=examples, folder=str(folder))


# ----------------------------------------------------------------------------- agreement
def load_maps(folder, arch_id, seed=0, method="ig") -> np.ndarray:
    """One run's saved maps, ``(examples, 40)``.

    Usage: ``load_maps(maps_dir("/tmp/e.csv"), 17)``
    """
    path = _map_file(folder, arch_id, seed)
    if not path.exists():
        raise FileNotFoundError(f"no maps for architecture {arch_id}, seed {seed} in {folder}; "
                                f"build them with `python -m nasbook.bench explain-build`")
    with np.load(path) as f:
        if method not in f.files:
            raise ValueError(f"method must be one of {[k for k in f.files if k != 'y']}, "
                             f"got {method!r}")
        return f[method]


def _top_k(a, k):
    return np.argsort(-a, axis=1, kind="stable")[:, :k]


def map_agreement(a, b, *, k=5) -> dict:
    """How alike two sets of maps of the same inputs are, per example: ``rank_correlation``
    (Spearman of ``|a|`` with ``|b|``) and ``top_k_overlap`` (share of the ``k`` positions
    of largest ``|a|`` that are also among ``b``'s ``k`` largest). Arrays ``(n,)``.

    Usage: ``map_agreement(load_maps(d, 3), load_maps(d, 7), k=5)["top_k_overlap"].mean()``
    """
    from nasbook.explain.evaluate import spearman

    a = np.abs(np.asarray(a, dtype=np.float64)).reshape(len(a), -1)
    b = np.abs(np.asarray(b, dtype=np.float64)).reshape(len(b), -1)
    if a.shape != b.shape:
        raise ValueError(f"maps of shapes {a.shape} and {b.shape} cannot be compared; pass "
                         f"maps of the same examples")
    if not 1 <= k <= a.shape[1]:
        raise ValueError(f"k must be between 1 and the number of positions ({a.shape[1]}), "
                         f"got {k}")
    ta, tb = _top_k(a, k), _top_k(b, k)
    overlap = np.array([len(np.intersect1d(p, q)) / k for p, q in zip(ta, tb)])
    return {"rank_correlation": spearman(a, b), "top_k_overlap": overlap}


def agreement_with(folder, reference, *, seed=0, method="ig", k=5, arch_ids=None):
    """Agreement of every saved architecture's maps with the ``reference`` architecture's:
    one row per arch_id with the mean ``rank_correlation`` and ``top_k_overlap``.

    Usage: ``agreement_with(maps_dir("/tmp/e.csv"), reference=best_arch_id)``
    """
    import pandas as pd

    folder = Path(folder)
    if arch_ids is None:
        arch_ids = sorted(int(p.name[4:7]) for p in folder.glob(f"arch*_seed{seed}.npz"))
    ref = load_maps(folder, reference, seed, method)
    rows = []
    for i in arch_ids:
        agree = map_agreement(load_maps(folder, i, seed, method), ref, k=k)
        rows.append({"arch_id": int(i), "seed": seed,
                     f"{method}_rank_correlation": float(np.nanmean(agree["rank_correlation"])),
                     f"{method}_top{k}_overlap": float(agree["top_k_overlap"].mean())})
    return pd.DataFrame(rows)


def rashomon_control(maps_a, maps_b, *, k=5, accuracy_a=None,
                     accuracy_b=None) -> "pd.DataFrame":
    """A Rashomon comparison whose unit is the training run: ``maps_a`` and ``maps_b`` map
    each training seed to the maps (same inputs) of architecture A and of architecture B
    trained with that seed (the same seeds for both, at least 3). For every seed ``s``, with
    ``s'`` the next seed (cyclically):

    - ``control``: the mean agreement of a run with its own architecture's other seed,
      (agreement(A_s, A_s') + agreement(B_s, B_s')) / 2: what retraining alone changes;
    - ``pair``: agreement(A_s, B_s): the other architecture, the same seed;
    - ``difference`` = pair - control (negative: the architectures differ by more than
      retraining does), per seed; the controls of neighbouring seeds share a run.

    Agreement is the mean over examples of :func:`map_agreement`'s rank correlation (and the
    top-k overlap, ``*_overlap``). Judge it with ``nb.stats.verdict(frame.difference, 0,
    better="lower")``: one figure per training seed; the rank correlation's is the primary
    verdict, the overlap's a secondary reading. The rows are not independent (each run enters
    two controls and one pair), so a Student-t bound on them, which takes them as independent,
    is approximate.

    The claim's premise is that the two architectures are equally accurate *as trained here*:
    with ``accuracy_a`` and ``accuracy_b`` (seed -> test accuracy of each run) the frame gets
    the columns ``accuracy_a``, ``accuracy_b`` and ``attrs`` ``accuracy_gap`` (the gap of the two
    architectures' mean accuracies), ``accuracy_spread`` (the larger of the two
    within-architecture ranges over the seeds: the seed-to-seed spread) and
    ``equally_accurate`` (gap <= spread; otherwise the pair is not a Rashomon pair in this run).

    Usage: ``rashomon_control({1: a1, 2: a2, 3: a3}, {1: b1, 2: b2, 3: b3})``
    """
    import pandas as pd

    seeds = list(maps_a)
    if sorted(seeds) != sorted(maps_b):
        raise ValueError(f"both architectures need maps of the same seeds, got {sorted(maps_a)} "
                         f"and {sorted(maps_b)}")
    if len(seeds) < 3:
        raise ValueError(f"a verdict over training runs needs at least 3 seeds per "
                         f"architecture, got {len(seeds)}; one run is one run")

    def agree(a, b):
        m = map_agreement(a, b, k=k)
        return float(np.nanmean(m["rank_correlation"])), float(m["top_k_overlap"].mean())

    rows = []
    for i, s in enumerate(seeds):
        nxt = seeds[(i + 1) % len(seeds)]
        (ra, oa), (rb, ob) = agree(maps_a[s], maps_a[nxt]), agree(maps_b[s], maps_b[nxt])
        rp, op = agree(maps_a[s], maps_b[s])
        rows.append({"seed": s, "other seed": nxt, "control": (ra + rb) / 2, "pair": rp,
                     "difference": rp - (ra + rb) / 2, "control_overlap": (oa + ob) / 2,
                     "pair_overlap": op, "difference_overlap": op - (oa + ob) / 2})
    frame = pd.DataFrame(rows).set_index("seed")
    if (accuracy_a is None) != (accuracy_b is None):
        raise ValueError("pass the test accuracies of both architectures (accuracy_a and "
                         "accuracy_b), or of neither")
    if accuracy_a is not None:
        for name, acc in (("accuracy_a", accuracy_a), ("accuracy_b", accuracy_b)):
            if sorted(acc) != sorted(seeds):
                raise ValueError(f"{name} needs one accuracy per seed {sorted(seeds)}, got "
                                 f"{sorted(acc)}")
            frame[name] = [float(acc[s]) for s in frame.index]
        gap = abs(frame.accuracy_a.mean() - frame.accuracy_b.mean())
        spread = max(float(np.ptp(frame.accuracy_a)), float(np.ptp(frame.accuracy_b)))
        frame.attrs.update(accuracy_gap=float(gap), accuracy_spread=spread,
                           equally_accurate=bool(gap <= spread))
    return frame


# ----------------------------------------------------------------------------- shipping
def reference_arch(accuracy=None) -> int:
    """The reference of the agreement columns: the architecture of best mean test accuracy in
    the accuracy table (``nb.bench.load()``, or the DataFrame ``accuracy``).

    Usage: ``reference_arch()  # 300: 3 blocks, 64 filters, kernel 5, max, relu, full``
    """
    from nasbook.bench.table import load

    table = load() if accuracy is None else accuracy
    return int(table.groupby("arch_id").test_accuracy.mean().idxmax())


def ship(built, dest=None, *, k=5, complete=True, reference=None, keep=None):
    """Turn a finished build into the shipped table: rows sorted by (arch_id, seed), the
    agreement of each architecture's IG and saliency maps with :func:`reference_arch`'s
    (``ig_rank_correlation``, ``ig_top5_overlap``, ``saliency_...``; ``reference_arch_id``)
    added, written to ``dest`` (default ``data/mnist1d_explanations.csv``) with its SHA-256
    beside it. ``complete`` requires all 324 architectures of every built seed, each
    completed; ``reference`` overrides the reference architecture (tests). ``keep``: a shipped
    table whose rows stay as they are, character for character (a new seed is added beside
    them; built rows of the runs it already has are dropped). Returns ``dest``.

    Usage: ``ship("/work/xai_build/explanations.csv")``;
    ``ship("seed1.csv", keep="data/mnist1d_explanations.csv")``
    """
    import pandas as pd

    from nasbook.bench.table import EXPLANATIONS_PATH, BenchmarkError, sha256

    built = Path(built)
    dest = Path(dest) if dest is not None else EXPLANATIONS_PATH
    table = pd.read_csv(built).sort_values(["arch_id", "seed"]).reset_index(drop=True)
    if table.duplicated(["arch_id", "seed"]).any():
        raise BenchmarkError(f"{built} has duplicate (arch_id, seed) rows")
    kept = None
    if keep is not None:
        # read as text, so that the kept rows are written back exactly as they were
        kept = pd.read_csv(keep, dtype=str, keep_default_na=False)
        have = set(zip(kept.arch_id.astype(int), kept.seed.astype(int)))
        table = table[[(a, s) not in have for a, s in zip(table.arch_id, table.seed)]]
        if table.empty:
            raise BenchmarkError(f"{built} has no run that {keep} lacks")
    per_seed = table.groupby("seed").arch_id.nunique()
    if complete and ((per_seed != len(all_configs())).any()
                     or not table.status.eq("completed").all()):
        counts = ", ".join(f"{n} of {len(all_configs())} architectures for seed {s}"
                           for s, n in per_seed.items())
        raise BenchmarkError(f"{built} has {counts} ({table.status.ne('completed').sum()} "
                             f"not completed); finish the build (it resumes) before shipping")
    reference = reference_arch() if reference is None else int(reference)
    parts = []
    for seed, rows in table.groupby("seed"):
        per_method = [agreement_with(maps_dir(built), reference, seed=seed, method=m, k=k,
                                     arch_ids=rows.arch_id.tolist()) for m in METHODS]
        joined = per_method[0]
        for other in per_method[1:]:
            joined = joined.merge(other, on=["arch_id", "seed"])
        parts.append(joined)
    table = table.merge(pd.concat(parts), on=["arch_id", "seed"], how="left")
    table["reference_arch_id"] = reference
    if kept is not None:
        if list(kept.columns) != list(table.columns):
            raise BenchmarkError(f"{keep} and {built} have different columns")
        text = pd.read_csv(io.StringIO(table.to_csv(index=False, float_format="%.5g")),
                           dtype=str, keep_default_na=False)
        table = pd.concat([kept, text], ignore_index=True)
        order = np.lexsort((table.seed.astype(int), table.arch_id.astype(int)))
        table = table.iloc[order]
    dest.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(dest, index=False, float_format="%.5g")
    dest.with_name(dest.name + ".sha256").write_text(f"{sha256(dest)}  {dest.name}\n")
    return dest


def pack_maps(built, dest, *, seed=0, dtype="float16"):
    """All saved maps of a build in one ``.npz``: ``arch_id`` (a,), ``ig`` and ``saliency``
    (a, examples, 40) in ``dtype``, and the explained classes ``y``. About 10 MB in float16
    for 324 architectures and 200 examples.

    Usage: ``pack_maps("/work/xai_build/explanations.csv", "maps.npz")``
    """
    folder = maps_dir(built)
    ids = sorted(int(p.name[4:7]) for p in folder.glob(f"arch*_seed{seed}.npz"))
    if not ids:
        raise FileNotFoundError(f"no maps of seed {seed} in {folder}")
    arrays = {m: np.stack([load_maps(folder, i, seed, m) for i in ids]).astype(dtype)
              for m in METHODS}
    with np.load(_map_file(folder, ids[0], seed)) as f:
        y = f["y"]
    np.savez_compressed(dest, arch_id=np.array(ids), y=y, **arrays)
    return Path(dest)
