import numpy as np
import pytest

import nasbook as nb


def test_budget_follows_quick_switch(monkeypatch):
    monkeypatch.setenv("NASBOOK_QUICK", "1")
    assert nb.is_quick() and nb.budget(quick=2, full=20) == 2
    monkeypatch.setenv("NASBOOK_QUICK", "0")
    assert not nb.is_quick() and nb.budget(quick=2, full=20) == 20
    monkeypatch.delenv("NASBOOK_QUICK")
    assert nb.budget(quick=2, full=20) == 20  # full mode is the reader's default


def test_unclear_quick_value_is_an_error(monkeypatch):
    monkeypatch.setenv("NASBOOK_QUICK", "maybe")
    with pytest.raises(ValueError, match="NASBOOK_QUICK"):
        nb.is_quick()


def test_data_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("NASBOOK_DATA_DIR", str(tmp_path / "cache"))
    assert nb.data_dir() == tmp_path / "cache" and (tmp_path / "cache").is_dir()


def test_set_seed_makes_numpy_repeatable():
    nb.set_seed(7)
    a = np.random.rand(4)
    nb.set_seed(7)
    assert np.array_equal(a, np.random.rand(4))
    with pytest.raises(ValueError):
        nb.set_seed(-1)
