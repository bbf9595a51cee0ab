"""Checks for notebooks 00-05: counting, layer arithmetic, aging evolution, stop rules."""

from __future__ import annotations

import numpy as np

from nasbook.exercises._base import Verdict, _call, _number_answer, _verdict

__all__ = ["check_dense_param_count", "check_architecture_count", "check_separable_conv_params", "check_conv_output_length", "check_aging_mutation", "check_aging_selection", "check_aging_replacement", "check_should_stop", "check_early_stopping_epochs"]


# --- exercises for notebooks 00, 01, 02, 03, 04, 05 ---------------------------------------------
# Each reference below is private to its check (Keras where Keras has the answer, else a few lines
# written here), so no public nasbook function does what an exercise asks.




def _count_cases(fn, cases, reference, hints, what, quiet):
    """Shared loop of the counting checks: ``cases`` maps a label to the arguments."""
    for case, args in cases.items():
        ref = reference(*args)
        got, bad = _number_answer(fn, args, case, quiet)
        if bad is not None:
            return bad
        if got != ref:
            hint = next((text for alt, text in hints if alt(*args) == got), "")
            return _verdict(False, f"case '{case}': you said {got:g}, the answer is {ref:g}."
                            + (f" {hint}" if hint else ""), quiet, case=case,
                            difference=abs(got - ref))
    return _verdict(True, f"your {what} is right in all {len(cases)} cases.", quiet,
                    difference=0.0)


# notebook 00 ----------------------------------------------------------------------------------

def check_dense_param_count(fn, quiet=False) -> Verdict:
    """Check ``fn(n_inputs, units) -> int``: the trainable parameters of a stack of Keras
    ``Dense`` layers with ``units[i]`` units each (biases on), fed ``n_inputs`` features.
    The reference is Keras' own ``count_params()``."""
    import keras

    def keras_count(n_inputs, units):
        model = keras.Sequential([keras.Input((n_inputs,))]
                                 + [keras.layers.Dense(u) for u in units])
        return model.count_params()

    cases = {"one layer, 64 inputs -> 10": (64, [10]),
             "an MLP for digits, 64 -> 32 -> 10": (64, [32, 10]),
             "three layers, 40 -> 128 -> 64 -> 10": (40, [128, 64, 10]),
             "a single unit": (3, [1])}
    hints = [(lambda n, u: sum(a * b for a, b in zip([n, *u], u)),
              "That counts the weights only: each unit also has a bias."),
             (lambda n, u: sum((a + 1) * (b + 1) for a, b in zip([n, *u], u)),
              "Biases belong to the units of a layer (one each), not to its inputs too."),
             (lambda n, u: n * u[0] + u[0],
              "That is the first layer only: add every layer's weights and biases.")]
    return _count_cases(fn, cases, keras_count, hints, "parameter count", quiet)


def check_architecture_count(fn, quiet=False) -> Verdict:
    """Check ``fn(max_blocks, per_block, shared) -> int``: how many distinct networks a space
    builds when it picks 1 to ``max_blocks`` blocks, each block it uses has ``per_block``
    settings (e.g. filters x kernel sizes), unused blocks' settings do not matter, and the
    other decisions (activation, learning rate...) give ``shared`` combinations."""
    def reference(max_blocks, per_block, shared):
        total = 0
        for blocks in range(1, max_blocks + 1):
            total += per_block ** blocks
        return shared * total

    cases = {"the tour's model: up to 3 blocks, 3 x 2 per block, 2 x 2 x 2 shared": (3, 6, 8),
             "one block only": (1, 5, 3),
             "up to 4 blocks, 2 settings each, nothing shared": (4, 2, 1),
             "up to 2 blocks, 9 per block, 6 shared": (2, 9, 6)}
    hints = [(lambda b, p, s: s * b * p ** b,
              "That counts the settings of unused blocks: a 1-block network ignores blocks 2 "
              "and 3, so add the counts for 1, 2, ... blocks instead."),
             (lambda b, p, s: s * p ** b,
              "That is only the networks with all blocks; add those with fewer."),
             (lambda b, p, s: sum(p ** k for k in range(1, b + 1)),
              "Multiply by the shared decisions' combinations."),
             (lambda b, p, s: s * sum(p ** k for k in range(0, b + 1)),
              "A network has at least one block: start the sum at 1 block.")]
    return _count_cases(fn, cases, reference, hints, "architecture count", quiet)


# notebook 01 ----------------------------------------------------------------------------------

