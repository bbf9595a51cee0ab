"""nasbook.metrics equals scikit-learn and Keras on random and edge-case inputs."""
import warnings

import numpy as np
import pytest
import sklearn.metrics as skm

from nasbook import metrics as M


def _random_labels(seed, n=200, k=5, skew=False):
    rng = np.random.default_rng(seed)
    p = np.geomspace(1, 0.05, k) if skew else np.ones(k)
    y = rng.choice(k, size=n, p=p / p.sum())
    noise = rng.random(n) < 0.35
    pred = np.where(noise, rng.integers(0, k, n), y)
    return y, pred


def _sk(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # sklearn warns where zero_division applies
        return fn(*args, zero_division=0, **kwargs)


CASES = {
    "random": _random_labels(0),
    "random-imbalanced": _random_labels(1, skew=True),
    "random-binary": _random_labels(2, k=2),
    "class 3 never predicted": (np.array([0, 1, 2, 3, 3, 1, 0, 2]),
                                np.array([0, 1, 2, 2, 1, 1, 0, 0])),
    "class 4 predicted, never true": (np.array([0, 1, 1, 2, 0]), np.array([0, 4, 1, 2, 4])),
    "all one class, all right": (np.zeros(7, int), np.zeros(7, int)),
    "all one class, all wrong": (np.zeros(6, int), np.ones(6, int)),
    "single example": (np.array([2]), np.array([1])),
}


@pytest.mark.parametrize("case", CASES)
def test_confusion_matrix_and_accuracy_equal_sklearn(case):
    y, pred = CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # sklearn warns when a single label is present
        expected = skm.confusion_matrix(y, pred)
    np.testing.assert_array_equal(M.confusion_matrix(y, pred), expected)
    labels = [0, 1, 2, 3, 4, 5]
    np.testing.assert_array_equal(M.confusion_matrix(y, pred, labels=labels),
                                  skm.confusion_matrix(y, pred, labels=labels))
    assert M.accuracy(y, pred) == pytest.approx(skm.accuracy_score(y, pred), abs=1e-15)


@pytest.mark.parametrize("average", ["macro", "micro", "weighted", None])
@pytest.mark.parametrize("case", CASES)
def test_precision_recall_f1_equal_sklearn(case, average):
    y, pred = CASES[case]
    ours = M.precision_recall_f1(y, pred, average=average)
    for key, fn in [("precision", skm.precision_score), ("recall", skm.recall_score),
                    ("f1", skm.f1_score)]:
        np.testing.assert_allclose(ours[key], _sk(fn, y, pred, average=average), atol=1e-12,
                                   err_msg=f"{key}, average={average}")


@pytest.mark.parametrize("case", ["random-binary", "all one class, all right",
                                  "all one class, all wrong"])
@pytest.mark.parametrize("pos_label", [0, 1])
def test_binary_scores_equal_sklearn(case, pos_label):
    y, pred = CASES[case]
    for ours, fn in [(M.precision, skm.precision_score), (M.recall, skm.recall_score),
                     (M.f1, skm.f1_score)]:
        assert ours(y, pred, pos_label=pos_label) == pytest.approx(
            _sk(fn, y, pred, pos_label=pos_label), abs=1e-12)


def test_with_labels_argument_equals_sklearn():
    y, pred = CASES["class 3 never predicted"]
    for labels in ([0, 1, 2, 3, 4], [1, 3]):
        for average in ("macro", "micro", "weighted"):
            ours = M.f1(y, pred, average=average, labels=labels)
            assert ours == pytest.approx(_sk(skm.f1_score, y, pred, average=average,
                                             labels=labels), abs=1e-12)


def test_never_predicted_class_scores_zero_division():
    y, pred = CASES["class 3 never predicted"]
    per = M.precision_recall_f1(y, pred, average=None)
    assert per["precision"][3] == 0.0 and per["recall"][3] == 0.0   # TP + FP = 0 -> 0
    assert M.precision_recall_f1(y, pred, average=None, zero_division=1.0)["precision"][3] == 1
    assert np.all(np.isfinite(per["f1"]))


def test_counts_names_and_the_source_text_example():
    #            y_true:  P  P  P  N  N  N  N
    counts = M.binary_counts([1, 1, 1, 0, 0, 0, 0], [1, 1, 0, 1, 1, 0, 0])
    assert counts == {"TP": 2, "FN": 1, "FP": 2, "TN": 2}   # FP: predicted 1, truly 0
    tn, fp, fn, tp = skm.confusion_matrix([1, 1, 1, 0, 0, 0, 0], [1, 1, 0, 1, 1, 0, 0]).ravel()
    assert (tp, fp, fn, tn) == (2, 2, 1, 2)
    # the source text's example: 90 TP and 100 TN out of 205 is 92.7%, not 95%
    assert M.accuracy_from_counts(90, 100, 10, 5) == pytest.approx(0.926829, abs=1e-6)
    assert round(100 * 190 / 205, 1) == 92.7


def test_micro_average_equals_accuracy_for_multiclass():
    y, pred = CASES["random"]
    assert M.f1(y, pred, average="micro") == pytest.approx(M.accuracy(y, pred), abs=1e-15)


def test_report_matches_sklearn_classification_report():
    y, pred = CASES["random-imbalanced"]
    table = M.report(y, pred, class_names=list("abcde"))
    sk = skm.classification_report(y, pred, output_dict=True, zero_division=0)
    for k, name in enumerate("abcde"):
        assert table.loc[name, "f1"] == pytest.approx(sk[str(k)]["f1-score"])
        assert table.loc[name, "support"] == sk[str(k)]["support"]
    assert table.loc["macro avg", "recall"] == pytest.approx(sk["macro avg"]["recall"])
    assert table.loc["weighted avg", "precision"] == pytest.approx(
        sk["weighted avg"]["precision"])


@pytest.mark.parametrize("fn", [M.accuracy, M.confusion_matrix, M.f1, M.precision, M.recall,
                                M.binary_counts])
def test_bad_inputs_raise_clear_errors(fn):
    with pytest.raises(M.MetricError, match="empty"):
        fn([], [])
    with pytest.raises(M.MetricError, match="3 labels but y_pred has 2"):
        fn([0, 1, 1], [0, 1])
    with pytest.raises(M.MetricError, match="1-D"):
        fn(np.zeros((3, 2)), np.zeros((3, 2)))


def test_binary_average_errors():
    with pytest.raises(M.MetricError, match="average='macro'"):
        M.f1([0, 1, 2], [0, 1, 2])                       # binary is the default, as in sklearn
    with pytest.raises(M.MetricError, match="pos_label"):
        M.precision([3, 4, 3], [3, 3, 4])
    with pytest.raises(M.MetricError, match="average"):
        M.f1([0, 1], [0, 1], average="samples")
    with pytest.raises(M.MetricError, match="undefined"):
        M.accuracy_from_counts(0, 0, 0, 0)


# --- Keras ------------------------------------------------------------------------------------

def test_cross_entropy_and_mse_equal_keras():
    import keras

    rng = np.random.default_rng(3)
    logits = rng.normal(size=(64, 6)) * 3
    y = rng.integers(0, 6, 64)
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    probs[0] = [1, 0, 0, 0, 0, 0]                       # an exact 0 and 1: clipping matters
    y[0] = 1
    sce = keras.losses.SparseCategoricalCrossentropy
    assert M.cross_entropy(y, logits, from_logits=True) == pytest.approx(
        float(sce(from_logits=True)(y, logits.astype("float32"))), rel=1e-5)
    assert M.cross_entropy(y, probs) == pytest.approx(
        float(sce()(y, probs.astype("float32"))), rel=1e-5)
    softmax = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert M.cross_entropy(y, logits, from_logits=True) == pytest.approx(
        skm.log_loss(y, softmax, labels=range(6)), rel=1e-9)
    p = rng.random(50)
    t = (rng.random(50) < 0.5).astype(float)
    p[:2] = [1e-3, 0.999]
    assert M.binary_cross_entropy(t, p) == pytest.approx(
        float(keras.losses.BinaryCrossentropy()(t[:, None], p[:, None].astype("float32"))),
        rel=1e-4)
    # an exact 0 or 1 is clipped to 1e-7 away (in float32 Keras' 1 - 1e-7 rounds differently)
    assert M.binary_cross_entropy([1, 0], [0.0, 1.0]) == pytest.approx(-np.log(1e-7))
    a, b = rng.normal(size=(10, 3)), rng.normal(size=(10, 3))
    assert M.mean_squared_error(a, b) == pytest.approx(skm.mean_squared_error(a, b), rel=1e-12)
    assert M.mean_squared_error(a, b) == pytest.approx(
        float(keras.losses.MeanSquaredError()(a, b)), rel=1e-5)
    with pytest.raises(M.MetricError, match="shape"):
        M.mean_squared_error(a, b[:5])
    with pytest.raises(M.MetricError, match="labels 0..5"):
        M.cross_entropy(y + 6, logits)


def test_f1_precision_recall_equal_keras_metrics():
    import keras

    y, pred = CASES["random-imbalanced"]
    onehot_y, onehot_p = np.eye(5)[y], np.eye(5)[pred]
    for average in ("macro", "micro", "weighted"):
        km = keras.metrics.F1Score(average=average, threshold=0.5)
        km.update_state(onehot_y.astype("float32"), onehot_p.astype("float32"))
        assert M.f1(y, pred, average=average) == pytest.approx(float(km.result()), abs=1e-5)
    yb, pb = CASES["random-binary"]
    for ours, klass in [(M.precision, keras.metrics.Precision), (M.recall, keras.metrics.Recall)]:
        km = klass()
        km.update_state(yb, pb)
        assert ours(yb, pb) == pytest.approx(float(km.result()), abs=1e-6)
    km = keras.metrics.Accuracy()
    km.update_state(y, pred)
    assert M.accuracy(y, pred) == pytest.approx(float(km.result()), abs=1e-6)
