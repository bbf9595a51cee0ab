"""Search spaces: every preset configuration builds, sizes count distinct models, the source
text's dict works, and bad definitions fail with errors that say what to write instead."""
import copy
import itertools
import json
import math

import keras
import keras_tuner as kt
import numpy as np
import pytest

import nasbook as nb
from nasbook.space import SpaceError, from_dict, preset

SHAPES = [(40, 1), (8, 8, 1), (28, 28, 1)]
PRESET_NAMES = ["mlp", "cnn", "residual_cnn"]

SOURCE = {
    "layers": [
        {"type": "Conv2D", "parameters": {"filters": [32, 64, 128], "kernel_size": [3, 5]}},
        {"type": "MaxPooling2D", "parameters": {"pool_size": [2]}},
        {"type": "Dense", "parameters": {"units": [64, 128, 256]}},
    ],
    "activation_functions": ["relu", "sigmoid", "tanh"],
    "connections": ["full", "sparse", "residual"],
    "regularization_methods": {"dropout": [0.2, 0.5], "weight_decay": [0.0001, 0.001]},
}


def _layers(model, cls_names):
    return [layer for layer in model.layers if type(layer).__name__ in cls_names]


def _check_model(space, values, model):
    """The built model matches the values: output, layer counts, connection pattern."""
    assert model.output_shape == (None, space.num_classes)
    full = space._resolve(values)
    n_blocks = full.get("n_blocks", 0)
    convs = _layers(model, {"Conv1D", "Conv2D", "SeparableConv1D", "SeparableConv2D"})
    main_convs = [c for c in convs if c.name.startswith("conv_")]
    assert len(main_convs) == n_blocks
    hidden = [d for d in _layers(model, {"Dense"}) if d.name.startswith("dense_")]
    assert len(hidden) == full.get("n_dense", 0)
    separable = _layers(model, {"SeparableConv1D", "SeparableConv2D"})
    assert bool(separable) == (full["connection"] == "sparse" and n_blocks > 0)
    adds = _layers(model, {"Add"})
    assert len(adds) == (len(main_convs) + len(hidden)
                         if full["connection"] == "residual" else 0)
    for c, j in zip(main_convs, itertools.count(1)):
        assert c.filters == full[f"filters_{j}"]
        assert c.kernel_size[0] == full[f"kernel_{j}"]
    for d in _layers(model, {"MaxPooling1D", "MaxPooling2D", "AveragePooling1D",
                             "AveragePooling2D"}):
        assert min(d.output.shape[1:-1]) >= 1


def _extremes(space):
    """The largest configuration with each connection, and the smallest one."""
    largest = {name: max(ch) if not isinstance(ch[0], str) else ch[0]
               for name, ch in space.decisions()}
    out = [{**largest, "connection": c} for c in space.decision("connection").choices]
    smallest = {name: min(ch) if not isinstance(ch[0], str) else ch[-1]
                for name, ch in space.decisions()}
    return out + [smallest]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("name", PRESET_NAMES)
def test_every_sampled_preset_configuration_builds(name, shape):
    space = preset(name, shape, 10)
    rng = np.random.default_rng([PRESET_NAMES.index(name), SHAPES.index(shape)])
    configs = _extremes(space) + [space.sample_values(rng) for _ in range(4)]
    for values in configs:
        _check_model(space, values, space.build_model(values))
    keras.backend.clear_session()


def test_sampled_configurations_train_for_a_tiny_epoch():
    ds = nb.load_dataset("mnist1d").subset(n_train=64)
    for i, name in enumerate(["mlp", "residual_cnn"]):  # a plain CNN trains below
        space = preset(name, ds.input_shape, ds.num_classes)
        values = space.sample_values(np.random.default_rng(i))
        model = space.build_model(values)
        history = model.fit(ds.x_train, ds.y_train, epochs=1, batch_size=32, verbose=0)
        assert np.isfinite(history.history["loss"][0]), (name, values)
    keras.backend.clear_session()


