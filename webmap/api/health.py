"""``GET /healthz``: whether the service is up and its store sound.

In test mode (``TESTING``) the store's integrity is checked on every call; in
production that check is left to ``python -m layers.prepare`` (it reads every table).

Examples
--------
>>> import tempfile, os
>>> from webmap import create_app
>>> app = create_app({"ATLAS_STORE": os.path.join(tempfile.mkdtemp(), "a.gpkg")})
>>> app.test_client().get("/healthz").json
{'status': 'ok', 'problems': []}
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from ..core.config import current_settings
from ..core.store import get_store

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """``{"status": "ok" | "degraded", "problems": [...]}``."""
    problems = get_store().check() if current_settings().testing else []
    return jsonify({"status": "ok" if not problems else "degraded", "problems": problems})
