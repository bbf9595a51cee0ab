"""How values and names are written in tables, figures and widgets: one place for the words.

Usage::

    from nasbook.labels import NOT_BUILT, text, same, metric_label, METHOD_LABELS
    text(None)                    # 'not built'  (a decision that did not shape the model)
    same(32.0, 32), same(None, float("nan"))   # True, True
    metric_label("val_accuracy")  # 'validation accuracy'
"""
from __future__ import annotations

import math

__all__ = ["NOT_BUILT", "METHOD_LABELS", "missing", "same", "text", "metric_label"]

NOT_BUILT = "not built"   # how a masked decision is labelled in figures, rules and widgets
METHOD_LABELS = {"fanova": "fANOVA", "ped_anova": "PED-ANOVA", "shap": "SHAP (surrogate)"}


def missing(value) -> bool:
    """None or NaN: a blank cell (e.g. a decision whose layer was not built)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def same(a, b) -> bool:
    """Whether two decision values are the same: blanks equal blanks only; otherwise ``a == b``
    (so 32.0 is 32), falling back on their text (a value read back from CSV or JSON)."""
    if missing(a) or missing(b):
        return missing(a) and missing(b)
    try:
        if bool(a == b):
            return True
    except Exception:  # values that cannot be compared (arrays of other shapes, ...)
        pass
    return str(a) == str(b)


def text(value) -> str:
    """A decision value as a label (None/NaN: the decision did not shape the model)."""
    if missing(value):
        return NOT_BUILT
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def metric_label(name) -> str:
    """A metric's name as an axis label: "val_accuracy" -> "validation accuracy"."""
    name = str(name or "score")
    return name.replace("val_", "validation ").replace("test_", "test ").replace("_", " ")