def test_size_counts_the_distinct_models_keras_builds():
    source = {"layers": [{"type": "Conv1D", "repeat": [0, 1, 2],
                          "parameters": {"filters": [4, 8], "kernel_size": 3}},
                         {"type": "Dense", "parameters": {"units": 8}}],
              "connections": ["full", "sparse"], "optimizers": ["adam", "sgd"]}
    space = from_dict(source, (12, 1), 3)
    names = [n for n, _ in space.decisions()]
    raw = list(itertools.product(*(ch for _, ch in space.decisions())))
    assert len(raw) == space.raw_size() == 3 * 2 * 2 * 2 * 2
    configs, keys = set(), set()
    for combo in raw:
        values = dict(zip(names, combo))
        model = space.build_model(values)
        optimizer = {k: v for k, v in model.optimizer.get_config().items() if k != "name"}
        configs.add(json.dumps([model.get_config(), optimizer], sort_keys=True, default=str))
        keys.add(space.architecture_key(values))
    keras.backend.clear_session()
    # repeat 0: 1 conv-free model per optimizer; repeat 1: 2 filters x 2 connections;
    # repeat 2: 4 filter pairs x 2 connections; all x 2 optimizers
    assert len(configs) == len(keys) == space.size() == (1 + 4 + 8) * 2


def test_size_of_the_cnn_preset_by_hand():
    space = preset("cnn", (40, 1), 10)
    per_block = 3 * 3                                # filters x kernel
    conv = sum(per_block ** n for n in (1, 2, 3)) * 2  # x pooling type
    dense = 1 + 3                                    # no dense layer, or one of 3 widths
    rest = 5 * 2 * 3 * 3 * 3 * 3                     # activation, connection, dropout, l2, opt, lr
    assert space.size() == conv * dense * rest
    assert space.raw_size() == math.prod(len(ch) for _, ch in space.decisions())
    assert space.size() < space.raw_size()
    assert f"{space.size():,}" in space.describe()


def test_active_values_ignore_layers_that_are_not_built():
    space = preset("cnn", (40, 1), 10)
    a = {"n_blocks": 1, "filters_1": 16, "kernel_1": 3, "filters_2": 64, "kernel_3": 7,
         "n_dense": 0, "units_1": 128, "tuner/epochs": 2}
    b = {"n_blocks": 1, "filters_1": 16, "kernel_1": 3, "filters_2": 16, "n_dense": 0}
    assert space.architecture_key(a) == space.architecture_key(b)
    active = space.active_values(a)
    assert "filters_2" not in active and "units_1" not in active and "tuner/epochs" not in active
    c = dict(b, n_blocks=2)
    assert space.architecture_key(c) != space.architecture_key(b)
    ma, mb = space.build_model(a), space.build_model(b)
    assert ma.get_config() == mb.get_config()
    keras.backend.clear_session()


def test_sparse_means_fewer_weights_as_counted_by_keras():
    k, c_in, f = 5, 16, 32
    source = {"layers": [{"type": "Conv1D", "parameters": {"filters": c_in, "kernel_size": 1}},
                         {"type": "Conv1D", "parameters": {"filters": f, "kernel_size": k}}],
              "connections": ["full", "sparse"]}
    space = from_dict(source, (20, 1), 2)
    full = space.build_model({"connection": "full"}).get_layer("conv_2")
    sparse = space.build_model({"connection": "sparse"}).get_layer("conv_2")
    assert type(sparse).__name__ == "SeparableConv1D"
    assert full.count_params() == k * c_in * f + f
    assert sparse.count_params() == k * c_in + c_in * f + f
    keras.backend.clear_session()


def test_residual_block_adds_its_input():
    """act(conv(x)) + x, checked against NumPy with the layer's own weights."""
    source = {"layers": [{"type": "Conv1D", "parameters": {"filters": 1, "kernel_size": 3}}],
              "activation_functions": ["tanh"], "connections": ["residual"]}
    model = from_dict(source, (10, 1), 2).build_model()
    kernel, bias = model.get_layer("conv_1").get_weights()
    x = np.random.default_rng(0).normal(size=(4, 10, 1)).astype("float32")
    padded = np.pad(x[:, :, 0], ((0, 0), (1, 1)))
    conv = sum(kernel[i, 0, 0] * padded[:, i:i + 10] for i in range(3)) + bias[0]
    block = keras.Model(model.input, model.get_layer("add_1").output)
    np.testing.assert_allclose(block.predict(x, verbose=0)[:, :, 0], np.tanh(conv) + x[:, :, 0],
                               atol=1e-5)
    with pytest.raises(ValueError):  # identity shortcut: no projection was needed
        model.get_layer("projection_1")
    wider = dict(source, layers=[{"type": "Conv1D",
                                  "parameters": {"filters": 4, "kernel_size": 3}}])
    assert from_dict(wider, (10, 1), 2).build_model().get_layer("projection_1").kernel_size \
        == (1,)
    keras.backend.clear_session()


