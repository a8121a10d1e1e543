"""Open the store a URL names: :func:`open_store`, the one factory of both backends.

Kept apart from the interface (:mod:`layers.store`) so that the backends import the
interface and this module imports the backends, and nothing imports back.

Examples
--------
>>> import tempfile, os
>>> s = open_store(os.path.join(tempfile.mkdtemp(), "t.gpkg"))
>>> type(s).__name__
'GeoPackageStore'
"""

from __future__ import annotations

import os

from .gpkg import GeoPackageStore
from .postgis import PostGISStore
from .store import Store

#: The embedded store when nothing else is configured: ``var/atlas.gpkg`` in the project.
DEFAULT_STORE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                             "var", "atlas.gpkg")


def is_database_url(url: str) -> bool:
    """Whether ``url`` names a PostgreSQL database rather than a GeoPackage file.

    Examples
    --------
    >>> is_database_url("postgresql://db/atlas"), is_database_url("var/atlas.gpkg")
    (True, False)
    """
    return url.startswith(("postgresql://", "postgres://"))


def open_store(url: str | os.PathLike | None = None, *, memory_mb: float | None = None,
               min_free_mb: float = 0) -> Store:
    """Open the store named by ``url``: a ``postgresql://`` URL selects PostGIS, anything
    else is a GeoPackage path; None means :data:`DEFAULT_STORE`.

    ``memory_mb`` is the budget for layers the store holds in memory (the web app's
    ``ATLAS_LAYER_MEMORY_MB``); None: no budget.

    The caller decides what ``url`` is (the web app from its settings, the command line
    from its options); this function reads no environment.  ``min_free_mb`` is the space
    a GeoPackage store keeps free on its disk (writes pause below it); the PostGIS
    store cannot see its database's disk.
    """
    url = str(url) if url else DEFAULT_STORE
    if is_database_url(url):
        return PostGISStore(url, memory_mb=memory_mb)
    return GeoPackageStore(url, memory_mb=memory_mb, min_free_mb=min_free_mb)
