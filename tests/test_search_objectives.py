"""Several objectives in a real nb.search: a per-trial metric computed on each trained model
(``trial_metrics``), a scalarised (weighted) objective built from it, NSGA-II through the
same runner, and the errors for metrics that nothing records.

Budgets are tiny (300 training examples, 2 epochs, 3-4 trials); the per-trial metric is the
deletion AUC of saliency maps on 20 validation examples (nasbook.explain), recomputed here
from the saved model as an independent check.
"""
import json
import time

import keras_tuner
import numpy as np
import pytest

import nasbook as nb
from nasbook.search import SearchError

N_EXAMPLES = 20


@pytest.fixture(scope="module")
def ds():
    return nb.load_dataset("mnist1d", seed=0).subset(n_train=300, n_val=200, seed=0)


@pytest.fixture(scope="module")
def space(ds):
    return nb.space.preset("cnn", ds.input_shape, ds.num_classes, n_blocks=[1, 2],
                           filters=[8, 16])


def deletion_auc(model, dataset):
    """Deletion AUC of saliency on the first 20 validation examples (lower = more faithful)."""
    x = dataset.x_val[:N_EXAMPLES]
    attr = nb.explain.attribute(model, x, method="saliency")
    return nb.explain.deletion_curve(model, x, attr, fill=0.0, steps=10).auc


OBJECTIVE = {"val_accuracy": 1.0, "deletion_auc": -0.5}


@pytest.fixture(scope="module")
def weighted_run(ds, space, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("weighted") / "run"
    t0 = time.perf_counter()
    result = nb.search(ds, space, "evolution", objective=nb.strategies.weighted(OBJECTIVE),
                       trial_metrics={"deletion_auc": deletion_auc}, max_trials=3, epochs=2,
                       run_dir=run_dir, seed=0, progress=False, tensorboard=False,
                       population_size=2, sample_size=1)
    return result, time.perf_counter() - t0


def test_the_trial_metric_is_recorded_and_the_weighted_objective_uses_it(weighted_run):
    result, wall = weighted_run
    trials = result.trials
    done = trials[trials.status == "completed"]
    assert len(done) >= 2
    assert result.objective == "weighted" and result.direction == "max"
    assert {"deletion_auc", "deletion_auc_time_s", "weighted"} <= set(trials.columns)
    assert done.deletion_auc.between(0, 1).all()
    np.testing.assert_allclose(done.weighted, done.val_accuracy - 0.5 * done.deletion_auc,
                               rtol=1e-12)
    cost = done.deletion_auc_time_s
    print(f"\nper-trial cost of the deletion AUC (20 examples, 10 steps): mean "
          f"{cost.mean():.3f} s, max {cost.max():.3f} s; training mean "
          f"{done.train_time_s.mean():.2f} s; search {wall:.1f} s (loaded 2-core machine)")
    assert (cost > 0).all()
    # the manifest says what was optimised, the strategy saw the metric (keras-tuner's file)
    assert result.manifest["objective"]["weights"] == OBJECTIVE
    assert result.manifest["objective"]["trial_metrics"] == ["deletion_auc"]
    scores = {}
    for path in sorted(result.run_dir.glob("trial_*/trial.json")):
        kt_trial = json.loads(path.read_text())
        assert {"deletion_auc", "weighted", "val_accuracy"} <= set(kt_trial["metrics"]["metrics"])
        scores[int(kt_trial["trial_id"])] = kt_trial["score"]
    # the score the strategy ranks trials by is the weighted value
    assert scores == pytest.approx(trials.weighted.to_dict())


def test_the_recorded_metric_is_that_of_the_saved_model(weighted_run, ds):
    result, _ = weighted_run
    best = result.trials.weighted.idxmax()
    model = result.best_model()
    assert result.trials.weighted.max() == pytest.approx(result.trials.loc[best, "weighted"])
    assert deletion_auc(model, ds) == pytest.approx(result.trials.loc[best, "deletion_auc"],
                                                    abs=1e-6)


def test_nsga2_runs_a_real_search_on_accuracy_and_size(ds, space, tmp_path):
    result = nb.search(ds, space, "nsga2", objectives=[("val_accuracy", "max"),
                                                       ("params", "min")],
                       population_size=2, max_trials=4, epochs=1, run_dir=tmp_path / "run",
                       seed=0, progress=False, tensorboard=False)
    trials = result.trials
    assert len(trials) == 4 and (trials.status != "failed").all()
    # the oracle received params for every trial, and bred trials 2 and 3 from the first two
    oracle = json.loads((tmp_path / "run" / "oracle.json").read_text())
    lineage = oracle["evolution"]["lineage"]
    assert set(lineage) >= {"2", "3"} and all(len(p) == 1 for p in lineage.values())
    kt_trial = json.loads((tmp_path / "run" / "trial_3" / "trial.json").read_text())
    assert kt_trial["metrics"]["metrics"]["params"]["observations"][0]["value"][0] == \
        trials.loc[3, "params"]


def test_metrics_that_nothing_records_are_refused_before_training(ds, space, tmp_path):
    with pytest.raises(SearchError, match="'faithfulness', which no trial records"):
        nb.search(ds, space, "random", objective=nb.strategies.weighted(
            {"val_accuracy": 1.0, "faithfulness": 1.0}), run_dir=tmp_path / "a",
            progress=False)
    with pytest.raises(SearchError, match=r"optimises \['faithfulness'\]"):
        nb.search(ds, space, "nsga2", objectives=[("val_accuracy", "max"),
                                                  ("faithfulness", "max")],
                  run_dir=tmp_path / "b", progress=False)
    with pytest.raises(SearchError, match="cannot pick each trial's best epoch"):
        nb.search(ds, space, "random", objective=keras_tuner.Objective("deletion_auc", "min"),
                  trial_metrics={"deletion_auc": deletion_auc}, run_dir=tmp_path / "c",
                  progress=False)
    with pytest.raises(SearchError, match="workers=1"):
        nb.search(ds, space, "random", trial_metrics={"deletion_auc": deletion_auc},
                  workers=2, run_dir=tmp_path / "d", progress=False)
    with pytest.raises(SearchError, match="would replace a metric"):
        nb.search(ds, space, "random", trial_metrics={"val_loss": deletion_auc},
                  run_dir=tmp_path / "e", progress=False)
    assert not any((tmp_path / d).exists() and any((tmp_path / d).glob("trial_*"))
                   for d in "abcde")


def test_the_weighted_objective_names_a_missing_metric():
    objective = nb.strategies.weighted({"val_accuracy": 1.0, "deletion_auc": -0.5})
    assert objective.value({"val_accuracy": 0.8, "deletion_auc": 0.2}) == pytest.approx(0.7)
    with pytest.raises(KeyError, match="Did you mean 'deletion_aux'"):
        objective.value({"val_accuracy": 0.8, "deletion_aux": 0.2})
    with pytest.raises(ValueError, match="finite number"):
        nb.strategies.weighted({"val_accuracy": float("nan")})
