"""Alias of :mod:`certusordo` under the spelling the product guide prints (``from certusrodo import
CertusOrdoClient``), so its examples run as written. Use ``certusordo`` in new code: the classes are
the same objects, so ``except certusordo.NotFoundError`` catches what ``certusrodo`` code raises."""
from certusordo import *  # noqa: F401,F403
from certusordo import __all__, __version__  # noqa: F401
