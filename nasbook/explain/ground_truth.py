"""Ground-truth evidence on MNIST-1D: where each example's digit template lies, and how much of
an attribution map falls there.

MNIST-1D (Greydanus 2020) is synthetic: each example is a 12-point digit template, padded with
zeros, stretched, scaled, shifted (with wrap-around), its zero part filled with correlated
noise, then i.i.d. noise and a shear added and the result resampled to 40 points. The
generator itself decides which of its 72 intermediate points carry the template (``mask =
new_x != 0`` in ``mnist1d.transform.transform``), so the positions an explanation *should*
point at are known exactly. :func:`template_weights` replays the generator with its own seed,
making the same random draws in the same order, and carries that mask through the final
linear resampling: the weight of output position ``j`` is the template's share of its value.
The replay also rebuilds every example, and :func:`check_replay` confirms it equals
``nb.load_dataset("mnist1d")`` exactly.

Scores of an attribution map ``attr`` (``(n, 40)`` or ``(n, 40, 1)``) against the region:

- :func:`region_mass`: share of ``|attr|`` inside the region (a uniform map scores the
  region's own share of positions, :func:`region_fraction`);
- :func:`pointing_game`: is the position of largest ``|attr|`` inside the region?

Compare with model-free maps, not only with chance: the template is louder than the noise
around it, so ``|x|`` itself puts a third of its mass in the region and points into it for
about 78% of the first 200 test examples (a uniform map: 21% and about 21%). A method that
multiplies by the input (integrated gradients, input x gradient) inherits part of that.

Usage::

    mask = nb.explain.template_mask("test")          # (1000, 40) bool, aligned with ds.x_test
    nb.explain.region_mass(attr, mask[:200]).mean()  # attr: maps of ds.x_test[:200]
"""
from __future__ import annotations

import functools
import random

import numpy as np

__all__ = ["template_weights", "template_mask", "check_replay", "region_mass",
           "pointing_game", "region_fraction", "ground_truth_scores"]

_SPLITS = ("train", "test", "all")


def _replay_example(x, args, eps=1e-8):
    """``mnist1d.transform.transform`` step by step with the same random draws, returning the
    final signal and the template's weight at each of its ``final_seq_length`` points."""
    from mnist1d.transform import corr_noise_like, iid_noise_like, interpolate, shear

    low, high = args.padding
    p = low + int(np.random.rand() * (high - low + 1))          # pad: same draw as pad()
    new_x = np.concatenate([x + eps, np.zeros(p)])
    new_x = interpolate(new_x, args.template_len + args.padding[-1])   # dilate
    new_x *= 1 + args.scale_coeff * (np.random.rand() - 0.5)          # scale
    k = np.random.choice(args.max_translation)                  # translate: same as translate()
    new_x = np.concatenate([new_x[-k:], new_x[:-k]])
    mask = new_x != 0                                           # the generator's own template mask
    new_x = mask * new_x + (1 - mask) * corr_noise_like(new_x, args.corr_noise_scale)
    new_x = new_x + iid_noise_like(new_x, args.iid_noise_scale)
    new_x = shear(new_x, args.shear_scale)
    out = interpolate(new_x, args.final_seq_length)             # subsample
    weight = interpolate(mask.astype(np.float64), args.final_seq_length)
    return out, weight


@functools.lru_cache(maxsize=1)
def _replay():
    """Every example of nasbook's MNIST-1D (the generator's default arguments) with its
    template weights, in the dataset's order: ``(x (5000, 40), weights (5000, 40), y, split)``.
    The global random state of the caller is restored afterwards."""
    from mnist1d.data import get_dataset_args, get_templates

    args = get_dataset_args()
    if args.shuffle_seq:  # pragma: no cover - the default arguments never shuffle positions
        raise NotImplementedError("replay of a position-shuffled MNIST-1D is not supported")
    templates = get_templates()
    py_state, np_state = random.getstate(), np.random.get_state()
    try:
        random.seed(args.seed)
        np.random.seed(args.seed)   # mnist1d.utils.set_seed, as make_dataset does
        xs, ws, ys = [], [], []
        per_class = args.num_samples // len(templates["y"])
        for label in range(len(templates["y"])):
            for _ in range(per_class):
                x, w = _replay_example(templates["x"][label], args)
                xs.append(x), ws.append(w), ys.append(templates["y"][label])
        order = np.random.permutation(len(ys))
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
    xs, ws, ys = np.stack(xs)[order], np.stack(ws)[order], np.stack(ys)[order]
    xs = (xs - xs.mean()) / xs.std()
    split = int(len(ys) * args.train_split)
    return xs, ws, ys, split


def _split(values, split, name):
    if split not in _SPLITS:
        raise ValueError(f"split must be one of {_SPLITS}, got {name}={split!r} (the "
                         f"validation set is drawn from 'train' by nb.load_dataset)")
    n_train = _replay()[3]
    if split == "train":
        return values[:n_train]
    if split == "test":
        return values[n_train:]
    return values


