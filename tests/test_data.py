import hashlib

import numpy as np
import pytest

import nasbook as nb
from nasbook import data


@pytest.mark.parametrize("name,shape", [("digits", (8, 8, 1)), ("mnist1d", (40, 1))])
def test_offline_datasets_have_sensible_splits(name, shape):
    ds = nb.load_dataset(name)
    assert ds.input_shape == shape
    assert ds.num_classes == 10 and len(ds.class_names) == 10
    for x, y in ds.splits().values():
        assert x.dtype == np.float32 and x.shape[1:] == shape
        assert len(x) == len(y) and y.min() >= 0 and y.max() <= 9
        assert np.isfinite(x).all()
    n_train, n_val = len(ds.y_train), len(ds.y_val)
    assert n_val / (n_train + n_val) == pytest.approx(0.2, abs=0.01)
    # stratified: every class appears in every split
    for y in (ds.y_train, ds.y_val, ds.y_test):
        assert set(np.unique(y)) == set(range(10))


def test_digits_scaled_to_unit_interval():
    ds = nb.load_dataset("digits")
    assert ds.x_train.min() == 0.0 and ds.x_train.max() == 1.0
    assert len(ds.y_train) + len(ds.y_val) + len(ds.y_test) == 1797


def test_mnist1d_matches_the_published_generator():
    ds = nb.load_dataset("mnist1d")
    assert len(ds.y_train) + len(ds.y_val) == 4000 and len(ds.y_test) == 1000
    # the generator standardises the whole set to mean 0, std 1
    allx = np.concatenate([ds.x_train, ds.x_val, ds.x_test])
    assert allx.mean() == pytest.approx(0.0, abs=1e-3)
    assert allx.std() == pytest.approx(1.0, abs=1e-3)


def test_mnist1d_generation_leaves_global_random_state_alone(tmp_path):
    np.random.seed(123)
    expected = np.random.rand(3)
    np.random.seed(123)
    nb.load_dataset("mnist1d", data_dir=tmp_path)  # generates afresh, no cache
    assert np.allclose(np.random.rand(3), expected)


def test_same_seed_same_splits_other_seed_other_validation():
    a = nb.load_dataset("digits", seed=3)
    b = nb.load_dataset("digits", seed=3)
    c = nb.load_dataset("digits", seed=4)
    assert np.array_equal(a.x_val, b.x_val) and np.array_equal(a.y_train, b.y_train)
    assert not np.array_equal(a.x_val, c.x_val)
    assert np.array_equal(a.x_test, c.x_test)  # the test split never moves


def test_val_fraction_is_respected():
    ds = nb.load_dataset("digits", val_fraction=0.5)
    assert abs(len(ds.y_val) - len(ds.y_train)) <= 1


@pytest.mark.parametrize("bad", [0, 1, -0.1, 1.5, "0.2"])
def test_bad_val_fraction(bad):
    with pytest.raises(nb.DatasetError, match="val_fraction"):
        nb.load_dataset("digits", val_fraction=bad)


def test_unknown_name_suggests_the_right_one():
    with pytest.raises(nb.DatasetError, match="Did you mean 'mnist1d'"):
        nb.load_dataset("mnist_1d")
    with pytest.raises(nb.DatasetError, match="Available: digits, mnist1d"):
        nb.load_dataset("cifar10")


def test_corrupt_mnist1d_cache_is_regenerated(tmp_path):
    good = nb.load_dataset("mnist1d", data_dir=tmp_path)
    (cache,) = (tmp_path / "mnist1d").glob("*.npz")
    cache.write_bytes(b"not a numpy file")
    with pytest.warns(UserWarning, match="regenerating"):
        again = nb.load_dataset("mnist1d", data_dir=tmp_path)
    assert np.array_equal(good.x_test, again.x_test)


