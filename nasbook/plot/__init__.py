"""All figures, in one style. Each topic has its own module; their functions appear here.

Usage::

    import nasbook as nb
    nb.plot.use_style()
    nb.plot.examples(nb.load_dataset("digits"))
"""
import importlib
import pkgutil

from nasbook.plot.style import *  # noqa: F401,F403

__all__ = []
for _info in pkgutil.iter_modules(__path__):
    _module = importlib.import_module(f"{__name__}.{_info.name}")
    for _name in getattr(_module, "__all__", []):
        globals()[_name] = getattr(_module, _name)
        __all__.append(_name)
for _leftover in ("_info", "_module", "_name", "_leftover"):
    globals().pop(_leftover, None)
