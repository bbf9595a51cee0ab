"""Shared test settings (quick mode on, TensorFlow quiet) and session-wide fixtures for what
several test files would otherwise train again each."""
import os

import pytest

os.environ.setdefault("NASBOOK_QUICK", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def digits_cnn():
    """``(ds, model)``: nasbook's small CNN trained briefly on digits (validated once, at the
    end, to save time). Used by the attribution and the explanation-evaluation tests; they
    only read the model."""
    import keras

    import nasbook as nb

    ds = nb.load_dataset("digits")
    model = nb.models.small_cnn(ds.input_shape, ds.num_classes)
    nb.models.compile_classifier(model, learning_rate=1e-2)
    keras.utils.set_random_seed(0)
    history = model.fit(ds.x_train, ds.y_train, validation_data=(ds.x_val, ds.y_val),
                        validation_freq=10, epochs=10, batch_size=32, verbose=0)
    acc = history.history["val_accuracy"][-1]
    assert acc > 0.85, f"digits CNN reached only {acc:.2f} validation accuracy"
    return ds, model
