"""The store of the current app: :func:`get_store`, the one way handlers reach it.

``create_app`` opens the store once from :attr:`webmap.core.config.Settings.store`
and keeps it in ``app.extensions``; every blueprint, page and command asks here.

Examples
--------
>>> import tempfile, os
>>> from webmap import create_app
>>> app = create_app({"ATLAS_STORE": os.path.join(tempfile.mkdtemp(), "a.gpkg")})
>>> with app.app_context():
...     type(get_store()).__name__
'GeoPackageStore'
"""

from __future__ import annotations

from flask import Flask, current_app

from layers.store import Store

_KEY = "atlas_store"


def attach_store(app: Flask, store: Store) -> None:
    """Give ``app`` its store (done once, by ``create_app``)."""
    app.extensions[_KEY] = store


def get_store() -> Store:
    """The store of the current app."""
    return current_app.extensions[_KEY]