def test_keras_tuner_defaults_and_trials_carry_only_built_layers(tmp_path):
    space = preset("cnn", (40, 1), 10, n_blocks=[1, 3])
    hp = kt.HyperParameters()
    space.build(hp)                       # what a Tuner does once to learn the space
    assert space.active_values(hp.values) == space.default_values() == hp.values
    oracle = kt.oracles.RandomSearchOracle(objective="val_accuracy", max_trials=12, seed=3)
    oracle._set_project_dir(tmp_path, "t")
    oracle.update_space(hp)
    blocks = set()
    for i in range(12):
        trial = oracle.create_trial(f"tuner{i}")
        values = trial.hyperparameters.values
        assert values == space.active_values(values)
        assert ("filters_3" in values) == (values["n_blocks"] == 3)
        assert ("units_1" in values) == (values["n_dense"] == 1)
        blocks.add(values["n_blocks"])
        if i < 2:
            _check_model(space, values, space.build(trial.hyperparameters))
        oracle.end_trial(trial)
    assert blocks == {1, 3}
    keras.backend.clear_session()


def test_sampling_is_seeded():
    space = preset("residual_cnn", (28, 28, 1), 10)
    a = [space.sample_values(np.random.default_rng(5)) for _ in range(2)]
    assert a[0] == a[1] == space.sample_values(5)
    keys = {space.architecture_key(space.sample_values(np.random.default_rng(i)))
            for i in range(20)}
    assert len(keys) > 15


def test_the_source_texts_dict_builds_and_trains_on_digits():
    ds = nb.load_dataset("digits")
    space = from_dict(SOURCE, ds.input_shape, ds.num_classes)
    assert [n for n, _ in space.decisions()] == [
        "filters_1", "kernel_1", "units_3", "activation", "connection", "dropout", "l2"]
    assert space.size() == 3 * 2 * 3 * 3 * 3 * 2 * 2
    nb.set_seed(0)
    model = space.build_model()
    history = nb.models.train(model, ds, epochs=3)
    assert history.history["val_accuracy"][-1] > 0.5   # chance is 0.1
    keras.backend.clear_session()


def test_forgiving_spellings():
    source = {"layers": [{"type": "conv2d", "params": {"num_filters": [8], "kernel": 3}},
                         {"type": "MaxPool2D", "parameters": {"pool_size": 2}},
                         {"type": "dense", "parameters": {"neurons": [16, 32]}}],
              "Activation-Functions": ["ReLU", "Tanh"], "connection": ["plain", "skip"],
              "regularisation_methods": {"Dropout": [0.2], "l2": [0.001]},
              "optimizers": ["Adam", "AdaGrad", "SGD"]}
    space = from_dict(source, (8, 8, 1), 10)
    assert dict(space.decisions()) == {"units_3": [16, 32], "activation": ["relu", "tanh"],
                                       "connection": ["full", "residual"],
                                       "optimizer": ["adam", "adagrad", "sgd"]}


def _with(change):
    source = copy.deepcopy(SOURCE)
    change(source)
    return source


