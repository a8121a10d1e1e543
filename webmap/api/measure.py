"""``POST /api/measure``: length and area of what the measure tool drew, in metric CRSs.

The body is ``{"coordinates": [[lon, lat], ...]}``; ``?datum=gcj02`` when the points
were clicked on a GCJ-02 basemap.  The maths is :func:`geo.measure.measure_geometry`.

Examples
--------
>>> import tempfile, os
>>> from webmap import create_app
>>> app = create_app({"ATLAS_STORE": os.path.join(tempfile.mkdtemp(), "a.gpkg")})
>>> r = app.test_client().post("/api/measure", json={"coordinates": [[116, 44], [117, 44]]})
>>> round(r.json["length_km"])
80
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from geo.measure import measure_geometry

from ..core.errors import ApiError
from ..core.params import page_datum

bp = Blueprint("measure", __name__)


@bp.post("/api/measure")
def measure():
    """Measure a line/polygon drawn on the map."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or "coordinates" not in body:
        raise ApiError("the body must be JSON with a 'coordinates' list", 400,
                       hint='POST {"coordinates": [[116.0, 44.0], [117.0, 44.5]]}',
                       code="bad_request", message_zh="请求内容应是带有坐标列表的 JSON",
                       hint_zh="在地图上点出要测量的线或面")
    return jsonify(measure_geometry(body["coordinates"], page_datum()))
