"""Vector tiles of every layer: ``GET /tiles/<layer>/<z>/<x>/<y>.mvt``.

Mapbox Vector Tiles (XYZ scheme, Web Mercator) made by
:class:`geo.vector_tiles.TileSource` from the layer's warm in-memory copy and
STRtree (``store.loaded(name)``): geometries clipped to the tile plus a buffer,
lines and polygons simplified per zoom, points thinned in large layers.  Each
feature carries its fid as the tile feature id and at most three properties,
``id``, ``name`` and ``category`` (the catalog's name and category fields), so a
tile of a million-point layer stays small; popups fetch the rest from the API.

Tiles are cached per (layer version, z, x, y) in an LRU bounded in bytes
(``ATLAS_TILE_CACHE_MB``, default 64) and answered through
:func:`webmap.http.cached_response`: strong ETag, 304 on revalidation, gzip.
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

import threading
from collections import OrderedDict

import geopandas as gpd
import numpy as np
import pandas as pd
from flask import Blueprint, Flask, Response, current_app, request

from geo.crs import normalise_datum, transform_geometries
from geo.vector_tiles import MAX_ZOOM, TileError, TileSource, check_tile
from layers.catalog import get_spec, layer_ids
from layers.store import Store, validate_layer_name

from .errors import ApiError
from .http import ByteLRU, cached_response, make_etag, not_modified

bp = Blueprint("tiles", __name__)

MIMETYPE = "application/vnd.mapbox-vector-tile"
#: Bump when the tile contents change for the same layer version (ETags follow).
TILE_SCHEMA = "mvt1"
_NAME_COLUMNS = ("name_zh", "name", "name_en", "NAME", "名称")
_CATEGORY_COLUMNS = ("category", "type", "level")


def tile_properties(name: str, gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    """The properties a tile carries: ``id``, ``name`` and ``category`` where the layer has them.

    The catalog says which field is a layer's name and which its category; user
    layers are matched by common column names.
    """
    spec = get_spec(name) if name in layer_ids() else None
    columns = set(gdf.columns) - {gdf.geometry.name}
    out: dict[str, pd.Series] = {}
    if "id" in columns:
        out["id"] = gdf["id"]
    name_col = spec.name_field if spec and spec.name_field in columns else next(
        (c for c in _NAME_COLUMNS if c in columns), None)
    if name_col:
        out["name"] = gdf[name_col]
    cat_col = (spec.style.category_field if spec and spec.style.category_field in columns
               else next((c for c in _CATEGORY_COLUMNS if c in columns), None))
    if cat_col:
        out["category"] = gdf[cat_col]
    return pd.DataFrame(out, index=gdf.index)


def _build_source(name: str, gdf: gpd.GeoDataFrame, tree=None, datum: str = "wgs84"
                  ) -> TileSource:
    geoms = gdf.geometry.values
    if datum != "wgs84":  # a basemap in another datum: its own geometries and index
        geoms, tree = transform_geometries(np.asarray(geoms, dtype=object), "wgs84", datum), None
    return TileSource(name, geoms, tile_properties(name, gdf), ids=gdf.index.to_numpy(),
                      tree=tree)


_build_lock = threading.Lock()


def tile_source(store: Store, name: str, datum: str = "wgs84") -> TileSource:
    """The :class:`TileSource` of the current version of ``name``, built once per version.

    It lives in the layer's per-version cache, so it goes when the layer changes.
    Stores without a warm in-memory copy (PostGIS) keep a few in the app instead.
    """
    loaded = getattr(store, "loaded", None)
    if loaded is not None:
        layer = loaded(name)
        key = ("tile_source", datum)
        src = layer.cache.get(key)
        if src is None:
            with _build_lock:  # a cold layer is built once, not once per waiting thread
                src = layer.cache.get(key)
                if src is None:
                    src = _build_source(name, layer.gdf, layer.tree, datum)
                    layer.cache[key] = src
        return src
    version = store.info(name).version
    sources: OrderedDict = current_app.extensions["atlas_tiles"]["sources"]
    with _build_lock:
        src = sources.get((version, datum))
        if src is None:
            src = _build_source(name, store.get(name), datum=datum)
            sources[(version, datum)] = src
            while len(sources) > 4:
                sources.popitem(last=False)
    return src


def _address(z: str, x: str, y: str) -> tuple[int, int, int]:
    try:
        zi, xi, yi = int(z), int(x), int(y)
    except ValueError:
        raise ApiError(f"tile address {z}/{x}/{y} is not three integers", 400,
                       hint=f"use /tiles/<layer>/<z>/<x>/<y>.mvt with 0 <= z <= {MAX_ZOOM}"
                       " and 0 <= x, y < 2^z") from None
    try:
        check_tile(zi, xi, yi)
    except TileError as e:
        raise ApiError(str(e), 400, hint="XYZ tiles: 0 <= x, y < 2^z, y counted from the north"
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
                       hint="datum=wgs84 (OSM, Esri, Tianditu) or datum=gcj02 (AMap/Gaode)")
    return "wgs84" if datum == "cgcs2000" else datum  # identical at map scale


@bp.get("/tiles/<layer>/<z>/<x>/<y>.mvt")
def layer_tile(layer: str, z: str, x: str, y: str) -> Response:
    """One vector tile of ``layer`` (200 with the tile, 204 when empty, 304 when unchanged).

    ``?datum=gcj02`` serves the tile for a GCJ-02 basemap (AMap/Gaode).
    """
    from . import get_store  # imported here: webmap/__init__ imports this module

    zi, xi, yi = _address(z, x, y)
    datum = _datum()
    validate_layer_name(layer)
    store = get_store()
    info = store.info(layer)  # LayerNotFound → 404
    etag = make_etag(info.version, TILE_SCHEMA, datum, zi, xi, yi)
    cache: ByteLRU = current_app.extensions["atlas_tiles"]["tiles"]
    key = (info.version, datum, zi, xi, yi)

    if not_modified(etag):  # revalidation costs a registry lookup, nothing more
        return cached_response(etag, bytes, MIMETYPE)
    made: list[bytes] = []

    def produce() -> bytes:  # not called when the gzipped tile is already memoised
        body = cache.get(key)
        if body is None:
            body = tile_source(store, layer, datum).tile(zi, xi, yi)
            cache.put(key, body)
        made.append(body)
        return body

    resp = cached_response(etag, produce, MIMETYPE, memo_gzip=True)
    if made and not made[0]:
        return cached_response(etag, bytes, MIMETYPE, status=204, compress=False)
    return resp


def init_app(app: Flask) -> None:
    """Give the app its tile cache."""
    mb = float(app.config.get("ATLAS_TILE_CACHE_MB", 64))
    app.extensions["atlas_tiles"] = {"tiles": ByteLRU(int(mb * 1024 * 1024)),
                                     "sources": OrderedDict()}