def test_offline_download_gives_a_clear_message(tmp_path, monkeypatch):
    # a closed port on this machine: the real download code fails at once, no network needed
    src = dict(data.SOURCES["mnist"])
    src["mnist.npz"] = ("http://127.0.0.1:9/mnist.npz",) + src["mnist.npz"][1:]
    monkeypatch.setitem(data.SOURCES, "mnist", src)
    with pytest.raises(nb.DatasetUnavailableError) as err:
        nb.load_dataset("mnist", data_dir=tmp_path)
    message = str(err.value)
    assert "mnist1d" in message and "digits" in message and "network" in message
    assert not (tmp_path / "mnist" / "mnist.npz").exists()  # no half-written file left


def test_corrupt_download_cache_is_named_with_the_fix(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    (folder / "mnist.npz").write_bytes(b"truncated download")
    with pytest.raises(nb.DatasetError, match="corrupt.*Delete it"):
        nb.load_dataset("mnist", data_dir=tmp_path)


def test_cached_mnist_file_loads_when_checksum_matches(tmp_path, monkeypatch):
    # build a tiny file in the published format and register its checksum
    rng = np.random.default_rng(0)
    arrays = dict(x_train=rng.integers(0, 256, (50, 28, 28), dtype=np.uint8),
                  y_train=np.arange(50) % 10, x_test=rng.integers(0, 256, (20, 28, 28),
                                                                 dtype=np.uint8),
                  y_test=np.arange(20) % 10)
    folder = tmp_path / "mnist"
    folder.mkdir()
    np.savez(folder / "mnist.npz", **arrays)
    digest = hashlib.sha256((folder / "mnist.npz").read_bytes()).hexdigest()
    monkeypatch.setitem(data.SOURCES, "mnist",
                        {"mnist.npz": ("http://127.0.0.1:9/mnist.npz", "sha256", digest)})
    ds = nb.load_dataset("mnist", data_dir=tmp_path)
    assert ds.input_shape == (28, 28, 1) and ds.x_train.max() <= 1.0
    assert len(ds.y_test) == 20 and len(ds.y_train) + len(ds.y_val) == 50


def test_from_arrays_round_trip():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 12, 1))
    y = np.arange(200) % 4
    ds = nb.from_arrays(x, y, class_names=["a", "b", "c", "d"], seed=1)
    assert ds.input_shape == (12, 1) and ds.num_classes == 4
    assert len(ds.y_train) + len(ds.y_val) + len(ds.y_test) == 200
    assert ds.x_train.dtype == np.float32


@pytest.mark.parametrize("x,y,kwargs,match", [
    (np.zeros(10), np.zeros(10), {}, "at least 2 dimensions"),
    (np.zeros((10, 3)), np.zeros(9), {}, "one label per example"),
    (np.zeros((10, 3)), np.eye(10)[:, :3], {}, "one-hot"),
    (np.zeros((10, 3)), np.full(10, 0.5), {}, "integer class labels"),
    (np.zeros((10, 3)), -np.ones(10), {}, "negative label"),
    (np.zeros((10, 3)), np.arange(10) % 3, {"num_classes": 2}, "outside 0..1"),
    (np.full((10, 3), np.nan), np.arange(10) % 2, {}, "NaN"),
    (np.zeros((10, 3)), np.zeros(10), {}, "at least 2 classes"),
    (np.zeros((0, 3)), np.zeros(0), {}, "empty"),
])
def test_from_arrays_rejects_bad_input(x, y, kwargs, match):
    with pytest.raises(nb.DatasetError, match=match):
        nb.from_arrays(x, y, **kwargs)


def test_from_arrays_test_split_shape_must_match():
    x, y = np.zeros((20, 3)), np.arange(20) % 2
    with pytest.raises(nb.DatasetError, match="must match"):
        nb.from_arrays(x, y, x_test=np.zeros((5, 4)), y_test=np.arange(5) % 2)
    with pytest.raises(nb.DatasetError, match="both"):
        nb.from_arrays(x, y, x_test=np.zeros((5, 3)))


def test_subset_shrinks_and_keeps_shapes():
    ds = nb.load_dataset("digits").subset(n_train=100, n_val=50)
    assert len(ds.y_train) == 100 and len(ds.y_val) == 50 and len(ds.y_test) == 360
    assert "train 100" in repr(ds)
