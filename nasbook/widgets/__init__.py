"""Interactive ipywidgets explorers, one module per topic; their functions appear here.

Usage: ``nb.widgets.<explorer>(...)`` inside JupyterLab; see each module.
"""

from nasbook._gather import gather

__all__ = gather(__name__, __path__, globals())
