"""The strategy figures draw what they are given (numbers checked, not pixels)."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import nasbook as nb  # noqa: E402
from nasbook.plot.strategies import _running_best  # noqa: E402


def test_running_best_ignores_failed_trials():
    assert np.allclose(_running_best([0.2, np.nan, 0.5, 0.4]), [0.2, 0.2, 0.5, 0.5])
    assert np.allclose(_running_best([3.0, 1.0, 2.0], "min"), [3.0, 1.0, 1.0])
    assert np.isnan(_running_best([np.nan, 1.0])[0])


def test_best_so_far_plots_median_of_running_best():
    ax = nb.plot.best_so_far({"a": [[0.1, 0.3, 0.2], [0.2, 0.2, 0.4]]})
    median = ax.lines[0].get_ydata()
    assert np.allclose(median, [0.15, 0.25, 0.35])


def test_population_and_policy_figures():
    history = [{"trial": str(i), "score": s, "status": "COMPLETED"}
               for i, s in enumerate([0.1, 0.5, 0.3, 0.2, 0.1])]
    ax = nb.plot.population_over_time(history, population_size=2)
    best_alive = ax.lines[0].get_ydata()
    assert list(best_alive) == [0.1, 0.5, 0.5, 0.3, 0.2]   # the 0.5 dies of old age
    fig = nb.plot.policy_over_time([{"op": {"x": 0.5, "y": 0.5}}, {"op": {"x": 0.2, "y": 0.8}}])
    assert len(fig.axes) == 1
    with pytest.raises(ValueError, match="no history"):
        nb.plot.policy_over_time([])
