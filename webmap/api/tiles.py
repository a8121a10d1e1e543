"""Vector tiles of every layer: ``GET /tiles/<layer>/<z>/<x>/<y>.mvt``.

Mapbox Vector Tiles (XYZ scheme, Web Mercator) made by the store
(:meth:`layers.store.Store.tile`; see :mod:`layers.tiles` for what a tile carries).
Tiles are cached per (layer version, z, x, y) in an LRU bounded in bytes
(``ATLAS_TILE_CACHE_MB``, default 64) and answered through
:func:`webmap.core.http.cached_response`: strong ETag, 304 on revalidation, gzip.
An empty tile is ``204 No Content``; a bad address is a 400 JSON error.
``?datum=gcj02`` gives tiles that line up with an AMap/Gaode basemap.

Examples
--------
>>> import tempfile, os
>>> from webmap import create_app
>>> app = create_app({"ATLAS_STORE": os.path.join(tempfile.mkdtemp(), "a.gpkg")})
>>> client = app.test_client()
>>> client.get("/tiles/stations/5/26/11.mvt").status_code in (200, 204)
True
>>> client.get("/tiles/stations/3/9/0.mvt").json["error"]
'at zoom 3, x and y must lie in 0..7'
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from flask.blueprints import BlueprintSetupState

from geo.crs import normalise_datum
from geo.vector_tiles import MAX_ZOOM, TileError, check_tile
from layers.store import validate_layer_name
from layers.tiles import TILE_SCHEMA

from ..core.errors import ApiError
from ..core.http import IMMUTABLE, REVALIDATE, ByteLRU, cached_response, make_etag, not_modified
from ..core.listing import names_current_version
from ..core.store import get_store

bp = Blueprint("tiles", __name__)

MIMETYPE = "application/vnd.mapbox-vector-tile"
_CACHE_KEY = "atlas_tiles"


def _address(z: str, x: str, y: str) -> tuple[int, int, int]:
    try:
        zi, xi, yi = int(z), int(x), int(y)
    except ValueError:
        raise ApiError(f"tile address {z}/{x}/{y} is not three integers", 400,
                       hint=f"use /tiles/<layer>/<z>/<x>/<y>.mvt with 0 <= z <= {MAX_ZOOM}"
                       " and 0 <= x, y < 2^z", code="bad_tile",
                       message_zh=f"瓦片编号 {z}/{x}/{y} 不是三个整数") from None
    try:
        check_tile(zi, xi, yi)
    except TileError as e:
        raise ApiError(str(e), 400, hint="XYZ tiles: 0 <= x, y < 2^z, y counted from the north",
                       code="bad_tile", message_zh=f"瓦片编号 {zi}/{xi}/{yi} 超出了范围"
                       ) from None
    return zi, xi, yi


def _datum() -> str:
    raw = request.args.get("datum") or "wgs84"
    try:
        datum = normalise_datum(raw)
    except ValueError:
        datum = ""
    if datum not in ("wgs84", "cgcs2000", "gcj02"):
        raise ApiError(f"datum {raw!r} is not offered for tiles", 400,
                       hint="datum=wgs84 (OSM, Esri, Tianditu) or datum=gcj02 (AMap/Gaode)",
                       code="bad_datum", message_zh=f"瓦片不提供坐标基准 {raw!r}",
                       hint_zh="可选 WGS 84（OSM、Esri、天地图）或 GCJ-02（高德）")
    return "wgs84" if datum == "cgcs2000" else datum  # identical at map scale


@bp.record_once
def _make_cache(state: BlueprintSetupState) -> None:
    """Give the app its tile cache when the blueprint is registered, sized by its settings."""
    settings = state.app.extensions["atlas_settings"]
    state.app.extensions[_CACHE_KEY] = {
        "tiles": ByteLRU(int(settings.tile_cache_mb * 1024 * 1024))}


@bp.get("/tiles/<layer>/<z>/<x>/<y>.mvt")
def layer_tile(layer: str, z: str, x: str, y: str) -> Response:
    """One vector tile of ``layer`` (200 with the tile, 204 when empty, 304 when unchanged).

    ``?datum=gcj02`` serves the tile for a GCJ-02 basemap (AMap/Gaode).
    """
    zi, xi, yi = _address(z, x, y)
    return tile_response(layer, zi, xi, yi, _datum())


def tile_response(layer: str, zi: int, xi: int, yi: int, datum: str = "wgs84") -> Response:
    """The response of tile ``zi/xi/yi`` (XYZ) of ``layer``: 200, 204 when empty, 304.

    Shared by this route and OGC API – Tiles (:mod:`webmap.ogcapi.tiles`): one cache,
    one ETag per tile whatever the URL.
    """
    validate_layer_name(layer)
    store = get_store()
    info = store.info(layer)  # LayerNotFound → 404
    etag = make_etag(info.version, TILE_SCHEMA, datum, zi, xi, yi)
    cache: ByteLRU = current_app.extensions[_CACHE_KEY]["tiles"]
    key = (info.version, datum, zi, xi, yi)

    # Kept for good at the URL the layer list hands out (?v= of the current version).
    policy = IMMUTABLE if names_current_version(info, request.args.get("v")) else REVALIDATE
    if not_modified(etag):  # revalidation costs a registry lookup, nothing more
        return cached_response(etag, bytes, MIMETYPE, cache_control=policy)
    made: list[bytes] = []

    def produce() -> bytes:  # not called when the gzipped tile is already memoised
        body = cache.get(key)
        if body is None:
            body = store.tile(layer, zi, xi, yi, datum)
            cache.put(key, body)
        made.append(body)
        return body

    resp = cached_response(etag, produce, MIMETYPE, memo_gzip=True, cache_control=policy)
    if made and not made[0]:
        return cached_response(etag, bytes, MIMETYPE, status=204, compress=False,
                               cache_control=policy)
    return resp
