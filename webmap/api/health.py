"""``GET /healthz``: whether the service is up, its store sound and writable, its disk's room.

Always 200 while the service answers (reads work even when writes do not): a load
balancer keeps sending readers.  ``status`` is ``"degraded"`` when the store cannot be
written or, in test mode, when its integrity check finds problems; ``writable``,
``reason``/``reason_zh`` and ``free_bytes``/``free_mb`` (the free space of the
GeoPackage store's disk, None on PostGIS) come from :meth:`layers.store.Store.status`,
which also lets a store that could not be written start writing again once it can.
The pages read it to show a notice while writes are paused
(``static/atlas/store_status.js``).

In test mode (``TESTING``) the store's integrity is checked on every call; in
production that check is left to ``python -m layers.prepare`` (it reads every table).

Examples
--------
>>> import tempfile, os
>>> from webmap import create_app
>>> app = create_app({"ATLAS_STORE": os.path.join(tempfile.mkdtemp(), "a.gpkg")})
>>> body = app.test_client().get("/healthz").json
>>> body["status"], body["writable"], body["problems"], body["free_bytes"] > 0
('ok', True, [], True)
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from ..core.config import current_settings
from ..core.store import get_store

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """``{"status", "writable", "reason", "reason_zh", "free_bytes", "free_mb",
    "min_free_mb", "problems"}``."""
    store = get_store()
    problems = store.check() if current_settings().testing else []
    status = store.status()
    resp = jsonify({
        "status": "ok" if status.writable and not problems else "degraded",
        "writable": status.writable,
        "reason": status.reason,
        "reason_zh": status.reason_zh,
        "free_bytes": status.free_bytes,
        "free_mb": status.free_mb,
        "min_free_mb": round(status.min_free_bytes / 2**20, 1),
        "problems": problems,
    })
    resp.headers["Cache-Control"] = "no-store"  # a state, not a document
    return resp
