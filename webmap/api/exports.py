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

import geopandas as gpd
import pandas as pd
from flask import Blueprint, request

from geo.crs import transform_geometries
from geo.export import FORMATS, to_bytes
from layers.describe import spec_for
from layers.store import parse_bbox, validate_layer_name

from ..core.errors import ApiError
from ..core.http import REVALIDATE, cached_response, make_etag
from ..core.params import datum_value
from ..core.store import get_store

bp = Blueprint("exports", __name__)

#: Query parameters that are not property filters.
RESERVED = frozenset({"bbox", "datum", "lang", "f", "with"})


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
    resp = cached_response(key, produce, mimetype, cache_control=REVALIDATE,
                           compress=fmt != "gpkg")
    suffix = "" if datum in ("wgs84", "cgcs2000") else f"_{datum}"
    filename = holder.get("filename", f"{name}.{FORMATS[fmt][0]}")
    stem, _, ext = filename.rpartition(".")
    resp.headers["Content-Disposition"] = f'attachment; filename="{stem}{suffix}.{ext}"'
    return resp
