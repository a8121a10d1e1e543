"""The layers the map pages draw: catalog, one layer, its features per zoom, kilometre posts.

=====================================================  =========================================
``GET /api/layers``                                     catalog + user layers (titles, style,
                                                        legend, fields, provenance, bounds, count)
``GET /api/layers/<id>``                                one of them
``GET /api/layers/<id>/features?zoom=&bbox=&datum=``    GeoJSON trimmed and simplified for ``zoom``
``GET /api/route/km-posts?every_km=10``                 kilometre posts of the scenic road
``POST /api/convert?from=wgs84&to=gcj02``               re-datum a GeoJSON body (for overlays a
                                                        page made itself, e.g. an upload result)
``POST /api/measure``                                   length/area of what the measure tool drew
=====================================================  =========================================

The pages never inline layer data: they fetch it here.  Each layer version is
encoded once per (zoom, datum) and kept in the store's per-version cache, so a
request costs a spatial-index lookup and a byte join; responses carry an ETag
(304 on revalidation) and are gzipped.

Examples
--------
>>> from layers.catalog import get_spec
>>> d = describe_spec(get_spec("projects"), "en")
>>> d["title"], d["legend"][0]["label"]
('2023 major projects', 'Energy')
"""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np
import orjson
import shapely
from flask import Blueprint, Response, current_app, jsonify, request

from geo.crs import AREA_CRS, DISTANCE_CRS, normalise_datum, to_wgs84, transform_geometries
from geo.geojson import (
    dumps,
    encode_features,
    feature_collection,
    precision_for_zoom,
    tolerance_for_zoom,
)
from layers.catalog import GROUPS, get_spec
from layers.spec import Field, LayerSpec, Provenance, Style
from layers.store import LayerInfo, LayerNotFound, Store, parse_bbox

from .errors import ApiError
from .http import ByteLRU, cached_response, make_etag

bp = Blueprint("layers_api", __name__)

#: Datums a page can ask its overlays in (the basemap's datum).
PAGE_DATUMS = ("wgs84", "gcj02")
#: Point layers above this many features are better drawn from vector tiles when they exist.
TILE_THRESHOLD = 20_000
#: Colours of user layers, in order of their names (stable per name).
_USER_COLORS = ("#d95f02", "#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#e6ab02")


def _store() -> Store:
    from . import get_store

    return get_store()


def _lang() -> str:
    return "en" if request.args.get("lang") == "en" else "zh"


# -- layer descriptions -------------------------------------------------------------------

def user_layer_spec(info: LayerInfo, columns: list[str], geometry_type: str = "Point"
                    ) -> LayerSpec:
    """A :class:`LayerSpec` for a layer saved by a user (not in the catalog).

    Titles and provenance come from the metadata saved with the layer (``title``,
    ``title_en``, ``source``, ``licence``, ``datum``, ``accuracy``, ``date``); the
    fields are its columns, labelled by name.

    Examples
    --------
    >>> info = LayerInfo("my_sites", 2, (116, 43, 117, 44), "v1", "2024", {"title": "我的点位"})
    >>> spec = user_layer_spec(info, ["name", "geometry"])
    >>> spec.title("en"), spec.name_field, spec.group
    ('我的点位', 'name', 'user')
    """
    meta = info.meta or {}
    cols = [c for c in columns if c != "geometry"]
    name_field = next((c for c in ("name_zh", "name", "名称", "title", "id") if c in cols),
                      cols[0] if cols else "")
    fields = tuple(Field(c, c, c, tooltip=(c == name_field)) for c in cols)
    color = _USER_COLORS[sum(map(ord, info.name)) % len(_USER_COLORS)]
    gtype = str(meta.get("geometry_type") or geometry_type)
    title_zh = str(meta.get("title") or info.name)
    return LayerSpec(
        id=info.name,
        title_zh=title_zh,
        title_en=str(meta.get("title_en") or title_zh),
        description_zh=str(meta.get("description") or "用户上传的图层"),
        description_en=str(meta.get("description_en") or "Layer uploaded by a user"),
        geometry_type=gtype if gtype in ("Point", "LineString", "Polygon") else "Point",
        group="user",
        fields=fields,
        style=Style(color=color, fill_color=color, fill_opacity=0.6, radius=6),
        provenance=Provenance(
            source_zh=str(meta.get("source") or "用户上传"),
            source_en=str(meta.get("source_en") or meta.get("source") or "User upload"),
            licence=str(meta.get("licence") or "unknown"),
            datum=str(meta.get("datum") or "WGS 84 (EPSG:4326) after import"),
            accuracy=str(meta.get("accuracy") or "unknown"),
            date=str(meta.get("date") or info.updated[:10]),
            authored=False,
        ),
        name_field=name_field,
        user_layer=True,
    )


