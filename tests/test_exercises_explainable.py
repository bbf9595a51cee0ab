"""Checks of notebook 12: each passes a right answer written here independently, fails typical
wrong ones naming why, says "not yet" on NotImplementedError, and its reference agrees with
the package's own implementation (nb.explain.region_mass, nasbook.pareto)."""
import numpy as np
import pytest

import nasbook as nb
from nasbook import exercises as ex
from nasbook.exercises import explainable


def todo(*args, **kwargs):
    raise NotImplementedError


def region_mass_by_hand(attr, mask):
    out = []
    for a, m in zip(np.asarray(attr, float), np.asarray(mask, bool)):
        total = sum(abs(v) for v in a)
        out.append(sum(abs(v) for v, inside in zip(a, m) if inside) / total)
    return np.array(out)


def front_by_hand(points):
    """Written independently: sort by the first column (descending, ties by the second), keep a
    row when its second column beats the best second column of every strictly better first."""
    p = np.asarray(points, float)
    keep = np.zeros(len(p), bool)
    for i, (a, b) in enumerate(p):
        keep[i] = not any((c >= a and d >= b and (c > a or d > b)) for c, d in p)
    return keep


def test_region_mass_reference_on_hand_worked_cases():
    attr = np.array([[0.0, 0, 1, 2, 1, 0, 0, 0], [1.0, 1, 1, 1, 1, 1, 1, 1]])
    mask = np.zeros((2, 8), bool)
    mask[0, 2:5] = mask[1, :4] = True
    assert explainable._region_mass(attr, mask).tolist() == [1.0, 0.5]
    assert explainable._region_mass([[-2.0, 1.0, 1.0]], [[True, False, False]])[0] == 0.5
    for attr, mask in explainable._region_cases().values():
        np.testing.assert_allclose(explainable._region_mass(attr, mask),
                                   region_mass_by_hand(attr, mask))
        np.testing.assert_allclose(explainable._region_mass(attr, mask),
                                   nb.explain.region_mass(attr, mask))


def test_region_mass_check_passes_a_right_answer_and_names_typical_slips():
    assert ex.check_region_mass(region_mass_by_hand, quiet=True)
    signed = ex.check_region_mass(lambda a, m: (a * m).sum(1) / a.sum(1), quiet=True)
    assert not signed and "absolute value" in signed.message
    assert signed.case == "signed maps (negative attributions count by size)"
    unnormalised = ex.check_region_mass(lambda a, m: (np.abs(a) * m).sum(1), quiet=True)
    assert not unnormalised and "Divide" in unnormalised.message
    uniform = ex.check_region_mass(lambda a, m: m.mean(1), quiet=True)
    assert not uniform and "share of the positions" in uniform.message
    shape = ex.check_region_mass(lambda a, m: 0.5, quiet=True)
    assert not shape and "shape" in shape.message
    stub = ex.check_region_mass(todo, quiet=True)
    assert not stub and "NotImplementedError" in stub.message


def test_pareto_reference_agrees_with_hand_and_package():
    from nasbook import pareto

    assert explainable._pareto_front([[1, 3], [3, 1], [0.5, 0.5]]).tolist() == [True, True,
                                                                               False]
    assert explainable._pareto_front([[2, 2], [2, 2], [1, 1]]).tolist() == [True, True, False]
    for points in explainable._front_cases().values():
        ref = explainable._pareto_front(points)
        assert ref.tolist() == front_by_hand(points).tolist()
        assert ref.tolist() == pareto.pareto_mask(points, ["max", "max"]).tolist()