BAD = {
    "Pooling2D": (_with(lambda s: s["layers"][1].update(type="Pooling2D")),
                  r"did you mean 'MaxPooling2D' or 'AveragePooling2D'\?"),
    "unknown layer": (_with(lambda s: s["layers"][2].update(type="Dens")),
                      r"unknown layer type 'Dens'; did you mean 'Dense'\?"),
    "BatchNorm": (_with(lambda s: s["layers"].append({"type": "BatchNorm"})),
                  r"unknown layer type 'BatchNorm'.*Known layer types"),
    "empty choices": (_with(lambda s: s["layers"][0]["parameters"].update(filters=[])),
                      r"'filters' of Conv2D \(layer 1\) has no choices"),
    "empty activations": (_with(lambda s: s.update(activation_functions=[])),
                          r"'activation_functions' has no choices"),
    "unknown activation": (_with(lambda s: s.update(activation_functions=["relu", "rleu"])),
                           r"unknown activation 'rleu'; did you mean 'relu'"),
    "logistic": (_with(lambda s: s.update(activation_functions=["logistic"])),
                 r"did you mean 'sigmoid'\?"),
    "kernel too large": (_with(lambda s: s["layers"][0]["parameters"].update(
        kernel_size=[3, 9])), r"kernel of size 9 is larger than its input \(8 x 8\)"),
    "shrinks below a pixel": (_with(lambda s: s["layers"].__setitem__(
        slice(1, 2), [{"type": "MaxPooling2D"}] * 4)), r"below one pixel.*padding='same'"),
    "2-D layer on 1-D input": (None, r"Conv2D \(layer 1\) needs 2-D.*write 'Conv1D'"),
    "unknown parameter": (_with(lambda s: s["layers"][2]["parameters"].update(size=[3])),
                          r"unknown parameter of Dense 'size'"),
    "missing units": (_with(lambda s: s["layers"][2].update(parameters={})),
                      r"Dense \(layer 3\) needs 'units'"),
    "unknown key": (_with(lambda s: s.update(activation_funcs=["relu"])),
                    r"unknown key 'activation_funcs'.*Did you mean 'activation_functions'"),
    "bad dropout": (_with(lambda s: s["regularization_methods"].update(dropout=[1.5])),
                    r"dropout rate 1.5 is not in \[0, 1\)"),
    "unknown regulariser": (_with(lambda s: s["regularization_methods"].update(l1=[0.1])),
                            r"unknown regularization method 'l1'"),
    "duplicate choice": (_with(lambda s: s["layers"][2]["parameters"].update(
        units=[64, 64])), r"lists a value twice"),
    "conv after dense": (_with(lambda s: s["layers"].append(s["layers"][0])),
                         r"needs spatial input, but the features were already flattened"),
    "sparse without conv": (_with(lambda s: s.update(layers=[s["layers"][2]])),
                            r"'sparse' means depthwise-separable convolutions"),
    "residual with valid padding": (_with(lambda s: s["layers"][0]["parameters"].update(
        padding="valid")), r"residual connections need padding='same'"),
    "separable layer type": (_with(lambda s: s["layers"][0].update(type="SeparableConv2D")),
                             r"add 'sparse' to 'connections'"),
}


STRICT = {"Pooling2D", "missing units"}   # mapped with a note unless strict=True (see below)


@pytest.mark.parametrize("case", list(BAD))
def test_bad_definitions_say_what_to_write(case):
    source, pattern = BAD[case]
    shape = (8, 8, 1)
    if source is None:
        source, shape = SOURCE, (40, 1)
    with pytest.raises(SpaceError, match=pattern):
        from_dict(source, shape, 10, strict=case in STRICT)


def test_bad_preset_requests():
    with pytest.raises(SpaceError, match="did you mean|Did you mean 'cnn'"):
        preset("cnnn", (40, 1), 10)
    with pytest.raises(SpaceError, match="Did you mean 'filters'"):
        preset("cnn", (40, 1), 10, filter=[8])
    with pytest.raises(SpaceError, match="too small for kernel sizes"):
        preset("cnn", (2, 2, 1), 10, kernel=[3])
    with pytest.raises(SpaceError, match="'sparse' means depthwise-separable"):
        preset("mlp", (40, 1), 10, connection=["full", "sparse"])
    with pytest.raises(SpaceError, match="has no choices"):
        preset("cnn", (40, 1), 10, learning_rate=[])


def test_presets_fit_kernels_and_depth_to_small_inputs():
    space = preset("residual_cnn", (8, 8, 1), 10)
    d = dict(space.decisions())
    assert d["n_blocks"] == [1, 2]          # 8 -> 4 -> 2: a third block has no 3x3 kernel
    assert d["kernel_1"] == [3, 5, 7] and "kernel_2" not in d   # only 3 fits a 4 x 4 input
    assert space.fixed_values()["kernel_2"] == 3


