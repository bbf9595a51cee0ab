"""Ground-truth evidence of MNIST-1D: the replayed generator, the template mask and the scores
of an attribution map against it."""
import random

import numpy as np
import pytest

import nasbook as nb
from nasbook.explain.ground_truth import (check_replay, ground_truth_scores, pointing_game,
                                          region_fraction, region_mass, template_mask,
                                          template_weights)


# ----------------------------------------------------------------------------- scores
def test_region_mass_and_pointing_game_on_a_hand_made_signal():
    mask = np.zeros((3, 10), dtype=bool)
    mask[:, 2:5] = True                       # the evidence sits at positions 2, 3, 4
    attr = np.zeros((3, 10))
    attr[0, 3] = 5.0                          # all mass inside, peak inside
    attr[1, [2, 8]] = [-1.0, 3.0]             # |attr| 1 inside, 3 outside: mass 1/4, peak out
    attr[2, [4, 7]] = [-4.0, 2.0]             # a negative peak inside still points there
    np.testing.assert_allclose(region_mass(attr, mask), [1.0, 0.25, 4 / 6])
    np.testing.assert_array_equal(pointing_game(attr, mask), [True, False, True])
    np.testing.assert_allclose(region_fraction(mask), [0.3, 0.3, 0.3])
    scores = ground_truth_scores(attr[..., None], mask)   # (n, positions, channels) too
    assert scores == pytest.approx({"region_mass": (1 + 0.25 + 4 / 6) / 3,
                                    "pointing_game": 2 / 3, "region_fraction": 0.3})


def test_a_uniform_map_scores_the_region_share_and_weights_count_partially():
    mask = np.zeros((1, 8))
    mask[0, :2], mask[0, 2] = 1.0, 0.5        # a weight mask: position 2 is half template
    flat = np.ones((1, 8))
    np.testing.assert_allclose(region_mass(flat, mask), [2.5 / 8])
    assert region_fraction(mask)[0] == pytest.approx(2.5 / 8)
    peak = np.zeros((1, 8))
    peak[0, 2] = 1.0
    assert pointing_game(peak, mask)[0]        # weight >= 1/2 counts as inside
    assert np.isnan(region_mass(np.zeros((1, 8)), mask)[0])   # no mass, no share


def test_scores_refuse_maps_and_masks_of_other_shapes():
    with pytest.raises(ValueError, match="does not match"):
        region_mass(np.ones((2, 40)), np.ones((3, 40), dtype=bool))
    with pytest.raises(ValueError, match="positions"):
        pointing_game(np.ones(40), np.ones(40, dtype=bool))


# ----------------------------------------------------------------------------- the mask
def test_the_replayed_generator_is_the_dataset_exactly():
    assert check_replay("test") == 0.0
    assert check_replay("train") == 0.0


def test_template_weights_shape_range_and_mask():
    w = template_weights("test")
    ds = nb.load_dataset("mnist1d")
    assert w.shape == (len(ds.y_test), 40) and w.min() >= 0 and w.max() <= 1
    mask = template_mask("test")
    np.testing.assert_array_equal(mask, w >= 0.5)
    # the template is 12 of the 72 intermediate points, stretched by the padding of 36-60
    # zeros: 12/(12+p) * 72 points, resampled to 40 -> 40*12/(12+p) with p in [36, 60]
    size = mask.sum(axis=1)
    assert 5 <= size.min() and size.max() <= 11
    assert 0.15 < mask.mean() < 0.3
    with pytest.raises(ValueError, match="split"):
        template_weights("val")


def test_the_mask_is_where_a_noise_free_copy_of_the_generator_is_not_zero():
    """An independent check through the generator itself: with every noise scale set to 0 the
    generator makes the same random draws (the noise is scale * randn), so it builds the same
    examples without noise; before its final standardisation the signal is exactly 0 wherever
    no template point contributes."""
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.corr_noise_scale = args.iid_noise_scale = args.shear_scale = 0.0
    py_state, np_state = random.getstate(), np.random.get_state()
    try:
        clean = make_dataset(args)["x_test"][:50]
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
    values, counts = np.unique(clean, return_counts=True)
    zero = values[counts.argmax()]               # the standardised 0 is the commonest value
    carries = clean != zero
    np.testing.assert_array_equal(carries, template_weights("test")[:50] > 0)
    # the weight-1/2 mask lies inside, and the template's peak (largest |value| away from
    # zero) is inside it for every example
    mask = template_mask("test")[:50]
    assert not (mask & ~carries).any()
    assert pointing_game(np.abs(clean - zero), mask).all()
