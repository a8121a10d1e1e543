"""The Store interface: where layers live, behind one small seam.

The API, the pages and the analyses only talk to a :class:`Store`; whether the
layers sit in a GeoPackage file (:class:`layers.gpkg.GeoPackageStore`, the
embedded default) or in PostGIS is chosen by configuration (:func:`open_store`).
This is pygeoapi's provider idea, kept small.

Examples
--------
>>> validate_layer_name("my_sites")
'my_sites'
>>> validate_layer_name("../etc")
Traceback (most recent call last):
...
layers.store.LayerNameError: layer name '../etc' is not allowed: use 1-64 lowercase letters, digits, '_' or '-', starting with a letter or digit
"""

from __future__ import annotations

import os
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class StoreError(Exception):
    """Base class of store errors that a caller can explain to a person."""


class LayerNameError(StoreError, ValueError):
    """A layer name that is not allowed."""


class LayerNotFound(StoreError, KeyError):
    """No layer of that name."""

    def __str__(self) -> str:  # KeyError quotes its argument; keep the plain message
        return str(self.args[0]) if self.args else "layer not found"


class QueryError(StoreError, ValueError):
    """A query the store cannot answer (bad bbox, unknown property …)."""


def validate_layer_name(name: str) -> str:
    """Return ``name`` if it is a safe layer name, else raise :class:`LayerNameError`.

    Names become table names and URL path segments, so they are restricted to
    lowercase ASCII letters, digits, ``_`` and ``-`` (1–64 characters).
    """
    if not isinstance(name, str) or not _NAME_RE.match(name) or "__" in name:
        shown = name if isinstance(name, str) and len(name) <= 80 else f"{str(name)[:40]}…"
        raise LayerNameError(
            f"layer name {shown!r} is not allowed: use 1-64 lowercase letters, digits, "
            "'_' or '-', starting with a letter or digit"
        )
    return name


@dataclass(frozen=True)
class LayerInfo:
    """What the store knows about one layer without loading it.

    Attributes
    ----------
    name : str
        Layer name (the catalog id for reference layers).
    count : int
        Number of features.
    bounds : tuple of float
        ``(minx, miny, maxx, maxy)`` in EPSG:4326, or NaNs for an empty layer.
    version : str
        Changes whenever the layer is replaced: use it for ETags and caches.
    updated : str
        ISO 8601 UTC time of the last write.
    meta : dict
        Free metadata stored with the layer (provenance of user layers, report …).
    """

    name: str
    count: int
    bounds: tuple[float, float, float, float]
    version: str
    updated: str
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def user_layer(self) -> bool:
        """True for layers saved by users rather than loaded from the catalog."""
        return not self.meta.get("catalog", False)


@dataclass
class QueryResult:
    """Features matching a query, one page of them.

    Attributes
    ----------
    features : geopandas.GeoDataFrame
        The page, indexed by feature id (``fid``, 1-based, stable per version).
    number_matched : int
        How many features match before limit/offset.
    """

    features: gpd.GeoDataFrame
    number_matched: int

    @property
    def number_returned(self) -> int:
        """Number of features in this page."""
        return len(self.features)


BBox = tuple[float, float, float, float]


def parse_bbox(value: str | BBox | None) -> BBox | None:
    """Parse ``"minx,miny,maxx,maxy"`` (EPSG:4326) into a tuple, checking it.

    Examples
    --------
    >>> parse_bbox("115,43,117,44.5")
    (115.0, 43.0, 117.0, 44.5)
    >>> parse_bbox("1,2,3")
    Traceback (most recent call last):
    ...
    layers.store.QueryError: bbox must be four numbers minx,miny,maxx,maxy in degrees, e.g. bbox=115,43,117,44.5
    """
    if value is None or value == "":
        return None
    try:
        parts = value.split(",") if isinstance(value, str) else list(value)
        nums = tuple(float(p) for p in parts)
    except (TypeError, ValueError):
        nums = ()
    if len(nums) == 6:  # 3D bbox: drop the heights
        nums = (nums[0], nums[1], nums[3], nums[4])
    if len(nums) != 4 or not all(np.isfinite(nums)):
        raise QueryError(
            "bbox must be four numbers minx,miny,maxx,maxy in degrees, e.g. bbox=115,43,117,44.5"
        )
    minx, miny, maxx, maxy = nums
    if miny > maxy or not (-90 <= miny <= 90 and -90 <= maxy <= 90):
        raise QueryError("bbox latitudes must lie in [-90, 90] with miny <= maxy")
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180):
        raise QueryError("bbox longitudes must lie in [-180, 180]")
    return (minx, miny, maxx, maxy)