def _random_source(draw):
    """A random dictionary in the source text's format: any order of layers, any sizes."""
    from hypothesis import strategies as st

    rank = draw(st.sampled_from([1, 2]))
    shape = tuple(draw(st.integers(2, 12)) for _ in range(rank)) + (draw(st.integers(1, 3)),)
    d = f"{rank}D"
    ints = lambda lo, hi: st.lists(st.integers(lo, hi), min_size=1, max_size=3,  # noqa: E731
                                   unique=True)
    layer = st.one_of(
        st.fixed_dictionaries({"type": st.just(f"Conv{d}"), "parameters": st.fixed_dictionaries(
            {"filters": ints(1, 6), "kernel_size": ints(1, 7),
             "padding": st.sampled_from(["same", "valid"])})}),
        st.fixed_dictionaries({"type": st.sampled_from([f"MaxPooling{d}", f"AveragePooling{d}"]),
                               "parameters": st.fixed_dictionaries(
            {"pool_size": ints(1, 4), "padding": st.sampled_from(["same", "valid"])})}),
        st.fixed_dictionaries({"type": st.just("Dense"),
                               "parameters": st.fixed_dictionaries({"units": ints(1, 8)})}),
    )
    layers = draw(st.lists(layer, min_size=1, max_size=4))
    for entry in layers:
        if draw(st.booleans()) and entry["type"] != "Dense":
            entry["repeat"] = draw(ints(0, 3))
    connections = draw(st.lists(st.sampled_from(["full", "residual", "sparse"]), min_size=1,
                                max_size=3, unique=True))
    return {"layers": layers, "connections": connections}, shape


