"""SearchSpace: named decisions, the layers that read them, and the Keras model they build.

A space is a sequence of *stages*. A stage is a block of layers (e.g. ``Conv -> pooling``)
stacked a chosen number of times (the count decision, e.g. ``n_blocks``); each copy has its
own decisions (``filters_1``, ``kernel_1``, ``filters_2``, ...). Global decisions follow:
``activation``, ``connection``, ``dropout``, ``l2``, ``optimizer``, ``learning_rate``.

Usually you get a space from :func:`nasbook.space.preset` or :func:`nasbook.space.from_dict`::

    space = nb.space.preset("cnn", (40, 1), 10)
    space.summary()                        # the decisions and the size of the space
    model = space.build(keras_tuner.HyperParameters())   # defaults: the cheapest validity check

Only the layers a configuration actually builds count: with ``n_blocks=1`` the values of
``filters_2`` and ``filters_3`` shape nothing. :meth:`SearchSpace.active_values` drops them,
:meth:`SearchSpace.architecture_key` names the model actually built, and :meth:`SearchSpace.size`
counts distinct models, not raw combinations of values (:meth:`SearchSpace.raw_size`).
"""
from __future__ import annotations

import itertools
import math
import random as _random
from dataclasses import dataclass, field

import keras_tuner
import numpy as np

from nasbook.space import vocabulary as vocab
from nasbook.space.identity import architecture_key
from nasbook.space.vocabulary import SpaceError

__all__ = ["SearchSpace", "SpaceError", "Decision", "Layer", "Stage", "Ref", "GLOBALS"]

# Global decisions, in declaration order, with the group they belong to.
GLOBALS = {
    "activation": "activation",
    "connection": "connection",
    "dropout": "regularisation",
    "l2": "regularisation",
    "optimizer": "optimizer",
    "learning_rate": "optimizer",
}
_FLOAT_DECISIONS = {"dropout", "l2", "learning_rate"}


@dataclass(frozen=True)
class Ref:
    """A layer parameter that reads the decision called ``name``."""
    name: str


@dataclass
class Decision:
    """One named choice of the space: its choices, its default and its group."""
    name: str
    choices: tuple
    default: object = None
    group: str = "layers"
    doc: str = ""

    def __post_init__(self):
        self.choices = tuple(self.choices)
        if self.default is None and self.choices:
            self.default = self.choices[0]


@dataclass
class Layer:
    """One layer of a stage copy. ``kind``: conv, pool, dense, dropout, flatten, global_pool,
    shift (training-time shift augmentation of 1-D inputs, :mod:`nasbook.space.augment`).

    ``params`` maps a parameter (filters, kernel, units, pool_size, pool_type, padding, rate,
    max_shift) to a constant or a :class:`Ref` to a decision.
    """
    kind: str
    params: dict = field(default_factory=dict)
    label: str = ""


@dataclass
class Stage:
    """A block of layers stacked ``count`` times; ``copies[j]`` is the (j+1)-th copy."""
    copies: list
    count: object = 1          # an int (fixed) or a Ref to the count decision
    label: str = ""


def _plain(value):
    """NumPy scalars to Python scalars, so keys and KT values are stable."""
    return value.item() if isinstance(value, np.generic) else value


