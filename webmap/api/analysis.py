"""The overlay of users' sites on the reference layers: ``POST /api/overlay``.

``POST /api/overlay``
    A file of sites (multipart field ``file``, any format :func:`geo.read.read_file`
    reads; optional form fields ``datum``, ``river_buffer_m``, ``corridor_m``) or a
    GeoJSON body (``Content-Type: application/json`` or ``application/geo+json``;
    parameters in the query string) → ``{"count", "columns", "parameters", "rules",
    "accuracy", "rows", "summary": {"by_basin", "by_county"}, "report", "geojson"}``.

Each row carries the site's own properties and :data:`geo.overlay.OVERLAY_COLUMNS`:
the basin and county (a line or polygon: the one holding its largest part, with
``basin_shares`` / ``county_shares`` when it crosses a border), the nearest river and
section, ``upstream_status`` (``yes``/``no``/``unknown``) with its reason in both
languages, the road, and for every answer the ``*_accuracy_m`` and
``*_illustrative`` of the reference features it was measured against.  Distances
are rounded to their accuracy (:func:`geo.accuracy.round_overlay`, the same rounding
as ``flask atlas overlay``); ``in_river_buffer_status`` / ``in_corridor_status`` say
``uncertain`` within that accuracy of the threshold.  ``rules`` states the
placement, drainage and accuracy rules in Chinese and English
(:func:`geo.overlay.overlay_rules`); ``accuracy`` gives, per distance column, the
range of rounding steps used.

``GET /api/overlay``
    The description of the endpoint: parameters, the columns with their meaning, and
    the rules — no drainage cap: a site in a basin with rivers drains through the
    nearest reach of its own basin at any distance; a site in an inland basin without
    rivers is upstream of no section; a site outside every basin is ``unknown``.

Handlers are thin: parse and check the request, call :mod:`geo`, shape the answer.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd
from flask import Blueprint, Response, request

from geo.accuracy import OVERLAY_ROUNDING, round_overlay, rounding_step
from geo.geojson import dumps, encode_features, feature_collection, properties_json
from geo.overlay import COLUMN_MEANINGS, OVERLAY_COLUMNS, overlay_rules, overlay_sites, summarise
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


def accuracy_summary(result: pd.DataFrame) -> dict[str, Any]:
    """Per distance column: the accuracy range of what it was measured against and the
    rounding steps used (m), and how many rows were illustrative or uncertain.

    Examples
    --------
    >>> accuracy_summary(pd.DataFrame({"river_distance_m": [10.0, 20.0],
    ...     "river_accuracy_m": [5000.0, 8000.0], "river_illustrative": [True, False],
    ...     "in_river_buffer_status": ["uncertain", "no"]}))["river_distance_m"]
    {'accuracy_m': [5000.0, 8000.0], 'step_m': [500.0, 500.0], 'illustrative': 1, 'uncertain': 1}
    """
    out: dict[str, Any] = {}
    status = {"river": "in_river_buffer_status", "road": "in_corridor_status"}
    for col, (acc_col, _unit) in OVERLAY_ROUNDING.items():
        if col not in result or acc_col not in result or col == "road_km":
            continue
        acc = pd.to_numeric(result[acc_col], errors="coerce").dropna()
        kind = acc_col.removesuffix("_accuracy_m")
        steps = rounding_step(acc.to_numpy()) if len(acc) else []
        item: dict[str, Any] = {
            "accuracy_m": [float(acc.min()), float(acc.max())] if len(acc) else None,
            "step_m": [float(min(steps)), float(max(steps))] if len(acc) else None,
            "illustrative": int(result[f"{kind}_illustrative"].astype(bool).sum())
            if f"{kind}_illustrative" in result else 0,
        }
        if kind in status and status[kind] in result:
            item["uncertain"] = int((result[status[kind]] == "uncertain").sum())
        out[col] = item
    return out


def describe_overlay() -> dict[str, Any]:
    """``GET /api/overlay``: what the endpoint takes and answers, and its rules."""
    return {
        "endpoint": "/api/overlay",
        "method": "POST",
        "body": "multipart/form-data with a file in 'file' (GeoJSON, zipped Shapefile, "
                "GeoPackage, KML/KMZ, GPX, CSV/XLSX with coordinates), or a GeoJSON body",
        "parameters": {
            "datum": "datum of the sites: wgs84 (default), cgcs2000, gcj02, bd09",
            "river_buffer_m": f"river buffer in metres, {RIVER_BUFFER_RANGE[0]:g}–"
                              f"{RIVER_BUFFER_RANGE[1]:g} (default 1000)",
            "corridor_m": f"half-width of the road's view corridor in metres, "
                          f"{CORRIDOR_RANGE[0]:g}–{CORRIDOR_RANGE[1]:g} (default 5000)",
        },
        "columns": [{"name": c, "zh": COLUMN_MEANINGS[c][0], "en": COLUMN_MEANINGS[c][1]}
                    for c in OVERLAY_COLUMNS],
        "rules": overlay_rules(),
    }


@bp.get("/api/overlay")
def overlay_description():
    """The overlay endpoint described, with its placement, drainage and accuracy rules."""
    return Response(dumps(describe_overlay()), mimetype="application/json")


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
    # Distances no more precise than what they were measured against (one rounding,
    # shared with `flask atlas overlay`).
    props = round_overlay(pd.DataFrame(result.drop(columns=[result.geometry.name])))
    rows = properties_json(props)
    summary = {"by_basin": summary_records(result, "basin"),
               "by_county": summary_records(result, "county")}
    geojson = feature_collection(encode_features(
        gpd.GeoDataFrame(props, geometry=result.geometry.values, crs=4326)))
    body = (b'{"count":' + dumps(len(result)) + b',"columns":' + dumps(list(OVERLAY_COLUMNS))
            + b',"parameters":' + dumps({"datum": datum, "river_buffer_m": buffer_m,
                                         "corridor_m": corridor_m})
            + b',"rules":' + dumps(overlay_rules())
            + b',"accuracy":' + dumps(accuracy_summary(result))
            + b',"rows":[' + b",".join(rows) + b'],"summary":' + dumps(summary)
            + b',"report":' + dumps(report.to_dict()) + b',"geojson":' + geojson + b"}")
    return Response(body, mimetype="application/json")