def check_separable_conv_params(fn, quiet=False) -> Verdict:
    """Check ``fn(k, c_in, c_out) -> int``: the parameters of a Keras
    ``SeparableConv2D(c_out, k)`` (k x k kernel, depth multiplier 1, bias on) on ``c_in``
    input channels, against Keras' ``count_params()``."""
    import keras

    def keras_count(k, c_in, c_out):
        layer = keras.layers.SeparableConv2D(c_out, k)
        layer.build((None, 2 * k, 2 * k, c_in))
        return layer.count_params()

    cases = {"3x3, 16 -> 32": (3, 16, 32), "1x1, 8 -> 8": (1, 8, 8),
             "5x5, 3 -> 64": (5, 3, 64), "3x3, 64 -> 1": (3, 64, 1)}
    hints = [(lambda k, i, o: k * k * i * o + o,
              "That is an ordinary Conv2D: a separable one filters each input channel on its "
              "own (k*k*c_in), then mixes channels with a 1x1 convolution (c_in*c_out)."),
             (lambda k, i, o: k * k * i + i * o,
              "Weights right; add the biases (one per output channel)."),
             (lambda k, i, o: k * k * i + i * o + o + i,
              "Only the pointwise step has a bias in Keras (use_bias adds c_out numbers)."),
             (lambda k, i, o: k * k * i * o + i * o + o,
              "The depthwise step has one k x k filter per input channel: k*k*c_in, "
              "not times c_out.")]
    return _count_cases(fn, cases, keras_count, hints, "SeparableConv2D count", quiet)


def check_conv_output_length(fn, quiet=False) -> Verdict:
    """Check ``fn(length, kernel_size, strides, padding) -> int``: the output length of a
    Keras ``Conv1D`` (or ``MaxPooling1D``) with ``padding`` "valid" or "same", against Keras'
    ``compute_output_shape``. Returns 0 when nothing fits (Keras: a non-positive length)."""
    import keras

    def keras_length(length, kernel_size, strides, padding):
        layer = keras.layers.Conv1D(1, kernel_size, strides=strides, padding=padding)
        return max(0, int(layer.compute_output_shape((None, length, 1))[1]))

    cases = {"valid, stride 1": (40, 5, 1, "valid"), "valid, stride 2": (40, 5, 2, "valid"),
             "valid, stride 3, does not divide": (41, 4, 3, "valid"),
             "same, stride 1": (40, 5, 1, "same"), "same, stride 2, odd length": (41, 3, 2, "same"),
             "same, stride 3": (40, 7, 3, "same"), "kernel as long as the input": (8, 8, 1, "valid"),
             "a pooling window 2, stride 2 (MaxPooling1D(2))": (13, 2, 2, "valid")}
    hints = [(lambda n, k, s, p: n - k + 1 if p == "valid" else n,
              "That ignores the stride: the window moves `strides` steps at a time."),
             (lambda n, k, s, p: n // s if p == "same" else None,
              "'same' rounds up: ceil(length / strides)."),
             (lambda n, k, s, p: (n - k) // s + 1 if p == "same" else None,
              "'same' pads the input so that only the stride shrinks it: ceil(length / strides)."),
             (lambda n, k, s, p: (n - k) / s + 1 if p == "valid" else None,
              "Round down: a window that does not fit entirely is dropped.")]
    return _count_cases(fn, cases, keras_length, hints, "output length", quiet)


# notebook 02: aging evolution ------------------------------------------------------------------

_TOY_SPACE = {"blocks": [1, 2, 3], "filters": [8, 16, 32, 64], "kernel": [3, 5],
              "activation": ["relu"], "residual": [False, True]}


def _toy_population(rng, size):
    archs = [{k: v[int(rng.integers(len(v)))] for k, v in _TOY_SPACE.items()}
             for _ in range(size)]
    return [{"arch": a, "accuracy": round(float(rng.uniform(0.5, 0.95)), 4)} for a in archs]


