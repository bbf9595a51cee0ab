"""Explanations of models and searches: plain arrays in, plain arrays and tables out.

Each method lives in its own module; the public names of every module appear here.

Usage: ``attr = nb.explain.attribute(model, x, method="integrated_gradients")``
"""
import importlib
import pkgutil

__all__ = []
for _info in pkgutil.iter_modules(__path__):
    _module = importlib.import_module(f"{__name__}.{_info.name}")
    globals()[_info.name] = _module
    for _name in getattr(_module, "__all__", []):
        globals()[_name] = getattr(_module, _name)
        __all__.append(_name)
for _leftover in ("_info", "_module", "_name", "_leftover"):
    globals().pop(_leftover, None)
