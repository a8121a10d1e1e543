"""The overlay of users' sites on the reference layers: ``POST /api/overlay``.

``POST /api/overlay``
    A file of sites (multipart field ``file``, any format :func:`geo.read.read_file`
    reads; optional form fields ``datum``, ``river_buffer_m``, ``corridor_m``,
    ``format``) or a GeoJSON body (``Content-Type: application/json`` or
    ``application/geo+json``; parameters in the query string; ``format`` may also be
    in the query string of a multipart request).

    Without ``format`` the answer is one JSON document for the page, ``{"count",
    "columns", "parameters", "rules", "accuracy", "rows", "summary": {"by_basin",
    "by_county"}, "report", "geojson"}``, for at most ``ATLAS_OVERLAY_MAX_SITES`` sites (default 100,000);
    above that it is a 413 whose hint names the streamed formats and the job
    endpoint (``POST /api/jobs/overlay``, :mod:`webmap.api.jobs`).

    ``format=csv`` (``text/csv``: ``lon,lat`` or ``wkt``, the site's columns and the
    overlay's), ``format=ndjson`` (``application/geo+json-seq``: one GeoJSON Feature
    per line) and ``format=geojson`` (a FeatureCollection ending with ``count``,
    ``parameters`` and ``report``) answer any number of sites: the sites are
    overlaid in chunks (:func:`geo.overlay.overlay_chunks`) and each chunk's rows are
    sent before the next is computed, so memory is bounded by the upload and one
    chunk, not by the answer.  Their rows are the JSON answer's, row for row
    (``tests/test_overlay_stream.py``).

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

The upload is read once into memory (bounded by ``ATLAS_MAX_UPLOAD_MB``) and parsed
from there; the answer is never held whole.  Handlers are thin: parse and check the
request, call :mod:`geo`, shape the answer; the shaping (:func:`overlay_props`,
:func:`answer_chunks`) is shared with the overlay jobs (:mod:`webmap.jobs.overlay`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from flask import Blueprint, Response, request

from geo.accuracy import OVERLAY_ROUNDING, round_overlay, rounding_step
from geo.geojson import dumps
from geo.overlay import (
    COLUMN_MEANINGS,
    OVERLAY_COLUMNS,
    overlay_chunks,
    overlay_rules,
    overlay_sites,
    summarise,
)
from geo.read import Limits, Report, read_file
from geo.streams import CHUNK_ROWS, csv_header, csv_rows, geojson_features, json_rows
from layers.catalog import PROJECT_CATEGORIES
from layers.reference import reference

from ..core import memory
from ..core.config import current_settings
from ..core.errors import ApiError
from ..core.params import datum_value, number_value
from ..core.store import get_store

bp = Blueprint("analysis", __name__)

#: Accepted ranges of the numeric parameters (inclusive).
RIVER_BUFFER_RANGE = (0.0, 50_000.0)
CORRIDOR_RANGE = (0.0, 100_000.0)
#: The streamed formats and their media types (``None``: the page's JSON answer).
FORMATS: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "ndjson": "application/geo+json-seq",
    "geojson": "application/geo+json",
}
#: Columns of an overlay result the summaries read (kept by jobs across chunks).
SUMMARY_COLUMNS = ("basin_id", "basin_zh", "county", "adcode", "category",
                   "total_investment_yi", "plan_2023_yi")

_JSON_TYPES = ("application/json", "application/geo+json")


@dataclass(frozen=True)
class OverlayRequest:
    """The parameters of an overlay, as the form or query string gave them.

    Attributes
    ----------
    datum : str
    river_buffer_m, corridor_m : float
    format : str or None
        ``csv``, ``ndjson``, ``geojson``, or None for the page's JSON answer.
    """

    datum: str = "wgs84"
    river_buffer_m: float = 1000.0
    corridor_m: float = 5000.0
    format: str | None = None

    @property
    def parameters(self) -> dict[str, Any]:
        """What the answer echoes as ``parameters``."""
        return {"datum": self.datum, "river_buffer_m": self.river_buffer_m,
                "corridor_m": self.corridor_m}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def overlay_request(params: Mapping[str, str], allow_format: bool = True) -> OverlayRequest:
    """:class:`OverlayRequest` from form fields or the query string (400 for a bad value)."""
    datum = datum_value(params.get("datum"))
    buffer_m = number_value("river_buffer_m", params.get("river_buffer_m"), 1000.0,
                            *RIVER_BUFFER_RANGE, hint="the river buffer in metres, e.g. 1000")
    corridor_m = number_value("corridor_m", params.get("corridor_m"), 5000.0,
                              *CORRIDOR_RANGE,
                              hint="the road's view corridor in metres, e.g. 5000")
    fmt = (params.get("format") or request.args.get("format") or "").strip().lower() or None
    if fmt is not None and (not allow_format or fmt not in FORMATS):
        raise ApiError(f"format {fmt!r} is not offered here", 400,
                       hint="leave format out for the page's JSON answer, or use "
                            + ", ".join(f"format={f}" for f in FORMATS),
                       code="bad_parameter", message_zh=f"不提供 {fmt!r} 格式",
                       hint_zh="可选 csv、ndjson、geojson，或不填")
    return OverlayRequest(datum, buffer_m, corridor_m, fmt)


def request_params() -> Mapping[str, str]:
    """Where an overlay request's parameters are: the form, or the query string."""
    return request.form if request.mimetype == "multipart/form-data" else request.args


