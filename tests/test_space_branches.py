"""nb.space.check_branches builds every branch of a space the way a keras-tuner Oracle would.

The regression it exists for: notebook 00's space once declared ``hp.Choice("activation")``
inside a per-block ``conditional_scope``; in full mode 4 of its 10 trials failed with
``KeyError: 'activation'`` while quick mode's 4 trials passed.
"""
import keras
import keras_tuner as kt
import pytest

import nasbook as nb
from nasbook.space import SpaceError, check_branches


def old_notebook_00_space(hp):
    """Notebook 00's space as it was before the fix (the decision inside the scope)."""
    inputs = keras.Input(shape=(40, 1))
    h = inputs
    for i in range(hp.Int("conv_blocks", 1, 3)):
        with hp.conditional_scope("conv_blocks", list(range(i + 1, 4))):
            h = keras.layers.Conv1D(hp.Choice(f"filters_{i}", [16, 32, 64]),
                                    hp.Choice(f"kernel_{i}", [3, 5]), padding="same",
                                    activation=hp.Choice("activation", ["relu", "tanh"]))(h)
        h = keras.layers.MaxPooling1D(2, padding="same")(h)
    h = keras.layers.Flatten()(h)
    return keras.Model(inputs, keras.layers.Dense(10)(h))


def fixed_notebook_00_space(hp):
    """The same space with the shared decision declared once, outside the scopes."""
    inputs = keras.Input(shape=(40, 1))
    h = inputs
    activation = hp.Choice("activation", ["relu", "tanh"])
    for i in range(hp.Int("conv_blocks", 1, 3)):
        with hp.conditional_scope("conv_blocks", list(range(i + 1, 4))):
            h = keras.layers.Conv1D(hp.Choice(f"filters_{i}", [16, 32, 64]),
                                    hp.Choice(f"kernel_{i}", [3, 5]), padding="same",
                                    activation=activation)(h)
        h = keras.layers.MaxPooling1D(2, padding="same")(h)
    h = keras.layers.Flatten()(h)
    return keras.Model(inputs, keras.layers.Dense(10)(h))


def test_old_notebook_00_space_fails_like_the_full_mode_search():
    with pytest.raises(SpaceError) as info:
        check_branches(old_notebook_00_space)
    message = str(info.value)
    assert "KeyError: 'activation'" in message
    assert "'conv_blocks': 1" in message and "'conv_blocks': 2" in message
    assert "'conv_blocks': 3" not in message     # three-block trials activate every copy


def test_the_failure_is_real_in_keras_tuner_itself(tmp_path):
    """The same failure through a real Oracle: a 3-block trial first, then a 1-block one."""
    hp = kt.HyperParameters()
    old_notebook_00_space(hp)
    oracle = kt.oracles.RandomSearchOracle(objective="val_loss", max_trials=5, seed=0)
    oracle._set_project_dir(str(tmp_path), "p")
    oracle.hyperparameters = hp.copy()
    first = oracle.create_trial("t0")
    first.hyperparameters.values["conv_blocks"] = 3
    built = first.hyperparameters.copy()
    old_notebook_00_space(built)
    oracle.update_space(built)
    oracle.end_trial(first)
    failures = 0
    for i in range(1, 5):
        trial = oracle.create_trial(f"t{i}")
        if trial.hyperparameters.values.get("conv_blocks") != 3:
            with pytest.raises(KeyError, match="activation"):
                old_notebook_00_space(trial.hyperparameters.copy())
            failures += 1
        oracle.end_trial(trial)
    assert failures >= 1


def test_fixed_space_builds_every_value_of_every_decision():
    report = check_branches(fixed_notebook_00_space)
    assert sorted(report.values["conv_blocks"]) == [1, 2, 3]
    assert sorted(report.values["activation"]) == ["relu", "tanh"]
    for i in range(3):
        assert sorted(report.values[f"filters_{i}"]) == [16, 32, 64]
        assert sorted(report.values[f"kernel_{i}"]) == [3, 5]
    assert report.builds >= 1 + 2 + 3 + 6 * 3   # the default, then every value at least once


@pytest.mark.parametrize("name", sorted(nb.space.PRESETS))
def test_every_preset_builds_every_branch(name):
    space = nb.space.preset(name, (40, 1), 10)
    report = check_branches(space)
    for name, choices in space.decisions():
        built = {repr(v) for v in report.values.get(name, [])}
        assert built >= {repr(v) for v in choices}, name


def test_the_benchmark_space_builds_every_branch():
    report = check_branches(nb.bench.bench_space())
    for name, values in nb.bench.DECISIONS.items():
        assert sorted(map(str, report.values[name])) == sorted(map(str, values))


def test_the_default_must_build_and_the_input_must_be_a_space():
    def broken(hp):
        raise ValueError("no model here")

    with pytest.raises(SpaceError, match="default configuration does not build: ValueError"):
        check_branches(broken)
    with pytest.raises(SpaceError, match="HyperModel or a build"):
        check_branches(42)
