"""Configuration from environment variables (Flask's ``from_prefixed_env`` habit).

Every setting has a default that works on a single machine with no internet.

=====================  ===============================================================
Variable               Meaning
=====================  ===============================================================
ATLAS_STORE            GeoPackage path of the embedded store (default var/atlas.gpkg)
ATLAS_DATABASE_URL     postgresql://… moves the store to PostGIS
ATLAS_WRITE_TOKEN      bearer token that allows writes; unset = writes refused (403)
ATLAS_MAX_UPLOAD_MB    upload size limit in MB (default 50), answered with 413
ATLAS_TILE_URL         self-hosted XYZ tile URL for intranets ({z}/{x}/{y})
ATLAS_TILE_ATTRIBUTION attribution shown with ATLAS_TILE_URL
TIANDITU_KEY           Tianditu key; the Tianditu basemaps are hidden without one
=====================  ===============================================================
"""

from __future__ import annotations

import os
from typing import Any


def from_env(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Application settings read from ``environ`` (default ``os.environ``).

    Examples
    --------
    >>> from_env({"ATLAS_MAX_UPLOAD_MB": "5"})["MAX_CONTENT_LENGTH"]
    5242880
    """
    env = os.environ if environ is None else environ
    max_mb = float(env.get("ATLAS_MAX_UPLOAD_MB", "50"))
    return {
        "ATLAS_STORE": env.get("ATLAS_DATABASE_URL") or env.get("ATLAS_STORE") or None,
        "ATLAS_WRITE_TOKEN": env.get("ATLAS_WRITE_TOKEN") or None,
        "MAX_CONTENT_LENGTH": int(max_mb * 1024 * 1024),
        "ATLAS_TILE_URL": env.get("ATLAS_TILE_URL") or None,
        "ATLAS_TILE_ATTRIBUTION": env.get("ATLAS_TILE_ATTRIBUTION", "Self-hosted tiles"),
        "TIANDITU_KEY": env.get("TIANDITU_KEY") or None,
        "JSON_AS_ASCII": False,
    }
