"""The items fast path: query through the Store, answer with pre-encoded features.

Each layer version's features are encoded to GeoJSON once
(:func:`geo.geojson.encode_features`) and kept in the version's cache
(``store.in_memory(name).cache``, dropped with the version); a request asks the
store which features match (for the GeoPackage store: the warm STRtree) and
joins their bytes (:func:`geo.geojson.feature_collection`).  A store that keeps no
in-memory copy (PostGIS) gets its page encoded per request.

Examples
--------
>>> import tempfile, os, shapely, geopandas as gpd
>>> from layers.open import open_store
>>> store = open_store(os.path.join(tempfile.mkdtemp(), "f.gpkg"))
>>> _ = store.put("sites", gpd.GeoDataFrame(
...     {"name_zh": ["甲", "乙"]}, geometry=[shapely.Point(116, 44), shapely.Point(117, 45)],
...     crs=4326))
>>> snap = snapshot(store, "sites")
>>> page = select_page(store, snap, bbox=(115.5, 43.5, 116.5, 44.5), filters=None,
...                    limit=10, offset=0)
>>> page.number_matched, page.encoded[0][:40]
(1, b'{"type":"Feature","id":1,"geometry":{"ty')
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np

from geo.crs import CrsInfo, transform_geometries_crs
from geo.geojson import encode_features
from layers.filter import CqlFilter
from layers.store import (
    BBox,
    LayerInfo,
    LayerNameError,
    LayerNotFound,
    MemoryLayer,
    SortBy,
    Store,
    check_paging,
)
from layers.temporal import query_filter

from ..core.errors import ApiError
from .crs import decimals

#: Key of the pre-encoded features in a layer version's cache.
CACHE_KEY = "ogcapi.features"
# One encoder at a time: eight concurrent first requests on a cold 100,000-feature
# layer would otherwise each encode it (the GIL makes that eight times slower).
_ENCODE_LOCK = threading.Lock()


@dataclass(frozen=True)
class Snapshot:
    """One version of a collection as this request sees it.

    Attributes
    ----------
    info : LayerInfo
        Registry entry (version for ETags, bounds, count).
    layer : MemoryLayer or None
        The store's in-memory copy of that version (:meth:`Store.in_memory`), where it
        keeps one.
    kinds : dict
        Property name → kind, from the store's registry when there is no in-memory copy.
    """

    info: LayerInfo
    layer: MemoryLayer | None = None
    kinds: dict[str, str] = field(default_factory=dict)

    @property
    def properties(self) -> list[str]:
        """Property names of the version, in column order."""
        return list(self.kinds)


def not_found(name: str) -> ApiError:
    """The 404 for a collection that does not exist."""
    return ApiError(f"no collection called {name!r}", 404,
                    hint="GET /ogcapi/collections lists the collections",
                    code="layer_not_found", message_zh=f"没有名为 {name!r} 的图层")


def snapshot(store: Store, name: str) -> Snapshot:
    """The current version of collection ``name``; a 404 :class:`ApiError` if none."""
    try:
        layer = store.in_memory(name)
        if layer is not None and layer.info is not None:
            return Snapshot(info=layer.info, layer=layer, kinds=dict(layer.kinds))
        return Snapshot(info=store.info(name), kinds=store.properties(name))
    except (LayerNotFound, LayerNameError):
        raise not_found(name) from None


def encoded_layer(layer: MemoryLayer) -> list[bytes]:
    """Every feature of an in-memory layer version as GeoJSON bytes, encoded once."""
    cached = layer.cache.get(CACHE_KEY)
    if cached is not None:
        return cached
    with _ENCODE_LOCK:
        cached = layer.cache.get(CACHE_KEY)
        if cached is None:
            cached = encode_features(layer.gdf)
            layer.cache[CACHE_KEY] = cached
    return cached


@dataclass
class Page:
    """Features of one items request.

    Attributes
    ----------
    features : geopandas.GeoDataFrame or None
        The page, indexed by fid (for HTML); None on the JSON fast path.
    encoded : list of bytes
        The same features as GeoJSON Feature objects.
    number_matched : int
        Matches before paging.
    """

    features: gpd.GeoDataFrame | None
    encoded: list[bytes]
    number_matched: int


def select_page(store: Store, snap: Snapshot, *, bbox: BBox | None,
                filters: Mapping[str, Any] | None, limit: int, offset: int,
                encode: bool = True, where: CqlFilter | None = None,
                datetime: str | None = None, sortby: SortBy | None = None,
                properties: Sequence[str] | None = None, skip_geometry: bool = False,
                crs: CrsInfo | None = None) -> Page:
    """Query the store and pick the pre-encoded bytes of the matching features.

    With an in-memory version the page is cut from the snapshot itself: the
    version its ETag names, whole even if a write lands meanwhile.  Otherwise
    the store answers; if it moved to a newer version since ``snap`` was taken,
    the page is encoded from the store's answer instead of the snapshot's cache.
    Geometries of different versions are different objects (each version is decoded
    afresh), which makes the check one ``is``.

    Features written as stored (every property, CRS84) come from the pre-encoded
    cache; another ``crs``, ``properties`` or ``skip_geometry`` encodes the page itself
    (:func:`encode_page`).
    """
    layer = snap.layer
    plain = (crs is None or crs.code == "OGC:CRS84") and properties is None \
        and not skip_geometry
    if encode and layer is not None:
        # The snapshot's own version (the one the ETag names): positions from its warm
        # index, bytes from its encoded cache; building a DataFrame page was half the
        # cost of a 1000-feature request.
        check_paging(limit, offset)
        condition = query_filter(snap.info.name, layer.kinds, where, datetime)
        positions = layer.select(bbox, filters or None, sortby or None, where=condition)
        chosen = positions[offset:offset + limit]
        if plain:
            everything = encoded_layer(layer)
            return Page(None, [everything[p] for p in chosen], len(positions))
        page = layer.gdf.iloc[chosen]
        return Page(page, encode_page(page, crs, properties, skip_geometry), len(positions))
    result = store.query(snap.info.name, bbox=bbox, filters=filters or None, where=where,
                         datetime=datetime, sortby=sortby or None, properties=properties,
                         limit=limit, offset=offset)
    page = result.features
    if not encode:
        return Page(page, [], result.number_matched)
    if not plain:
        return Page(page, encode_page(page, crs, properties, skip_geometry),
                    result.number_matched)
    if layer is not None and len(page):
        positions = layer.gdf.index.get_indexer(page.index)
        if (positions >= 0).all() and \
                page.geometry.array[0] is layer.gdf.geometry.array[positions[0]]:
            everything = encoded_layer(layer)
            return Page(page, [everything[p] for p in positions], result.number_matched)
    return Page(page, encode_features(page) if len(page) else [], result.number_matched)


def encode_page(page: gpd.GeoDataFrame, crs: CrsInfo | None = None,
                properties: Sequence[str] | None = None, skip_geometry: bool = False
                ) -> list[bytes]:
    """GeoJSON features of a page in ``crs`` (axis order as it defines), with only
    ``properties`` and without geometries if ``skip_geometry``.

    Examples
    --------
    >>> import shapely, geopandas as gpd
    >>> from geo.crs import parse_crs
    >>> g = gpd.GeoDataFrame({"n": [1], "m": ["x"]}, geometry=[shapely.Point(117, 44)],
    ...                      crs=4326)
    >>> encode_page(g, parse_crs("EPSG:4548"), ["n"])[0]
    b'{"type":"Feature","id":0,"geometry":{"type":"Point","coordinates":[4873822.37,500000.0]},"properties":{"n":1}}'
    """
    if not len(page):
        return []
    geoms = np.asarray(page.geometry.values, dtype=object)
    if skip_geometry:
        geoms = np.full(len(page), None, dtype=object)
    elif crs is not None and crs.code != "OGC:CRS84":
        geoms = transform_geometries_crs(geoms, "OGC:CRS84", crs)
    out = gpd.GeoDataFrame(page.drop(columns=page.geometry.name),
                           geometry=gpd.GeoSeries(geoms, index=page.index))
    columns = list(properties) if properties is not None else None
    precision = decimals(crs) if crs is not None and crs.code != "OGC:CRS84" else 6
    return encode_features(out, precision=precision, columns=columns)


def feature_bytes(store: Store, snap: Snapshot, fid: int, crs: CrsInfo | None = None
                  ) -> tuple[gpd.GeoDataFrame, bytes] | None:
    """One feature as a one-row frame and its GeoJSON bytes (in ``crs``), or None if
    there is no such fid."""
    layer = snap.layer
    plain = crs is None or crs.code == "OGC:CRS84"
    if layer is not None:
        gdf = layer.gdf
        pos = gdf.index.get_indexer([fid])[0]
        if pos < 0:
            return None
        row = gdf.iloc[[pos]]
        return row, encoded_layer(layer)[pos] if plain else encode_page(row, crs)[0]
    row = store.get_feature(snap.info.name, fid)
    if row is None:
        return None
    return row, encode_features(row)[0] if plain else encode_page(row, crs)[0]
