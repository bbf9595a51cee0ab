"""Check functions for the exercises: each calls your function on generated inputs, compares
it with the package's reference (itself checked against Keras and scikit-learn), and tells
you whether it is right or, if not, on which step or case and by how much it differs.

Usage::

    import nasbook as nb

    def my_adam(w, g, m, v, t, learning_rate, beta_1, beta_2, epsilon):
        ...
        return w, m, v

    verdict = nb.exercises.check_adam_step(my_adam)   # prints the verdict
    verdict.passed, verdict.step, verdict.difference

Every check prints one verdict and returns it as a :class:`Verdict` (truthy when right).
"""
from nasbook.exercises._base import Verdict
from nasbook.exercises.basics import *      # noqa: F401,F403  notebooks 00-05
from nasbook.exercises.formulas import *    # noqa: F401,F403  notebooks 03-04
from nasbook.exercises.explain import *     # noqa: F401,F403  notebooks 06-09
from nasbook.exercises.anova import *       # noqa: F401,F403  notebook 10
from nasbook.exercises.efficient import *   # noqa: F401,F403  notebook 11
from nasbook.exercises.explainable import *  # noqa: F401,F403  notebook 12
from nasbook.exercises.scaling import *     # noqa: F401,F403  notebook 13
from nasbook.exercises.claims import *      # noqa: F401,F403  notebook 14
from nasbook.exercises.transfer import *    # noqa: F401,F403  notebook 15
from nasbook.exercises import (anova, basics, claims, efficient, explain, explainable, formulas,
                               scaling, transfer)

__all__ = ["Verdict", *basics.__all__, *formulas.__all__, *explain.__all__, *anova.__all__,
           *efficient.__all__, *explainable.__all__, *scaling.__all__,
           *claims.__all__, *transfer.__all__]
