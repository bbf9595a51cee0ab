"""What every check shares: the Verdict, how it is printed, calling the student's function.

Under nbgrader (``nbgrader autograde`` and ``nbgrader validate``) a check that says "not yet"
also raises :class:`NotYet`, an AssertionError carrying the verdict line, after printing that
line: nbgrader scores a test cell zero when it raises, full marks otherwise. nbgrader tells the
kernel it is grading through the environment variable ``NBGRADER_EXECUTION``, which it sets to
``'autograde'`` (``nbgrader/converters/autograde.py``:
``with utils.setenv(NBGRADER_EXECUTION='autograde'):``) or ``'validate'``
(``nbgrader/validator.py``). Anywhere else (JupyterLab, ``nasbook grade``, the tests) nothing
raises and the reader sees only the verdict line. A check called with ``quiet=True`` never
raises.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

GRADING_VARIABLE = "NBGRADER_EXECUTION"


def grading() -> bool:
    """True while nbgrader runs the notebook to grade or validate it."""
    return bool(os.environ.get(GRADING_VARIABLE))


class NotYet(AssertionError):
    """A check said "not yet" while nbgrader was grading: its test cell fails (zero points)."""


@dataclass
class Verdict:
    """The outcome of a check. ``case`` and ``step`` say where it first went wrong;
    ``difference`` is the largest absolute difference there."""

    passed: bool
    message: str
    case: str | None = None
    step: int | None = None
    difference: float | None = None

    def __bool__(self):
        return self.passed

    def __str__(self):
        return self.message


def _verdict(passed, message, quiet, **where):
    verdict = Verdict(passed, ("✅ right: " if passed else "❌ not yet: ") + message, **where)
    if not quiet:
        print(verdict.message, flush=True)
        if not passed and grading():
            raise NotYet(verdict.message)
    return verdict


def _call(fn, *args, **kwargs):
    """Call the student's function; turn an exception into a message."""
    try:
        return fn(*args, **kwargs), None
    except NotImplementedError:
        return None, "your function raises NotImplementedError: fill in its body first"
    except Exception as exc:  # noqa: BLE001 - any error is reported to the student
        return None, f"your function raised {type(exc).__name__}: {exc}"


def _gradients(rng, steps, size):
    """Gradients of varied size and sign, never close to zero (so relative checks are fair)."""
    return rng.choice([-1.0, 1.0], size=(steps, size)) * rng.uniform(0.1, 2.0, (steps, size))


def _as_array(x, label, shape):
    try:
        a = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        return None, f"{label} should be an array of numbers, got {type(x).__name__}"
    if a.shape != shape:
        return None, f"{label} has shape {a.shape}, expected {shape}"
    return a, None


def _fmt(hp):
    return ", ".join(f"{k}={v:g}" for k, v in hp.items())


def _fmt_arr(a):
    return np.array2string(np.asarray(a)[:3], precision=6, separator=", ") + (
        "..." if np.asarray(a).size > 3 else "")


def _one_number(got, case, quiet):
    """``(float, None)`` or ``(None, Verdict)`` when ``got`` is not one number."""
    try:
        return float(got), None
    except (TypeError, ValueError):
        return None, _verdict(False, f"case '{case}': return one number, got "
                              f"{type(got).__name__}", quiet, case=case)


def _number_answer(fn, args, case, quiet):
    """Call the student's ``fn(*args)`` and read one number: ``(float, None)``, or
    ``(None, Verdict)`` when it raised or did not return one number."""
    got, err = _call(fn, *args)
    if err:
        return None, _verdict(False, f"case '{case}': {err}", quiet, case=case)
    return _one_number(got, case, quiet)
