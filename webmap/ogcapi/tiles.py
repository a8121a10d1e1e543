"""OGC API – Tiles: the atlas's vector tiles, discoverable by MapLibre, OpenLayers and QGIS.

==========================================================================  ==================================
``/ogcapi/tileMatrixSets``                                                   the tile matrix sets (one:
                                                                             WebMercatorQuad)
``/ogcapi/tileMatrixSets/WebMercatorQuad``                                   its definition (TMS 2.0 JSON)
``/ogcapi/collections/{id}/tiles``                                           the collection's tilesets
``/ogcapi/collections/{id}/tiles/WebMercatorQuad``                           the tileset: tile URL template,
                                                                             limits, layer fields (``f=html``:
                                                                             a MapLibre map of it)
``/ogcapi/collections/{id}/tiles/WebMercatorQuad/tilejson.json``             TileJSON 3.0.0 for web maps
``/ogcapi/collections/{id}/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}``  one Mapbox Vector Tile
==========================================================================  ==================================

The tiles are those of ``/tiles/{layer}/{z}/{x}/{y}.mvt`` (:mod:`webmap.api.tiles`, the
same cache and ETags): ``tileMatrix`` is the zoom, ``tileRow`` the XYZ ``y`` (counted from
the north) and ``tileCol`` the XYZ ``x`` — row before column, where the XYZ address
puts x before y.  An empty tile is 204; a tile outside the matrix is 404.

Examples
--------
>>> import tempfile, os
>>> from webmap import create_app
>>> app = create_app({"ATLAS_STORE": os.path.join(tempfile.mkdtemp(), "a.gpkg")})
>>> tj = app.test_client().get("/ogcapi/collections/projects/tiles/WebMercatorQuad/tilejson.json").json
>>> tj["tilejson"], tj["tiles"][0].rsplit("/", 3)[1:]
('3.0.0', ['{z}', '{y}', '{x}?f=mvt'])
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
from flask import Blueprint, Response, render_template, request

from geo.geojson import dumps
from geo.tile_matrix import CRS as WEB_MERCATOR
from geo.tile_matrix import ID as TMS_ID
from geo.tile_matrix import URI as TMS_URI
from geo.tile_matrix import tile_matrix_limits, web_mercator_quad
from geo.vector_tiles import MAX_ZOOM
from layers.tiles import tile_properties

from ..api.tiles import MIMETYPE as MVT
from ..api.tiles import tile_response
from ..core.errors import ApiError
from ..core.store import get_store
from . import documents as docs
from .common import PREFIX, base, declare_conformance, respond
from .params import CRS84, check_known, negotiate_format
from .snapshot import snapshot

bp = Blueprint("ogcapi_tiles", __name__, url_prefix=PREFIX)

_TILES = "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/"
#: OGC API – Tiles Part 1 classes, and the Tile Matrix Set 2.0 classes of its documents.
CONFORMANCE: tuple[str, ...] = (
    _TILES + "core", _TILES + "tileset", _TILES + "tilesets-list", _TILES + "geodata-tilesets",
    _TILES + "mvt", _TILES + "oas30",
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
)
declare_conformance(bp, CONFORMANCE)

REL_TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
REL_TILESETS = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
TILEJSON = "application/vnd.mapbox.tile+json"
#: Fields of the tile features, typed for TileJSON's ``vector_layers``.
_FIELD_TYPES = {"id": "String", "name": "String", "category": "String"}


def _json_only() -> None:
    check_known(request.args, ("f",))
    if request.args.get("f", "json") != "json":
        raise ApiError("this document is JSON only", 400, hint="leave out f or use f=json",
                       code="unsupported_format", message_zh="只提供 JSON 格式")


def _tms(tms_id: str) -> None:
    if tms_id != TMS_ID:
        raise ApiError(f"no tile matrix set called {tms_id!r}", 404,
                       hint=f"the tiles are in {TMS_ID}: GET {PREFIX}/tileMatrixSets",
                       code="not_found", message_zh=f"没有名为 {tms_id!r} 的瓦片矩阵集")


def _tms_summary() -> dict[str, Any]:
    return {"id": TMS_ID, "title": "Google Maps Compatible for the World (Web Mercator)",
            "uri": TMS_URI, "crs": WEB_MERCATOR,
            "links": [docs.link(f"{base()}/tileMatrixSets/{TMS_ID}", "self", docs.JSON,
                                "The tile matrix set"),
                      docs.link(f"{base()}/tileMatrixSets/{TMS_ID}", REL_TILING_SCHEME,
                                docs.JSON, "The tile matrix set")]}


@bp.get("/tileMatrixSets")
def tile_matrix_sets() -> Response:
    """The tile matrix sets the tiles come in."""
    _json_only()
    doc = {"links": [docs.link(f"{base()}/tileMatrixSets", "self", docs.JSON,
                               "Tile matrix sets")],
           "tileMatrixSets": [_tms_summary()]}
    return respond(("tileMatrixSets",), "json", lambda: dumps(doc), str)


@bp.get("/tileMatrixSets/<tms_id>")
def tile_matrix_set(tms_id: str) -> Response:
    """One tile matrix set (TMS 2.0 JSON)."""
    _json_only()
    _tms(tms_id)
    doc = {**web_mercator_quad(), "links": [docs.link(
        f"{base()}/tileMatrixSets/{TMS_ID}", "self", docs.JSON, "This tile matrix set")]}
    return respond(("tileMatrixSet", tms_id), "json", lambda: dumps(doc), str)


def _urls(cid: str) -> dict[str, str]:
    tileset = f"{base()}/collections/{cid}/tiles/{TMS_ID}"
    return {"tilesets": f"{base()}/collections/{cid}/tiles", "tileset": tileset,
            "tilejson": f"{tileset}/tilejson.json",
            "template": tileset + "/{tileMatrix}/{tileRow}/{tileCol}?f=mvt",
            "xyz": tileset + "/{z}/{y}/{x}?f=mvt"}


def _template_link(cid: str) -> dict[str, Any]:
    return {**docs.link(_urls(cid)["template"], "item", MVT, "Mapbox vector tiles"),
            "templated": True}


@bp.get("/collections/<cid>/tiles")
def tilesets(cid: str) -> Response:
    """The tilesets of a collection (one: vector tiles in WebMercatorQuad)."""
    _json_only()
    snap = snapshot(get_store(), cid)
    title, _ = docs.titles(snap.info)
    urls = _urls(cid)
    doc = {
        "links": [docs.link(urls["tilesets"], "self", docs.JSON, "Tilesets"),
                  docs.link(f"{base()}/collections/{cid}", "collection", docs.JSON,
                            "The collection")],
        "tilesets": [{
            "title": f"{title} — {TMS_ID}", "dataType": "vector", "crs": WEB_MERCATOR,
            "tileMatrixSetURI": TMS_URI,
            "links": [docs.link(urls["tileset"], "self", docs.JSON, "The tileset"),
                      docs.link(f"{base()}/tileMatrixSets/{TMS_ID}", REL_TILING_SCHEME,
                                docs.JSON, "The tile matrix set"),
                      _template_link(cid)],
        }],
    }
    return respond(("tilesets", snap.info.version), "json", lambda: dumps(doc), str)


def _fields(cid: str, kinds: dict[str, str]) -> dict[str, str]:
    """The properties the tiles carry (``id``, ``name``, ``category`` where there are)."""
    empty = gpd.GeoDataFrame({k: [] for k in kinds}, geometry=[])
    return {c: _FIELD_TYPES[c] for c in tile_properties(cid, empty).columns}


def _bounds(info) -> list[float]:
    box = docs._bbox(info)
    return box if box is not None else [-180.0, -85.0511287798, 180.0, 85.0511287798]


@bp.get("/collections/<cid>/tiles/<tms_id>")
def tileset(cid: str, tms_id: str) -> Response:
    """The tileset: URL template, limits and the layer's fields (``f=html``: a map of it)."""
    check_known(request.args, ("f",))
    fmt = negotiate_format(request.args, request.headers.get("Accept"))
    _tms(tms_id)
    snap = snapshot(get_store(), cid)
    title, description = docs.titles(snap.info)
    urls = _urls(cid)
    box = _bounds(snap.info)
    dims = {"POINT": 0, "LINESTRING": 1, "POLYGON": 2}
    gtype = snap.info.geometry_type.upper().removeprefix("MULTI")
    fields = _fields(cid, snap.kinds)

    def build() -> dict[str, Any]:
        layer: dict[str, Any] = {
            "id": cid, "title": title, "dataType": "vector",
            "minTileMatrix": "0", "maxTileMatrix": str(MAX_ZOOM),
            "propertiesSchema": {"type": "object", "properties": {
                f: {"type": "string"} for f in fields}}}
        if gtype in dims:
            layer["geometryDimension"] = dims[gtype]
        return {
            "title": f"{title} — {TMS_ID}", "description": description,
            "dataType": "vector", "crs": WEB_MERCATOR, "tileMatrixSetURI": TMS_URI,
            "boundingBox": {"lowerLeft": box[:2], "upperRight": box[2:], "crs": CRS84},
            "tileMatrixSetLimits": tile_matrix_limits(*box, zooms=range(MAX_ZOOM + 1)),
            "layers": [layer],
            "links": [
                *docs.self_links(urls["tileset"], fmt, title="The tileset"),
                docs.link(urls["tilejson"], "describedby", TILEJSON, "TileJSON 3.0.0"),
                docs.link(f"{base()}/tileMatrixSets/{TMS_ID}", REL_TILING_SCHEME, docs.JSON,
                          "The tile matrix set"),
                docs.link(f"{base()}/collections/{cid}", "collection", docs.JSON,
                          "The collection"),
                _template_link(cid),
            ],
        }

    def html() -> str:
        return render_template("ogcapi/tileset.html", doc=build(), base=base(), cid=cid,
                               title=title, tilejson=urls["tilejson"])

    return respond(("tileset", snap.info.version), fmt, lambda: dumps(build()), html)


