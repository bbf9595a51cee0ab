"""The efficient-NAS figures draw what they are given."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import nasbook as nb  # noqa: E402
from nasbook.oneshot import audit, bias  # noqa: E402


@pytest.fixture(scope="module")
def truth():
    return audit.truth(nb.bench.load())


def test_audit_bars_draws_each_estimator_and_the_ceiling(truth):
    rows = audit.audit_table({"truth": truth["test"], "params": truth["params"]}, n_boot=20,
                             truth_frame=truth)
    fig = nb.plot.audit_bars(rows.astype(float))
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["params", "truth"]
    assert len(ax.patches) == 2
    labels = ax.get_legend_handles_labels()[1]
    assert any("noise ceiling" in label for label in labels)
    with pytest.raises(ValueError, match="audit_table"):
        nb.plot.audit_bars(rows, stat="nope")


def test_audit_bars_says_what_its_interval_and_ceilings_are(truth):
    rows = audit.audit_table({("a", 1): truth["test_s0"], ("a", 2): truth["test_s1"]},
                             n_boot=20, truth_frame=truth)
    summary = audit.across_seeds(rows)
    fig = nb.plot.audit_bars(summary, interval="95% t-interval over seeds",
                             ceiling={"one run vs another": 0.919, "two-seed mean": 0.959})
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert labels == ["one run vs another: 0.92", "two-seed mean: 0.96",
                      "95% t-interval over seeds"]


def test_subset_scatter_and_heatmap(truth):
    taus = {"a": np.array([0.1, 0.2, 0.3]), "b": np.array([-0.1, 0.0])}
    fig = nb.plot.subset_tau_plot(taus, full={"a": 0.2})
    assert len(fig.axes[0].lines) == 1
    fig = nb.plot.estimator_scatter(truth["params"], truth["test"], name="params",
                                    highlight=truth.test > truth.test.quantile(0.9))
    assert len(fig.axes[0].collections) == 2
    imp = pd.DataFrame({"truth (exact)": [0.7, 0.3], "x": [0.1, 0.9]}, index=["a", "b"])
    fig = nb.plot.bias_heatmap(imp)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["truth (exact)", "x"]
