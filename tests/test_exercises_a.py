"""The checks of notebooks 00-05's exercises: each passes a right answer (written here,
independently of nasbook), catches a typical wrong one saying where, and says "not yet" when
the answer is still the student copy's stub."""
import numpy as np
import pytest

from nasbook import exercises as ex


def stub(*args, **kwargs):
    raise NotImplementedError("write your solution here")


def assert_not_yet(check):
    verdict = check(stub, quiet=True)
    assert not verdict and "NotImplementedError" in verdict.message
    assert verdict.message.startswith("❌ not yet: ")


# --- 00 ---------------------------------------------------------------------------------------

def test_dense_param_count():
    right = lambda n, units: sum(a * b + b for a, b in zip([n, *units], units))
    assert ex.check_dense_param_count(right, quiet=True)
    verdict = ex.check_dense_param_count(
        lambda n, units: sum(a * b for a, b in zip([n, *units], units)), quiet=True)
    assert not verdict and verdict.case == "one layer, 64 inputs -> 10"
    assert "you said 640, the answer is 650" in verdict.message and "bias" in verdict.message
    assert_not_yet(ex.check_dense_param_count)


def test_architecture_count():
    right = lambda b, p, s: s * sum(p ** k for k in range(1, b + 1))
    assert ex.check_architecture_count(right, quiet=True)
    # the tour's model counted with every block's settings: 8 * 3 * 6**3 = 5184, not 8 * 258
    verdict = ex.check_architecture_count(lambda b, p, s: s * b * p ** b, quiet=True)
    assert not verdict and verdict.case.startswith("the tour's model")
    assert "you said 5184, the answer is 2064" in verdict.message
    assert "unused blocks" in verdict.message
    assert_not_yet(ex.check_architecture_count)


# --- 01 ---------------------------------------------------------------------------------------

def test_separable_conv_params():
    assert ex.check_separable_conv_params(lambda k, i, o: k * k * i + i * o + o, quiet=True)
    verdict = ex.check_separable_conv_params(lambda k, i, o: k * k * i * o + o, quiet=True)
    assert not verdict and verdict.case == "3x3, 16 -> 32"
    assert "you said 4640, the answer is 688" in verdict.message
    assert "ordinary Conv2D" in verdict.message
    assert_not_yet(ex.check_separable_conv_params)


