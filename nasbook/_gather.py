"""Gather the public names of a package's modules into the package (used by plot, widgets,
explain), so that each topic can live in its own module and still be reached as ``nb.plot.X``.

Usage (in a package ``__init__.py``): ``__all__ = gather(__name__, __path__, globals())``
"""
import importlib
import pkgutil


def gather(package: str, path, namespace: dict, *, modules_too: bool = False) -> list:
    """Import every module of ``package`` and copy each one's ``__all__`` names into
    ``namespace``; returns the names copied."""
    names = []
    for info in pkgutil.iter_modules(path):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        if modules_too:
            namespace[info.name] = module
        for name in getattr(module, "__all__", []):
            namespace[name] = getattr(module, name)
            names.append(name)
    return names
