"""Faithfulness against its baseline: deletion and insertion AUC relative to the random-order
curve of the same model and inputs (nb.bench.against_random), on constructed models whose
answer is known, and on the shipped table."""
import keras
import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

import nasbook as nb
from nasbook.explain.evaluate import auc_table, deletion_insertion, random_attribution


def summing_model(scale):
    """Class 0's logit is ``scale`` times the sum of the 40 inputs, every other class's is 0:
    every position matters equally, so how fast deletion lowers the probability depends on how
    confident the model is and on how large the deleted inputs are, not on a map's order."""
    inputs = keras.Input((40, 1))
    dense = keras.layers.Dense(10)
    model = keras.Model(inputs, dense(keras.layers.Flatten()(inputs)))
    w = np.zeros((40, 10), dtype="float32")
    w[:, 0] = scale
    dense.set_weights([w, np.zeros(10, dtype="float32")])
    return model


def measured(model, x, maps):
    aucs = auc_table(deletion_insertion(model, x, maps, target=np.zeros(len(x), int), steps=20))
    row = {f"{m}_{c}_auc": aucs.loc[m, f"{c}_auc"]
           for m in ("ig", "saliency", "random") for c in ("deletion", "insertion")}
    return nb.bench.against_random(pd.DataFrame([row])).iloc[0]


@pytest.fixture(scope="module")
def x():
    # not seed 0: random_attribution(x, seed=0), the baseline, draws the same uniforms
    return np.random.default_rng(123).uniform(0.5, 1.5, size=(200, 40, 1)).astype("float32")


def test_confidence_alone_moves_the_raw_auc_but_not_the_auc_against_random(x):
    # a map that knows nothing of the model (another random order) under two confidences
    blind = {"ig": random_attribution(x, seed=7), "saliency": random_attribution(x, seed=8)}
    sure, unsure = measured(summing_model(0.5), x, blind), measured(summing_model(0.05), x, blind)
    assert sure.ig_deletion_auc - unsure.ig_deletion_auc > 0.2  # raw AUC: confidence
    for row in (sure, unsure):
        for m in ("ig", "saliency"):
            assert abs(row[f"{m}_deletion_vs_random"]) < 0.02
            assert abs(row[f"{m}_insertion_vs_random"]) < 0.02
            assert row[f"{m}_deletion_ratio"] == pytest.approx(1, abs=0.05)


def test_a_map_that_knows_the_model_beats_its_random_baseline(x):
    model = summing_model(0.1)
    informed = {"ig": x * 0.1, "saliency": x}   # IG of a linear model is w * x: exact here
    row = measured(model, x, informed)
    assert row.ig_deletion_vs_random < -0.02 and row.ig_insertion_vs_random > 0.02
    assert row.ig_deletion_ratio < 0.95


def test_the_shipped_table_against_random_reverses_the_raw_sign():
    ex = nb.bench.load_explanations()
    for name in nb.bench.AGAINST_RANDOM:
        assert name in ex.columns and ex[name].notna().all()
    one = ex[ex.seed == 0]
    acc = one.bench_test_accuracy
    # raw deletion AUC rises with accuracy because the random order's does (confidence) ...
    assert spearmanr(acc, one.random_deletion_auc).statistic > 0.95
    assert spearmanr(acc, one.ig_deletion_auc).statistic > 0.3
    # ... and against that baseline accurate models have the more faithful IG
    assert spearmanr(acc, one.ig_deletion_vs_random).statistic < -0.9
    np.testing.assert_allclose(one.ig_deletion_vs_random,
                               one.ig_deletion_auc - one.random_deletion_auc)
