"""The benchmark's other tasks: MNIST-1D variants from its own generator (nasbook.data
MNIST1D_VARIANTS), deterministic, and different from the original exactly as intended."""
import numpy as np
import pytest

import nasbook as nb
from nasbook.data import MNIST1D_VARIANTS


@pytest.fixture(scope="module")
def tasks(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")  # generated afresh, not read from a cache
    return {name: nb.load_dataset(name, seed=0, data_dir=root) for name in MNIST1D_VARIANTS}


def test_the_variants_are_deterministic_and_cached(tasks, tmp_path):
    for name, ds in tasks.items():
        again = nb.load_dataset(name, seed=0, data_dir=tmp_path)
        np.testing.assert_array_equal(again.x_train, ds.x_train)
        np.testing.assert_array_equal(again.y_test, ds.y_test)
    assert len(list((tmp_path / "mnist1d").glob("*.npz"))) == len(MNIST1D_VARIANTS)


def test_the_shuffled_task_is_one_fixed_permutation_of_positions(tasks):
    original, shuffled = tasks["mnist1d"], tasks["mnist1d_shuffled"]
    for split in ("train", "val", "test"):
        np.testing.assert_array_equal(getattr(original, f"y_{split}"),
                                      getattr(shuffled, f"y_{split}"))
    # recover the permutation from the test split, then check it on the training split
    a, b = original.x_test[..., 0], shuffled.x_test[..., 0]
    perm = [int(np.argmin(((a - b[:, [j]]) ** 2).sum(axis=0))) for j in range(40)]
    assert sorted(perm) == list(range(40)) and perm != list(range(40))
    np.testing.assert_allclose(a[:, perm], b, atol=1e-5)
    np.testing.assert_allclose(original.x_train[..., 0][:, perm], shuffled.x_train[..., 0],
                               atol=1e-5)


def test_the_near_task_has_the_same_digits_under_more_nuisance(tasks):
    original, near = tasks["mnist1d"], tasks["mnist1d_near"]
    np.testing.assert_array_equal(original.y_train, near.y_train)
    np.testing.assert_array_equal(original.y_test, near.y_test)
    # the same examples, transformed a little differently: close, yet changed almost everywhere
    assert np.corrcoef(original.x_train.ravel(), near.x_train.ravel())[0, 1] > 0.9
    moved = np.abs(original.x_train - near.x_train).max(axis=(1, 2))
    assert (moved > 0.1).mean() > 0.9


def test_tasks_name_their_tables_and_refuse_unknown_ones():
    assert nb.bench.TASKS == {"original": "mnist1d", "near": "mnist1d_near",
                              "far": "mnist1d_shuffled"}
    assert nb.bench.task_path("far").name == "mnist1d_bench_far.csv"
    assert nb.bench.task_path() == nb.bench.TABLE_PATH
    with pytest.raises(ValueError, match="unknown benchmark task 'nera'"):
        nb.bench.load(task="nera")
    with pytest.raises(nb.data.DatasetError, match="Did you mean 'mnist1d_near'"):
        nb.load_dataset("mnist1d_neer")