def check_aging_mutation(fn, calls=40, quiet=False) -> Verdict:
    """Check ``fn(arch, space, rng) -> child``, aging evolution's mutation: a NEW dict equal to
    ``arch`` except for one decision, chosen among those with more than one option (in the
    order of ``space``) by ``names[rng.integers(len(names))]``, set to another of its options
    ``others[rng.integers(len(others))]`` (``others``: its options in order, the current value
    left out). ``arch`` itself must not change. Compared with a hidden reference that is given
    a generator with the same seed, over ``calls`` calls in a row."""
    def reference(arch, space, rng):
        names = [name for name, options in space.items() if len(options) > 1]
        name = names[int(rng.integers(len(names)))]
        others = [o for o in space[name] if o != arch[name]]
        child = dict(arch)
        child[name] = others[int(rng.integers(len(others)))]
        return child

    for seed in (0, 1):
        rng_you, rng_ref = np.random.default_rng(seed), np.random.default_rng(seed)
        arch = {k: v[0] for k, v in _TOY_SPACE.items()}
        for call in range(1, calls + 1):
            where = f"seed {seed}, call {call} (parent {arch})"
            before = dict(arch)
            ref = reference(arch, _TOY_SPACE, rng_ref)
            got, err = _call(fn, arch, {k: list(v) for k, v in _TOY_SPACE.items()}, rng_you)
            if err is None and not isinstance(got, dict):
                err = f"return the child as a dict, got {type(got).__name__}"
            if err:
                return _verdict(False, f"{where}: {err}", quiet, case=where, step=call)
            if arch != before:
                return _verdict(False, f"{where}: you changed the parent in place; copy it "
                                f"first (dict(arch)): the parent stays in the population.",
                                quiet, case=where, step=call)
            if got != ref:
                changed = [k for k in _TOY_SPACE if got.get(k) != arch[k]]
                if set(got) != set(arch):
                    problem = (f"the child has keys {sorted(got)}, the parent "
                               f"{sorted(arch)}: change a value, keep the keys.")
                elif len(changed) != 1:
                    problem = (f"the child differs from its parent in {len(changed)} decisions "
                               f"{changed}; a mutation changes exactly one.")
                elif got[changed[0]] not in _TOY_SPACE[changed[0]]:
                    problem = f"{changed[0]}={got[changed[0]]!r} is not one of its options."
                elif len(_TOY_SPACE[changed[0]]) == 1:
                    problem = f"{changed[0]} has one option only; leave it out of the draw."
                else:
                    problem = (f"a valid mutation, but not the draws of the reference "
                               f"({ref}): pick the decision with names[rng.integers("
                               f"len(names))] (names: decisions with more than one option, "
                               f"in the order of space), then the value with others["
                               f"rng.integers(len(others))], two draws per call.")
                return _verdict(False, f"{where}: you returned {got}. {problem}", quiet,
                                case=where, step=call)
            arch = ref
    return _verdict(True, f"your mutation matches the reference draw for draw over {calls} "
                    f"calls with each of 2 seeds.", quiet)


def check_aging_selection(fn, quiet=False) -> Verdict:
    """Check ``fn(population, sample_size, rng) -> int``, aging evolution's parent selection:
    draw ``sample_size`` distinct members with ``rng.choice(len(population),
    size=sample_size, replace=False)`` and return the index (in ``population``) of the one with
    the highest ``"accuracy"``. ``population`` is a list of ``{"arch": dict, "accuracy":
    float}``, oldest first. Compared with a hidden reference given the same seed."""
    def reference(population, sample_size, rng):
        picks = rng.choice(len(population), size=sample_size, replace=False)
        return int(max(picks, key=lambda i: population[i]["accuracy"]))

    for seed, (size, sample) in enumerate([(10, 3), (8, 1), (8, 8), (20, 5), (6, 2)]):
        case = f"population {size}, sample_size {sample}, seed {seed}"
        rng_pop = np.random.default_rng(100 + seed)
        population = _toy_population(rng_pop, size)
        rng_you, rng_ref = np.random.default_rng(seed), np.random.default_rng(seed)
        for call in range(1, 6):
            where = f"{case}, call {call}"
            ref = reference(population, sample, rng_ref)
            got, err = _call(fn, [dict(p) for p in population], sample, rng_you)
            if err is None:
                try:
                    got = int(got)
                except (TypeError, ValueError):
                    err = f"return the parent's index (an int), got {type(got).__name__}"
            if err:
                return _verdict(False, f"{where}: {err}", quiet, case=where, step=call)
            if got != ref:
                accs = [p["accuracy"] for p in population]
                if not 0 <= got < size:
                    hint = f"{got} is not an index of the population (0 to {size - 1})."
                elif got == int(np.argmax(accs)) and sample < size:
                    hint = ("that is the best of the whole population, not of the sample: "
                            "draw sample_size members with rng.choice(len(population), "
                            "size=sample_size, replace=False) and take the best of those (a "
                            "tournament).")
                elif got == int(np.argmin(accs)):
                    hint = "that is the worst: take the highest accuracy."
                else:
                    hint = ("draw the sample with rng.choice(len(population), "
                            "size=sample_size, replace=False), one draw per call, and return "
                            "the index of its best member.")
                return _verdict(False, f"{where}: you picked member {got} (accuracy "
                                f"{population[got]['accuracy'] if 0 <= got < size else '?'}), "
                                f"the reference member {ref} (accuracy "
                                f"{population[ref]['accuracy']}); {hint}", quiet,
                                case=where, step=call)
    return _verdict(True, "your tournament picks the reference's parent in all 25 draws.", quiet)