def describe_spec(spec: LayerSpec, lang: str = "zh") -> dict[str, Any]:
    """JSON description of a layer for the pages: titles, style, legend, fields, provenance.

    Examples
    --------
    >>> from layers.catalog import get_spec
    >>> d = describe_spec(get_spec("rivers"))
    >>> d["legend"], d["group_title"]
    ([{'value': None, 'label': '河流', 'label_zh': '河流', 'label_en': 'Rivers', 'color': '#2171b5'}], '水系与流域')
    """
    style = spec.style
    if style.category_field and style.categories:
        legend = [{"value": c.value, "label": c.label(lang), "label_zh": c.label_zh,
                   "label_en": c.label_en, "color": c.color} for c in style.categories]
    else:
        legend = [{"value": None, "label": spec.title(lang), "label_zh": spec.title_zh,
                   "label_en": spec.title_en, "color": style.fill_color or style.color}]
    group = GROUPS.get(spec.group, (spec.group, spec.group))
    prov = spec.provenance
    return {
        "id": spec.id,
        "title": spec.title(lang),
        "title_zh": spec.title_zh,
        "title_en": spec.title_en,
        "description": spec.description(lang),
        "geometry_type": spec.geometry_type,
        "group": spec.group,
        "group_title": group[1] if lang == "en" else group[0],
        "name_field": spec.name_field,
        "min_zoom": spec.min_zoom,
        "max_zoom": spec.max_zoom,
        "default_visible": spec.default_visible,
        "user_layer": spec.user_layer,
        "style": {
            "color": style.color, "weight": style.weight, "opacity": style.opacity,
            "fill_color": style.fill_color, "fill_opacity": style.fill_opacity,
            "radius": style.radius, "dash_array": style.dash_array,
            "category_field": style.category_field,
        },
        "legend": legend,
        "fields": [{"name": f.name, "label": f.label(lang), "label_zh": f.label_zh,
                    "label_en": f.label_en, "kind": f.kind, "popup": f.popup,
                    "tooltip": f.tooltip, "unit": f.unit} for f in spec.fields],
        "provenance": {
            "source": prov.source(lang), "source_zh": prov.source_zh,
            "source_en": prov.source_en, "licence": prov.licence, "datum": prov.datum,
            "accuracy": prov.accuracy, "date": prov.date, "authored": prov.authored,
            "illustrative": prov.authored, "notes": prov.notes,
        },
    }


def spec_for(store: Store, info: LayerInfo) -> LayerSpec:
    """Catalog spec of a reference layer, or a spec made for a user layer."""
    try:
        return get_spec(info.name)
    except KeyError:
        pass
    gdf = store.get(info.name)
    types = gdf.geom_type.dropna()
    gtype = str(types.iloc[0]).removeprefix("Multi") if len(types) else "Point"
    return user_layer_spec(info, list(gdf.columns), gtype)


def describe_layer(store: Store, info: LayerInfo, lang: str = "zh") -> dict[str, Any]:
    """:func:`describe_spec` plus what the store knows: count, bounds, version, URLs."""
    d = describe_spec(spec_for(store, info), lang)
    bounds = [None if math.isnan(b) else b for b in info.bounds]
    d.update({
        "count": info.count,
        "bounds": bounds,
        "version": info.version,
        "updated": info.updated,
        "features_url": f"/api/layers/{info.name}/features",
    })
    if ("tiles.layer_tile" in current_app.view_functions
            and d["geometry_type"] == "Point" and info.count > TILE_THRESHOLD):
        # Large point layers are drawn from vector tiles once the tiles endpoint exists.
        d["tiles_url"] = f"/tiles/{info.name}/{{z}}/{{x}}/{{y}}.mvt"
    return d


def layer_listing(store: Store, lang: str) -> tuple[str, bytes]:
    """(ETag, body) of ``/api/layers`` in ``lang``; the body is built once per layer versions.

    The map pages carry the same body (:mod:`webmap.pages`), so it is kept in a
    small memo keyed by the ETag rather than rebuilt for every page view.
    """
    infos = store.list_layers()
    key = make_etag("layers", lang, *(i.version for i in infos))
    body = _LISTINGS.get(key)
    if body is None:
        layers = [describe_layer(store, i, lang) for i in infos]
        groups = [{"id": g, "title": (t[1] if lang == "en" else t[0])}
                  for g, t in GROUPS.items()]
        body = dumps({"layers": layers, "groups": groups})
        _LISTINGS.put(key, body)
    return key, body


