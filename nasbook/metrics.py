"""Classification and regression metrics from first principles, checked against
scikit-learn and Keras by the tests.

The four outcomes of a binary decision, with "positive" the class we look for::

                        predicted positive     predicted negative
    actually positive   TP (true positive)     FN (false negative: a miss)
    actually negative   FP (false positive:    TN (true negative)
                            a false alarm)

    accuracy  = (TP + TN) / (TP + TN + FP + FN)
    precision = TP / (TP + FP)      of the alarms raised, how many were right?
    recall    = TP / (TP + FN)      of the real positives, how many were found?
    F1        = 2 * precision * recall / (precision + recall) = 2 TP / (2 TP + FP + FN)

Usage::

    import nasbook as nb
    nb.metrics.confusion_matrix([0, 1, 1, 2], [0, 2, 1, 2])
    nb.metrics.f1([0, 1, 1, 2], [0, 2, 1, 2], average="macro")

Conventions (scikit-learn's): confusion-matrix rows are true classes, columns predicted
classes; for many classes the labels are those present in ``y_true`` or ``y_pred`` unless
``labels`` says otherwise; a ratio whose denominator is zero (precision of a class that was
never predicted) is ``zero_division`` (default 0, like scikit-learn's ``zero_division=0``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["MetricError", "binary_counts", "accuracy_from_counts", "confusion_matrix",
           "accuracy", "precision", "recall", "f1", "precision_recall_f1", "report",
           "cross_entropy", "binary_cross_entropy", "mean_squared_error", "EPSILON"]

EPSILON = 1e-7
"""Probabilities are clipped to [EPSILON, 1 - EPSILON] before a logarithm, as Keras does."""

AVERAGES = ("binary", "macro", "micro", "weighted", None)


class MetricError(ValueError):
    """Inputs a metric cannot score: empty, of different lengths, or the wrong shape."""


def _labels_pair(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.ndim != 1 or y_pred.ndim != 1:
        raise MetricError(f"y_true and y_pred must be 1-D arrays of class labels, got shapes "
                          f"{y_true.shape} and {y_pred.shape}; for scores or probabilities "
                          f"take the predicted class first, e.g. y_pred = probs.argmax(axis=1)")
    if len(y_true) != len(y_pred):
        raise MetricError(f"y_true has {len(y_true)} labels but y_pred has {len(y_pred)}; "
                          f"they must describe the same examples, one label each")
    if len(y_true) == 0:
        raise MetricError("y_true and y_pred are empty: a metric of zero examples is undefined;"
                          " check that the split or the filter you applied kept some examples")
    return y_true, y_pred


def _ratio(num, den, zero_division):
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    out = np.full(np.broadcast(num, den).shape, float(zero_division))
    np.divide(num, den, out=out, where=den != 0)
    return out if out.ndim else float(out)


# --- counts ------------------------------------------------------------------------------------

def binary_counts(y_true, y_pred, pos_label=1) -> dict:
    """TP, FP, FN, TN of a yes/no decision, ``pos_label`` being "yes".

    A false positive is predicted positive but actually negative (a false alarm); a false
    negative is predicted negative but actually positive (a miss).

    Usage: ``nb.metrics.binary_counts([1, 0, 1], [1, 1, 0])`` -> ``{'TP': 1, 'FP': 1, ...}``
    """
    y_true, y_pred = _labels_pair(y_true, y_pred)
    t, p = y_true == pos_label, y_pred == pos_label
    return {"TP": int(np.sum(t & p)), "FP": int(np.sum(~t & p)),
            "FN": int(np.sum(t & ~p)), "TN": int(np.sum(~t & ~p))}


def accuracy_from_counts(tp, tn, fp, fn) -> float:
    """(TP + TN) / (TP + TN + FP + FN). Usage: ``accuracy_from_counts(90, 100, 10, 5)``"""
    counts = np.array([tp, tn, fp, fn], dtype=float)
    if np.any(counts < 0):
        raise MetricError(f"counts must be non-negative, got TP={tp}, TN={tn}, FP={fp}, FN={fn}")
    if counts.sum() == 0:
        raise MetricError("all four counts are zero: accuracy of zero examples is undefined")
    return float((tp + tn) / counts.sum())


def confusion_matrix(y_true, y_pred, labels=None, num_classes=None) -> np.ndarray:
    """Counts C[i, j] of examples of true class ``labels[i]`` predicted as ``labels[j]``.

    ``labels`` defaults to ``range(num_classes)`` if given, else to the sorted labels present
    in ``y_true`` or ``y_pred``. Usage: ``C = nb.metrics.confusion_matrix(y, model_preds)``
    """
    y_true, y_pred = _labels_pair(y_true, y_pred)
    labels = _resolve_labels(y_true, y_pred, labels, num_classes)
    index = {label: i for i, label in enumerate(labels.tolist())}
    matrix = np.zeros((len(labels), len(labels)), dtype=int)
    for t, p in zip(y_true.tolist(), y_pred.tolist()):
        if t in index and p in index:          # like scikit-learn: other labels are ignored
            matrix[index[t], index[p]] += 1
    return matrix


def _resolve_labels(y_true, y_pred, labels, num_classes):
    if labels is not None:
        labels = np.asarray(labels)
        if labels.ndim != 1 or len(labels) == 0 or len(np.unique(labels)) != len(labels):
            raise MetricError(f"labels must be a non-empty list of distinct class labels, "
                              f"got {labels.tolist()}")
        return labels
    if num_classes is not None:
        return np.arange(int(num_classes))
    return np.union1d(y_true, y_pred)


# --- accuracy, precision, recall, F1 ------------------------------------------------------------

def accuracy(y_true, y_pred) -> float:
    """Fraction of examples whose predicted label equals the true one."""
    y_true, y_pred = _labels_pair(y_true, y_pred)
    return float(np.mean(y_true == y_pred))


def precision_recall_f1(y_true, y_pred, *, average="binary", pos_label=1, labels=None,
                        zero_division=0.0) -> dict:
    """Precision, recall, F1 and support in one pass.

    ``average``: ``"binary"`` (only ``pos_label`` counts; needs at most two classes),
    ``"macro"`` (unweighted mean over classes: every class counts the same), ``"micro"``
    (pool all TP, FP, FN first: equals accuracy when every class is included),
    ``"weighted"`` (mean weighted by each class's support, its number of true examples), or
    ``None`` (one value per class, as arrays). Returns a dict with keys precision, recall,
    f1, support.

    Usage: ``nb.metrics.precision_recall_f1(y, preds, average="macro")["f1"]``
    """
    y_true, y_pred = _labels_pair(y_true, y_pred)
    if average not in AVERAGES:
        raise MetricError(f"average={average!r} is not one of {AVERAGES}")
    if average == "binary":
        present = np.union1d(y_true, y_pred)
        if len(present) > 2:
            raise MetricError(f"average='binary' needs two classes but the labels hold "
                              f"{len(present)} ({present.tolist()[:6]}...); use "
                              f"average='macro', 'micro' or 'weighted'")
        if labels is None and len(present) == 2 and pos_label not in present:
            raise MetricError(f"pos_label={pos_label!r} is not one of the labels "
                              f"{present.tolist()}; say which class is 'positive'")
        labels = [pos_label]
    labels = _resolve_labels(y_true, y_pred, labels, None)
    matrix = confusion_matrix(y_true, y_pred, labels=labels) if average != "binary" else None
    if average == "binary":
        c = binary_counts(y_true, y_pred, pos_label)
        tp, fp, fn = np.array([c["TP"]]), np.array([c["FP"]]), np.array([c["FN"]])
    else:
        tp = np.diag(matrix)
        # columns are predictions: a column sum is everything predicted as that class.
        # Labels outside ``labels`` still count as wrong predictions/misses, as in sklearn.
        fp = np.array([np.sum((y_pred == k) & (y_true != k)) for k in labels.tolist()])
        fn = np.array([np.sum((y_true == k) & (y_pred != k)) for k in labels.tolist()])
    support = tp + fn
    if average == "micro":
        tp, fp, fn = tp.sum(keepdims=True), fp.sum(keepdims=True), fn.sum(keepdims=True)
    p = _ratio(tp, tp + fp, zero_division)
    r = _ratio(tp, tp + fn, zero_division)
    f = _ratio(2 * tp, 2 * tp + fp + fn, zero_division)   # = 2PR/(P+R), defined more often
    if average is None:
        return {"precision": p, "recall": r, "f1": f, "support": support}
    if average == "weighted":
        weights = support / support.sum() if support.sum() else np.zeros(len(support))
        p, r, f = (np.sum(a * weights) for a in (p, r, f))
    else:   # macro (mean over classes), micro and binary (a single value)
        p, r, f = (np.mean(a) for a in (p, r, f))
    return {"precision": float(p), "recall": float(r), "f1": float(f),
            "support": int(support.sum())}


def precision(y_true, y_pred, *, average="binary", pos_label=1, labels=None,
              zero_division=0.0):
    """TP / (TP + FP): of the examples predicted positive, the fraction that are."""
    return precision_recall_f1(y_true, y_pred, average=average, pos_label=pos_label,
                               labels=labels, zero_division=zero_division)["precision"]


def recall(y_true, y_pred, *, average="binary", pos_label=1, labels=None, zero_division=0.0):
    """TP / (TP + FN): of the examples that are positive, the fraction predicted so."""
    return precision_recall_f1(y_true, y_pred, average=average, pos_label=pos_label,
                               labels=labels, zero_division=zero_division)["recall"]


def f1(y_true, y_pred, *, average="binary", pos_label=1, labels=None, zero_division=0.0):
    """Harmonic mean of precision and recall, 2 TP / (2 TP + FP + FN)."""
    return precision_recall_f1(y_true, y_pred, average=average, pos_label=pos_label,
                               labels=labels, zero_division=zero_division)["f1"]


def report(y_true, y_pred, class_names=None, labels=None, zero_division=0.0) -> pd.DataFrame:
    """A table: precision, recall, F1 and support per class, then macro and weighted means.

    Usage: ``nb.metrics.report(ds.y_test, preds, class_names=ds.class_names)``
    """
    y_true, y_pred = _labels_pair(y_true, y_pred)
    labels = _resolve_labels(y_true, y_pred, labels, None)
    per = precision_recall_f1(y_true, y_pred, average=None, labels=labels,
                              zero_division=zero_division)
    names = [str(class_names[k]) if class_names is not None else str(k) for k in labels]
    table = pd.DataFrame({k: per[k] for k in ("precision", "recall", "f1", "support")},
                         index=names)
    for avg in ("macro", "weighted"):
        row = precision_recall_f1(y_true, y_pred, average=avg, labels=labels,
                                  zero_division=zero_division)
        table.loc[f"{avg} avg"] = [row["precision"], row["recall"], row["f1"], row["support"]]
    table["support"] = table["support"].astype(int)
    return table


# --- losses ------------------------------------------------------------------------------------

def _softmax(logits):
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def cross_entropy(y_true, y_prob, *, from_logits=False) -> float:
    """Mean of -log p(true class) over examples: sparse categorical cross-entropy.

    ``y_true`` holds class labels 0..k-1 (n,), ``y_prob`` probabilities (n, k) or, with
    ``from_logits=True``, logits. Probabilities are clipped to [EPSILON, 1 - EPSILON] and
    renormalised, exactly as ``keras.losses.SparseCategoricalCrossentropy``; log-softmax of
    logits is computed stably. Usage: ``nb.metrics.cross_entropy(y, model(x), from_logits=True)``
    """
    y_true, y_prob = np.asarray(y_true), np.asarray(y_prob, dtype=float)
    if y_prob.ndim != 2:
        raise MetricError(f"y_prob must be (examples, classes), got shape {y_prob.shape}")
    _labels_pair(y_true, np.zeros(len(y_prob)))
    if not np.issubdtype(y_true.dtype, np.integer) or y_true.min() < 0 \
            or y_true.max() >= y_prob.shape[1]:
        raise MetricError(f"y_true must hold integer labels 0..{y_prob.shape[1] - 1}")
    if from_logits:
        z = y_prob - y_prob.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    else:
        p = np.clip(y_prob, EPSILON, 1 - EPSILON)
        log_p = np.log(p) - np.log(p.sum(axis=1, keepdims=True))
    return float(-np.mean(log_p[np.arange(len(y_true)), y_true]))


def binary_cross_entropy(y_true, p) -> float:
    """Mean of -[y log p + (1 - y) log(1 - p)], p clipped to [EPSILON, 1 - EPSILON] (Keras)."""
    y_true, p = _labels_pair(np.asarray(y_true, dtype=float).ravel(),
                             np.asarray(p, dtype=float).ravel())
    p = np.clip(p, EPSILON, 1 - EPSILON)
    return float(-np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p)))


def mean_squared_error(y_true, y_pred) -> float:
    """Mean of (y_true - y_pred)^2 over all entries."""
    y_true, y_pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    if y_true.shape != y_pred.shape:
        raise MetricError(f"y_true has shape {y_true.shape} but y_pred {y_pred.shape}; "
                          f"they must match entry for entry")
    if y_true.size == 0:
        raise MetricError("y_true and y_pred are empty: a mean of zero numbers is undefined")
    return float(np.mean((y_true - y_pred) ** 2))