class SearchSpace(keras_tuner.HyperModel):
    """A declarative NAS search space that is also a keras-tuner HyperModel.

    ``build(hp)`` returns a compiled Keras model with LOGITS output (loss
    ``SparseCategoricalCrossentropy(from_logits=True)``, metric ``accuracy``), the optimizer
    and learning rate chosen by the space.

    Connections (decision ``connection``):

    - ``"full"``: plain layers; every output unit sees every input channel.
    - ``"residual"``: each hidden Conv/Dense layer becomes ``act(layer(x)) + shortcut(x)``;
      the shortcut is ``x`` itself when the widths match, else a 1x1 convolution (a Dense
      layer for Dense) that projects ``x`` to the layer's width. The sum is not passed through
      another activation, so the identity path stays clean (as in He et al.'s "identity
      mappings" ResNets).
    - ``"sparse"``: depthwise-separable convolutions (``SeparableConv1D/2D``). A full
      convolution connects every output channel to every input channel through a k-wide
      kernel (``k*C_in*C_out`` weights); the separable one first filters each input channel on
      its own (``k*C_in``), then mixes channels with a 1x1 convolution (``C_in*C_out``). The
      connection pattern is sparse: no weight joins channel a at position p to channel b at
      position q unless they share a position or a channel. Dense layers stay full.

    Usage::

        space = nb.space.preset("cnn", ds.input_shape, ds.num_classes)
        model = space.build(keras_tuner.HyperParameters())
    """

    def __init__(self, input_shape, num_classes, stages, decisions, *, name="custom",
                 tunable=True):
        super().__init__(name=name, tunable=tunable)
        try:
            self.input_shape = tuple(int(d) for d in input_shape)
        except (TypeError, ValueError):
            raise SpaceError(f"input_shape must be a tuple of ints such as (40, 1) or "
                             f"(8, 8, 1), got {input_shape!r}") from None
        if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) \
                or num_classes < 2:
            raise SpaceError(f"num_classes must be an integer >= 2, got {num_classes!r}")
        self.num_classes = int(num_classes)
        self.stages = list(stages)
        self._all = {}
        for d in decisions:
            if d.name in self._all:
                raise SpaceError(f"two decisions are called {d.name!r}; names must be unique")
            self._all[d.name] = d
        self.validate()

    # --- structure -------------------------------------------------------------------------
    @property
    def rank(self) -> int:
        """Number of spatial dimensions of the input: 1 for (L, C), 2 for (H, W, C)."""
        return len(self.input_shape) - 1

    def _count_names(self):
        return [s.count.name for s in self.stages if isinstance(s.count, Ref)]

    def _max_count(self, stage):
        if isinstance(stage.count, Ref):
            return max(self._all[stage.count.name].choices)
        return stage.count

    def _built(self, full):
        """[(stage_index, copy_index, Layer)] built for the resolved values ``full``."""
        out = []
        for s, stage in enumerate(self.stages):
            n = full[stage.count.name] if isinstance(stage.count, Ref) else stage.count
            for j in range(n):
                out.extend((s, j, layer) for layer in stage.copies[j])
        return out

    def _all_layers(self):
        """Every layer of the largest configuration, in order."""
        return [(s, j, layer) for s, stage in enumerate(self.stages)
                for j in range(self._max_count(stage)) for layer in stage.copies[j]]

    @staticmethod
    def _refs(layer):
        return [v.name for v in layer.params.values() if isinstance(v, Ref)]

    # --- validation ------------------------------------------------------------------------
    def validate(self) -> None:
        """Raise :class:`SpaceError` if any configuration of the space could not be built."""
        if self.rank not in (0, 1, 2) or min(self.input_shape) < 1:
            raise SpaceError(f"input_shape {self.input_shape} is neither (features,), "
                             f"(length, channels) nor (height, width, channels)")
        for g in GLOBALS:
            if g not in self._all:
                raise SpaceError(f"the space has no {g!r} decision; give at least one value")
        for d in self._all.values():
            self._check_choices(d)
        used = set(GLOBALS) | set(self._count_names())
        for s, stage in enumerate(self.stages):
            if isinstance(stage.count, Ref) and stage.count.name not in self._all:
                raise SpaceError(f"stage {s + 1} counts copies with the undefined decision "
                                 f"{stage.count.name!r}")
            if len(stage.copies) < self._max_count(stage):
                raise SpaceError(f"stage {s + 1} can repeat {self._max_count(stage)} times "
                                 f"but defines only {len(stage.copies)} copies")
        for _, _, layer in self._all_layers():
            for ref in self._refs(layer):
                if ref not in self._all:
                    raise SpaceError(f"layer {layer.label or layer.kind} uses the undefined "
                                     f"decision {ref!r}")
                used.add(ref)
        unused = [n for n in self._all if n not in used]
        if unused:
            raise SpaceError(f"decisions {unused} are never used by any layer; remove them")
        self._check_connections()
        self._check_shapes()
        self._conditions = self._find_conditions()

    def _check_choices(self, d):
        if len(d.choices) == 0:
            raise SpaceError(f"decision {d.name!r} has no choices; give at least one value, "
                             f"e.g. {self._example(d.name)}")
        if len(set(map(repr, d.choices))) != len(d.choices):
            raise SpaceError(f"decision {d.name!r} lists a value twice: {list(d.choices)}; "
                             f"list each value once")
        if d.default not in d.choices:
            raise SpaceError(f"the default {d.default!r} of {d.name!r} is not one of its "
                             f"choices {list(d.choices)}")
        base = d.name.split("_")[0] if d.name not in GLOBALS else d.name
        for v in d.choices:
            bad = None
            if d.name == "activation" and v not in vocab.ACTIVATIONS:
                bad = f"unknown activation {v!r}"
            elif d.name == "connection" and v not in vocab.CONNECTIONS:
                bad = f"unknown connection {v!r}"
            elif d.name == "optimizer" and v not in vocab.OPTIMIZERS:
                bad = f"unknown optimizer {v!r}"
            elif d.name == "pooling" and v not in ("max", "average"):
                bad = f"unknown pooling {v!r} (use 'max' or 'average')"
            elif d.name == "dropout" and not (isinstance(v, float) and 0.0 <= v < 1.0):
                bad = f"dropout rate {v!r} is not in [0, 1)"
            elif d.name == "l2" and not (isinstance(v, float) and v >= 0.0):
                bad = f"L2 factor {v!r} is not a number >= 0"
            elif d.name == "learning_rate" and not (isinstance(v, float) and v > 0.0):
                bad = f"learning rate {v!r} is not a number > 0"
            elif base in ("filters", "units", "kernel", "pool") and not (
                    isinstance(v, int) and not isinstance(v, bool) and v >= 1):
                bad = f"{d.name} value {v!r} is not a positive integer"
            elif base in ("n", "repeat") and not (
                    isinstance(v, int) and not isinstance(v, bool) and v >= 0):
                bad = f"{d.name} value {v!r} is not a non-negative integer"
            elif base == "rate" and not (isinstance(v, float) and 0.0 <= v < 1.0):
                bad = f"dropout rate {v!r} is not in [0, 1)"
            elif base == "shift" and not (
                    isinstance(v, int) and not isinstance(v, bool) and v >= 0):
                bad = f"shift {v!r} is not a number of samples >= 0"
            if bad:
                raise SpaceError(f"{bad} in decision {d.name!r}; e.g. {self._example(d.name)}")

    @staticmethod
    def _example(name):
        examples = {"activation": '["relu", "tanh"]', "connection": '["full", "residual"]',
                    "dropout": "[0.0, 0.2, 0.5]", "l2": "[0.0, 0.0001]",
                    "optimizer": '["adam", "sgd", "adagrad"]',
                    "learning_rate": "[0.001, 0.01]", "filters": "[16, 32, 64]",
                    "units": "[32, 64, 128]", "kernel": "[3, 5]", "pool": "[2]",
                    "n": "[1, 2, 3]", "repeat": "[1, 2]", "rate": "[0.2, 0.5]",
                    "pooling": '["max", "average"]', "shift": "[0, 10, 20]"}
        return examples.get(name, examples.get(name.split("_")[0], "[value]"))

    def _has_kind(self, kind):
        return any(layer.kind == kind for _, _, layer in self._all_layers())

    def _check_connections(self):
        choices = self._all["connection"].choices
        if "sparse" in choices and not self._has_kind("conv"):
            raise SpaceError("connection 'sparse' means depthwise-separable convolutions, but "
                             "this space has no convolution layer, so 'sparse' would build "
                             "the same model as 'full'; remove 'sparse' or add a Conv layer")
        if "residual" in choices:
            for _, _, layer in self._all_layers():
                if layer.kind == "conv" and layer.params.get("padding", "same") != "same":
                    raise SpaceError(f"residual connections need padding='same' so that a "
                                     f"layer's input and output have the same size; layer "
                                     f"{layer.label} uses padding="
                                     f"{layer.params['padding']!r}. Remove the padding or the "
                                     f"'residual' connection")

    def _worst(self, value):
        """Largest value a parameter can take (the worst case for shrinking)."""
        return max(self._all[value.name].choices) if isinstance(value, Ref) else value

    def _check_shapes(self):
        """Walk the largest configuration with the largest kernels and pools (worst case)."""
        dims = list(self.input_shape[:-1])
        flat = self.rank == 0
        for s, j, layer in self._all_layers():
            where = f"layer {layer.label}"
            if self._count_names():
                where += " (worst case: " + ", ".join(
                    f"{n}={max(self._all[n].choices)}" for n in self._count_names()) + \
                    ", largest kernels and pools)"
            if layer.kind in ("conv", "pool", "global_pool"):
                if flat:
                    raise SpaceError(f"{where} needs spatial input, but the features were "
                                     f"already flattened (by a Dense, Flatten or global pooling "
                                     f"layer, or a flat input {self.input_shape}); put "
                                     f"convolutions and pooling before Dense layers")
            if layer.kind == "shift" and (self.rank != 1 or flat):
                raise SpaceError(f"layer {layer.label}: shift augmentation rolls 1-D signals "
                                 f"of shape (length, channels) and goes first, but the input "
                                 f"there has "
                                 f"shape {self.input_shape if self.rank != 1 else 'flat'}; "
                                 f"remove the shift decision for this input")
            if layer.kind == "conv":
                k = self._worst(layer.params["kernel"])
                size = " x ".join(map(str, dims))
                if any(k > d for d in dims):
                    raise SpaceError(
                        f"{where}: a kernel of size {k} is larger than its input ({size}); "
                        f"offer kernel sizes <= {min(dims)} there, use fewer or smaller pooling "
                        f"layers before it, or a larger input")
                if layer.params.get("padding", "same") == "valid":
                    dims = [d - k + 1 for d in dims]
            elif layer.kind == "pool":
                p = self._worst(layer.params["pool_size"])
                if layer.params.get("padding", "same") == "same":
                    dims = [math.ceil(d / p) for d in dims]
                else:
                    if any(p > d for d in dims):
                        size = " x ".join(map(str, dims))
                        raise SpaceError(
                            f"{where}: pooling of size {p} with padding='valid' would shrink an "
                            f"input of {size} below one pixel; use padding='same' pooling, "
                            f"fewer pooling layers or smaller pool sizes")
                    dims = [(d - p) // p + 1 for d in dims]
            elif layer.kind in ("dense", "flatten", "global_pool"):
                flat = True

    def _find_conditions(self):
        """For each per-copy decision, the (count decision, values) that make it active."""
        where = {}
        for s, stage in enumerate(self.stages):
            for j in range(self._max_count(stage)):
                for layer in stage.copies[j]:
                    for ref in self._refs(layer):
                        where.setdefault(ref, []).append((s, j))
        conditions = {}
        for name, places in where.items():
            if name in GLOBALS or len({s for s, _ in places}) > 1:
                conditions[name] = None
                continue
            s = places[0][0]
            j = min(j for _, j in places)
            count = self.stages[s].count
            if not isinstance(count, Ref) or self._fixed(count.name):
                conditions[name] = None
                continue
            choices = self._all[count.name].choices
            on = [c for c in choices if c > j]
            conditions[name] = None if len(on) == len(choices) else (count.name, on)
        return conditions

    def _fixed(self, name):
        return len(self._all[name].choices) == 1

    # --- the decisions ---------------------------------------------------------------------
    def decisions(self) -> list:
        """``[(name, choices), ...]`` for every real decision (two or more choices), in order."""
        return [(d.name, list(d.choices)) for d in self._all.values() if len(d.choices) > 1]

    def fixed_values(self) -> dict:
        """Settings with a single choice: part of every model, not a decision."""
        return {d.name: d.choices[0] for d in self._all.values() if len(d.choices) == 1}

    def decision(self, name) -> Decision:
        """The :class:`Decision` called ``name``."""
        if name not in self._all:
            raise SpaceError(f"the space has no decision {name!r}; it has "
                             f"{', '.join(self._all)}")
        return self._all[name]

    def _canonical(self, name, value):
        value = _plain(value)
        for c in self._all[name].choices:
            if c == value and type(c) is not bool:
                return c
        raise SpaceError(f"{value!r} is not a choice of {name!r}; choices: "
                         f"{list(self._all[name].choices)}")

    def _resolve(self, values):
        """Every setting (fixed ones, defaults) the model built from ``values`` reads."""
        values = dict(values or {})
        full = {}
        for d in self._all.values():
            v = values.get(d.name)
            full[d.name] = d.default if v is None else self._canonical(d.name, v)
        return full

    def _active_names(self, full):
        """Names of decisions that shape the model built from the resolved values ``full``."""
        built = self._built(full)
        names = set(self._count_names())
        for _, _, layer in built:
            names.update(self._refs(layer))
        kinds = {layer.kind for _, _, layer in built}
        hidden = bool(kinds & {"conv", "dense"})
        if hidden:
            names.update({"activation", "dropout"})
            if len(self._effective_connections(kinds)) > 1:
                names.add("connection")
        names.update({"l2", "optimizer", "learning_rate"})
        return {n for n in names if not self._fixed(n)}

    def _effective_connections(self, kinds):
        return {self._effective_connection(c, kinds) for c in self._all["connection"].choices}

    @staticmethod
    def _effective_connection(value, kinds):
        if value == "sparse" and "conv" not in kinds:
            return "full"          # no convolution to make separable
        if value == "residual" and not kinds & {"conv", "dense"}:
            return "full"          # no hidden layer to skip over
        return value

    def active_values(self, values: dict) -> dict:
        """Only the decisions that shaped the model built from ``values``, in declaration order.

        Values of layers that are not built (``filters_3`` when ``n_blocks=2``), unknown keys
        (e.g. keras-tuner's ``tuner/epochs``) and fixed settings are dropped; missing decisions
        take their defaults; ``connection`` is reported as the connection actually built.

        Usage: ``space.active_values(trial.hyperparameters.values)``
        """
        full = self._resolve({k: v for k, v in dict(values or {}).items() if k in self._all
                              and self._is_set(k, values)})
        active = self._active_names(full)
        out = {n: full[n] for n in self._all if n in active}
        if "connection" in out:
            kinds = {layer.kind for _, _, layer in self._built(full)}
            out["connection"] = self._effective_connection(out["connection"], kinds)
        return out

    def _is_set(self, name, values):
        """A value of an inactive decision may be anything (even outside its choices): skip it
        unless its layer is built; checked after the counts are known."""
        if name in self._count_names() or self._conditions.get(name) is None:
            return True
        count, on = self._conditions[name]
        n = values.get(count, self._all[count].default)
        try:
            n = self._canonical(count, n)
        except SpaceError:
            return True  # the count itself is invalid: report that
        return n in on

    def architecture_key(self, values: dict) -> str:
        """A stable, readable id of the model built from ``values`` and how it is trained.

        Two value dicts with the same key build the same layers with the same settings, even
        if they differ in values of layers that are never built.

        Usage: ``space.architecture_key(trial.hyperparameters.values)``
        """
        return architecture_key(self.active_values(values))

    def default_values(self) -> dict:
        """The configuration keras-tuner builds from default hyperparameters (active only)."""
        return self.active_values({})

    def sample_values(self, rng=None) -> dict:
        """A random valid configuration (active decisions only), uniform over each choice.

        ``rng``: a ``numpy.random.Generator``, a ``random.Random`` or an int seed.
        Usage: ``space.sample_values(np.random.default_rng(0))``
        """
        if rng is None or isinstance(rng, (int, np.integer)):
            rng = np.random.default_rng(rng)
        if isinstance(rng, _random.Random):
            pick = lambda seq: seq[rng.randrange(len(seq))]  # noqa: E731
        else:
            pick = lambda seq: seq[int(rng.integers(len(seq)))]  # noqa: E731
        values = {d.name: pick(d.choices) for d in self._all.values()}
        return self.active_values(values)

    # --- size ------------------------------------------------------------------------------
    def _count_assignments(self):
        names = self._count_names()
        for combo in itertools.product(*(self._all[n].choices for n in names)):
            yield dict(zip(names, combo))

    def size_table(self):
        """A DataFrame: one row per setting of the layer counts, the number of distinct models
        with those counts (``models``) and the raw combinations of all decisions (``raw``).

        Usage: ``space.size_table()`` (its ``models`` column sums to :meth:`size`)
        """
        import pandas as pd

        rows = []
        names = self._count_names()
        raw_other = self.raw_size() // max(1, math.prod(len(self._all[n].choices)
                                                         for n in names if not self._fixed(n)))
        for counts in self._count_assignments():
            full = self._resolve(counts)
            kinds = {layer.kind for _, _, layer in self._built(full)}
            product = 1
            for n in self._active_names(full) - set(counts):
                product *= (len(self._effective_connections(kinds)) if n == "connection"
                            else len(self._all[n].choices))
            rows.append({**counts, "models": product, "raw": raw_other})
        return pd.DataFrame(rows)

    def size(self) -> int:
        """Number of distinct models the space can build (configurations of active decisions).

        For each choice of the layer counts, multiply the numbers of choices of the decisions
        that are active then (a ``connection`` that builds the same model is counted once);
        sum over the counts. Compare :meth:`raw_size`, which multiplies every decision, built
        or not: with ``n_blocks=1`` the values of ``filters_2`` change nothing, yet the raw
        count treats each of them as a new configuration.
        """
        return int(self.size_table()["models"].sum())

    def raw_size(self) -> int:
        """The product of every decision's number of choices, built or not (an overcount)."""
        return math.prod(len(d.choices) for d in self._all.values())

    # --- describing ------------------------------------------------------------------------
    def describe(self) -> str:
        """The space as text: input, layers, decisions with their choices, and its size."""
        lines = [f"SearchSpace {self.name!r}: input {self.input_shape} -> "
                 f"{self.num_classes} classes (logits)"]
        for s, stage in enumerate(self.stages):
            if isinstance(stage.count, Ref):
                count = f"{stage.count.name} in {list(self._all[stage.count.name].choices)}"
            else:
                count = f"{stage.count}x"
            kinds = " -> ".join(self._kind_name(layer) for layer in stage.copies[0]) \
                if stage.copies else "(nothing)"
            lines.append(f"  stage {s + 1} ({stage.label or 'layers'}): {kinds}, {count}")
        lines.append("  decisions:")
        shown = [d for d in self._all.values() if len(d.choices) > 1]
        width = max([len(d.name) for d in shown] + [8])
        texts = ["[" + ", ".join(map(str, d.choices)) + "]" for d in shown]
        cwidth = max([len(t) for t in texts] + [8])
        for d, choices in zip(shown, texts):
            cond = self._conditions.get(d.name)
            when = f"  only when {cond[0]} >= {min(cond[1])}" if cond else ""
            lines.append(f"    {d.name:<{width}}  {choices:<{cwidth}}  default "
                         f"{str(d.default):<6}{when}".rstrip())
        fixed = self.fixed_values()
        if fixed:
            lines.append("  fixed: " + ", ".join(f"{k}={v}" for k, v in fixed.items()))
        size, raw = self.size(), self.raw_size()
        lines.append(f"  size: {size:,} distinct models (architecture + training settings "
                     f"actually built); {raw:,} raw combinations of all "
                     f"{len(self.decisions())} decisions")
        conditional = [(n, c) for n, c in self._conditions.items() if c and not self._fixed(n)]
        if size != raw and conditional:
            name, (count, on) = conditional[-1]
            lines.append(f"  (the raw count also counts values of layers that are not built, "
                         f"e.g. {name} when {count} < {min(on)})")
        return "\n".join(lines)

    def _kind_name(self, layer):
        r = self.rank
        return {"conv": f"Conv{r}D", "pool": "pooling", "dense": "Dense", "flatten": "Flatten",
                "dropout": "Dropout", "global_pool": "global pooling",
                "shift": "random shift (training only)"}.get(layer.kind, layer.kind)

    def summary(self) -> None:
        """Print :meth:`describe`."""
        print(self.describe())

    def __repr__(self):
        return (f"SearchSpace({self.name!r}, input_shape={self.input_shape}, "
                f"num_classes={self.num_classes}, decisions={len(self.decisions())}, "
                f"size={self.size():,})")

    # --- keras-tuner -----------------------------------------------------------------------
    def declare(self, hp) -> dict:
        """Register every decision in ``hp`` (layers of unbuilt copies under a conditional
        scope) and return the values it holds. Usage: ``space.declare(kt.HyperParameters())``
        """
        got = {}
        for d in self._all.values():
            if len(d.choices) == 1:
                continue
            cond = self._conditions.get(d.name)
            numeric = all(isinstance(c, (int, float)) for c in d.choices)
            choices = sorted(d.choices) if numeric else list(d.choices)
            if cond is None:
                got[d.name] = hp.Choice(d.name, choices, default=d.default)
            else:
                with hp.conditional_scope(cond[0], list(cond[1])):
                    got[d.name] = hp.Choice(d.name, choices, default=d.default)
        return got

    def build(self, hp):
        """The compiled Keras model for the values in ``hp`` (a keras-tuner HyperParameters)."""
        got = self.declare(hp)
        return self.build_model({k: v for k, v in got.items() if v is not None})

    def build_model(self, values=None):
        """The compiled Keras model for a dict of decision values (defaults where missing).

        Usage: ``model = space.build_model(space.sample_values(0))``
        """
        full = self._resolve({k: v for k, v in dict(values or {}).items()
                              if k in self._all and self._is_set(k, values)})
        return _build_keras(self, full)