def prepare_for_put(name: str, gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Check ``name`` and bring ``gdf`` to EPSG:4326 (assumed when it has no CRS).

    Every store calls this first in :meth:`Store.put`, so both keep the same rules.

    Examples
    --------
    >>> import shapely
    >>> g = gpd.GeoDataFrame(geometry=[shapely.Point(500000, 0)], crs=32650)
    >>> float(round(prepare_for_put("ok", g).geometry.x[0], 3))
    117.0
    """
    validate_layer_name(name)
    if gdf.crs is None:
        return gdf.set_crs(4326)
    if not gdf.crs.equals("EPSG:4326"):
        return gdf.to_crs(4326)
    return gdf


def check_paging(limit: int | None, offset: int) -> None:
    """Raise :class:`QueryError` unless ``limit`` (None = all) and ``offset`` are >= 0.

    Examples
    --------
    >>> check_paging(10, 0)
    >>> check_paging(-1, 0)
    Traceback (most recent call last):
    ...
    layers.store.QueryError: limit and offset must be zero or positive integers
    """
    if offset < 0 or (limit is not None and limit < 0):
        raise QueryError("limit and offset must be zero or positive integers")


class Store(ABC):
    """Where layers are kept.  Implementations: GeoPackage (default), PostGIS.

    Every method takes and returns data in EPSG:4326.  Feature ids are 1-based
    integers, stable for a given layer version.
    """

    @abstractmethod
    def list_layers(self) -> list[LayerInfo]:
        """All layers, catalog layers first in catalog order, then user layers by name."""

    @abstractmethod
    def info(self, name: str) -> LayerInfo:
        """Metadata of one layer; raises :class:`LayerNotFound`."""

    @abstractmethod
    def get(self, name: str) -> gpd.GeoDataFrame:
        """The whole layer, indexed by fid.  Callers must not modify it."""

    @abstractmethod
    def query(
        self,
        name: str,
        bbox: BBox | None = None,
        filters: Mapping[str, Any] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> QueryResult:
        """Features intersecting ``bbox`` whose properties equal ``filters``, paged."""

    def get_feature(self, name: str, fid: int) -> gpd.GeoDataFrame | None:
        """The feature with id ``fid`` as a one-row frame, or None."""
        gdf = self.get(name)
        if fid in gdf.index:
            return gdf.loc[[fid]]
        return None

    @abstractmethod
    def put(self, name: str, gdf: gpd.GeoDataFrame, meta: Mapping[str, Any] | None = None
            ) -> LayerInfo:
        """Create or atomically replace a layer: readers see the old or the new, never a mix."""

    @abstractmethod
    def delete(self, name: str) -> bool:
        """Remove a layer; False if there was none."""

    @abstractmethod
    def check(self) -> list[str]:
        """Integrity problems found (empty list when the store is sound)."""

    def exists(self, name: str) -> bool:
        """Whether a layer called ``name`` exists."""
        try:
            self.info(name)
            return True
        except LayerNotFound:
            return False


def open_store(url: str | os.PathLike | None = None) -> Store:
    """Open the store named by ``url`` (or ``ATLAS_DATABASE_URL`` / ``ATLAS_STORE``).

    A ``postgresql://`` URL selects PostGIS; anything else is a GeoPackage path
    (default ``var/atlas.gpkg``).

    Examples
    --------
    >>> import tempfile, os
    >>> s = open_store(os.path.join(tempfile.mkdtemp(), "t.gpkg"))
    >>> type(s).__name__
    'GeoPackageStore'
    """
    if url is None:
        url = os.environ.get("ATLAS_DATABASE_URL") or os.environ.get("ATLAS_STORE")
    url = str(url) if url else default_store_path()
    if url.startswith(("postgresql://", "postgres://")):
        from .postgis import PostGISStore  # imported lazily: psycopg is optional

        return PostGISStore(url)
    from .gpkg import GeoPackageStore

    return GeoPackageStore(url)


def default_store_path() -> str:
    """``var/atlas.gpkg`` beside the project root."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.join(root, "var", "atlas.gpkg")
