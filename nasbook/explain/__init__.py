"""Explanations of models and searches: plain arrays in, plain arrays and tables out.

Each method lives in its own module; the public names of every module appear here, except a
name that is also a module's: ``nb.explain.surrogate`` is the module of tree surrogates, and the
search surrogate is ``nb.explain.search.surrogate`` (see :mod:`nasbook._gather`).

Usage: ``attr = nb.explain.attribute(model, x, method="integrated_gradients")``
"""

from nasbook._gather import gather

__all__ = gather(__name__, __path__, globals())
