"""Score every sub-network of a trained supernet with its inherited weights.

The score of an architecture is its validation accuracy when it is read out of the supernet
(no further training). With BatchNorm, ``bn_recalibrate=True`` first recomputes the
normalisation statistics of that very sub-network on a few training examples (as SPOS does);
``False`` uses the statistics averaged over all paths during training.

Usage: ``scores = score_supernet(sn, ds)`` (one row per ``arch_id``)
"""
from __future__ import annotations

import numpy as np

from nasbook.bench.space import DECISIONS, all_configs
from nasbook.oneshot.supernet import CODE_SIZE, encode

__all__ = ["score_supernet", "CALIBRATION_SIZE"]

CALIBRATION_SIZE = 512   # training examples for one sub-network's BatchNorm statistics


_COMPILED = {}   # one compiled scorer per (shape, depth, width, statistics), for every supernet


def _evaluator(sn, recalibrate):
    """``logits(x_cal, x, arch)`` of ``sn``'s sub-network ``arch``: one compiled function per
    (depth, width), shared by all supernets of the same shape, so only the layers the path
    uses run and tracing is paid once per process."""
    import tensorflow as tf

    recalibrate = bool(sn.batchnorm and recalibrate)
    state = sn.state()

    def logits(x_cal, x, arch):
        key = (sn.input_shape, sn.num_classes, sn.batchnorm, recalibrate, arch["n_blocks"],
               arch["filters"])
        if key not in _COMPILED:
            static = {"depth": key[4], "width": key[5], "one_hot": True}
            shape = tf.TensorSpec([None, *sn.input_shape], tf.float32)

            def fn(state, x_cal, x, code, like=sn.view({})):
                net = like.view(state)
                if recalibrate:
                    _, moments = net.call_code(x_cal, code, stats="batch",
                                               return_moments=True, **static)
                    return net.call_code(x, code, stats=moments, **static)
                return net.call_code(x, code, stats="moving", **static)  # x_cal unused
            spec = tf.nest.map_structure(lambda t: tf.TensorSpec(t.shape, t.dtype), state)
            _COMPILED[key] = tf.function(fn, input_signature=[
                spec, shape, shape, tf.TensorSpec([CODE_SIZE], tf.float32)])
        return _COMPILED[key](state, x_cal, x, encode(arch))
    return logits


def score_supernet(sn, dataset, *, split="val", bn_recalibrate=True, calibration_size=None,
                   seed=0, progress=False):
    """A DataFrame: ``arch_id``, the six decisions, ``score`` (accuracy on ``split`` of each of
    the 324 sub-networks with inherited weights), in ``arch_id`` order."""
    import pandas as pd
    from tqdm.auto import tqdm

    if split not in ("val", "test", "train"):
        raise ValueError(f"split must be 'val', 'test' or 'train', got {split!r}")
    x = np.asarray(getattr(dataset, f"x_{split}"), dtype="float32")
    y = np.asarray(getattr(dataset, f"y_{split}"))
    n_cal = calibration_size or CALIBRATION_SIZE
    rng = np.random.default_rng(seed)
    x_cal = np.asarray(dataset.x_train, dtype="float32")[
        rng.choice(len(dataset.x_train), size=min(n_cal, len(dataset.x_train)), replace=False)]
    logits = _evaluator(sn, bn_recalibrate)
    rows = []
    for arch_id, arch in enumerate(tqdm(all_configs(), desc="scoring sub-networks",
                                        disable=not progress, leave=False)):
        out = logits(x_cal, x, arch).numpy()
        acc = float(np.mean(np.argmax(out, axis=1) == y)) if np.isfinite(out).all() else 0.0
        rows.append({"arch_id": arch_id, **arch, "score": acc})
    return pd.DataFrame(rows, columns=["arch_id", *DECISIONS, "score"])
