"""The Xilingol Grassland Atlas web service: ``create_app(config)``.

``flask --app webmap run`` serves it for development; ``make run`` serves it with
waitress.  The modules, one per concern, are listed in :data:`MODULES`.

Examples
--------
>>> import tempfile, os
>>> app = create_app({"ATLAS_STORE": os.path.join(tempfile.mkdtemp(), "a.gpkg"),
...                   "TESTING": True})
>>> app.test_client().get("/healthz").json["status"]
'ok'
"""

from __future__ import annotations

import importlib
from typing import Any

from flask import Flask, current_app, jsonify

from layers.prepare import prepare_store
from layers.store import Store, open_store

from .config import from_env
from .errors import register_error_handlers

#: One module per concern.  Each may define ``bp`` (a blueprint, registered) and
#: ``init_app(app)`` (called after registration, e.g. to add ``flask atlas`` commands).
MODULES: tuple[str, ...] = (
    "webmap.pages",
    "webmap.layers_api",
    "webmap.ogcapi",
    "webmap.analysis",
    "webmap.exports",
    "webmap.stats",
    "webmap.tiles",
    "webmap.cli",
    "webmap.layers_write",
    "webmap.security",
    "webmap.static_files",
)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask application.

    Parameters
    ----------
    config : dict, optional
        Overrides of the settings read from the environment (:mod:`webmap.config`),
        e.g. ``{"ATLAS_STORE": "/tmp/a.gpkg", "TESTING": True}``.
    """
    app = Flask(__name__)
    app.config.update(from_env())
    if config:
        app.config.update(config)
    app.json.ensure_ascii = False  # Chinese names stay readable in JSON
    app.json.sort_keys = False

    store = open_store(app.config.get("ATLAS_STORE"))
    prepare_store(store)  # loads committed reference layers that are missing or changed
    app.extensions["atlas_store"] = store

    register_error_handlers(app)
    for module_name in MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            if e.name != module_name:
                raise
            continue  # a concern not built yet
        if hasattr(module, "bp"):
            app.register_blueprint(module.bp)
        init = getattr(module, "init_app", None)
        if init is not None:
            init(app)

    @app.get("/healthz")
    def healthz():
        problems = get_store().check() if app.config.get("TESTING") else []
        return jsonify({"status": "ok" if not problems else "degraded", "problems": problems})

    return app


def get_store() -> Store:
    """The store of the current app."""
    return current_app.extensions["atlas_store"]