def test_pareto_check_passes_a_right_answer_and_names_typical_slips():
    assert ex.check_pareto_front(front_by_hand, quiet=True)

    def strict(points):   # dominance needs > in both: ties stay on the front
        p = np.asarray(points)
        return np.array([not any((q > r).all() for q in p) for r in p])

    tie = ex.check_pareto_front(strict, quiet=True)
    assert not tie and tie.case == "a tie in one column" and ">=" in tie.message

    def no_twins(points):  # >= in both, forgetting "> in at least one"
        p = np.asarray(points)
        return np.array([sum((q >= r).all() for q in p) == 1 for r in p])

    twins = ex.check_pareto_front(no_twins, quiet=True)
    assert not twins and "Identical rows" in twins.message
    inverted = ex.check_pareto_front(lambda p: ~front_by_hand(p), quiet=True)
    assert not inverted and "inverted" in inverted.message
    ints = ex.check_pareto_front(lambda p: front_by_hand(p).astype(int), quiet=True)
    assert not ints and "bool array" in ints.message
    assert not ex.check_pareto_front(todo, quiet=True)


def crowding_by_hand(points):
    """Written independently, point by point: for each column, the neighbours in that column's
    order (ties by row), ends infinite, the gap over the column's range."""
    p = [list(map(float, row)) for row in points]
    n = len(p)
    if n <= 2:
        return np.full(n, np.inf)
    total = [0.0] * n
    for j in range(len(p[0])):
        order = sorted(range(n), key=lambda i: (p[i][j], i))
        lo, hi = p[order[0]][j], p[order[-1]][j]
        for k, i in enumerate(order):
            if k in (0, n - 1):
                total[i] = float("inf")
            elif hi > lo:
                total[i] += (p[order[k + 1]][j] - p[order[k - 1]][j]) / (hi - lo)
    return np.array(total)


def test_crowding_reference_on_hand_worked_cases_and_against_the_package():
    from nasbook import pareto

    # column 0 sorted 0, 1, 1.5, 4, 8 (range 8); column 1 sorted 0, 2, 5, 6, 10 (range 10)
    five = explainable._crowding_cases()["five points, uneven gaps"]
    d = explainable._crowding_distance(five)
    assert np.isinf(d[[0, 4]]).all()
    assert d[1:4] == pytest.approx([1.5 / 8 + 5 / 10, 3 / 8 + 4 / 10, 6.5 / 8 + 5 / 10])
    line = explainable._crowding_distance([[1, 4], [2, 2], [4, 1]])
    assert np.isinf(line[[0, 2]]).all() and line[1] == pytest.approx(2.0)
    assert np.isinf(explainable._crowding_distance([[0, 1], [1, 0]])).all()
    for points in explainable._crowding_cases().values():
        ref = explainable._crowding_distance(points)
        np.testing.assert_array_equal(ref, crowding_by_hand(points))
        np.testing.assert_allclose(ref, pareto.crowding_distance(points, ["min", "min"]))


def test_crowding_check_passes_a_right_answer_and_names_typical_slips():
    assert ex.check_crowding_distance(crowding_by_hand, quiet=True)

    def unscaled(points):   # the gaps, not divided by each column's range
        return explainable._gaps(np.asarray(points, float))

    slip = ex.check_crowding_distance(unscaled, quiet=True)
    assert not slip and "range" in slip.message

    def half(points):       # half the neighbours' gap
        return crowding_by_hand(points) / 2

    halved = ex.check_crowding_distance(half, quiet=True)
    assert not halved and "next minus previous" in halved.message

    def finite_ends(points):  # forgetting that the ends are infinite
        d = crowding_by_hand(points)
        return np.where(np.isinf(d), 0.0, d)

    ends = ex.check_crowding_distance(finite_ends, quiet=True)
    assert not ends and "infinite at" in ends.message
    shape = ex.check_crowding_distance(lambda p: 1.0, quiet=True)
    assert not shape and "shape" in shape.message
    stub = ex.check_crowding_distance(todo, quiet=True)
    assert not stub and "NotImplementedError" in stub.message


@pytest.mark.parametrize("name", ["check_region_mass", "check_pareto_front",
                                  "check_crowding_distance"])
def test_the_checks_are_public(name):
    assert name in ex.__all__ and callable(getattr(nb.exercises, name))
