"""Downloads: ``GET /api/export/<layer>.<fmt>`` for every layer in the store.

=====================================================  ========================================
``GET /api/export/<layer>.geojson``                     RFC 7946 GeoJSON, 6 decimals
``GET /api/export/<layer>.csv``                         lon/lat (points) or WKT, UTF-8 with BOM
``GET /api/export/<layer>.gpx``                         waypoints + tracks, for car navigation
``GET /api/export/<layer>.kml``                         names and descriptions, for Google Earth
``GET /api/export/<layer>.gpkg``                        a GeoPackage 1.2 with the map's style in
                                                        ``layer_styles``, for QGIS
``GET /api/export/<layer>.shp.zip``                     a zipped Shapefile (``.prj``, ``.cpg``,
                                                        10-character field names and their
                                                        mapping), for ArcGIS desks
=====================================================  ========================================

Optional query parameters: ``bbox=minx,miny,maxx,maxy``, property filters
(``?category=energy``), a CQL2 ``filter`` (with ``filter-lang`` and ``filter-crs``) and
``datetime``, as in the OGC API's items, answered through
:meth:`layers.store.Store.query`; ``crs=EPSG:4548`` (any CRS :func:`geo.crs.parse_crs`
knows: CGCS2000 EPSG:4490, its Gauss-Krüger zones …) writes the coordinates in that CRS,
easting first as GIS files expect, and declares it; ``datum=gcj02`` (or ``bd09``) writes
the coordinates in that datum for Chinese navigation apps (AMap/Gaode, Baidu), declared
as a custom CRS named for it; ``encoding=gbk`` writes a Shapefile's attributes in GBK
for old desktop tools (UTF-8 by default, with a ``.cpg`` either way);
``with=stations,attractions`` adds other layers' features to the same file (one GPX for
drivers: the road as a track, its stations as waypoints).  The work is
:func:`geo.export.to_bytes`, which also converts the datum; this module only parses the
request and names the attachment.

Examples
--------
>>> split_target("scenic_road.gpx"), split_target("projects.shp.zip")
(('scenic_road', 'gpx'), ('projects', 'shp.zip'))
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import geopandas as gpd
import pandas as pd
from flask import Blueprint, request

from geo.crs import parse_crs
from geo.export import ARCHIVE_FORMATS, FORMATS, export_options, to_bytes
from layers.describe import spec_for
from layers.filter import parse_filter
from layers.store import parse_bbox, validate_layer_name

from ..core.errors import ApiError
from ..core.http import REVALIDATE, cached_response, make_etag, streamed_response
from ..core.params import datum_value
from ..core.store import get_store

bp = Blueprint("exports", __name__)

#: Every format by its file extension (``shp.zip`` has two).
ALL_FORMATS = {**FORMATS, **ARCHIVE_FORMATS}
#: Query parameters that are not property filters.
RESERVED = frozenset({"bbox", "datum", "lang", "f", "with", "crs", "encoding", "filter",
                      "filter-lang", "filter-crs", "datetime"})
#: Formats that are compressed already (no gzip on top).
_COMPRESSED = ("gpkg", "shp.zip")
#: Layers of more features export GeoJSON and CSV as a stream of pages read from the
#: store (:data:`PAGE_ROWS` at a time), never the layer or the file whole in memory.
STREAM_ROWS = 100_000
PAGE_ROWS = 20_000


def split_target(target: str) -> tuple[str, str]:
    """``"<layer>.<fmt>"`` → ``(layer, fmt)``; layer names never contain a dot."""
    for ext in ARCHIVE_FORMATS:
        if target.lower().endswith("." + ext) and len(target) > len(ext) + 1:
            return target[:-len(ext) - 1], ext
    layer, dot, fmt = target.rpartition(".")
    if not dot or not layer:
        raise ApiError(f"no format in {target!r}", 400,
                       hint="ask for /api/export/<layer>.<format>, format one of "
                       + ", ".join(ALL_FORMATS), code="unsupported_format",
                       message_zh="下载地址里没有文件格式",
                       hint_zh="可选格式：" + "、".join(ALL_FORMATS))
    return layer, fmt.lower()


@bp.get("/api/export/<path:target>")
def export_layer(target: str):
    """A layer (or the part matching bbox/filters) as a downloadable file."""
    name, fmt = split_target(target)
    if fmt not in ALL_FORMATS:
        raise ApiError(f"unknown export format {fmt!r}", 400,
                       hint="formats: " + ", ".join(ALL_FORMATS), code="unsupported_format",
                       message_zh=f"不支持导出格式 {fmt!r}",
                       hint_zh="可选格式：" + "、".join(ALL_FORMATS))
    validate_layer_name(name)
    store = get_store()
    info = store.info(name)  # LayerNotFound → 404 JSON
    bbox = parse_bbox(request.args.get("bbox"))
    filters = {k: v for k, v in request.args.items() if k not in RESERVED}
    # CQL2 as in the OGC API (Part 3): a desk asks for the selection it needs in its CRS.
    args = request.args
    where = None
    if "filter" in args:
        where = parse_filter(args["filter"], lang=args.get("filter-lang"),
                             crs=args.get("filter-crs"))
    elif "filter-lang" in args or "filter-crs" in args:
        parse_filter("TRUE", lang=args.get("filter-lang"), crs=args.get("filter-crs"))
    when = args.get("datetime") or None
    selected = bool(filters) or where is not None or when is not None
    datum = datum_value(request.args.get("datum") or "wgs84")
    crs = request.args.get("crs") or None
    crs_code = parse_crs(crs).code if crs else None  # 400 for an unknown CRS, before work
    encoding = request.args.get("encoding") or "utf-8"
    lang = "en" if request.args.get("lang") == "en" else "zh"  # labels in GPX/KML descriptions
    extra = [n.strip() for n in (request.args.get("with") or "").split(",") if n.strip()]
    extra_infos = [store.info(validate_layer_name(n)) for n in extra if n != name]
    key = make_etag("export", info.version, fmt, bbox, sorted(filters.items()), datum, lang,
                    crs_code, encoding, where and where.text, when,
                    *(i.version for i in extra_infos))
    spec = spec_for(store, info)
    # Files carry the data's time (the newest layer's last write): same ETag, same bytes.
    updated = max([info.updated, *(i.updated for i in extra_infos)])

    def produce() -> bytes:
        if bbox is None and not selected:
            gdf = store.get(name)
        else:
            gdf = store.query(name, bbox=bbox, filters=filters, where=where,
                              datetime=when).features
        if extra_infos:
            # Filters belong to the main layer; the added layers are cut by bbox only.
            parts = [gdf] + [store.query(i.name, bbox=bbox).features for i in extra_infos]
            gdf = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry",
                                   crs=gdf.crs)
        # to_bytes converts WGS 84 to GCJ-02/BD-09 itself: the frame goes in as stored.
        data, _mimetype, _filename = to_bytes(gdf, fmt, name=name, spec=spec, lang=lang,
                                              crs=crs, datum=datum, encoding=encoding,
                                              timestamp=updated)
        return data

    # Checked before the body is produced so a bad request answers 400, not 304.
    if selected:
        store.query(name, filters=filters, where=where, datetime=when, limit=0)
    export_options(fmt, crs=crs, datum=datum, encoding=encoding)
    ext, mimetype = ALL_FORMATS[fmt]
    if info.count > STREAM_ROWS and not extra_infos and _streamable(fmt, info.geometry_type):
        def pages():
            for page in _pages(store, name, bbox, filters, where, when):
                # to_bytes converts the datum and the CRS of each page itself.
                yield to_bytes(page, fmt, name=name, spec=spec, lang=lang, crs=crs,
                               datum=datum, encoding=encoding, timestamp=updated)[0]

        resp = streamed_response(key, lambda: spliced(pages(), fmt), mimetype,
                                 cache_control=REVALIDATE)
    else:
        resp = cached_response(key, produce, mimetype, cache_control=REVALIDATE,
                               compress=fmt not in _COMPRESSED)
    suffix = "" if datum in ("wgs84", "cgcs2000") else f"_{datum}"
    if crs_code and crs_code not in ("OGC:CRS84", "EPSG:4326"):
        suffix += "_" + re.sub(r"[^A-Za-z0-9]+", "", crs_code).lower()
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "layer"
    resp.headers["Content-Disposition"] = f'attachment; filename="{stem}{suffix}.{ext}"'
    return resp


def _streamable(fmt: str, geometry_type: str | None) -> bool:
    """Whether pages of a layer join into one file of ``fmt``: GeoJSON always; CSV when
    every page has the same columns (lon/lat for points, WKT for other types — a layer
    mixing points with other types could change from page to page)."""
    if fmt == "geojson":
        return True
    kind = (geometry_type or "").upper()
    return fmt == "csv" and (kind == "POINT" or (
        "POINT" not in kind and kind not in ("", "GEOMETRY", "GEOMETRYCOLLECTION")))


def _pages(store, name: str, bbox, filters, where=None, when=None
           ) -> Iterator[gpd.GeoDataFrame]:
    """The features of a layer (within bbox/filters/CQL2/datetime) a page of
    :data:`PAGE_ROWS` at a time."""
    offset = 0
    while True:
        page = store.query(name, bbox=bbox, filters=filters or None, where=where,
                           datetime=when, limit=PAGE_ROWS, offset=offset).features
        if len(page) or offset == 0:
            yield page
        if len(page) < PAGE_ROWS:
            return
        offset += PAGE_ROWS


def spliced(files: Iterator[bytes], fmt: str) -> Iterator[bytes]:
    """One GeoJSON or CSV file from the files of its pages (each written by
    :func:`geo.export.to_bytes`): the first page's head, every page's features or rows, the
    last page's tail.

    Examples
    --------
    >>> a = b'{"type":"FeatureCollection","features":[{"id":1},{"id":2}],"name":"x"}'
    >>> b = b'{"type":"FeatureCollection","features":[{"id":3}],"name":"x"}'
    >>> b"".join(spliced(iter([a, b]), "geojson"))
    b'{"type":"FeatureCollection","features":[{"id":1},{"id":2},{"id":3}],"name":"x"}'
    >>> csv = [b"\\xef\\xbb\\xbfid,lon\\r\\n1,2\\r\\n", b"\\xef\\xbb\\xbfid,lon\\r\\n3,4\\r\\n"]
    >>> b"".join(spliced(iter(csv), "csv"))
    b'\\xef\\xbb\\xbfid,lon\\r\\n1,2\\r\\n3,4\\r\\n'
    """
    if fmt == "csv":
        for i, data in enumerate(files):
            yield data if i == 0 else data[data.index(b"\r\n") + 2:]  # the header once
        return
    head = b'{"type":"FeatureCollection","features":['
    tail = b"]}"
    started = wrote = False
    for data in files:
        cut = data.rfind(b'],"name":')  # the members follow the last feature
        features, tail = data[len(head):cut], data[cut:]
        if not started:
            yield head
            started = True
        if features:
            if wrote:
                yield b","
            yield features
            wrote = True
    if not started:
        yield head
    yield tail