def test_conv_output_length():
    def right(n, k, s, padding):
        return -(-n // s) if padding == "same" else max(0, (n - k) // s + 1)

    assert ex.check_conv_output_length(right, quiet=True)
    verdict = ex.check_conv_output_length(
        lambda n, k, s, p: n - k + 1 if p == "valid" else n, quiet=True)
    assert not verdict and verdict.case == "valid, stride 2"
    assert "you said 36, the answer is 18" in verdict.message and "stride" in verdict.message
    # 'same' without rounding up: 41 / 2 -> 20, Keras 21
    verdict = ex.check_conv_output_length(
        lambda n, k, s, p: n // s if p == "same" else (n - k) // s + 1, quiet=True)
    assert not verdict and verdict.case == "same, stride 2, odd length"
    assert "rounds up" in verdict.message
    assert_not_yet(ex.check_conv_output_length)


# --- 02: aging evolution ---------------------------------------------------------------------

def mutate(arch, space, rng):
    names = [k for k, options in space.items() if len(options) > 1]
    key = names[rng.integers(len(names))]
    others = [o for o in space[key] if o != arch[key]]
    child = dict(arch)
    child[key] = others[rng.integers(len(others))]
    return child


def test_aging_mutation_passes_the_specified_draws():
    verdict = ex.check_aging_mutation(mutate, quiet=True)
    assert verdict, verdict.message


def test_aging_mutation_in_place_is_caught_at_the_first_call():
    def in_place(arch, space, rng):
        child = mutate(arch, space, rng)
        arch.update(child)
        return arch

    verdict = ex.check_aging_mutation(in_place, quiet=True)
    assert not verdict and verdict.step == 1 and "in place" in verdict.message


def test_aging_mutation_that_may_keep_the_value_is_caught():
    def may_repeat(arch, space, rng):
        names = [k for k, o in space.items() if len(o) > 1]
        key = names[rng.integers(len(names))]
        child = dict(arch)
        child[key] = space[key][rng.integers(len(space[key]))]
        return child

    verdict = ex.check_aging_mutation(may_repeat, quiet=True)
    assert not verdict and verdict.case.startswith("seed 0")
    assert ("differs from its parent in 0 decisions" in verdict.message
            or "not the draws of the reference" in verdict.message)


def test_aging_mutation_picking_the_single_option_decision_is_caught():
    def all_names(arch, space, rng):
        names = list(space)
        key = names[rng.integers(len(names))]
        others = [o for o in space[key] if o != arch[key]] or space[key]
        child = dict(arch)
        child[key] = others[rng.integers(len(others))]
        return child

    verdict = ex.check_aging_mutation(all_names, quiet=True)
    assert not verdict and "seed 0, call" in verdict.message
    assert_not_yet(ex.check_aging_mutation)


def select(population, sample_size, rng):
    picks = rng.choice(len(population), size=sample_size, replace=False)
    return int(max(picks, key=lambda i: population[i]["accuracy"]))


def test_aging_selection():
    assert ex.check_aging_selection(select, quiet=True)
    best_overall = lambda pop, k, rng: int(np.argmax([p["accuracy"] for p in pop]))
    verdict = ex.check_aging_selection(best_overall, quiet=True)
    assert not verdict and "best of the whole population, not of the sample" in verdict.message
    assert verdict.case.startswith("population 10, sample_size 3, seed 0")
    with_replacement = lambda pop, k, rng: int(max(rng.choice(len(pop), size=k, replace=True),
                                                   key=lambda i: pop[i]["accuracy"]))
    verdict = ex.check_aging_selection(with_replacement, quiet=True)
    assert not verdict and "replace=False" in verdict.message
    assert_not_yet(ex.check_aging_selection)


def test_aging_replacement():
    assert ex.check_aging_replacement(lambda pop, child: pop[1:] + [child], quiet=True)

    def remove_worst(pop, child):
        worst = int(np.argmin([p["accuracy"] for p in pop]))
        return pop[:worst] + pop[worst + 1:] + [child]

    verdict = ex.check_aging_replacement(remove_worst, quiet=True)
    assert not verdict and "WORST" in verdict.message and "OLDEST" in verdict.message

    def in_place(pop, child):
        pop.pop(0)
        pop.append(child)
        return pop

    verdict = ex.check_aging_replacement(in_place, quiet=True)
    assert not verdict and "changed the list passed in" in verdict.message
    assert_not_yet(ex.check_aging_replacement)


# --- 05: stop rules ----------------------------------------------------------------------------

def should_stop(history, max_trials, time_budget, target, patience):
    if not history:
        return None
    scores = [t["score"] for t in history]
    best = int(np.argmax(scores))  # argmax: the first of equal maxima
    if max_trials is not None and len(history) >= max_trials:
        return "max_trials"
    if target is not None and scores[best] >= target:
        return "target"
    if time_budget is not None and history[-1]["elapsed_s"] >= time_budget:
        return "time_budget"
    if patience is not None and len(history) - 1 - best >= patience:
        return "patience"
    return None


def test_should_stop():
    assert ex.check_should_stop(should_stop, quiet=True)

    def last_best(history, max_trials, time_budget, target, patience):
        # a tie counted as an improvement: the LAST best
        if patience is not None and history and time_budget is None and target is None:
            scores = [t["score"] for t in history]
            best = len(scores) - 1 - int(np.argmax(scores[::-1]))
            return "patience" if len(history) - 1 - best >= patience else None
        return should_stop(history, max_trials, time_budget, target, patience)

    verdict = ex.check_should_stop(last_best, quiet=True)
    assert not verdict and verdict.case == "patience: a tie is no improvement"
    assert "you said None, the answer is 'patience'" in verdict.message

    def time_first(history, max_trials, time_budget, target, patience):
        if history and time_budget is not None and history[-1]["elapsed_s"] >= time_budget:
            return "time_budget"
        return should_stop(history, max_trials, time_budget, target, patience)

    verdict = ex.check_should_stop(time_first, quiet=True)
    assert not verdict and verdict.case == "target and time both hold"
    assert "the first in the order" in verdict.message
    strict = lambda h, m, t, g, p: (None if m is not None and len(h) == m
                                    else should_stop(h, m, t, g, p))
    verdict = ex.check_should_stop(strict, quiet=True)
    assert not verdict and verdict.case == "max_trials reached exactly"
    assert_not_yet(ex.check_should_stop)


def early_stopping_epochs(losses, patience, min_delta):
    best, wait = np.inf, 0
    for epoch, loss in enumerate(losses):
        if loss < best - min_delta:
            best, wait = loss, 0
        else:
            wait += 1
            if wait >= patience and epoch > 0:
                return epoch + 1
    return len(losses)


def test_early_stopping_epochs():
    assert ex.check_early_stopping_epochs(early_stopping_epochs, quiet=True)

    def ignores_min_delta(losses, patience, min_delta):
        return early_stopping_epochs(losses, patience, 0.0)

    verdict = ex.check_early_stopping_epochs(ignores_min_delta, quiet=True)
    assert not verdict and verdict.case == "min_delta: small gains do not count"
    assert "you said 6 epochs, Keras trains 5" in verdict.message
    assert "min_delta" in verdict.message

    def one_late(losses, patience, min_delta):
        return min(len(losses), early_stopping_epochs(losses, patience, min_delta) + 1)

    verdict = ex.check_early_stopping_epochs(one_late, quiet=True)
    assert not verdict and verdict.case == "stalls after epoch 2" and "Off by one" in verdict.message
    assert_not_yet(ex.check_early_stopping_epochs)


@pytest.mark.parametrize("name", ["check_dense_param_count", "check_architecture_count",
                                  "check_separable_conv_params", "check_conv_output_length",
                                  "check_aging_mutation", "check_aging_selection",
                                  "check_aging_replacement", "check_should_stop",
                                  "check_early_stopping_epochs"])
def test_listed_and_printing(name, capsys):
    assert name in ex.__all__
    getattr(ex, name)(stub)
    assert capsys.readouterr().out.startswith("❌ not yet: ")
