"""Analysis endpoints: overlay of users' sites, scenic-road stages and locating.

``POST /api/overlay``
    A file of sites (multipart field ``file``, any format :func:`geo.read.read_file`
    reads; optional form fields ``datum``, ``river_buffer_m``, ``corridor_m``) or a
    GeoJSON body (``Content-Type: application/json`` or ``application/geo+json``;
    parameters in the query string) → ``{"count", "rows", "summary": {"by_basin",
    "by_county"}, "report", "geojson"}``.
``GET /api/route/stages?max_km=250``
    Day stages of at most ``max_km`` ending at a station → ``{"max_km",
    "total_km", "stages": [...], "geojson"}``.
``GET /api/route/locate?lon=&lat=[&datum=]``
    Km along the scenic road and offset of a point → ``{"km", "offset_m", "side", …}``.

Handlers are thin: parse and check the request, call :mod:`geo`, shape the answer.
"""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from flask import Blueprint, Response, request

from geo.crs import normalise_datum, to_wgs84
from geo.geojson import dumps, encode_features, feature_collection, properties_json
from geo.overlay import OVERLAY_COLUMNS, overlay_sites, summarise
from layers.catalog import PROJECT_CATEGORIES
from layers.reference import reference

from . import get_store
from .errors import ApiError
from .http import cached_response, make_etag

bp = Blueprint("analysis", __name__)

#: Accepted ranges of the numeric parameters (inclusive).
RIVER_BUFFER_RANGE = (0.0, 50_000.0)
CORRIDOR_RANGE = (0.0, 100_000.0)
MAX_KM_RANGE = (20.0, 1000.0)

_JSON_TYPES = ("application/json", "application/geo+json")


def _number(name: str, raw: str | None, default: float | None, lo: float, hi: float,
            hint: str) -> float:
    """``raw`` as a finite number in ``[lo, hi]``, else a 400 with ``hint``."""
    if raw is None or str(raw).strip() == "":
        if default is None:
            raise ApiError(f"{name} is required", 400, hint=hint)
        return default
    try:
        value = float(str(raw).strip())
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and lo <= value <= hi):
        shown = str(raw) if len(str(raw)) <= 40 else str(raw)[:40] + "…"
        raise ApiError(f"{name} must be a number from {lo:g} to {hi:g}, got {shown!r}", 400,
                       hint=hint)
    return value


def _datum(raw: str | None) -> str:
    try:
        return normalise_datum(raw)
    except ValueError as e:
        raise ApiError(str(e), 400, hint="datum=wgs84 (GPS), gcj02 (AMap/Gaode, Tencent) "
                       "or bd09 (Baidu)") from None


# -- overlay ----------------------------------------------------------------------------
def _read_sites(datum: str):
    """The uploaded sites (GeoDataFrame) and the read report."""
    from geo.read import read_file  # GEO-IO's reader: imported on use, it is large

    ctype = (request.mimetype or "").lower()
    if ctype in _JSON_TYPES:
        body = request.get_data(cache=False)
        if not body:
            raise ApiError("the request body is empty", 400,
                           hint="send a GeoJSON FeatureCollection of the sites")
        result = read_file(body, filename="sites.geojson", datum=datum)
    elif ctype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise ApiError("no file in the form field 'file'", 400,
                           hint="attach the sites as a file in the field 'file' (GeoJSON, "
                                "zipped Shapefile, GeoPackage, KML/KMZ, GPX, CSV or XLSX)")
        result = read_file(upload.stream.read(), filename=upload.filename, datum=datum)
    else:
        raise ApiError(f"unsupported Content-Type {ctype or '(none)'!r}", 415,
                       hint="POST multipart/form-data with a field 'file', or a GeoJSON body "
                            "with Content-Type application/geo+json")
    return result.gdf, result.report