def _build_keras(space, full):
    import keras

    from nasbook.space.augment import RandomShift1D

    L = keras.layers
    rank = space.rank
    act, conn = full["activation"], full["connection"]
    l2 = full["l2"]
    reg = (lambda: keras.regularizers.L2(l2)) if l2 > 0 else (lambda: None)  # noqa: E731
    rate = full["dropout"]
    conv_cls = {1: L.Conv1D, 2: L.Conv2D}.get(rank)
    sep_cls = {1: L.SeparableConv1D, 2: L.SeparableConv2D}.get(rank)
    pool_cls = {(1, "max"): L.MaxPooling1D, (2, "max"): L.MaxPooling2D,
                (1, "average"): L.AveragePooling1D, (2, "average"): L.AveragePooling2D}
    gpool_cls = {(1, "max"): L.GlobalMaxPooling1D, (2, "max"): L.GlobalMaxPooling2D,
                 (1, "average"): L.GlobalAveragePooling1D,
                 (2, "average"): L.GlobalAveragePooling2D}
    counter = {}

    def name(kind):
        counter[kind] = counter.get(kind, 0) + 1
        return f"{kind}_{counter[kind]}"

    def p(layer, key, default=None):
        v = layer.params.get(key, default)
        return full[v.name] if isinstance(v, Ref) else v

    inputs = keras.Input(shape=space.input_shape, name="input")
    h = inputs
    spatial = rank > 0
    seen_conv = False

    def flatten(h):
        h = L.Flatten(name="flatten")(h)
        if seen_conv and rate > 0:
            h = L.Dropout(rate, name=name("dropout"))(h)
        return h

    for _, _, layer in space._built(full):
        kind = layer.kind
        if kind == "shift":
            max_shift = p(layer, "max_shift")
            if max_shift > 0:   # the identity at inference; seeded by the trial's seed
                h = RandomShift1D(max_shift, name=name("shift"))(h)
        elif kind == "conv":
            seen_conv = True
            filters, kernel = p(layer, "filters"), p(layer, "kernel")
            padding = p(layer, "padding", "same")
            n = name("conv")
            if conn == "sparse":
                y = sep_cls(filters, kernel, padding=padding, activation=act,
                            depthwise_regularizer=reg(), pointwise_regularizer=reg(), name=n)(h)
            else:
                y = conv_cls(filters, kernel, padding=padding, activation=act,
                             kernel_regularizer=reg(), name=n)(h)
            if conn == "residual":   # y = act(conv(x)) + shortcut(x): a clean identity path
                shortcut = h
                if h.shape[-1] != filters:
                    shortcut = conv_cls(filters, 1, padding="same", kernel_regularizer=reg(),
                                        name=n.replace("conv", "projection"))(h)
                y = L.Add(name=n.replace("conv", "add"))([y, shortcut])
            h = y
        elif kind == "pool":
            cls = pool_cls[(rank, p(layer, "pool_type", "max"))]
            h = cls(pool_size=p(layer, "pool_size", 2), padding=p(layer, "padding", "same"),
                    name=name("pool"))(h)
        elif kind == "global_pool":
            h = gpool_cls[(rank, p(layer, "pool_type", "average"))](name=name("global_pool"))(h)
            spatial = False
            if seen_conv and rate > 0:
                h = L.Dropout(rate, name=name("dropout"))(h)
        elif kind == "flatten":
            if spatial:
                h = flatten(h)
                spatial = False
        elif kind == "dropout":
            r = p(layer, "rate")
            if r > 0:
                h = L.Dropout(r, name=name("dropout"))(h)
        elif kind == "dense":
            if spatial:
                h = flatten(h)
                spatial = False
            units = p(layer, "units")
            n = name("dense")
            h_in = h
            h = L.Dense(units, activation=act, kernel_regularizer=reg(), name=n)(h)
            if conn == "residual":
                shortcut = h_in
                if h_in.shape[-1] != units:
                    shortcut = L.Dense(units, kernel_regularizer=reg(),
                                       name=n.replace("dense", "projection_dense"))(h_in)
                h = L.Add(name=n.replace("dense", "add_dense"))([h, shortcut])
            if rate > 0:
                h = L.Dropout(rate, name=name("dropout"))(h)
        else:  # pragma: no cover - kinds are checked when the space is made
            raise SpaceError(f"unknown layer kind {kind!r}")
    if spatial:
        h = flatten(h)
    outputs = L.Dense(space.num_classes, kernel_regularizer=reg(), name="logits")(h)
    model = keras.Model(inputs, outputs, name=space.name)
    model.compile(optimizer=_optimizer(full["optimizer"], full["learning_rate"]),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def _optimizer(name, learning_rate):
    """SGD (with momentum 0.9), Adam, AdaGrad or RMSprop at ``learning_rate``."""
    import keras

    opt = keras.optimizers
    if name == "sgd":
        return opt.SGD(learning_rate=learning_rate, momentum=0.9)
    return {"adam": opt.Adam, "adagrad": opt.Adagrad,
            "rmsprop": opt.RMSprop}[name](learning_rate=learning_rate)
