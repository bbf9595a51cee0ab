"""Checks of notebook 13: each passes a right answer written here independently, fails typical
wrong ones naming why, and says "not yet" on NotImplementedError."""
import math

import numpy as np
import pytest

from nasbook import exercises as ex
from nasbook.exercises import scaling


def todo(*args, **kwargs):
    raise NotImplementedError


def makespan_by_hand(durations, workers):
    """Written independently: a list of finish times, the earliest-free worker by argmin."""
    busy_until = np.zeros(min(workers, len(durations)) or 1)
    for d in durations:
        i = int(np.argmin(busy_until))
        busy_until[i] += d
    return float(busy_until.max())


def test_makespan_reference_on_hand_worked_cases():
    # worker A: 5, 5 (ends 10); worker B: 5, then the 30 s trial (ends 35)
    assert scaling._makespan([5, 5, 5, 30], 2) == 35
    # the 30 s trial first: the others share two workers (5+5 and 5+5), the long one ends at 30
    assert scaling._makespan([30, 5, 5, 5, 5], 3) == 30
    assert scaling._makespan([4, 9], 8) == 9 and scaling._makespan([3, 1.5, 2.5], 1) == 7
    for durations, workers in scaling._makespan_cases().values():
        assert scaling._makespan(durations, workers) == pytest.approx(
            makespan_by_hand(durations, workers))


def test_makespan_check_passes_a_right_answer_and_names_typical_slips():
    assert ex.check_makespan(makespan_by_hand, quiet=True)
    shared = ex.check_makespan(lambda d, w: sum(d) / w, quiet=True)
    assert not shared and "cannot be split" in shared.message
    assert shared.case == "one long trial last, 2 workers"
    assert shared.difference == pytest.approx(35 - 45 / 2)
    serial = ex.check_makespan(lambda d, w: sum(d), quiet=True)
    assert not serial and "at the same time" in serial.message
    longest = ex.check_makespan(lambda d, w: max(d), quiet=True)
    assert not longest and "one after another" in longest.message
    not_yet = ex.check_makespan(todo, quiet=True)
    assert not not_yet and "NotImplementedError" in not_yet.message


def epoch_by_hand(n_examples, batch_size, step_s, example_s):
    steps = -(-n_examples // batch_size)   # ceiling division on integers
    return steps * step_s + n_examples * example_s


def test_epoch_time_check(capsys):
    assert ex.check_epoch_time(epoch_by_hand)
    assert "right" in capsys.readouterr().out
    # 1000 / 64 = 15.6: 16 steps, not 15.6 or 15
    fractional = ex.check_epoch_time(lambda n, b, s, e: n / b * s + n * e, quiet=True)
    assert not fractional and "round up" in fractional.message
    assert fractional.case == "last batch smaller (1000 / 64)"
    assert fractional.difference == pytest.approx((16 - 1000 / 64) * 1e-3)
    floor = ex.check_epoch_time(lambda n, b, s, e: (n // b) * s + n * e, quiet=True)
    assert not floor and "not down" in floor.message
    steps_only = ex.check_epoch_time(lambda n, b, s, e: math.ceil(n / b) * s, quiet=True)
    assert not steps_only and "n_examples * example_s" in steps_only.message
    assert "return one number" in ex.check_epoch_time(lambda *a: "x", quiet=True).message
    assert not ex.check_epoch_time(todo, quiet=True)


def test_the_checks_are_exported_and_print_not_yet(capsys):
    for name in ("check_makespan", "check_epoch_time"):
        assert name in ex.__all__ and callable(getattr(ex, name))
        getattr(ex, name)(todo)
        assert capsys.readouterr().out.startswith("❌ not yet: ")
