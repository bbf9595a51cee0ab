"""The figures notebook 11's model answers to exercises 5 and 6 state, computed as the answers
say (on the notebook's quick-mode sample of 40 architectures, so a reader in quick mode gets the
same): the proxies with a batch of 128 instead of 32, jacob_cov's zero eigenvalues, and an
ensemble of two proxies chosen by validation on proxy seed 1 and judged on seeds 2 and 3."""
import numpy as np
import pandas as pd
import pytest

keras = pytest.importorskip("keras")

import nasbook as nb  # noqa: E402
from nasbook.oneshot import audit, proxies  # noqa: E402


@pytest.fixture(scope="module")
def sample():
    truth = audit.truth(nb.bench.load())
    ids = sorted(np.random.default_rng(0).choice(len(truth), 40, replace=False))  # SEED, N_ARCHS
    runs = {s: proxies.compute(arch_ids=ids, batch=proxies.one_batch(size=32, seed=s), seed=s,
                               progress=False).set_index("arch_id") for s in (1, 2, 3)}
    return truth.loc[ids], runs


def test_exercise_5_a_batch_of_128(sample):
    from scipy.stats import spearmanr

    truth, runs = sample
    big = proxies.compute(arch_ids=list(truth.index), batch=proxies.one_batch(size=128, seed=1),
                          seed=1, progress=False).set_index("arch_id")
    rho = {p: spearmanr(runs[1][p], big[p]).statistic for p in proxies.PROXIES}
    for p in ("params", "flops", "synflow"):              # no data: nothing changes
        assert rho[p] == pytest.approx(1.0)
    assert min(rho, key=rho.get) == "grad_norm"
    assert rho == pytest.approx({"params": 1, "flops": 1, "grad_norm": 0.910, "snip": 0.958,
                                 "synflow": 1, "jacob_cov": 0.942, "naswot": 0.990}, abs=0.01)
    tau = [audit.correlations(f["jacob_cov"], truth)["kendall_test"] for f in (runs[1], big)]
    assert tau == pytest.approx([0.569, 0.574], abs=0.01)
    config = dict(nb.bench.all_configs()[100])
    zeros = []
    for size in (32, 128):
        keras.utils.set_random_seed(1)
        model = nb.bench.bench_space().build_model(config)
        lam = proxies.jacob_cov_spectrum(model, proxies.one_batch(size=size, seed=1)[0])
        zeros.append(int(np.sum(np.abs(lam) < 1e-8)))
    assert zeros == [0, 128 - 39]          # 40 input values, each Jacobian centred: rank <= 39


def test_exercise_6_a_pair_chosen_by_validation(sample):
    truth, runs = sample
    pairs = audit.pair_ensembles(runs, truth)
    assert pairs.pair.nunique() == 21
    chosen = pairs[pairs.seed == 1].sort_values("kendall_val").iloc[-1].pair
    assert chosen == "flops + jacob_cov"
    wide = pairs.pivot(index="seed", columns="pair", values="kendall_test")
    judged = wide.loc[[2, 3]]
    assert judged.mean().idxmax() == chosen          # here the test truth would choose it too
    ensemble = pd.Series({s: audit.correlations(audit.mean_rank(f, list(proxies.PROXIES)),
                                                truth)["kendall_test"] for s, f in runs.items()})
    assert list(judged[chosen]) == pytest.approx([0.688, 0.633], abs=0.005)
    assert list(ensemble.loc[[2, 3]]) == pytest.approx([0.377, 0.354], abs=0.005)
    d = nb.stats.paired_difference(judged[chosen], ensemble.loc[[2, 3]])
    assert d.n == 2 and d.mean == pytest.approx(0.295, abs=0.005)
    v = nb.stats.verdict(judged[chosen] - ensemble.loc[[2, 3]], 0.0)
    assert v.word == nb.stats.MET and v.bound == pytest.approx(0.193, abs=0.01)
