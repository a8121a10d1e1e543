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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd

from geo.geojson import encode_features
from layers.store import (
    BBox,
    LayerInfo,
    LayerNameError,
    LayerNotFound,
    MemoryLayer,
    Store,
    check_paging,
)

from ..core.errors import ApiError

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
    names : tuple of str
        Property names, from the store's registry when there is no in-memory copy.
    """

    info: LayerInfo
    layer: MemoryLayer | None = None
    names: tuple[str, ...] = ()

    @property
    def properties(self) -> list[str]:
        """Property names of the version, in column order."""
        return self.layer.properties if self.layer is not None else list(self.names)


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
            return Snapshot(info=layer.info, layer=layer)
        return Snapshot(info=store.info(name), names=tuple(store.properties(name)))
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
                encode: bool = True) -> Page:
    """Query the store and pick the pre-encoded bytes of the matching features.

    With an in-memory version the page is cut from the snapshot itself: the
    version its ETag names, whole even if a write lands meanwhile.  Otherwise
    the store answers; if it moved to a newer version since ``snap`` was taken,
    the page is encoded from the store's answer instead of the snapshot's cache.  Geometries of different versions are different
    objects (each version is decoded afresh), which makes the check one ``is``.
    """
    layer = snap.layer
    if encode and layer is not None:
        # The snapshot's own version (the one the ETag names): positions from its warm
        # index, bytes from its encoded cache; building a DataFrame page was half the
        # cost of a 1000-feature request.
        check_paging(limit, offset)
        positions = layer.select(bbox, filters or None)
        everything = encoded_layer(layer)
        chosen = positions[offset:offset + limit]
        return Page(None, [everything[p] for p in chosen], len(positions))
    result = store.query(snap.info.name, bbox=bbox, filters=filters or None, limit=limit,
                         offset=offset)
    page = result.features
    if not encode:
        return Page(page, [], result.number_matched)
    if layer is not None and len(page):
        positions = layer.gdf.index.get_indexer(page.index)
        if (positions >= 0).all() and \
                page.geometry.array[0] is layer.gdf.geometry.array[positions[0]]:
            everything = encoded_layer(layer)
            return Page(page, [everything[p] for p in positions], result.number_matched)
    return Page(page, encode_features(page) if len(page) else [], result.number_matched)


def feature_bytes(store: Store, snap: Snapshot, fid: int) -> tuple[gpd.GeoDataFrame, bytes] | None:
    """One feature as a one-row frame and its GeoJSON bytes, or None if there is no such fid."""
    layer = snap.layer
    if layer is not None:
        gdf = layer.gdf
        pos = gdf.index.get_indexer([fid])[0]
        if pos < 0:
            return None
        return gdf.iloc[[pos]], encoded_layer(layer)[pos]
    row = store.get_feature(snap.info.name, fid)
    if row is None:
        return None
    return row, encode_features(row)[0]
