"""The weight-sharing supernet: sub-network = supernet path, weights really shared, the three
training methods, and clear errors."""
from types import SimpleNamespace

import numpy as np
import pytest

import nasbook as nb
from nasbook import oneshot

CONFIGS = nb.bench.all_configs()


def _covering_sample(n=18, seed=0):
    """A few architectures in which every value of every decision occurs."""
    rng = np.random.default_rng(seed)
    while True:
        ids = sorted(rng.choice(len(CONFIGS), size=n, replace=False))
        sample = [CONFIGS[i] for i in ids]
        if all({c[d] for c in sample} == set(v) for d, v in nb.bench.DECISIONS.items()):
            return ids


@pytest.fixture(scope="module")
def ds():
    return nb.load_dataset("mnist1d", seed=0)


@pytest.fixture(scope="module")
def small(ds):
    """A smaller copy of mnist1d's splits, so that a training run takes seconds."""
    return SimpleNamespace(x_train=ds.x_train[:640], y_train=ds.y_train[:640],
                           x_val=ds.x_val[:200], y_val=ds.y_val[:200])


@pytest.fixture(scope="module")
def runs(small):
    return {m: oneshot.train_supernet(m, small, epochs=1, seed=0, progress=False,
                                      calibration_size=128)
            for m in oneshot.METHODS}


def test_extracted_models_are_the_benchmark_architectures_with_the_supernet_outputs(ds, runs):
    sn = runs["uniform"].supernet            # trained a little: biases and BatchNorm are live
    params = nb.bench.load().groupby("arch_id").params.first()
    x = ds.x_val[:64]
    for arch_id in _covering_sample():
        arch = CONFIGS[arch_id]
        sn.recalibrate(arch, ds.x_train[:256])
        model = sn.extract(arch)
        assert model.count_params() == params[arch_id]   # the table's own architecture
        np.testing.assert_allclose(np.asarray(model(x)), np.asarray(sn.forward(x, arch)),
                                   atol=1e-5, rtol=1e-4)


def test_without_batchnorm_every_one_of_the_324_paths_equals_its_extracted_model(ds):
    sn = oneshot.Supernet(input_shape=(40, 1), num_classes=10, seed=1)
    x = ds.x_val[:16]
    for arch_id in range(0, 324, 3):
        arch = CONFIGS[arch_id]
        np.testing.assert_allclose(np.asarray(sn.extract(arch)(x)),
                                   np.asarray(sn.forward(x, arch)), atol=1e-5, rtol=1e-4)


def test_weights_are_shared_between_sub_networks_and_sliced(ds):
    sn = oneshot.Supernet(seed=0)
    x = ds.x_val[:32]
    a = dict(CONFIGS[0], n_blocks=2, filters=32, kernel=3, activation="relu")
    b = dict(CONFIGS[0], n_blocks=3, filters=64, kernel=7, activation="tanh",
             connection="residual")
    before = {k: np.asarray(sn.forward(x, arch)) for k, arch in (("a", a), ("b", b))}
    before_models = {k: sn.extract(arch) for k, arch in (("a", a), ("b", b))}
    kernel = sn.kernels[1].numpy()
    kernel[3, :16, :16] += 0.5                    # the centre tap, channels both paths use
    sn.kernels[1].assign(kernel)
    for k, arch in (("a", a), ("b", b)):
        assert np.abs(np.asarray(sn.forward(x, arch)) - before[k]).max() > 1e-3
        assert np.abs(np.asarray(sn.extract(arch)(x)) - before[k]).max() > 1e-3
        # an extracted model holds copies: it does not move with the supernet
        np.testing.assert_allclose(np.asarray(before_models[k](x)), before[k], atol=1e-5)
    kernel[3, 40:, 40:] += 0.5                    # channels beyond 32: only the wide path
    sn.kernels[1].assign(kernel)
    after_a = np.asarray(sn.forward(x, a))
    assert np.abs(np.asarray(sn.forward(x, b)) - after_a).max() > 1e-3
    np.testing.assert_allclose(after_a, np.asarray(sn.extract(a)(x)), atol=1e-5)
    kernel[0, :16, :16] += 0.5                    # an outer tap: only kernel 7 sees it
    sn.kernels[1].assign(kernel)
    np.testing.assert_allclose(np.asarray(sn.forward(x, a)), after_a, atol=1e-6)


def test_one_hot_relaxation_is_the_path_itself(ds):
    sn = oneshot.Supernet(seed=0, batchnorm=True)
    arch = CONFIGS[200]
    x = ds.x_val[:32]
    one_hot = {d: [1.0 if v == arch[d] else 0.0 for v in vals]
               for d, vals in nb.bench.DECISIONS.items()}
    np.testing.assert_allclose(np.asarray(sn.mixed_forward(x, one_hot, training=True)),
                               np.asarray(sn.forward(x, arch, training=True)), atol=1e-5)


@pytest.mark.parametrize("method", oneshot.METHODS)
def test_each_method_scores_all_324_architectures(runs, method):
    run = runs[method]
    scores = run.scores
    assert list(scores.arch_id) == list(range(324))
    assert scores[list(nb.bench.DECISIONS)].to_dict("records") == CONFIGS
    assert np.isfinite(scores.score).all() and scores.score.between(0, 1).all()
    assert scores.score.nunique() > 5           # inherited weights tell paths apart
    assert run.method == method and run.seed == 0 and len(run.history) == 1
    assert np.isfinite(run.history.train_loss).all()
    assert run.wall_time_s >= run.train_time_s > 0
    assert run.cpu_time_s > 0   # the CPU seconds of this process over the same span
    assert run.derived in CONFIGS


def test_derived_architectures_follow_the_method(runs):
    uniform = runs["uniform"]
    best = uniform.scores.score.max()
    assert uniform.scores.set_index("arch_id").score[CONFIGS.index(uniform.derived)] == best
    for method in ("enas", "darts"):
        run = runs[method]
        for d, probs in run.policy.items():     # the most probable value of each decision
            assert run.derived[d] == max(probs, key=probs.get)
            assert sum(probs.values()) == pytest.approx(1.0, abs=1e-5)
    assert "reward" in runs["enas"].history and "alpha_loss" in runs["darts"].history


def test_a_score_is_the_recalibrated_sub_network_accuracy(small, runs):
    sn = runs["enas"].supernet
    recal = oneshot.score_supernet(sn, small, calibration_size=len(small.x_train))
    for arch_id in (7, 150, 301):   # statistics over the whole (small) train split, by hand
        arch = CONFIGS[arch_id]
        sn.recalibrate(arch, small.x_train)
        by_hand = np.mean(np.argmax(np.asarray(sn.forward(small.x_val, arch)), 1) == small.y_val)
        assert recal.score[arch_id] == pytest.approx(by_hand, abs=1.01 / len(small.y_val))
    shared = oneshot.score_supernet(sn, small, bn_recalibrate=False)
    assert not np.allclose(recal.score, shared.score)


def test_bad_input_gives_clear_errors(small):
    with pytest.raises(ValueError, match=r"'uniform', 'enas', 'darts'"):
        oneshot.train_supernet("random", small, epochs=1, progress=False)
    sn = oneshot.Supernet(seed=0)
    with pytest.raises(oneshot.ArchitectureError, match=r"\[3, 5, 7\]"):
        sn.forward(small.x_val[:2], dict(CONFIGS[0], kernel=4))
    with pytest.raises(oneshot.ArchitectureError, match="relu"):
        sn.extract(dict(CONFIGS[0], activation="gelu"))
    with pytest.raises(oneshot.ArchitectureError, match="lacks"):
        sn.extract({"n_blocks": 1})
