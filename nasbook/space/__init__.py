"""Search spaces as keras-tuner HyperModels: presets, the source text's dict format, validation.

Usage::

    import nasbook as nb
    space = nb.space.preset("cnn", (40, 1), 10)     # or "mlp", "residual_cnn"
    space.summary()                                  # decisions, choices, size
    model = space.build_model()                      # the default configuration, compiled
    space = nb.space.from_dict(search_space, (8, 8, 1), 10)   # the source text's format

Modules: ``vocabulary`` (layer/activation names and their known misspellings), ``core``
(SearchSpace), ``presets``, ``source_format``, ``branches`` (build every branch
as an Oracle would, before searching), ``augment`` (the ``shift`` decision's layer: random
circular shifts of 1-D training examples, ``preset(..., shift=[0, 10, 20])``).
"""
from nasbook.space.branches import BranchReport, check_branches
from nasbook.space.core import Decision, Layer, Ref, SearchSpace, Stage
from nasbook.space.presets import PRESETS, preset
from nasbook.space.source_format import from_dict
from nasbook.space.vocabulary import SpaceError

__all__ = ["BranchReport", "check_branches", "SearchSpace", "SpaceError", "preset", "from_dict", "PRESETS", "Decision", "Layer",
           "Ref", "Stage"]
