"""Gather the public names of a package's modules into the package (used by plot, widgets,
explain), so that each topic can live in its own module and still be reached as ``nb.plot.X``.

No module ever hides a function, nor a function a module: Python itself sets
``package.<module>`` to the submodule whenever it is imported, so a module's name always means
the module. A public name that equals a sibling module's name is therefore not copied; reach it
through its module (``nb.explain.search.surrogate``, while ``nb.explain.surrogate`` is the module
of tree surrogates).

Usage (in a package ``__init__.py``): ``__all__ = gather(__name__, __path__, globals())``
"""
import importlib
import pkgutil


def gather(package: str, path, namespace: dict, *, modules_too: bool = False) -> list:
    """Import every module of ``package`` and copy each one's ``__all__`` names into
    ``namespace`` (except names of sibling modules, see above); returns the names copied.
    Each module is reachable as ``package.<module>`` either way (``modules_too`` is accepted
    for old callers and changes nothing)."""
    infos = [info for info in pkgutil.iter_modules(path) if not info.name.startswith("_")]
    module_names = {info.name for info in infos}
    names = []
    for info in infos:
        module = importlib.import_module(f"{package}.{info.name}")
        namespace[info.name] = module
        for name in getattr(module, "__all__", []):
            if name in module_names:
                continue  # a module's name means the module (see the module docstring)
            namespace[name] = getattr(module, name)
            names.append(name)
    return names