@bp.get("/collections/<cid>/tiles/<tms_id>/tilejson.json")
def tilejson(cid: str, tms_id: str) -> Response:
    """TileJSON 3.0.0 of the collection's vector tiles (for MapLibre and other web maps)."""
    _json_only()
    _tms(tms_id)
    snap = snapshot(get_store(), cid)
    title, description = docs.titles(snap.info)
    box = _bounds(snap.info)
    doc = {
        "tilejson": "3.0.0", "name": title, "description": description,
        "version": "1.0.0", "scheme": "xyz", "tiles": [_urls(cid)["xyz"]],
        "minzoom": 0, "maxzoom": MAX_ZOOM, "bounds": box,
        "center": [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2, 6],
        "attribution": "锡林郭勒草原图集 Xilingol Grassland Atlas",
        "vector_layers": [{"id": cid, "description": title,
                           "fields": _fields(cid, snap.kinds),
                           "minzoom": 0, "maxzoom": MAX_ZOOM}],
    }
    return respond(("tilejson", snap.info.version), "json", lambda: dumps(doc), str)


@bp.get("/collections/<cid>/tiles/<tms_id>/<tile_matrix>/<tile_row>/<tile_col>")
def tile(cid: str, tms_id: str, tile_matrix: str, tile_row: str, tile_col: str) -> Response:
    """One vector tile: matrix = zoom, row = XYZ y, column = XYZ x."""
    check_known(request.args, ("f",))
    if request.args.get("f", "mvt") != "mvt":
        raise ApiError("tiles are Mapbox Vector Tiles", 400, hint="leave out f or use f=mvt",
                       code="unsupported_format", message_zh="瓦片只提供 MVT 格式")
    _tms(tms_id)
    try:
        z, y, x = int(tile_matrix), int(tile_row), int(tile_col)
    except ValueError:
        raise ApiError(f"tile {tile_matrix}/{tile_row}/{tile_col} is not three integers", 400,
                       hint="tileMatrix/tileRow/tileCol are integers (zoom, y, x)",
                       code="bad_tile", message_zh="瓦片编号应为三个整数") from None
    if not (0 <= z <= MAX_ZOOM and 0 <= y < 2**z and 0 <= x < 2**z):
        raise ApiError(f"tile {z}/{y}/{x} is outside {TMS_ID}", 404,
                       hint=f"tileMatrix 0..{MAX_ZOOM}; tileRow and tileCol 0..2^tileMatrix-1",
                       code="bad_tile", message_zh=f"瓦片 {z}/{y}/{x} 超出了瓦片矩阵")
    snapshot(get_store(), cid)  # 404 for an unknown collection, as the other routes
    return tile_response(cid, z, x, y)