# -- the upload ---------------------------------------------------------------------------
def read_upload() -> tuple[bytes, str]:
    """The uploaded sites as bytes and a file name (one copy of the upload in memory).

    A multipart file is spooled to disk by Werkzeug and read from there once; a
    GeoJSON body is read straight from the request stream.
    """
    ctype = (request.mimetype or "").lower()
    if ctype in _JSON_TYPES:
        body = request.get_data(cache=False)
        if not body:
            raise ApiError("the request body is empty", 400,
                           hint="send a GeoJSON FeatureCollection of the sites",
                           code="upload_missing", message_zh="没有收到点位数据",
                           hint_zh="请上传点位文件")
        return body, "sites.geojson"
    if ctype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise ApiError("no file in the form field 'file'", 400,
                           hint="attach the sites as a file in the field 'file' (GeoJSON, "
                                "zipped Shapefile, GeoPackage, KML/KMZ, GPX, CSV or XLSX)",
                           code="upload_missing", message_zh="没有收到文件",
                           hint_zh="请选择点位文件（GeoJSON、压缩的 Shapefile、GeoPackage、"
                                   "KML/KMZ、GPX、CSV 或 Excel）")
        data = upload.stream.read()
        upload.stream.close()  # the spooled copy goes now, not at the end of the request
        return data, upload.filename
    raise ApiError(f"unsupported Content-Type {ctype or '(none)'!r}", 415,
                   hint="POST multipart/form-data with a field 'file', or a GeoJSON body "
                        "with Content-Type application/geo+json",
                   code="unsupported_media_type", message_zh="请求内容的类型不受支持",
                   hint_zh="请以表单上传文件")


def read_sites(data: bytes, filename: str, datum: str, limits: Limits
               ) -> tuple[gpd.GeoDataFrame, Report]:
    """The sites of an upload and the read report; 422 when none is usable."""
    result = read_file(data, filename=filename, datum=datum, limits=limits)
    sites = result.gdf.reset_index(drop=True)
    if sites.empty:
        raise ApiError("the file holds no usable sites", 422,
                       hint="check the report: every feature was dropped or the file is empty",
                       code="no_features", message_zh="文件里没有可用的点位",
                       hint_zh="请查看读取报告：每个要素都被舍弃了，或者文件是空的")
    return sites, result.report