def check_aging_replacement(fn, quiet=False) -> Verdict:
    """Check ``fn(population, child) -> new population``: the aging step. ``population`` is a
    list oldest first; the new list drops the OLDEST member (whatever its accuracy) and ends
    with ``child``. The list passed in must not change."""
    rng = np.random.default_rng(7)
    for size in (5, 1, 10):
        case = f"population of {size}"
        population = _toy_population(rng, size)
        child = _toy_population(rng, 1)[0]
        ref = population[1:] + [child]
        given = list(population)
        got, err = _call(fn, given, child)
        if err is None and not isinstance(got, list):
            err = f"return a list, got {type(got).__name__}"
        if err:
            return _verdict(False, f"case '{case}': {err}", quiet, case=case)
        if given != population:
            return _verdict(False, f"case '{case}': you changed the list passed in; build a "
                            f"new one (population[1:] + ...).", quiet, case=case)
        if got != ref:
            accs = [p["accuracy"] for p in population]
            worst = int(np.argmin(accs))
            if len(got) != size:
                hint = f"it has {len(got)} members; the population keeps its size {size}."
            elif got == population[:worst] + population[worst + 1:] + [child] and worst != 0:
                hint = ("you removed the WORST member: that is plain tournament evolution. "
                        "Aging evolution removes the OLDEST, however good it is.")
            elif got == population[:-1] + [child] or got == [child] + population[:-1]:
                hint = "the oldest member is the FIRST of the list (oldest first)."
            elif got and got[-1] != child:
                hint = "the child goes at the end (it is the youngest)."
            else:
                hint = "drop population[0] and append the child."
            return _verdict(False, f"case '{case}': the new population is not the old one "
                            f"minus its oldest member plus the child: {hint}", quiet, case=case)
    return _verdict(True, "your aging step drops the oldest and appends the child in all 3 "
                    "cases.", quiet)


# notebook 05: stop rules -----------------------------------------------------------------------

def _stop_cases():
    def h(scores, seconds=10.0):
        return [{"score": s, "elapsed_s": seconds * (i + 1)} for i, s in enumerate(scores)]

    # label: (history, max_trials, time_budget, target, patience)
    return {
        "empty history, every limit on": ([], 5, 60.0, 0.9, 2),
        "no limit at all": (h([0.5, 0.6, 0.55]), None, None, None, None),
        "max_trials reached exactly": (h([0.5, 0.6, 0.7]), 3, None, None, None),
        "one trial short of max_trials": (h([0.5, 0.6]), 3, None, None, None),
        "target reached by an earlier trial": (h([0.5, 0.91, 0.7]), None, None, 0.9, None),
        "target reached exactly": (h([0.5, 0.9]), None, None, 0.9, None),
        "time budget spent": (h([0.5, 0.6, 0.7], 25.0), None, 60.0, None, None),
        "time budget not yet spent": (h([0.5, 0.6], 25.0), None, 60.0, None, None),
        "patience: 2 trials without improvement": (h([0.5, 0.8, 0.7, 0.75]), None, None, None, 2),
        "patience: 1 trial since the best": (h([0.5, 0.8, 0.7]), None, None, None, 2),
        "patience: a tie is no improvement": (h([0.5, 0.8, 0.8, 0.8]), None, None, None, 2),
        "patience: the last trial is the best": (h([0.5, 0.6, 0.7, 0.8]), None, None, None, 1),
        "max_trials and target both hold": (h([0.5, 0.95]), 2, None, 0.9, None),
        "target and time both hold": (h([0.5, 0.95], 40.0), None, 60.0, 0.9, None),
        "time and patience both hold": (h([0.8, 0.5, 0.6], 30.0), None, 60.0, None, 2),
        "everything off but a loose max_trials": (h([0.1] * 4), 10, None, None, None),
    }


