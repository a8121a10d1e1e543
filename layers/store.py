"""The Store interface: where layers live, behind one small seam.

The API, the pages and the analyses only talk to a :class:`Store`; whether the
layers sit in a GeoPackage file (:class:`layers.gpkg.GeoPackageStore`, the embedded
default) or in PostGIS (:class:`layers.postgis.PostGISStore`) is chosen by
configuration (:func:`layers.open.open_store`).  This is pygeoapi's provider idea,
kept small — and honest: every capability is declared here with its docstring, and
both backends implement it or refuse it with :class:`~layers.errors.NotSupported`
(which the web layer answers with 501).  Nothing outside ``layers/`` probes a store
for undeclared methods or imports a backend's internals.

The types the interface speaks live in :mod:`layers.records` and
:mod:`layers.errors`; this module re-exports them so callers import from one place.

Versions
    Every write makes a new version of the layer, numbered 1, 2, …; none is ever
    overwritten.  :meth:`Store.versions` lists them, :meth:`Store.get` reads any of
    them, :meth:`Store.restore` writes a copy of an old one as the next version, and
    :meth:`Store.delete_version` removes a mistaken one that is not current.
    :attr:`LayerInfo.version` is the current version's opaque token (for caches);
    :attr:`LayerInfo.version_number` its number.

Examples
--------
>>> import tempfile, os, shapely
>>> from layers.open import open_store
>>> store = open_store(os.path.join(tempfile.mkdtemp(), "a.gpkg"))
>>> gdf = gpd.GeoDataFrame({"n": [1]}, geometry=[shapely.Point(116, 44)], crs=4326)
>>> store.put("sites", gdf).version_number
1
>>> store.put("sites", gdf, create_only=True)
Traceback (most recent call last):
...
layers.errors.LayerExists: a layer called 'sites' exists already
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd

from .errors import (
    LayerExists,
    LayerNameError,
    LayerNotFound,
    NotSupported,
    QueryError,
    StoreError,
    StoreFull,
    StoreReadOnly,
    VersionConflict,
    VersionNotFound,
)
from .jobs import JobStore
from .memory import MemoryLayer
from .records import (
    BBox,
    CountMode,
    LayerInfo,
    OutputMode,
    QueryResult,
    SortBy,
    StoreStatus,
    TemporalExtent,
    VersionInfo,
    check_paging,
    parse_bbox,
    prepare_for_put,
    validate_layer_name,
)

__all__ = [
    "BBox", "CountMode", "JobStore", "LayerExists", "LayerInfo", "LayerNameError",
    "LayerNotFound", "OutputMode",
    "MemoryLayer", "NotSupported", "QueryError", "QueryResult", "SortBy", "Store",
    "StoreError", "StoreFull", "StoreReadOnly", "StoreStatus", "VersionConflict",
    "VersionInfo", "VersionNotFound", "check_paging",
    "TemporalExtent", "layer_exists_error", "parse_bbox", "prepare_for_put",
    "validate_layer_name",
]


def layer_exists_error(name: str) -> LayerExists:
    """The error of a create-only write that found ``name`` there (both stores raise it)."""
    return LayerExists(f"a layer called {name!r} exists already",
                       f"PUT /api/layers/{name} replaces it; or choose another name",
                       message_zh=f"已经有名为 {name!r} 的图层",
                       hint_zh="要替换它请用“替换”；否则换一个名称")


class Store(ABC):
    """Where layers are kept.  Implementations: GeoPackage (default), PostGIS.

    Every method takes and returns data in EPSG:4326.  Feature ids are 1-based
    integers, stable for a given layer version.
    """

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the store is, for messages (a path, or a database URL without password)."""

    # -- reading ----------------------------------------------------------------------------
    @abstractmethod
    def list_layers(self) -> list[LayerInfo]:
        """All layers, catalog layers first in catalog order, then user layers by name."""

    @abstractmethod
    def info(self, name: str) -> LayerInfo:
        """Metadata of the current version of one layer; raises :class:`LayerNotFound`."""

    def exists(self, name: str) -> bool:
        """Whether a layer called ``name`` exists."""
        try:
            self.info(name)
            return True
        except LayerNotFound:
            return False

    @abstractmethod
    def get(self, name: str, version: int | None = None) -> gpd.GeoDataFrame:
        """The whole layer (current version, or version number ``version``), indexed by fid.

        Callers must not modify it.  Raises :class:`LayerNotFound` /
        :class:`VersionNotFound`.
        """

    @abstractmethod
    def get_feature(self, name: str, fid: int) -> gpd.GeoDataFrame | None:
        """The feature with id ``fid`` of the current version as a one-row frame, or None."""

    @abstractmethod
    def properties(self, name: str) -> dict[str, str]:
        """Property name → field kind (``int``, ``float``, ``bool``, ``str``) of the current
        version, in column order, without reading its features."""

    @abstractmethod
    def query(
        self,
        name: str,
        *,
        bbox: BBox | None = None,
        filters: Mapping[str, Any] | None = None,
        where: Any = None,
        datetime: Any = None,
        sortby: SortBy | None = None,
        properties: Sequence[str] | None = None,
        limit: int | None = None,
        offset: int = 0,
        count: CountMode = "exact",
        output: OutputMode = "frame",
    ) -> QueryResult:
        """One page of the features matching every condition given.

        Parameters
        ----------
        bbox : tuple, optional
            Features intersecting ``(minx, miny, maxx, maxy)`` in EPSG:4326 (minx > maxx
            crosses the antimeridian).
        filters : mapping, optional
            ``property → value`` equalities compared as text (``seq=3`` finds 3 and 3.0).
        where : CqlFilter, optional
            A CQL2 filter (OGC API – Features Part 3) from
            :func:`layers.filter.parse_filter` (CQL2 text or JSON is parsed, CRS84).
            Evaluated with SQL's three-valued logic on both stores: in SQL on PostGIS,
            vectorised on the in-memory copy otherwise.
        datetime : str, optional
            An RFC 3339 instant or interval (``2023-01-01/..``) on the layer's temporal
            property (:func:`layers.temporal.temporal_property`); a layer without one
            keeps every feature.
        sortby : sequence of (property, ascending), optional
            Order of the features (default: by fid).
        properties : sequence of str, optional
            Only these properties in the page (default: all).
        limit, offset : int
            Paging (``limit=None``: every feature from ``offset``).
        count : {"exact", "estimate"}
            ``"estimate"`` lets a store answer ``number_matched`` with a cheap estimate
            (flagged ``estimated``) where counting exactly is dear: PostGIS counts up
            to :data:`layers.pg_sql.EXACT_COUNT_LIMIT` matches and estimates above.
        output : {"frame", "geojson"}
            ``"geojson"`` answers the page as GeoJSON Feature bytes
            (:attr:`QueryResult.geojson`, the bytes :func:`geo.geojson.encode_features`
            writes) instead of a frame: PostGIS builds them in SQL, the GeoPackage
            store joins its pre-encoded features (or encodes just the page).

        Raises
        ------
        QueryError
            For an unknown property, a bad bbox or paging;
            :class:`~layers.filter.FilterError` (a QueryError) for a filter or datetime
            that cannot be evaluated on the layer, naming the part.
        NotSupported
            For a condition this store cannot evaluate.
        """

    @abstractmethod
    def temporal(self, name: str) -> TemporalExtent | None:
        """The layer's temporal property and the interval its values span, or None.

        The property is the catalog's declared one, or a user layer's first date or
        datetime column (:mod:`layers.temporal`); the interval is what the OGC API's
        collection document gives as its temporal extent.
        """

    @abstractmethod
    def in_memory(self, name: str) -> MemoryLayer | None:
        """The current version held in memory with its warm index, where the store keeps one.

        The GeoPackage store serves every read from such a copy and returns it (callers
        then cut pages and keep per-version derived data in its ``cache``); the PostGIS
        store returns None, so callers ask :meth:`query` and let the database work.
        """

    @abstractmethod
    def tile(self, name: str, z: int, x: int, y: int, datum: str = "wgs84") -> bytes:
        """Mapbox Vector Tile ``z/x/y`` (XYZ, Web Mercator) of the current version.

        Empty bytes for an empty tile.  ``datum="gcj02"`` gives tiles that line up with
        an AMap/Gaode basemap.
        """

    # -- jobs -------------------------------------------------------------------------------
    @abstractmethod
    def jobs(self) -> JobStore:
        """Where background jobs are kept: state, input and result files
        (:class:`layers.jobs.JobStore`), in this store, so that every app server of the
        store sees the same jobs and serves their results."""

    # -- writing ----------------------------------------------------------------------------
    @abstractmethod
    def put(self, name: str, gdf: gpd.GeoDataFrame, meta: Mapping[str, Any] | None = None,
            *, create_only: bool = False) -> LayerInfo:
        """Write ``gdf`` as the next version of layer ``name`` (creating the layer).

        Atomic: readers see the old version or the new, never a mix.  With
        ``create_only`` the write fails with :class:`LayerExists` if the layer exists;
        that is decided inside the write transaction, so of several concurrent
        creators exactly one succeeds.  A ``meta`` with an integer ``restored_from``
        records the version as a copy of that one (:attr:`VersionInfo.restored_from`),
        for restores written with other layers in one :meth:`put_many`.
        """

    @abstractmethod
    def put_many(self, layers: Mapping[str, tuple[gpd.GeoDataFrame, Mapping[str, Any] | None]]
                 ) -> dict[str, LayerInfo]:
        """Write several layers' next versions in one transaction (all land or none).

        For a replaced layer and the layers re-derived from it (or a restored layer
        and its re-derived dependents: ``meta["restored_from"]`` as in :meth:`put`).
        """

    @abstractmethod
    def delete(self, name: str) -> bool:
        """Remove a layer with all its versions; False if there was none."""

    @abstractmethod
    def versions(self, name: str) -> list[VersionInfo]:
        """Every version of layer ``name``, newest first."""

    @abstractmethod
    def restore(self, name: str, version: int, meta: Mapping[str, Any] | None = None
                ) -> LayerInfo:
        """Write a copy of version ``version`` as the next version (``restored_from`` set).

        ``meta`` (optional) is merged over the copied version's metadata (who restored
        it, a note).
        """

    @abstractmethod
    def delete_version(self, name: str, version: int) -> bool:
        """Remove version ``version`` of ``name`` for good; False if there was none.

        Raises :class:`VersionConflict` for the current version.
        """

    # -- upkeep -----------------------------------------------------------------------------
    @abstractmethod
    def status(self) -> StoreStatus:
        """Whether writes would be tried now, why not, and the free space of the store's disk.

        Cheap enough for every ``/healthz``.  A store that could not be written (a full
        disk, a read-only filesystem) checks here whether it can be again, so writes
        resume without a restart once the cause is gone.  Writes to a store that is not
        writable raise :class:`~layers.errors.StoreReadOnly` without being tried; a write
        that runs out of space raises :class:`~layers.errors.StoreFull`.
        """

    @abstractmethod
    def check(self) -> list[str]:
        """Integrity problems found (empty list when the store is sound)."""

    def close(self) -> None:  # noqa: B027 - a store without resources needs no closing
        """Release connections and files (the store reopens them if used again)."""
