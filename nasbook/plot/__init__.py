"""All figures, in one style. Each topic has its own module; their functions appear here.

Usage::

    import nasbook as nb
    nb.plot.use_style()
    nb.plot.examples(nb.load_dataset("digits"))
"""

from nasbook._gather import gather
from nasbook.plot.style import *  # noqa: F401,F403

__all__ = gather(__name__, __path__, globals())
