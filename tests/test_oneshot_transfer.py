"""Weight transfer between tasks (nasbook.oneshot.transfer): real supernets, tiny data."""
import numpy as np
import pandas as pd
import pytest

import nasbook as nb
from nasbook import oneshot
from nasbook.oneshot import transfer
from nasbook.oneshot.train import _copy_weights


@pytest.fixture(scope="module")
def small():
    ds = nb.load_dataset("mnist1d", seed=0)
    return ds.subset(n_train=256, n_val=96, seed=0)


def test_a_transferred_supernet_starts_from_the_source_weights_exactly():
    a = oneshot.Supernet(input_shape=(40, 1), num_classes=10, seed=1, batchnorm=True)
    b = oneshot.Supernet(input_shape=(40, 1), num_classes=10, seed=2, batchnorm=True)
    a.bn_mean[0].assign(np.full(64, 0.5, dtype="float32"))
    assert not np.allclose(a.kernels[0].numpy(), b.kernels[0].numpy())
    _copy_weights(a, b)
    for x, y in zip([*a.weights, *a.bn_mean, *a.bn_var], [*b.weights, *b.bn_mean, *b.bn_var]):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    other = oneshot.Supernet(input_shape=(40, 1), num_classes=5, seed=2, batchnorm=True)
    with pytest.raises(ValueError, match="same shape"):
        _copy_weights(a, other)


def test_init_changes_what_training_starts_from(small):
    pre = oneshot.train_supernet("uniform", small, epochs=2, seed=1, progress=False)
    moved = oneshot.train_supernet("uniform", small, epochs=1, seed=1, init=pre.supernet,
                                   progress=False)
    fresh = oneshot.train_supernet("uniform", small, epochs=1, seed=1, progress=False)
    assert moved.settings["init"].startswith("transferred")
    assert "init" not in fresh.settings
    # one more epoch from the trained weights fits the data better than one from scratch
    assert moved.history["train_loss"].iloc[-1] < fresh.history["train_loss"].iloc[-1]


def test_runs_taus_and_compare_on_two_seeds(small):
    shuffled = small.subset(n_train=256, n_val=96, seed=1)
    scores = transfer.runs(small, shuffled, seeds=(1, 2), epochs=(1,), pretrain_epochs=1,
                           progress=False)
    assert set(scores.arm) == set(transfer.ARMS)
    assert len(scores) == 2 * 3 * 324 and set(scores.target) == {"target_0"}
    truth = pd.DataFrame({"test": scores[(scores.arm == "scratch") & (scores.seed == 1)]
                          .set_index("arch_id")["score"]})
    t = transfer.taus(scores, truth)
    assert len(t) == 2 * 3 and t["n_archs"].eq(324).all()
    own = t[(t.arm == "scratch") & (t.seed == 1)]["tau"].item()
    assert own == pytest.approx(1.0)
    lines = transfer.compare(t)
    assert lines[0].startswith("zero-shot: tau")
    assert any("paired t" in line for line in lines)
    assert any(w in lines[-1] for w in ("MET", "NOT SHOWN", "MISSED"))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="TUNING_SEEDS"):
        transfer.runs("original", "near", seeds=(0,))
    with pytest.raises(ValueError, match="two tasks"):
        transfer.runs("near", ("far", "near"), seeds=(1,))
    two = pd.DataFrame({"target": ["near", "far"], "seed": 1, "arm": "scratch", "epochs": 1,
                        "arch_id": [0, 0], "score": 0.5, "cpu_s": 1.0})
    with pytest.raises(ValueError, match="several target tasks"):
        transfer.taus(two, pd.DataFrame({"test": [0.5]}))
    with pytest.raises(ValueError, match="epochs >= 1"):
        transfer.runs("original", "near", seeds=(1,), epochs=(0,))
