"""Downloads: ``GET /api/export/<layer>.<fmt>`` for every layer in the store.

=====================================================  ========================================
``GET /api/export/<layer>.geojson``                     RFC 7946 GeoJSON, 6 decimals
``GET /api/export/<layer>.csv``                         lon/lat (points) or WKT, UTF-8 with BOM
``GET /api/export/<layer>.gpx``                         waypoints + tracks, for car navigation
``GET /api/export/<layer>.kml``                         names and descriptions, for Google Earth
``GET /api/export/<layer>.gpkg``                        a GeoPackage copy, for QGIS
=====================================================  ========================================

Optional query parameters: ``bbox=minx,miny,maxx,maxy`` and property filters
(``?category=energy``), as in the items API, answered through
:meth:`layers.store.Store.query`; ``datum=gcj02`` (or ``bd09``) writes the
coordinates in that datum for Chinese navigation apps (AMap/Gaode, Baidu), which
expect it; ``with=stations,attractions`` adds other layers' features to the same
file (one GPX for drivers: the road as a track, its stations as waypoints).  The work is :func:`geo.export.to_bytes`; this module only parses the
request and names the attachment.

Examples
--------
>>> split_target("scenic_road.gpx")
('scenic_road', 'gpx')
"""

from __future__ import annotations

from collections.abc import Iterator

import geopandas as gpd
import pandas as pd
from flask import Blueprint, request

from geo.crs import transform_geometries
from geo.export import FORMATS, to_bytes
from layers.describe import spec_for
from layers.store import parse_bbox, validate_layer_name

from ..core.errors import ApiError
from ..core.http import REVALIDATE, cached_response, make_etag, streamed_response
from ..core.params import datum_value
from ..core.store import get_store

bp = Blueprint("exports", __name__)

#: Query parameters that are not property filters.
RESERVED = frozenset({"bbox", "datum", "lang", "f", "with"})
#: Layers of more features export GeoJSON and CSV as a stream of pages read from the
#: store (:data:`PAGE_ROWS` at a time), never the layer or the file whole in memory.
STREAM_ROWS = 100_000
PAGE_ROWS = 20_000


def split_target(target: str) -> tuple[str, str]:
    """``"<layer>.<fmt>"`` → ``(layer, fmt)``; layer names never contain a dot."""
    layer, dot, fmt = target.rpartition(".")
    if not dot or not layer:
        raise ApiError(f"no format in {target!r}", 400,
                       hint="ask for /api/export/<layer>.<format>, format one of "
                       + ", ".join(FORMATS), code="unsupported_format",
                       message_zh="下载地址里没有文件格式",
                       hint_zh="可选格式：" + "、".join(FORMATS))
    return layer, fmt.lower()


@bp.get("/api/export/<path:target>")
def export_layer(target: str):
    """A layer (or the part matching bbox/filters) as a downloadable file."""
    name, fmt = split_target(target)
    if fmt not in FORMATS:
        raise ApiError(f"unknown export format {fmt!r}", 400,
                       hint="formats: " + ", ".join(FORMATS), code="unsupported_format",
                       message_zh=f"不支持导出格式 {fmt!r}",
                       hint_zh="可选格式：" + "、".join(FORMATS))
    validate_layer_name(name)
    store = get_store()
    info = store.info(name)  # LayerNotFound → 404 JSON
    bbox = parse_bbox(request.args.get("bbox"))
    filters = {k: v for k, v in request.args.items() if k not in RESERVED}
    datum = datum_value(request.args.get("datum") or "wgs84")
    lang = "en" if request.args.get("lang") == "en" else "zh"  # labels in GPX/KML descriptions
    extra = [n.strip() for n in (request.args.get("with") or "").split(",") if n.strip()]
    extra_infos = [store.info(validate_layer_name(n)) for n in extra if n != name]
    key = make_etag("export", info.version, fmt, bbox, sorted(filters.items()), datum, lang,
                    *(i.version for i in extra_infos))
    holder: dict[str, str] = {}

    def produce() -> bytes:
        if bbox is None and not filters:
            gdf = store.get(name)
        else:
            gdf = store.query(name, bbox=bbox, filters=filters).features
        if extra_infos:
            # Filters belong to the main layer; the added layers are cut by bbox only.
            parts = [gdf] + [store.query(i.name, bbox=bbox).features for i in extra_infos]
            gdf = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry",
                                   crs=gdf.crs)
        if datum in ("gcj02", "bd09"):
            gdf = gdf.set_geometry(transform_geometries(gdf.geometry.values, "wgs84", datum),
                                   crs=gdf.crs)
        data, _mimetype, filename = to_bytes(gdf, fmt, name=name, spec=spec_for(store, info),
                                              lang=lang)
        holder["filename"] = filename
        return data

    # Filters are checked before the body is produced so a bad one answers 400, not 304.
    if filters:
        store.query(name, filters=filters, limit=0)
    mimetype = FORMATS[fmt][1]
    if info.count > STREAM_ROWS and not extra_infos and _streamable(fmt, info.geometry_type):
        def pages():
            for page in _pages(store, name, bbox, filters):
                if datum in ("gcj02", "bd09"):
                    page = page.set_geometry(
                        transform_geometries(page.geometry.values, "wgs84", datum), crs=page.crs)
                yield to_bytes(page, fmt, name=name, spec=spec_for(store, info), lang=lang)[0]

        resp = streamed_response(key, lambda: spliced(pages(), fmt), mimetype,
                                 cache_control=REVALIDATE)
        holder["filename"] = f"{name}.{FORMATS[fmt][0]}"
    else:
        resp = cached_response(key, produce, mimetype, cache_control=REVALIDATE,
                               compress=fmt != "gpkg")
    suffix = "" if datum in ("wgs84", "cgcs2000") else f"_{datum}"
    filename = holder.get("filename", f"{name}.{FORMATS[fmt][0]}")
    stem, _, ext = filename.rpartition(".")
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


def _pages(store, name: str, bbox, filters) -> Iterator[gpd.GeoDataFrame]:
    """The features of a layer (within bbox/filters) a page of :data:`PAGE_ROWS` at a time."""
    offset = 0
    while True:
        page = store.query(name, bbox=bbox, filters=filters or None, limit=PAGE_ROWS,
                           offset=offset).features
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