def check_should_stop(fn, quiet=False) -> Verdict:
    """Check ``fn(history, max_trials, time_budget, target, patience) -> reason or None``, the
    stop rule asked before each new trial. ``history`` is a list of finished trials,
    ``{"score": accuracy, "elapsed_s": seconds since the search started when it ended}``;
    a limit of None is off. Return the first rule that holds, in this order: ``"max_trials"``
    (that many trials done), ``"target"`` (the best score >= target), ``"time_budget"`` (the
    last trial ended at or after time_budget seconds), ``"patience"`` (``patience`` trials or
    more since the best one; only a strictly higher score is an improvement); else None."""
    def reference(history, max_trials, time_budget, target, patience):
        if not history:
            return None
        scores = [t["score"] for t in history]
        best_at = max(range(len(scores)), key=lambda i: (scores[i], -i))
        checks = [("max_trials", max_trials is not None and len(history) >= max_trials),
                  ("target", target is not None and scores[best_at] >= target),
                  ("time_budget", time_budget is not None
                   and history[-1]["elapsed_s"] >= time_budget),
                  ("patience", patience is not None
                   and len(history) - 1 - best_at >= patience)]
        return next((name for name, holds in checks if holds), None)

    for case, args in _stop_cases().items():
        ref = reference(*args)
        history = [dict(t) for t in args[0]]
        got, err = _call(fn, history, *args[1:])
        if err:
            return _verdict(False, f"case '{case}': {err}", quiet, case=case)
        if got != ref:
            hint = ""
            if ref is not None and got is not None and case.endswith("both hold"):
                hint = (" Both rules hold: return the first in the order max_trials, target, "
                        "time_budget, patience.")
            elif "patience" in case:
                hint = (" Count the trials AFTER the best one (the best is the first trial with "
                        "the highest score; a tie does not improve it) and stop when there are "
                        "patience or more.")
            elif "exactly" in case:
                hint = " Reaching the limit exactly counts (>=)."
            elif "empty" in case:
                hint = " With no trial done, nothing has been reached: continue (None)."
            return _verdict(False, f"case '{case}': you said {got!r}, the answer is {ref!r}."
                            + hint, quiet, case=case)
    return _verdict(True, f"your stop rule gives the right answer in all {len(_stop_cases())} "
                    f"scripted histories.", quiet)


def check_early_stopping_epochs(fn, quiet=False) -> Verdict:
    """Check ``fn(val_losses, patience, min_delta) -> int``: how many epochs Keras'
    ``EarlyStopping(monitor="val_loss", patience=patience, min_delta=min_delta)`` lets run
    when the validation losses would be ``val_losses`` (all of them if it never stops). The
    reference is the Keras callback itself, driven with those losses."""
    import keras

    class _Model:  # what the callback needs of a model: a stop_training flag
        stop_training = False

    def keras_epochs(losses, patience, min_delta):
        callback = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience,
                                                 min_delta=min_delta)
        model = _Model()
        callback.set_model(model)
        callback.on_train_begin()
        for epoch, loss in enumerate(losses):
            callback.on_epoch_end(epoch, {"val_loss": float(loss)})
            if model.stop_training:
                return epoch + 1
        return len(losses)

    cases = {"improves every epoch": ([1.0, 0.8, 0.6, 0.5, 0.4], 2, 0.0),
             "stalls after epoch 2": ([1.0, 0.7, 0.75, 0.72, 0.71, 0.5], 2, 0.0),
             "patience 1": ([0.9, 0.8, 0.85, 0.7], 1, 0.0),
             "an equal loss is no improvement": ([0.5, 0.5, 0.5, 0.4], 2, 0.0),
             "a late improvement resets the wait": ([1.0, 0.9, 0.95, 0.8, 0.85, 0.86, 0.87],
                                                    2, 0.0),
             "min_delta: small gains do not count": ([1.0, 0.9, 0.89, 0.88, 0.87, 0.5], 3, 0.05),
             "min_delta: a big gain counts": ([1.0, 0.9, 0.89, 0.8, 0.79, 0.78, 0.77], 2, 0.05),
             "patience longer than the run": ([1.0, 1.1, 1.2], 5, 0.0)}
    for case, (losses, patience, min_delta) in cases.items():
        ref = keras_epochs(losses, patience, min_delta)
        got, bad = _number_answer(fn, (list(losses), patience, min_delta), case, quiet)
        if bad is not None:
            return bad
        if got != ref:
            hint = ""
            if got == ref + 1 or got == ref - 1:
                hint = (" Off by one: epochs count from 1, and training stops at the end of "
                        "the epoch where `patience` epochs in a row have not improved.")
            if "min_delta" in case:
                hint += (" An improvement must beat the best loss so far by MORE than "
                         "min_delta (loss < best - min_delta); the best only moves then.")
            elif "equal" in case:
                hint += " An equal loss is not an improvement."
            return _verdict(False, f"case '{case}' (losses {losses}, patience {patience}, "
                            f"min_delta {min_delta:g}): you said {got:g} epochs, Keras trains "
                            f"{ref}.{hint}", quiet, case=case, difference=abs(got - ref))
    return _verdict(True, f"your epoch counts match Keras' EarlyStopping in all {len(cases)} "
                    f"cases.", quiet)