# -- shaping the answer ---------------------------------------------------------------------
def overlay_props(result: gpd.GeoDataFrame) -> pd.DataFrame:
    """The rows of an overlay result as answered: every column but the geometry, distances
    no more precise than what they were measured against (one rounding,
    :func:`geo.accuracy.round_overlay`, shared with ``flask atlas overlay``)."""
    return round_overlay(pd.DataFrame(result.drop(columns=[result.geometry.name])))


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
            "format": "csv, ndjson (application/geo+json-seq) or geojson: the rows streamed "
                      "for any number of sites; without it one JSON answer for the page, "
                      "for at most ATLAS_OVERLAY_MAX_SITES sites",
        },
        "jobs": "POST /api/jobs/overlay with the same fields runs it in the background",
        "columns": [{"name": c, "zh": COLUMN_MEANINGS[c][0], "en": COLUMN_MEANINGS[c][1]}
                    for c in OVERLAY_COLUMNS],
        "rules": overlay_rules(),
    }


def summary(result: pd.DataFrame) -> dict[str, Any]:
    """The answer's ``summary``: sites and investment per basin and per county."""
    return {"by_basin": summary_records(result, "basin"),
            "by_county": summary_records(result, "county")}


def all_points(sites: gpd.GeoDataFrame) -> bool:
    """Whether every site is a point (the CSV then starts ``lon,lat``, else ``wkt``)."""
    geoms = np.asarray(sites.geometry.values, dtype=object)
    return bool(len(geoms)) and bool((shapely.get_type_id(geoms) == 0).all())


def format_head(fmt: str, props: pd.DataFrame, points: bool) -> bytes:
    """What a streamed answer starts with, given its first chunk's columns."""
    if fmt == "csv":
        # UTF-8 with a byte-order mark, as the exports: Excel then reads the Chinese right.
        return b"\xef\xbb\xbf" + csv_header(props, points).encode("utf-8")
    if fmt == "geojson":
        return b'{"type":"FeatureCollection","features":['
    return b""


def format_chunk(fmt: str, props: pd.DataFrame, geoms: np.ndarray, start: int, points: bool,
                 first: bool) -> bytes:
    """One chunk of a streamed answer: rows ``start …`` (their ids) in ``fmt``."""
    if not len(props):
        return b""
    if fmt == "csv":
        text = csv_rows(props, geoms, points)
    elif fmt == "ndjson":
        ids = range(start, start + len(props))
        text = geojson_features(props, geoms, ids, sep="\n") + "\n"
    else:
        ids = range(start, start + len(props))
        text = ("" if first else ",") + geojson_features(props, geoms, ids)
    return text.encode("utf-8", "replace")


def format_tail(fmt: str, members: Mapping[str, Any]) -> bytes:
    """What a streamed answer ends with (the GeoJSON's closing foreign members)."""
    if fmt == "geojson":
        return b"]," + dumps(dict(members))[1:]
    return b""


@dataclass
class OverlayChunk:
    """One chunk of an overlay: its rows as answered, their geometries, where it starts."""

    result: gpd.GeoDataFrame
    props: pd.DataFrame
    start: int

    @property
    def geoms(self) -> np.ndarray:
        return self.result.geometry.values


def overlay_stream(sites: gpd.GeoDataFrame, ref: Any, req: OverlayRequest,
                   chunk: int | None = None) -> Iterator[OverlayChunk]:
    """The overlay of ``sites`` a chunk at a time (:func:`geo.overlay.overlay_chunks`), each
    chunk's rows shaped as answered (:func:`overlay_props`)."""
    start = 0
    for result in overlay_chunks(sites, ref, chunk=chunk or CHUNK_ROWS,
                                 river_buffer_m=req.river_buffer_m, corridor_m=req.corridor_m):
        yield OverlayChunk(result, overlay_props(result), start)
        start += len(result)


def stream_tail_members(count: int, req: OverlayRequest, report: Report) -> dict[str, Any]:
    """The members a streamed GeoJSON answer ends with."""
    return {"count": count, "parameters": req.parameters, "report": report.to_dict()}


