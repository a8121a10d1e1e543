"""The layers the map pages draw: the layer list, one layer, its features per zoom.

=====================================================  =========================================
``GET /api/layers``                                     catalog + user layers (titles, style,
                                                        legend, fields, provenance, bounds, count)
``GET /api/layers/<id>``                                one of them
``GET /api/layers/<id>/features?zoom=&bbox=&datum=``    GeoJSON trimmed and simplified for ``zoom``
``POST /api/convert?from=wgs84&to=gcj02``               re-datum a GeoJSON body (for overlays a
                                                        page made itself, e.g. an upload result)
=====================================================  =========================================

The pages never inline layer data: they fetch it here.  Each layer version of up to
:data:`CACHE_ROWS` features is encoded once per (zoom, datum) and kept in the
version's cache where the store holds the layer in memory
(:meth:`layers.store.Store.in_memory`), so a request costs a spatial-index lookup and
a byte join; a larger layer encodes only the rows it returns.  One answer holds at
most :data:`MAX_FEATURES` features (413 ``too_many_features`` above, naming the vector
tiles and the OGC API pages: the page draws large point layers from tiles), so no
request of a million-feature layer builds a million-feature body.  Responses carry
an ETag (304 on revalidation) and are gzipped.

Examples
--------
>>> import tempfile, os
>>> from webmap import create_app
>>> app = create_app({"ATLAS_STORE": os.path.join(tempfile.mkdtemp(), "a.gpkg")})
>>> r = app.test_client().get("/api/layers/ports/features?zoom=8")
>>> r.json["numberMatched"]
2
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import orjson
from flask import Blueprint, Response, jsonify, request

from geo.crs import normalise_datum, transform_geometries
from geo.geojson import encode_features, encode_for_zoom, feature_collection
from layers.store import Store, parse_bbox

from ..core.errors import ApiError
from ..core.http import IMMUTABLE, REVALIDATE, cached_response, make_etag
from ..core.listing import describe_layer, layer_listing, names_current_version
from ..core.params import int_value, page_datum
from ..core.store import get_store

bp = Blueprint("layers_api", __name__)

#: Most features one answer of ``/features`` holds (a bigger answer: 413).
MAX_FEATURES = 100_000
#: Layers up to this many features are encoded whole and cached per (zoom, datum).
CACHE_ROWS = 100_000

def _lang() -> str:
    return "en" if request.args.get("lang") == "en" else "zh"


@bp.get("/api/layers")
def list_layers():
    """Every layer: catalog layers in catalog order, then user layers by name."""
    key, body = layer_listing(get_store(), _lang())
    # Revalidated on every use: the page must learn of a new version at once.
    return cached_response(key, lambda: body, "application/json", cache_control=REVALIDATE)


@bp.get("/api/layers/<layer_id>")
def one_layer(layer_id: str):
    """One layer's description."""
    store = get_store()
    info = store.info(layer_id)
    return jsonify(describe_layer(store, info, _lang()))


# -- features -------------------------------------------------------------------------------

def _positions(store: Store, name: str, bbox) -> tuple[Any, np.ndarray | None]:
    """(in-memory layer or whole frame, row positions within bbox or None for all)."""
    layer = store.in_memory(name)
    if layer is not None:
        return layer, (None if bbox is None else layer.select(bbox))
    gdf = store.get(name)
    if bbox is None:
        return gdf, None
    idx = store.query(name, bbox=bbox).features.index
    return gdf, np.flatnonzero(gdf.index.isin(idx))


