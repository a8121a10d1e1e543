"""The items fast path: query through the Store, answer with pre-encoded features.

Each layer version's features are encoded to GeoJSON once, into one buffer
(:class:`layers.encoded.EncodedFeatures`, built in the background for a large
layer, meanwhile each page is encoded alone) and kept in the version's cache
(``store.in_memory(name).cache``, dropped with the version); a request asks the
store which features match (for the GeoPackage store: the warm STRtree) and
joins their bytes.  A store that keeps no in-memory copy (PostGIS) answers with the
page's GeoJSON built in SQL (``Store.query(output="geojson")``).

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
>>> page.number_matched, page.body[:40]
(1, b'{"type":"Feature","id":1,"geometry":{"ty')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np

from geo.crs import CrsInfo, transform_geometries_crs
from geo.geojson import encode_features
from layers.encoded import feature_bytes as encoded_feature
from layers.encoded import page_bytes
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


@dataclass
class Page:
    """Features of one items request.

    Attributes
    ----------
    features : geopandas.GeoDataFrame or None
        The page, indexed by fid (for HTML); None on the JSON fast path.
    body : bytes
        The same features as GeoJSON Feature objects joined by commas.
    number_matched : int
        Matches before paging.
    returned : int
        Features in the page.
    estimated : bool
        ``number_matched`` is the store's estimate (PostGIS above 10,000 matches).
    """

    features: gpd.GeoDataFrame | None
    body: bytes
    number_matched: int
    returned: int
    estimated: bool = False


def select_page(store: Store, snap: Snapshot, *, bbox: BBox | None,
                filters: Mapping[str, Any] | None, limit: int, offset: int,
                encode: bool = True, where: CqlFilter | None = None,
                datetime: str | None = None, sortby: SortBy | None = None,
                properties: Sequence[str] | None = None, skip_geometry: bool = False,
                crs: CrsInfo | None = None) -> Page:
    """Query the store and join the GeoJSON bytes of the matching features.

    With an in-memory version the page is cut from the snapshot itself: the
    version its ETag names, whole even if a write lands meanwhile; its bytes come
    from the version's pre-encoded features (:mod:`layers.encoded`), or, while a
    large version's are still being built, from encoding just the page — no request
    encodes more than it returns.  Otherwise the store answers with the page's
    GeoJSON (built in SQL on PostGIS) and ``numberMatched`` counted exactly up to
    10,000 matches and estimated above (flagged).

    Features written as stored (every property, CRS84) come that way; another
    ``crs``, ``properties`` or ``skip_geometry`` encodes the page itself
    (:func:`encode_page`).
    """
    layer = snap.layer
    plain = (crs is None or crs.code == "OGC:CRS84") and properties is None \
        and not skip_geometry
    if encode and layer is not None:
        # The snapshot's own version (the one the ETag names): positions from its warm
        # index, bytes from its encoded features; building a DataFrame page was half
        # the cost of a 1000-feature request.
        check_paging(limit, offset)
        condition = query_filter(snap.info.name, layer.kinds, where, datetime)
        positions = layer.select(bbox, filters or None, sortby or None, where=condition)
        chosen = positions[offset:offset + limit]
        if plain:
            return Page(None, page_bytes(layer, chosen), len(positions), len(chosen))
        page = layer.gdf.iloc[chosen]
        return Page(page, b",".join(encode_page(page, crs, properties, skip_geometry)),
                    len(positions), len(chosen))
    if encode and plain:
        result = store.query(snap.info.name, bbox=bbox, filters=filters or None, where=where,
                             datetime=datetime, sortby=sortby or None, limit=limit,
                             offset=offset, count="estimate", output="geojson")
        return Page(None, result.geojson or b"", result.number_matched,
                    result.number_returned, result.estimated)
    result = store.query(snap.info.name, bbox=bbox, filters=filters or None, where=where,
                         datetime=datetime, sortby=sortby or None, properties=properties,
                         limit=limit, offset=offset, count="estimate")
    page = result.features
    body = b",".join(encode_page(page, crs, properties, skip_geometry)) if encode else b""
    return Page(page, body, result.number_matched, len(page), result.estimated)


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
        return row, encoded_feature(layer, pos) if plain else encode_page(row, crs)[0]
    row = store.get_feature(snap.info.name, fid)
    if row is None:
        return None
    return row, encode_features(row)[0] if plain else encode_page(row, crs)[0]