def template_weights(split="test") -> np.ndarray:
    """The template's share of each of the 40 positions, ``(n, 40)`` in ``[0, 1]``.

    ``split="test"`` is aligned with ``nb.load_dataset("mnist1d").x_test``; ``"train"`` with
    the generator's 4,000 training examples *before* nb.load_dataset's train/validation split;
    ``"all"`` with both, train first. Computed once per process (about a second).

    Usage: ``w = nb.explain.template_weights("test")``
    """
    return _split(_replay()[1], split, "split").copy()


def template_mask(split="test", *, threshold=0.5) -> np.ndarray:
    """Positions carrying the digit template, ``(n, 40)`` bool: template weight ``>=
    threshold`` (``threshold=0`` would also count positions with any template share).

    Usage: ``mask = nb.explain.template_mask("test")[:200]``
    """
    if not 0 <= threshold <= 1:
        raise ValueError(f"threshold must be in [0, 1], got {threshold!r}")
    w = template_weights(split)
    return w > 0 if threshold == 0 else w >= threshold


def check_replay(split="test", *, data_dir=None) -> float:
    """Largest absolute difference between the replayed examples and ``nb.load_dataset(
    "mnist1d")``'s (float32, as loaded); 0.0 means the replay is exact.

    Usage: ``assert nb.explain.check_replay() == 0.0``
    """
    from nasbook.data import load_dataset

    ds = load_dataset("mnist1d", data_dir=data_dir)
    xs, _, ys, n_train = _replay()
    if split == "test":
        mine, theirs, my_y, their_y = xs[n_train:], ds.x_test[..., 0], ys[n_train:], ds.y_test
    elif split == "train":   # nb.load_dataset splits train/val; put them back in order
        x_all = np.concatenate([ds.x_train, ds.x_val])[..., 0]
        y_all = np.concatenate([ds.y_train, ds.y_val])
        mine, my_y = xs[:n_train], ys[:n_train]
        # the split keeps rows sorted within each part; match rows by value
        idx = np.lexsort(x_all.T[::-1])
        mine_idx = np.lexsort(mine.astype(np.float32).T[::-1])
        theirs, their_y, mine, my_y = x_all[idx], y_all[idx], mine[mine_idx], my_y[mine_idx]
    else:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if mine.shape != theirs.shape or not np.array_equal(my_y, their_y):
        return float("inf")
    return float(np.abs(mine.astype(np.float32) - theirs).max())


# ----------------------------------------------------------------------------- scores
def _per_position(attr, mask):
    a = np.asarray(attr, dtype=np.float64)
    if a.ndim == 3:   # (n, positions, channels): a position counts with all its channels
        a = np.abs(a).sum(axis=-1)
    elif a.ndim == 2:
        a = np.abs(a)
    else:
        raise ValueError(f"attributions must be (n, positions) or (n, positions, channels), "
                         f"got shape {a.shape}")
    m = np.asarray(mask)
    if m.shape != a.shape:
        raise ValueError(f"mask of shape {m.shape} does not match the maps' (n, positions) "
                         f"{a.shape}; pass the mask rows of the same examples (e.g. "
                         f"template_mask('test')[:n])")
    return a, m


def region_mass(attr, mask) -> np.ndarray:
    """Share of each map's ``|attr|`` inside the region, ``(n,)``; ``mask`` is bool or a
    weight in ``[0, 1]`` per position. An all-zero map has no mass: ``nan``.

    Usage: ``nb.explain.region_mass(ig, mask).mean()``
    """
    a, m = _per_position(attr, mask)
    total = a.sum(axis=1)
    inside = (a * m.astype(np.float64)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, inside / np.where(total > 0, total, 1.0), np.nan)


def pointing_game(attr, mask) -> np.ndarray:
    """Whether each map's largest ``|attr|`` lies in the region, ``(n,)`` bool (a weight mask
    counts a hit where its weight is at least one half). Ties: the first position.

    Usage: ``nb.explain.pointing_game(ig, mask).mean()``
    """
    a, m = _per_position(attr, mask)
    m = m if m.dtype == bool else m >= 0.5
    return m[np.arange(len(a)), a.argmax(axis=1)]


def region_fraction(mask) -> np.ndarray:
    """Share of positions in each example's region, ``(n,)``: what a uniform map scores on
    :func:`region_mass`, and a random position's chance of a pointing-game hit.

    Usage: ``nb.explain.region_fraction(mask).mean()``
    """
    return np.asarray(mask, dtype=np.float64).mean(axis=1)


def ground_truth_scores(attr, mask) -> dict:
    """Mean region mass, pointing-game hit rate and the region's share of positions.

    Usage: ``nb.explain.ground_truth_scores(ig, template_mask('test')[:len(ig)])``
    """
    return {"region_mass": float(np.nanmean(region_mass(attr, mask))),
            "pointing_game": float(pointing_game(attr, mask).mean()),
            "region_fraction": float(region_fraction(mask).mean())}
