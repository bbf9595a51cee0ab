"""Interactive ipywidgets explorers, one module per topic; their functions appear here.

Usage: ``nb.widgets.<explorer>(...)`` inside JupyterLab; see each module.
"""
import importlib
import pkgutil

__all__ = []
for _info in pkgutil.iter_modules(__path__):
    _module = importlib.import_module(f"{__name__}.{_info.name}")
    for _name in getattr(_module, "__all__", []):
        globals()[_name] = getattr(_module, _name)
        __all__.append(_name)
for _leftover in ("_info", "_module", "_name", "_leftover"):
    globals().pop(_leftover, None)
