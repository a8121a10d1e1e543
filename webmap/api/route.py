"""The scenic road: day stages, locating a point, kilometre posts.

``GET /api/route/stages?max_km=250[&start=&end=&direction=]``
    Day stages of at most ``max_km`` ending at a station, from the ``start`` station to
    the ``end`` station (ids; default the road's ends) in ``direction`` (``forward``:
    宝昌 → 乌拉盖, or ``reverse``) → ``{"max_km", "total_km", "start", "end",
    "direction", "stages": [...], "geojson"}``.  A stage that breaks the limit says
    so (``over_max``), why, and what to do instead: overnight places within the day
    (the gazetteer's towns and the attractions) and the stations either side.
``GET /api/route/trip.gpx`` / ``trip.kml`` with the same parameters and ``stage``,
``datum`` (``gcj02`` for AMap/Gaode), ``lang``
    The trip (or one stage) for a GPS or a navigation app: the stages as tracks, the
    stops as waypoints (:func:`geo.route.trip_export`).
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
>>> r.json["max_km"], len(r.json["stages"]) > 2, r.json["direction"]
(250.0, True, 'forward')
>>> r = app.test_client().get("/api/route/stages?max_km=250&start=nowhere")
>>> r.status_code, r.json["code"]
(400, 'no_such_station')
>>> r = app.test_client().get("/api/route/trip.gpx?max_km=250&stage=2&datum=gcj02")
>>> r.headers["Content-Disposition"]
'attachment; filename="stage-2-gcj02.gpx"'
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from flask import Blueprint, Response, request

from geo.crs import to_wgs84
from geo.geojson import dumps, encode_features, encode_for_zoom, feature_collection
from geo.route import trip_export
from layers.reference import Reference, reference

from ..core.errors import ApiError
from ..core.http import REVALIDATE, cached_response, make_etag
from ..core.params import datum_value, int_value, number_value, page_datum
from ..core.store import get_store

bp = Blueprint("route", __name__)

#: Accepted range of the longest day, km (inclusive).
MAX_KM_RANGE = (20.0, 1000.0)
#: Accepted range of the kilometre-post spacing, km.
EVERY_KM_RANGE = (1.0, 500.0)


#: Most stages a trip can have (20 km days over the whole road), for ``stage=``.
MAX_STAGES = 100
#: Longest station id accepted (ids are short words like ``st_xilinhot``).
MAX_ID_CHARS = 64


def _text_value(name: str, code: str) -> str | None:
    """A short text parameter (a station id, a direction), None when absent or empty; one
    too long to be any is answered with ``code`` (no such station, no such direction)."""
    raw = (request.args.get(name) or "").strip()
    if len(raw) > MAX_ID_CHARS:
        raise ApiError(f"{name} is longer than {MAX_ID_CHARS} characters", 400,
                       hint="a station id such as st_xilinhot, a direction forward or reverse",
                       code=code)
    return raw or None


def _plan_request() -> tuple[float, str | None, str | None, str | None]:
    """``max_km``, ``start``, ``end`` and ``direction`` of the request."""
    max_km = number_value("max_km", request.args.get("max_km"), 250.0, *MAX_KM_RANGE,
                          hint="the longest day in km, e.g. max_km=250")
    return (max_km, _text_value("start", "no_such_station"), _text_value("end", "no_such_station"),
            _text_value("direction", "bad_direction"))


def _plan(ref: Reference, max_km: float, start: str | None, end: str | None,
          direction: str | None):
    """The stages (:meth:`geo.route.ScenicRoute.stages`) with the overnight places."""
    return ref.route.stages(max_km, ref.stops, overnight=ref.overnight, start=start, end=end,
                            direction=direction)


@bp.get("/api/route/stages")
def route_stages():
    """Day stages of at most ``max_km`` along the scenic road, each ending at a station."""
    max_km, start, end, direction = _plan_request()
    ref = reference(get_store())
    key = make_etag("route-stages", max_km, start, end, direction, *ref.versions)

    def produce() -> bytes:
        stages = _plan(ref, max_km, start, end, direction)
        props = pd.DataFrame(stages.drop(columns=["geometry"]))
        fc = feature_collection(encode_features(
            stages[["n", "from_zh", "from_en", "to_zh", "to_en", "km_start", "km_end",
                    "length_km", "over_max", "geometry"]], precision=5))
        head = {"max_km": max_km, "total_km": round(ref.route.length_km, 3),
                "start": start, "end": end, "direction": str(stages["direction"].iloc[0])}
        return (dumps(head)[:-1] + b',"stages":' + dumps(props.to_dict("records"))
                + b',"geojson":' + fc + b"}")

    return cached_response(key, produce, "application/json", cache_control=REVALIDATE)


@bp.get("/api/route/trip.<fmt>")
def route_trip(fmt: str):
    """The planned trip, or one ``stage`` of it, as GPX or KML (WGS 84, or ``datum``)."""
    max_km, start, end, direction = _plan_request()
    stage = int_value("stage", 1, MAX_STAGES)
    datum = datum_value(request.args.get("datum"))
    lang = "en" if request.args.get("lang") == "en" else "zh"
    ref = reference(get_store())
    key = make_etag("route-trip", fmt, max_km, start, end, direction, stage, datum, lang,
                    *ref.versions)
    # The plan and the file are made before answering: the file name depends on them
    # and a bad stage or format is a 400, not a broken download.
    data, mime, name = trip_export(_plan(ref, max_km, start, end, direction), fmt, n=stage,
                                   datum=datum, lang=lang)
    resp = cached_response(key, lambda: data, mime, cache_control=REVALIDATE)
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp


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
