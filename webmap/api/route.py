"""The scenic road: day stages, locating a point, kilometre posts.

``GET /api/route/stages?max_km=250``
    Day stages of at most ``max_km`` ending at a station → ``{"max_km", "total_km",
    "stages": [...], "geojson"}``.
``GET /api/route/locate?lon=&lat=[&datum=]``
    Km along the scenic road and offset of a point → ``{"km", "offset_m", "side", …}``.
``GET /api/route/km-posts?every_km=10[&datum=]``
    Kilometre posts of the road (GeoJSON points).

The road is :attr:`layers.reference.Reference.route`, rebuilt when a reference layer
changes; handlers parse, call :mod:`geo.route`, shape the answer.

Examples
--------
>>> import tempfile, os
>>> from webmap import create_app
>>> app = create_app({"ATLAS_STORE": os.path.join(tempfile.mkdtemp(), "a.gpkg")})
>>> r = app.test_client().get("/api/route/stages?max_km=250")
>>> r.json["max_km"], len(r.json["stages"]) > 2
(250.0, True)
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from flask import Blueprint, Response, request

from geo.crs import to_wgs84
from geo.geojson import dumps, encode_features, encode_for_zoom, feature_collection
from layers.reference import reference

from ..core.http import REVALIDATE, cached_response, make_etag
from ..core.params import datum_value, number_value, page_datum
from ..core.store import get_store

bp = Blueprint("route", __name__)

#: Accepted range of the longest day, km (inclusive).
MAX_KM_RANGE = (20.0, 1000.0)
#: Accepted range of the kilometre-post spacing, km.
EVERY_KM_RANGE = (1.0, 500.0)


@bp.get("/api/route/stages")
def route_stages():
    """Day stages of at most ``max_km`` along the scenic road, each ending at a station."""
    max_km = number_value("max_km", request.args.get("max_km"), 250.0, *MAX_KM_RANGE,
                          hint="the longest day in km, e.g. max_km=250")
    ref = reference(get_store())
    key = make_etag("route-stages", max_km, *ref.versions)

    def produce() -> bytes:
        route = ref.route
        stages = route.stages(max_km, ref.stops)
        props = pd.DataFrame(stages.drop(columns=["geometry"]))
        fc = feature_collection(encode_features(
            stages[["n", "from_zh", "from_en", "to_zh", "to_en", "km_start", "km_end",
                    "length_km", "over_max", "geometry"]], precision=5))
        return (b'{"max_km":' + dumps(max_km) + b',"total_km":'
                + dumps(round(route.length_km, 3)) + b',"stages":'
                + dumps(props.to_dict("records")) + b',"geojson":' + fc + b"}")

    return cached_response(key, produce, "application/json", cache_control=REVALIDATE)


@bp.get("/api/route/locate")
def route_locate():
    """Km along the scenic road, offset and side of the point ``lon``, ``lat``."""
    lon = number_value("lon", request.args.get("lon"), None, -180.0, 180.0,
                       hint="longitude in decimal degrees, e.g. lon=116.09&lat=43.93")
    lat = number_value("lat", request.args.get("lat"), None, -90.0, 90.0,
                       hint="latitude in decimal degrees, e.g. lon=116.09&lat=43.93")
    datum = datum_value(request.args.get("datum"))
    wlon, wlat = (float(v) for v in to_wgs84(lon, lat, datum))
    route = reference(get_store()).route
    point = gpd.GeoSeries.from_xy([wlon], [wlat], crs=4326)
    loc = route.locate(point).iloc[0]
    km = float(loc["km"])
    on_road = route.interpolate([km]).geometry.iloc[0]
    segs = route.segments
    j = int(np.clip(np.searchsorted(segs["km_to"].to_numpy(), km, side="left"), 0,
                    len(segs) - 1))
    seg = segs.iloc[j]
    segment = {k: (None if pd.isna(seg.get(k)) else seg.get(k))
               for k in ("id", "name_zh", "name_en", "theme_zh", "theme_en", "road")
               if k in segs}
    return Response(dumps({
        "lon": wlon, "lat": wlat, "datum": datum,
        "km": round(km, 3), "offset_m": round(float(loc["offset_m"]), 1),
        "distance_m": round(float(loc["distance_m"]), 1), "side": loc["side"],
        "total_km": round(route.length_km, 3),
        "on_road": {"lon": round(on_road.x, 6), "lat": round(on_road.y, 6)},
        "segment": segment,
    }), mimetype="application/json")


@bp.get("/api/route/km-posts")
def km_posts():
    """Kilometre posts along the scenic road every ``every_km`` km (GeoJSON points)."""
    every_km = number_value("every_km", request.args.get("every_km"), 10.0, *EVERY_KM_RANGE,
                            hint="e.g. every_km=10")
    datum = page_datum()
    ref = reference(get_store())
    route = ref.route
    posts = route.km_posts(every_km)
    if not isinstance(posts, gpd.GeoDataFrame):
        posts = gpd.GeoDataFrame(posts, crs=4326)
    key = make_etag("km-posts", every_km, datum, *ref.versions)
    return cached_response(key, lambda: feature_collection(
        encode_for_zoom(posts, 12, datum), {"every_km": every_km,
                                            "length_km": round(float(route.length_km), 1)}),
        "application/geo+json", cache_control=REVALIDATE)
