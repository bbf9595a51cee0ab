"""Shift augmentation (nasbook.space.augment and the spaces' ``shift`` decision): each training
example is rolled circularly by its own random shift within the bound, inference is untouched,
shifts repeat for a seed, and a search with the decision trains, saves and reloads its models."""
import keras
import numpy as np
import pytest

import nasbook as nb
from nasbook.space import SpaceError
from nasbook.space.augment import RandomShift1D, roll_examples


def _signals(n=16, length=40, channels=1, seed=0):
    return np.random.default_rng(seed).normal(size=(n, length, channels)).astype("float32")


def _shift_of(row, original, bound):
    """The s in [-bound, bound] with np.roll(original, s) == row (None if there is none)."""
    hits = [s for s in range(-bound, bound + 1)
            if np.array_equal(np.roll(original, s, axis=0), row)]
    return hits[0] if len(hits) == 1 else None


def test_roll_examples_is_np_roll_per_example():
    x = _signals(n=4, channels=2)
    shifts = np.array([0, 3, -5, 41])
    got = keras.ops.convert_to_numpy(roll_examples(x, shifts))
    for i, s in enumerate(shifts):
        np.testing.assert_array_equal(got[i], np.roll(x[i], s, axis=0))


def test_training_rolls_each_example_within_bound_and_inference_is_identity():
    x = _signals(n=64)
    layer = RandomShift1D(5, seed=1)
    out = keras.ops.convert_to_numpy(layer(x, training=True))
    assert out.shape == x.shape
    shifts = [_shift_of(out[i], x[i], 5) for i in range(len(x))]
    assert None not in shifts                      # every row is a roll of its own example
    assert len(set(shifts)) >= 6                   # per-example shifts, not one for the batch
    assert sum(s != 0 for s in shifts) >= 40       # it really shifts (P(s=0) = 1/11)
    assert min(shifts) >= -5 and max(shifts) <= 5
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x, training=False)), x)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x)), x)
    zero = RandomShift1D(0)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(zero(x, training=True)), x)


def test_shifts_are_deterministic_per_seed():
    x = _signals(n=32)

    def draw(seed):
        layer = RandomShift1D(10, seed=seed)
        return [keras.ops.convert_to_numpy(layer(x, training=True)) for _ in range(2)]

    a, b, c = draw(3), draw(3), draw(4)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], a[1])          # a new draw per batch
    assert not np.array_equal(a[0], c[0])          # another seed, other shifts


@pytest.mark.parametrize("bad", [-1, 2.5, True, "3"])
def test_bad_max_shift_says_what_to_write(bad):
    with pytest.raises(ValueError, match="integer >= 0"):
        RandomShift1D(bad)


def test_preset_shift_decision_builds_the_layer_and_names_the_model():
    space = nb.space.preset("cnn", (40, 1), 10, shift=[0, 10, 20])
    assert ("shift", [0, 10, 20]) in space.decisions()
    values = space.default_values()
    with_shift = space.build_model({**values, "shift": 10})
    layers = [layer for layer in with_shift.layers if isinstance(layer, RandomShift1D)]
    assert [layer.max_shift for layer in layers] == [10]
    assert with_shift.layers[1] is layers[0]       # right after the input
    no_shift = space.build_model({**values, "shift": 0})
    assert not any(isinstance(layer, RandomShift1D) for layer in no_shift.layers)
    assert no_shift.count_params() == with_shift.count_params()
    assert space.architecture_key({**values, "shift": 10}) != \
        space.architecture_key({**values, "shift": 20})
    assert space.size() == 3 * nb.space.preset("cnn", (40, 1), 10).size()
    assert "shift" not in dict(nb.space.preset("cnn", (40, 1), 10).decisions())


def test_shift_on_images_or_bad_values_fails_clearly():
    with pytest.raises(SpaceError, match="1-D signals"):
        nb.space.preset("cnn", (8, 8, 1), 10, shift=[0, 2])
    with pytest.raises(SpaceError, match="shift -1 is not a number of samples"):
        nb.space.preset("cnn", (40, 1), 10, shift=[0, -1])


def test_search_with_shift_trains_saves_and_reloads(tmp_path):
    ds = nb.load_dataset("mnist1d", seed=0)
    ds = nb.from_arrays(ds.x_train[:300], ds.y_train[:300], x_test=ds.x_test[:100],
                        y_test=ds.y_test[:100], seed=0)
    space = nb.space.preset("cnn", ds.input_shape, ds.num_classes, shift=[20], n_blocks=[1],
                            filters=[8], kernel=[3], n_dense=[0], dropout=[0.0], l2=[0.0],
                            optimizer=["adam"], learning_rate=[3e-3], activation=["relu"],
                            pooling=["max"], connection=["full"])
    result = nb.search(ds, space, "random", max_trials=1, epochs=2, run_dir=tmp_path / "run",
                       progress=False, tensorboard=False)
    assert result.counts()["completed"] == 1
    model = result.best_model()
    assert [layer.max_shift for layer in model.layers
            if isinstance(layer, RandomShift1D)] == [20]
    # inference ignores the shift: predictions equal those of the model without the layer
    x = ds.x_test[:50]
    plain = keras.Sequential(model.layers[2:])
    np.testing.assert_allclose(model.predict(x, verbose=0), plain.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-5)
