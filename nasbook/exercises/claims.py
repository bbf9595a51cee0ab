"""Checks for notebook 14: verdicts on the source text's claims, GPU-days."""

from __future__ import annotations

import numpy as np

from nasbook.exercises._base import Verdict, _call, _number_answer, _verdict

__all__ = ["CLAIM_VERDICTS", "claims_quiz", "check_claim_verdicts", "check_gpu_days"]


# --- claims and costs (notebook 14) -------------------------------------------------------------

CLAIM_VERDICTS = ("true", "false", "unverifiable", "outdated")

# Three claims of the source text, the verdict notebook 14 reaches, and a hint that points at the
# evidence without giving the verdict away.
_QUIZ = {
    "gpt3_found_by_nas": (
        "§6.2: OpenAI's GPT-3 found its network structure by neural architecture search.",
        "false",
        "read how Brown et al. 2020 (arXiv:2005.14165) describe GPT-3's model and "
        "architecture: where did it come from?"),
    "nasnet_imagenet": (
        "§6.1: Google's NASNet achieved excellent results on ImageNet image classification.",
        "true",
        "NASNet's abstract (Zoph et al. 2018, arXiv:1707.07012) reports its ImageNet top-1 "
        "accuracy against the best human-designed models of the time."),
    "keras_tensorflow_theano": (
        "§7.2.3: Keras is compatible with TensorFlow and Theano.",
        "outdated",
        "it was right once: which backends does today's Keras accept? Try "
        "keras.config.backend() and the Keras 2.3.0 release notes."),
}


def claims_quiz() -> dict:
    """The quiz of notebook 14: ``{claim_id: statement}``. Answer with a verdict from
    :data:`CLAIM_VERDICTS` for each id and pass the dict to :func:`check_claim_verdicts`."""
    return {key: statement for key, (statement, _, _) in _QUIZ.items()}


def check_claim_verdicts(answers, quiet=False) -> Verdict:
    """Check ``answers``, a dict ``{claim_id: verdict}`` for every claim of :func:`claims_quiz`,
    each verdict one of :data:`CLAIM_VERDICTS` (case and surrounding spaces ignored), or a
    function of no arguments that returns that dict (a student copy's stub raises
    NotImplementedError, which answers "not yet")."""
    if callable(answers):
        answers, err = _call(answers)
        if err:
            return _verdict(False, err, quiet)
    if not isinstance(answers, dict):
        return _verdict(False, f"answers should be a dict {{claim_id: verdict}}, got "
                        f"{type(answers).__name__}", quiet)
    missing = [key for key in _QUIZ if key not in answers]
    if missing:
        return _verdict(False, f"no verdict for {missing}; answer every id of claims_quiz()",
                        quiet, case=missing[0])
    unknown = [key for key in answers if key not in _QUIZ]
    if unknown:
        return _verdict(False, f"unknown claim ids {unknown}; the ids are {list(_QUIZ)}", quiet,
                        case=unknown[0])
    for key in _QUIZ:
        if str(answers[key]).strip().lower() not in CLAIM_VERDICTS:
            return _verdict(False, f"claim '{key}': {answers[key]!r} is not a verdict; use one of "
                            f"{CLAIM_VERDICTS}", quiet, case=key)
    for key, (_, truth, hint) in _QUIZ.items():
        given = str(answers[key]).strip().lower()
        if given != truth:
            return _verdict(False, f"claim '{key}': not '{given}'. Hint: {hint}", quiet, case=key)
    return _verdict(True, f"all {len(_QUIZ)} verdicts agree with the evidence.", quiet)


def _gpu_day_cases():
    # (label, number of GPUs, wall-clock hours, GPU-days)
    return [("NAS-RL: 800 GPUs for 28 days", 800, 28 * 24, 22400.0),
            ("GDAS: 1 GPU for 4 hours", 1, 4, 4 / 24),
            ("one GPU for one day", 1, 24, 1.0),
            ("16 GPUs for half a day", 16, 12, 8.0),
            ("no GPUs at all", 0, 10, 0.0)]


def check_gpu_days(fn, quiet=False) -> Verdict:
    """Check ``fn(n_gpus, hours) -> GPU-days``: the compute of a search that ran ``n_gpus`` GPUs
    in parallel for ``hours`` of wall-clock time, in GPU-days (one GPU busy for 24 hours)."""
    for case, gpus, hours, ref in _gpu_day_cases():
        got, bad = _number_answer(fn, (gpus, hours), case, quiet)
        if bad is not None:
            return bad
        diff = abs(got - ref)
        if not diff <= 1e-9 * max(1.0, abs(ref)):
            hint = ""
            if np.isclose(got, gpus * hours):
                hint = " That is GPU-hours: a GPU-day is 24 GPU-hours."
            elif np.isclose(got, hours / 24) and gpus != 1:
                hint = " Multiply by the number of GPUs: they all ran at once."
            elif np.isclose(got, gpus * hours * 24):
                hint = " Divide the hours by 24, do not multiply."
            return _verdict(False, f"case '{case}': you said {got:g} GPU-days, the answer is "
                            f"{ref:g}.{hint}", quiet, case=case, difference=diff)
    return _verdict(True, f"your GPU-days are right in all {len(_gpu_day_cases())} cases.",
                    quiet, difference=0.0)