#: Layer-list bodies by ETag (a few languages × layer versions).
_LISTINGS = ByteLRU(4 * 1024 * 1024)


@bp.get("/api/layers")
def list_layers():
    """Every layer: catalog layers in catalog order, then user layers by name."""
    key, body = layer_listing(_store(), _lang())
    return cached_response(key, lambda: body, "application/json", max_age=10)


@bp.get("/api/layers/<layer_id>")
def one_layer(layer_id: str):
    """One layer's description."""
    store = _store()
    info = store.info(layer_id)
    return jsonify(describe_layer(store, info, _lang()))


# -- features -------------------------------------------------------------------------------

def _int_arg(name: str, lo: int, hi: int) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(float(raw))
    except ValueError:
        raise ApiError(f"{name} must be a whole number, got {raw!r}", 400,
                       hint=f"e.g. {name}={lo if name == 'zoom' else 1000}") from None
    if not lo <= value <= hi:
        raise ApiError(f"{name} must lie between {lo} and {hi}, got {value}", 400)
    return value


def _page_datum() -> str:
    raw = request.args.get("datum") or "wgs84"
    try:
        datum = normalise_datum(raw)
    except ValueError as e:
        raise ApiError(str(e), 400, hint="datum=wgs84 or datum=gcj02") from None
    if datum == "cgcs2000":  # identical to WGS 84 at map scale
        datum = "wgs84"
    if datum not in PAGE_DATUMS:
        raise ApiError(f"datum {raw!r} is not offered for map overlays", 400,
                       hint="datum=wgs84 (OSM, Esri, Tianditu) or datum=gcj02 (AMap/Gaode)")
    return datum


def encoded_features(gdf: gpd.GeoDataFrame, zoom: int | None, datum: str) -> list[bytes]:
    """Every feature of ``gdf`` encoded for ``zoom`` in ``datum`` (list of GeoJSON bytes).

    Examples
    --------
    >>> import shapely
    >>> g = gpd.GeoDataFrame({"n": ["a"]}, geometry=[shapely.Point(116.123456, 43.9)], crs=4326)
    >>> encoded_features(g, 5, "wgs84")[0]
    b'{"type":"Feature","id":0,"geometry":{"type":"Point","coordinates":[116.12,43.9]},"properties":{"n":"a"}}'
    """
    if datum != "wgs84":
        gdf = gdf.set_geometry(transform_geometries(gdf.geometry.values, "wgs84", datum),
                               crs=gdf.crs)
    return encode_features(gdf, precision=precision_for_zoom(zoom),
                           tolerance=tolerance_for_zoom(zoom))


def _positions(store: Store, name: str, bbox) -> tuple[Any, np.ndarray | None]:
    """(loaded layer or frame, row positions within bbox or None for all)."""
    loaded = getattr(store, "loaded", None)
    if loaded is not None:
        layer = loaded(name)
        if bbox is None:
            return layer, None
        from layers.gpkg import select_positions

        return layer, select_positions(layer, bbox, None)
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
    store = _store()
    info = store.info(layer_id)
    zoom = _int_arg("zoom", 0, 22)
    limit = _int_arg("limit", 0, 10_000_000)
    datum = _page_datum()
    bbox = parse_bbox(request.args.get("bbox"))
    key = make_etag("features", info.version, zoom, datum, bbox, limit)

    def produce() -> bytes:
        layer, positions = _positions(store, layer_id, bbox)
        cache = getattr(layer, "cache", None)
        gdf = getattr(layer, "gdf", layer)
        ckey = ("page_features", zoom, datum)
        feats = cache.get(ckey) if cache is not None else None
        if feats is None:
            feats = encoded_features(gdf, zoom, datum)
            if cache is not None:
                cache[ckey] = feats
        matched = len(feats) if positions is None else len(positions)
        chosen = feats if positions is None else [feats[i] for i in positions]
        if limit is not None:
            chosen = chosen[:limit]
        return feature_collection(chosen, {
            "layer": layer_id, "zoom": zoom, "datum": datum,
            "numberMatched": matched, "numberReturned": len(chosen)})

    return cached_response(key, produce, "application/geo+json", max_age=60)


# -- datum conversion of page-made overlays -----------------------------------------------