def test_validation_accepts_only_spaces_whose_every_configuration_builds():
    """Property: from_dict either raises SpaceError, or its largest configuration (every
    repeat, kernel and pool at its maximum) and a random one both build."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    outcomes = {"rejected": 0, "built": 0}

    @settings(max_examples=20, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(st.data())
    def check(data):
        source, shape = _random_source(data.draw)
        try:
            space = from_dict(source, shape, 3)
        except SpaceError:
            outcomes["rejected"] += 1
            return
        largest = {n: max(ch) if not isinstance(ch[0], str) else ch[0]
                   for n, ch in space.decisions()}
        for values in ({**largest, "connection": c} for c in space.decision("connection").choices):
            assert space.build_model(values).output_shape == (None, 3)
        assert space.build_model(space.sample_values(0)).output_shape == (None, 3)
        outcomes["built"] += 1

    check()
    keras.backend.clear_session()
    assert outcomes["rejected"] > 0 and outcomes["built"] > 0, outcomes


# The source text's two search-space listings, verbatim (§3.3.1 and §5.2); the test below checks
# them against the file itself when it is available.
LISTING_3_3_1 = """# 初始化搜索空间
search_space = {
    "layers": [
        {"type": "Conv2D", "parameters": {"kernel_size": (3, 3), "stride": (1, 1), "padding": "same"}},
        {"type": "ReLU", "parameters": {}},
        {"type": "Conv2D", "parameters": {"kernel_size": (3, 3), "stride": (1, 1), "padding": "same"}},
        {"type": "ReLU", "parameters": {}},
        {"type": "Pooling2D", "parameters": {"pool_size": (2, 2), "stride": (2, 2)}},
    ],
    "activation_functions": ["ReLU", "ReLU"],
    "connections": ["full"],
    "regularization_methods": ["Dropout"],
}
"""
LISTING_5_2 = """# 定义搜索空间
search_space = [
    {"type": "Conv2D", "filters": 32, "kernel_size": (3, 3), "stride": (1, 1), "activation": "ReLU"},
    {"type": "Pooling2D", "pool_size": (2, 2), "stride": (2, 2)},
    {"type": "Conv2D", "filters": 64, "kernel_size": (3, 3), "stride": (1, 1), "activation": "ReLU"},
    {"type": "Pooling2D", "pool_size": (2, 2), "stride": (2, 2)},
    {"type": "FullyConnected", "units": 128, "activation": "ReLU"},
    {"type": "FullyConnected", "units": 10, "activation": "Softmax"}
]
"""


def _listing(code):
    namespace = {}
    exec(code, namespace)
    return namespace["search_space"]


def test_the_listings_here_are_the_source_texts():
    import source_text

    text = source_text.read()
    if text is None:
        pytest.skip(f"the source text {source_text.FILE_NAME} was not found")
    assert LISTING_3_3_1 in source_text.fenced_code(text, "3.3.1", "search_space = {")
    assert LISTING_5_2 in source_text.fenced_code(text, "5.2", "FullyConnected")


def _kinds(model):
    return [(type(layer).__name__, getattr(layer, "filters", None) or getattr(layer, "units", None))
            for layer in model.layers if type(layer).__name__ != "InputLayer"]


def test_the_source_texts_dict_loads_verbatim_with_notes(capsys):
    space = from_dict(_listing(LISTING_3_3_1), (8, 8, 1), 10)
    printed = capsys.readouterr().out
    assert printed.count("note:") == len(space.notes) >= 8
    joined = "\n".join(space.notes)
    for expected in ["'Pooling2D' -> 'MaxPooling2D'", "'stride' of Conv2D (layer 1) -> 'strides'",
                     "gives no 'filters'", "using 32", "layer 2 'ReLU' is an activation",
                     "'ReLU' in 'activation_functions' -> 'relu'", "using dropout=0.5"]:
        assert expected in joined, expected
    assert space.size() == 1 and space.fixed_values()["activation"] == "relu"
    model = space.build_model()
    assert _kinds(model) == [("Conv2D", 32), ("Conv2D", 32), ("MaxPooling2D", None),
                             ("Flatten", None), ("Dropout", None), ("Dense", 10)]
    conv = model.get_layer("conv_1")
    assert conv.kernel_size == (3, 3) and conv.strides == (1, 1) and conv.padding == "same"
    assert conv.activation.__name__ == "relu"
    assert model.get_layer("pool_1").strides == (2, 2)


def test_the_source_texts_list_loads_verbatim_with_notes():
    space = from_dict(_listing(LISTING_5_2), (8, 8, 1), 10, verbose=False)
    joined = "\n".join(space.notes)
    for expected in ["'FullyConnected' -> 'Dense'", "activation 'ReLU' (layer 1) -> 'relu'",
                     "layer 6 (Dense, 10 units, softmax) is the output layer",
                     "a Flatten is inserted before layer 5", "read as {'layers': [...]}"]:
        assert expected in joined, expected
    model = space.build_model()
    assert _kinds(model) == [("Conv2D", 32), ("MaxPooling2D", None), ("Conv2D", 64),
                             ("MaxPooling2D", None), ("Flatten", None), ("Dense", 128),
                             ("Dense", 10)]
    assert model.output_shape == (None, 10)
    assert model.get_layer("dense_1").activation.__name__ == "relu"


@pytest.mark.parametrize("change, pattern", [
    (lambda s: s[0].update(stride=(2, 2)), r"strides \[2\] of Conv2D \(layer 1\) are not supported"),
    (lambda s: s[4].update(type="FullyConected"),
     r"unknown layer type 'FullyConected'.*Did you mean 'FullyConnected'"),
    (lambda s: s[0].update(type="Conv2d", strid=(1, 1)),
     r"unknown parameter of Conv2D 'strid'.*Did you mean 'strides'"),
    (lambda s: s[0].update(activation="Rleu"), r"unknown activation 'Rleu'; did you mean 'relu'"),
    (lambda s: s[2].update(activation="Softmax"), r"layer 3 asks for a softmax activation"),
    (lambda s: s[2].update(activation="tanh"), r"different activations \['relu', 'tanh'\]"),
    (lambda s: s.append({"type": "BatchNorm"}), r"unknown layer type 'BatchNorm'.*Known"),
])
def test_unknown_names_in_the_list_format_still_fail(change, pattern):
    listing = _listing(LISTING_5_2)
    change(listing)
    with pytest.raises(SpaceError, match=pattern):
        from_dict(listing, (8, 8, 1), 10, verbose=False)


def test_strict_mode_refuses_every_mapping():
    source = _listing(LISTING_3_3_1)
    with pytest.raises(SpaceError, match=r"layer 2 'ReLU' is an activation layer"):
        from_dict(source, (8, 8, 1), 10, strict=True)
    source["layers"] = [layer for layer in source["layers"] if layer["type"] != "ReLU"]
    with pytest.raises(SpaceError, match=r"'Pooling2D'; did you mean 'MaxPooling2D' or"):
        from_dict(source, (8, 8, 1), 10, strict=True)
    source["layers"][2]["type"] = "MaxPooling2D"
    with pytest.raises(SpaceError, match=r"unknown parameter of Conv2D 'stride'.*'strides'"):
        from_dict(source, (8, 8, 1), 10, strict=True)
    with pytest.raises(SpaceError, match=r"a search space dict is expected, got a list"):
        from_dict(_listing(LISTING_5_2), (8, 8, 1), 10, strict=True)
