"""Checks of notebook 15: each passes a right answer written here independently, fails typical
wrong ones naming why, and says "not yet" on NotImplementedError."""
import numpy as np
import pytest

from nasbook import exercises as ex
from nasbook.exercises import transfer


def todo(*args, **kwargs):
    raise NotImplementedError


def overlap_by_hand(a, b, k):
    rank_a = sorted(range(len(a)), key=lambda i: a[i], reverse=True)[:k]
    rank_b = sorted(range(len(b)), key=lambda i: b[i], reverse=True)[:k]
    return sum(i in rank_b for i in rank_a) / k


def regret_by_hand(val_a, test_b):
    pick = max(range(len(val_a)), key=lambda i: val_a[i])
    return max(test_b) - test_b[pick]


def front_by_hand(acc, lat):
    n = len(acc)
    return [i for i in range(n) if not any(
        acc[j] >= acc[i] and lat[j] <= lat[i] and (acc[j] > acc[i] or lat[j] < lat[i])
        for j in range(n))]


def test_the_references_on_hand_worked_cases():
    a = np.array([0.9, 0.8, 0.7, 0.6])
    assert transfer._top_overlap(a, a, 2) == 1.0
    assert transfer._top_overlap(a, -a, 2) == 0.0
    assert transfer._top_overlap(a, np.array([0.9, 0.1, 0.8, 0.2]), 2) == 0.5
    assert transfer._pick_regret([0.1, 0.9, 0.5], [0.7, 0.6, 0.8]) == pytest.approx(0.2)
    assert transfer._front([0.9, 0.8, 0.85], [2.0, 1.0, 3.0]) == [0, 1]
    assert transfer._front([0.8, 0.8, 0.7], [1.0, 0.5, 0.2]) == [1, 2]
    assert transfer._front([0.8, 0.8], [1.0, 1.0]) == [0, 1]          # a tie: both
    for acc, lat in transfer._front_cases().values():
        assert transfer._front(acc, lat) == front_by_hand(list(acc), list(lat))


def test_each_check_passes_a_right_answer():
    assert ex.check_top_overlap(overlap_by_hand, quiet=True)
    assert ex.check_pick_regret(regret_by_hand, quiet=True)
    assert ex.check_latency_front(front_by_hand, quiet=True)


def test_each_check_names_a_typical_slip():
    count = ex.check_top_overlap(lambda a, b, k: overlap_by_hand(a, b, k) * k, quiet=True)
    assert not count and "divide by k" in count.message
    worst = ex.check_top_overlap(lambda a, b, k: overlap_by_hand(-a, -b, k), quiet=True)
    assert not worst and "worst" in worst.message
    sign = ex.check_pick_regret(lambda v, t: -regret_by_hand(v, t), quiet=True)
    assert not sign and "sign is reversed" in sign.message
    own = ex.check_pick_regret(lambda v, t: regret_by_hand(t, t), quiet=True)
    assert not own and "A's validation accuracy must choose" in own.message
    strict = ex.check_latency_front(
        lambda acc, lat: [i for i in front_by_hand(acc, lat)
                          if not any(j != i and acc[j] == acc[i] and lat[j] == lat[i]
                                     for j in range(len(acc)))], quiet=True)
    assert not strict and strict.case == "a tie in both objectives"
    everything = ex.check_latency_front(lambda acc, lat: list(range(len(acc))), quiet=True)
    assert not everything and "is dominated" in everything.message


@pytest.mark.parametrize("check", [ex.check_top_overlap, ex.check_pick_regret,
                                   ex.check_latency_front])
def test_a_stub_is_not_yet(check):
    verdict = check(todo, quiet=True)
    assert not verdict and "NotImplementedError" in verdict.message