def answer_chunks(sites: gpd.GeoDataFrame, ref: Any, req: OverlayRequest, report: Report,
                  fmt: str, chunk: int | None = None) -> Iterator[bytes]:
    """The streamed answer in ``fmt``: overlay a chunk, send it, overlay the next."""
    points = all_points(sites)
    count = 0
    for part in overlay_stream(sites, ref, req, chunk):
        if part.start == 0:
            yield format_head(fmt, part.props, points)
        yield format_chunk(fmt, part.props, part.geoms, part.start, points, part.start == 0)
        count = part.start + len(part.props)
    yield format_tail(fmt, stream_tail_members(count, req, report))


def json_answer(result: gpd.GeoDataFrame, req: OverlayRequest, report: Report,
                chunk: int | None = None) -> Iterator[bytes]:
    """The page's JSON answer for an overlay ``result``, encoded a chunk of rows at a time."""
    props = overlay_props(result)
    geoms = result.geometry.values
    n = len(props)
    chunk = chunk or CHUNK_ROWS
    head = {"count": n, "columns": list(OVERLAY_COLUMNS), "parameters": req.parameters,
            "rules": overlay_rules(), "accuracy": accuracy_summary(result)}
    yield dumps(head)[:-1] + b',"rows":['
    for start in range(0, n, chunk):
        yield (b"," if start else b"") + json_rows(props.iloc[start:start + chunk]).encode(
            "utf-8", "replace")
    yield (b'],"summary":' + dumps(summary(result)) + b',"report":' + dumps(report.to_dict())
           + b',"geojson":{"type":"FeatureCollection","features":[')
    for start in range(0, n, chunk):
        part = props.iloc[start:start + chunk]
        yield (b"," if start else b"") + geojson_features(
            part, geoms[start:start + chunk], range(start, start + len(part))).encode(
            "utf-8", "replace")
    yield b"]}}"


def _then_trim(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """``chunks``, then the memory check (the answer's rows were made while it streamed,
    after the request's own teardown)."""
    try:
        yield from chunks
    finally:
        memory.check()


def too_many_sites(n: int, limit: int) -> ApiError:
    """The 413 of a JSON overlay of more than ``limit`` sites, naming the ways that work."""
    return ApiError(
        f"{n:,} sites are more than the {limit:,} one JSON answer holds", 413,
        hint="ask for a streamed file with format=csv, format=ndjson or format=geojson, or "
             "run it as a job: POST /api/jobs/overlay with the same fields (202, then GET "
             "/api/jobs/{id} for its progress and result files)",
        code="overlay_too_large",
        message_zh=f"{n:,} 个点位超过了一次页面答复的上限（{limit:,} 个）",
        hint_zh="请改为后台任务（POST /api/jobs/overlay），或以 CSV/GeoJSON 格式下载结果")


@bp.get("/api/overlay")
def overlay_description():
    """The overlay endpoint described, with its placement, drainage and accuracy rules."""
    return Response(dumps(describe_overlay()), mimetype="application/json")


@bp.post("/api/overlay")
def overlay():
    """Overlay an uploaded file (or GeoJSON body) of sites on the reference layers."""
    req = overlay_request(request_params())
    settings = current_settings()
    data, filename = read_upload()
    sites, report = read_sites(data, filename, req.datum, settings.read_limits)
    del data  # parsed: the upload's bytes are not needed any more
    ref = reference(get_store())
    if req.format is None:
        if len(sites) > settings.overlay_max_sites:
            raise too_many_sites(len(sites), settings.overlay_max_sites)
        result = overlay_sites(sites, ref, river_buffer_m=req.river_buffer_m,
                               corridor_m=req.corridor_m).reset_index(drop=True)
        body = json_answer(result, req, report)
        return Response(_then_trim(body), mimetype="application/json")
    body = _then_trim(answer_chunks(sites, ref, req, report, req.format))
    resp = Response(body, mimetype=FORMATS[req.format])
    # A file to save (the watershed page posts its form here for its downloads).
    suffix = {"csv": "csv", "ndjson": "geojsonl", "geojson": "geojson"}[req.format]
    resp.headers["Content-Disposition"] = f"attachment; filename=overlay.{suffix}"
    return resp
