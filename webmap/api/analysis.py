"""The overlay of users' sites on the reference layers: ``POST /api/overlay``.

``POST /api/overlay``
    A file of sites (multipart field ``file``, any format :func:`geo.read.read_file`
    reads; optional form fields ``datum``, ``river_buffer_m``, ``corridor_m``) or a
    GeoJSON body (``Content-Type: application/json`` or ``application/geo+json``;
    parameters in the query string) → ``{"count", "rows", "summary": {"by_basin",
    "by_county"}, "report", "geojson"}``.

Handlers are thin: parse and check the request, call :mod:`geo`, shape the answer.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd
from flask import Blueprint, Response, request

from geo.geojson import dumps, encode_features, feature_collection, properties_json
from geo.overlay import OVERLAY_COLUMNS, overlay_sites, summarise
from geo.read import read_file
from layers.catalog import PROJECT_CATEGORIES
from layers.reference import reference

from ..core.config import current_settings
from ..core.errors import ApiError
from ..core.params import datum_value, number_value
from ..core.store import get_store

bp = Blueprint("analysis", __name__)

#: Accepted ranges of the numeric parameters (inclusive).
RIVER_BUFFER_RANGE = (0.0, 50_000.0)
CORRIDOR_RANGE = (0.0, 100_000.0)

_JSON_TYPES = ("application/json", "application/geo+json")


# -- overlay ----------------------------------------------------------------------------
def _read_sites(datum: str):
    """The uploaded sites (GeoDataFrame) and the read report."""
    ctype = (request.mimetype or "").lower()
    limits = current_settings().read_limits
    if ctype in _JSON_TYPES:
        body = request.get_data(cache=False)
        if not body:
            raise ApiError("the request body is empty", 400,
                           hint="send a GeoJSON FeatureCollection of the sites",
                           code="upload_missing", message_zh="没有收到点位数据",
                           hint_zh="请上传点位文件")
        result = read_file(body, filename="sites.geojson", datum=datum, limits=limits)
    elif ctype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise ApiError("no file in the form field 'file'", 400,
                           hint="attach the sites as a file in the field 'file' (GeoJSON, "
                                "zipped Shapefile, GeoPackage, KML/KMZ, GPX, CSV or XLSX)",
                           code="upload_missing", message_zh="没有收到文件",
                           hint_zh="请选择点位文件（GeoJSON、压缩的 Shapefile、GeoPackage、"
                                   "KML/KMZ、GPX、CSV 或 Excel）")
        result = read_file(upload.stream.read(), filename=upload.filename, datum=datum,
                           limits=limits)
    else:
        raise ApiError(f"unsupported Content-Type {ctype or '(none)'!r}", 415,
                       hint="POST multipart/form-data with a field 'file', or a GeoJSON body "
                            "with Content-Type application/geo+json",
                       code="unsupported_media_type", message_zh="请求内容的类型不受支持",
                       hint_zh="请以表单上传文件")
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
    datum = datum_value(params.get("datum"))
    buffer_m = number_value("river_buffer_m", params.get("river_buffer_m"), 1000.0,
                            *RIVER_BUFFER_RANGE, hint="the river buffer in metres, e.g. 1000")
    corridor_m = number_value("corridor_m", params.get("corridor_m"), 5000.0,
                              *CORRIDOR_RANGE,
                              hint="the road's view corridor in metres, e.g. 5000")
    sites, report = _read_sites(datum)
    if sites.empty:
        raise ApiError("the file holds no usable sites", 422,
                       hint="check the report: every feature was dropped or the file is empty",
                       code="no_features", message_zh="文件里没有可用的点位",
                       hint_zh="请查看读取报告：每个要素都被舍弃了，或者文件是空的")
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