@bp.post("/api/convert")
def convert():
    """Convert a GeoJSON FeatureCollection (body) between datums: ``?from=wgs84&to=gcj02``."""
    try:
        src = normalise_datum(request.args.get("from"))
        dst = normalise_datum(request.args.get("to"))
    except ValueError as e:
        raise ApiError(str(e), 400, hint="from=wgs84&to=gcj02") from None
    try:
        body = orjson.loads(request.get_data() or b"")
        features = body["features"] if body.get("type") == "FeatureCollection" else [body]
        gdf = gpd.GeoDataFrame.from_features(features, crs=4326)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
        raise ApiError("the body is not a GeoJSON FeatureCollection", 400,
                       hint="POST a FeatureCollection with Content-Type application/json"
                       ) from None
    if len(gdf):
        gdf = gdf.set_geometry(transform_geometries(gdf.geometry.values, src, dst), crs=4326)
    ids = [f.get("id", i) for i, f in enumerate(features)]
    return Response(feature_collection(encode_features(gdf, ids=ids)),
                    mimetype="application/geo+json")


# -- measuring ------------------------------------------------------------------------------

def measure_geometry(coords: list, datum: str = "wgs84") -> dict[str, float]:
    """Length (km) of a line through ``coords`` and, for three or more points, the area (km²)
    of the polygon they close, computed in the metric CRSs of :mod:`geo.crs`.

    Examples
    --------
    >>> m = measure_geometry([[116.0, 44.0], [117.0, 44.0], [117.0, 45.0]])
    >>> round(m["length_km"]), round(m["area_km2"], -2)
    (191, 4500.0)
    """
    pts = np.asarray(coords, dtype="float64")
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 2 or not np.isfinite(pts).all():
        raise ApiError("coordinates must be a list of at least two [lon, lat] pairs", 400,
                       hint='POST {"coordinates": [[116.0, 44.0], [117.0, 44.5]]}')
    if datum != "wgs84":
        pts = np.column_stack(to_wgs84(pts[:, 0], pts[:, 1], datum))
    line = shapely.LineString(pts)
    out = {"length_km": float(gpd.GeoSeries([line], crs=4326).to_crs(DISTANCE_CRS).length[0]
                              / 1000.0)}
    if len(pts) >= 3:
        poly = shapely.make_valid(shapely.Polygon(pts))
        out["area_km2"] = float(gpd.GeoSeries([poly], crs=4326).to_crs(AREA_CRS).area[0] / 1e6)
        ring = shapely.LineString(np.vstack([pts, pts[:1]]))
        out["perimeter_km"] = float(
            gpd.GeoSeries([ring], crs=4326).to_crs(DISTANCE_CRS).length[0] / 1000.0)
    return out


@bp.post("/api/measure")
def measure():
    """Measure a line/polygon drawn on the map: ``{"coordinates": [[lon, lat], ...]}``.

    ``?datum=gcj02`` when the points were clicked on a GCJ-02 basemap.
    """
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or "coordinates" not in body:
        raise ApiError("the body must be JSON with a 'coordinates' list", 400,
                       hint='POST {"coordinates": [[116.0, 44.0], [117.0, 44.5]]}')
    return jsonify(measure_geometry(body["coordinates"], _page_datum()))


# -- kilometre posts --------------------------------------------------------------------------

@bp.get("/api/route/km-posts")
def km_posts():
    """Kilometre posts along the scenic road every ``every_km`` km (GeoJSON points)."""
    every = request.args.get("every_km", "10")
    try:
        every_km = float(every)
    except ValueError:
        every_km = float("nan")
    if not (math.isfinite(every_km) and 1 <= every_km <= 500):
        raise ApiError(f"every_km must be a number of kilometres from 1 to 500, got {every!r}",
                       400, hint="e.g. every_km=10")
    datum = _page_datum()
    store = _store()
    try:
        from layers.reference import reference
    except ModuleNotFoundError:  # the route analysis is not installed yet
        raise ApiError("the scenic-road analysis is not available", 503) from None
    try:
        ref = reference(store)
    except LayerNotFound as e:
        raise ApiError(str(e), 404, hint="load the reference layers: make store") from None
    route = ref.route
    posts = route.km_posts(every_km)
    if not isinstance(posts, gpd.GeoDataFrame):
        posts = gpd.GeoDataFrame(posts, crs=4326)
    key = make_etag("km-posts", every_km, datum, *ref.versions)
    return cached_response(key, lambda: feature_collection(
        encoded_features(posts, 12, datum), {"every_km": every_km,
                                            "length_km": round(float(route.length_km), 1)}),
        "application/geo+json", max_age=60)