def summary_records(result: pd.DataFrame, by: str) -> list[dict[str, Any]]:
    """:func:`geo.overlay.summarise` as JSON rows, categories nested with their labels."""
    table = summarise(result, by)
    cats = {c.value: c for c in PROJECT_CATEGORIES}
    present = [c for c in table.columns if c.startswith("count_")]
    rows = []
    for rec in table.to_dict("records"):
        row = {k: v for k, v in rec.items()
               if not k.startswith(("count_", "total_investment_yi_", "plan_2023_yi_"))}
        row["count"] = int(row["count"])
        if present:
            row["by_category"] = []
            for col in present:
                value = col.removeprefix("count_")
                spec = cats.get(value)
                item = {"category": value,
                        "label_zh": spec.label_zh if spec else value,
                        "label_en": spec.label_en if spec else value,
                        "color": spec.color if spec else "#999999",
                        "count": int(rec[col])}
                for m in ("total_investment_yi", "plan_2023_yi"):
                    if f"{m}_{value}" in rec:
                        item[m] = float(rec[f"{m}_{value}"])
                row["by_category"].append(item)
        rows.append(row)
    return rows


@bp.post("/api/overlay")
def overlay():
    """Overlay an uploaded file (or GeoJSON body) of sites on the reference layers."""
    params = request.form if request.mimetype == "multipart/form-data" else request.args
    datum = _datum(params.get("datum"))
    buffer_m = _number("river_buffer_m", params.get("river_buffer_m"), 1000.0,
                       *RIVER_BUFFER_RANGE, hint="the river buffer in metres, e.g. 1000")
    corridor_m = _number("corridor_m", params.get("corridor_m"), 5000.0, *CORRIDOR_RANGE,
                         hint="the road's view corridor in metres, e.g. 5000")
    sites, report = _read_sites(datum)
    if sites.empty:
        raise ApiError("the file holds no usable sites", 422,
                       hint="check the report: every feature was dropped or the file is empty")
    ref = reference(get_store())
    result = overlay_sites(sites, ref, river_buffer_m=buffer_m, corridor_m=corridor_m)
    result = result.reset_index(drop=True)
    props = pd.DataFrame(result.drop(columns=[result.geometry.name]))
    for col in ("river_distance_m", "section_distance_m", "road_distance_m"):
        props[col] = props[col].round(1)
    props["road_km"] = props["road_km"].round(3)
    rows = properties_json(props)
    summary = {"by_basin": summary_records(result, "basin"),
               "by_county": summary_records(result, "county")}
    geojson = feature_collection(encode_features(
        gpd.GeoDataFrame(props, geometry=result.geometry.values, crs=4326)))
    body = (b'{"count":' + dumps(len(result)) + b',"columns":' + dumps(list(OVERLAY_COLUMNS))
            + b',"parameters":' + dumps({"datum": datum, "river_buffer_m": buffer_m,
                                         "corridor_m": corridor_m})
            + b',"rows":[' + b",".join(rows) + b'],"summary":' + dumps(summary)
            + b',"report":' + dumps(report.to_dict()) + b',"geojson":' + geojson + b"}")
    return Response(body, mimetype="application/json")


# -- scenic road ------------------------------------------------------------------------
@bp.get("/api/route/stages")
def route_stages():
    """Day stages of at most ``max_km`` along the scenic road, each ending at a station."""
    max_km = _number("max_km", request.args.get("max_km"), 250.0, *MAX_KM_RANGE,
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

    return cached_response(key, produce, "application/json", max_age=60)


@bp.get("/api/route/locate")
def route_locate():
    """Km along the scenic road, offset and side of the point ``lon``, ``lat``."""
    lon = _number("lon", request.args.get("lon"), None, -180.0, 180.0,
                  hint="longitude in decimal degrees, e.g. lon=116.09&lat=43.93")
    lat = _number("lat", request.args.get("lat"), None, -90.0, 90.0,
                  hint="latitude in decimal degrees, e.g. lon=116.09&lat=43.93")
    datum = _datum(request.args.get("datum"))
    wlon, wlat = (float(v) for v in to_wgs84(lon, lat, datum))
    ref = reference(get_store())
    route = ref.route
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
