"""The Xilingol Grassland Atlas web service: ``create_app(config)``.

``flask --app webmap run`` serves it for development; ``make run`` serves it with
waitress.  The app is assembled explicitly: :data:`BLUEPRINTS` names every blueprint
module, in registration order, and a module that is missing or broken stops the app
at start-up (:class:`AssemblyError`) instead of leaving a hole in it.

Rooms: :mod:`webmap.core` (settings, errors, HTTP caching, security, static files,
store access), :mod:`webmap.api` (one module per JSON/file resource),
:mod:`webmap.ogcapi` (one module per OGC API part), :mod:`webmap.pages` (the HTML
pages and their Folium builders), :mod:`webmap.cli` (``flask atlas …``).

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
import logging
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Flask

from layers.errors import StoreFull, StoreReadOnly
from layers.open import open_store
from layers.prepare import prepare_store

from . import cli
from .core import cors, memory, security, static_files
from .core.config import Settings, SettingsError
from .core.errors import register_error_handlers
from .core.store import attach_store
from .ogcapi import PARTS
from .pages.maps.basemaps import basemaps

#: Every blueprint module (each defines ``bp``), in registration order.
BLUEPRINTS: tuple[str, ...] = (
    "webmap.pages.map_pages",
    "webmap.pages.data_page",
    "webmap.api.health",
    "webmap.api.layers",
    "webmap.api.layer_writes",
    "webmap.api.route",
    "webmap.api.search",
    "webmap.api.measure",
    "webmap.api.analysis",
    "webmap.api.jobs",
    "webmap.api.sections",
    "webmap.api.exports",
    "webmap.api.stats",
    "webmap.api.tiles",
    "webmap.api.reference",
    *PARTS,
)

__all__ = ["BLUEPRINTS", "AssemblyError", "Settings", "SettingsError", "create_app"]


class AssemblyError(RuntimeError):
    """A blueprint module of :data:`BLUEPRINTS` that cannot be imported or has no ``bp``."""


def register_blueprint(app: Flask, module_name: str) -> None:
    """Import ``module_name`` and register its blueprint ``bp`` on ``app``.

    Raises
    ------
    AssemblyError
        When the module cannot be imported or defines no blueprint ``bp``.
    """
    try:
        module = importlib.import_module(module_name)
    except Exception as e:
        raise AssemblyError(f"the atlas cannot start: blueprint module {module_name!r} "
                            f"failed to import ({type(e).__name__}: {e})") from e
    bp = vars(module).get("bp")
    if not isinstance(bp, Blueprint):
        raise AssemblyError(f"the atlas cannot start: {module_name!r} defines no blueprint "
                            "'bp'")
    app.register_blueprint(bp)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask application.

    Parameters
    ----------
    config : mapping, optional
        Overrides of the settings read from the environment (see
        :class:`webmap.core.config.Settings`: ``{"ATLAS_STORE": "/tmp/a.gpkg",
        "TESTING": True}``); other keys are plain Flask configuration.

    Raises
    ------
    SettingsError
        For a setting the app cannot start with.
    AssemblyError
        For a blueprint module that is missing or broken.
    """
    settings = Settings.from_env(overrides=config)
    app = Flask(__name__)
    app.config.update({k: v for k, v in (config or {}).items()
                       if k.isupper() and not k.startswith(("ATLAS_", "TIANDITU_"))})
    app.config.update(TESTING=settings.testing, MAX_CONTENT_LENGTH=settings.max_content_length)
    app.json.ensure_ascii = False  # Chinese names stay readable in JSON
    app.json.sort_keys = False
    app.extensions["atlas_settings"] = settings

    store = open_store(settings.store, memory_mb=settings.layer_memory_mb,
                       min_free_mb=settings.min_free_mb)
    try:
        prepare_store(store)  # loads committed reference layers that are missing or changed
    except (StoreFull, StoreReadOnly) as e:
        # A store that cannot be written still serves what it holds: start, say why.
        logging.getLogger(__name__).warning(
            "the reference layers in %s could not be brought up to date (%s; %s): serving "
            "the layers it holds", store.location, e, e.hint)
    attach_store(app, store)

    register_error_handlers(app)
    cors.init_app(app)
    for module_name in BLUEPRINTS:
        register_blueprint(app, module_name)
    security.init_app(app, img_hosts=security.tile_hosts(
        (url, bm.subdomains) for bm in basemaps(settings) for url in (bm.url, bm.labels_url)))
    static_files.init_app(app)
    memory.init_app(app)  # hand freed heap back after big requests
    cli.init_app(app)
    return app