@bp.get("/api/layers/<layer_id>/features")
def layer_features(layer_id: str):
    """GeoJSON of a layer for the map at ``zoom`` (coordinates trimmed, geometry simplified).

    Query parameters: ``zoom`` (0–22; omitted = full precision), ``bbox``
    (minx,miny,maxx,maxy in WGS 84), ``datum`` (wgs84 | gcj02: the basemap's
    datum), ``limit`` (at most that many features).
    """
    store = get_store()
    info = store.info(layer_id)
    zoom = int_value("zoom", 0, 22)
    limit = int_value("limit", 0, 10_000_000)
    datum = page_datum()
    bbox = parse_bbox(request.args.get("bbox"))
    key = make_etag("features", info.version, zoom, datum, bbox, limit)
    if bbox is None:  # refused before anything is loaded
        _check_size(layer_id, info.count, limit)

    def produce() -> bytes:
        layer, positions = _positions(store, layer_id, bbox)
        in_memory = not isinstance(layer, gpd.GeoDataFrame)
        gdf = layer.gdf if in_memory else layer
        matched = len(gdf) if positions is None else len(positions)
        _check_size(layer_id, matched, limit)
        if len(gdf) > CACHE_ROWS:  # the rows returned only, never the whole layer
            n = matched if limit is None else min(limit, matched)
            rows = np.arange(n) if positions is None else positions[:n]
            chosen = encode_for_zoom(gdf.iloc[rows], zoom, datum)
        else:
            cache = layer.cache if in_memory else None
            ckey = ("page_features", zoom, datum)
            feats = cache.get(ckey) if cache is not None else None
            if feats is None:
                feats = encode_for_zoom(gdf, zoom, datum)
                if cache is not None:
                    cache[ckey] = feats
            chosen = feats if positions is None else [feats[i] for i in positions]
            if limit is not None:
                chosen = chosen[:limit]
        return feature_collection(chosen, {
            "layer": layer_id, "zoom": zoom, "datum": datum,
            "numberMatched": matched, "numberReturned": len(chosen)})

    # At the URL the layer list hands out (?v= of the current version) the answer never
    # changes; anywhere else it changes with the next write.
    policy = IMMUTABLE if names_current_version(info, request.args.get("v")) else REVALIDATE
    return cached_response(key, produce, "application/geo+json", cache_control=policy)


def _check_size(layer_id: str, matched: int, limit: int | None) -> None:
    """413 when an answer would hold more than :data:`MAX_FEATURES` features."""
    n = matched if limit is None else min(limit, matched)
    if n > MAX_FEATURES:
        raise ApiError(
            f"{n:,} features of {layer_id!r} are more than the {MAX_FEATURES:,} one answer "
            "holds", 413, code="too_many_features",
            hint=f"add limit (at most {MAX_FEATURES:,}) or a smaller bbox, draw the layer "
                 f"from /tiles/{layer_id}/{{z}}/{{x}}/{{y}}.mvt, or page through "
                 f"/ogcapi/collections/{layer_id}/items",
            message_zh=f"{n:,} 个要素超过了一次答复的上限（{MAX_FEATURES:,} 个）",
            hint_zh=f"请加上 limit（不超过 {MAX_FEATURES:,}）或缩小范围，或改用矢量瓦片、"
                    "分页的 OGC API 要素接口")


# -- datum conversion of page-made overlays -----------------------------------------------

@bp.post("/api/convert")
def convert():
    """Convert a GeoJSON FeatureCollection (body) between datums: ``?from=wgs84&to=gcj02``."""
    try:
        src = normalise_datum(request.args.get("from"))
        dst = normalise_datum(request.args.get("to"))
    except ValueError as e:
        raise ApiError(str(e), 400, hint="from=wgs84&to=gcj02", code="bad_datum",
                       hint_zh="坐标基准可选 WGS 84、CGCS2000、GCJ-02、BD-09") from None
    try:
        body = orjson.loads(request.get_data() or b"")
        features = body["features"] if body.get("type") == "FeatureCollection" else [body]
        gdf = gpd.GeoDataFrame.from_features(features, crs=4326)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
        raise ApiError("the body is not a GeoJSON FeatureCollection", 400,
                       hint="POST a FeatureCollection with Content-Type application/json",
                       code="geojson_invalid", message_zh="请求内容不是 GeoJSON 要素集合"
                       ) from None
    if len(gdf):
        gdf = gdf.set_geometry(transform_geometries(gdf.geometry.values, src, dst), crs=4326)
    ids = [f.get("id", i) for i, f in enumerate(features)]
    return Response(feature_collection(encode_features(gdf, ids=ids)),
                    mimetype="application/geo+json")
