"""The values the Store speaks: layer and version records, query results, bboxes, names.

Kept apart from the interface (:mod:`layers.store`) so that the in-memory machinery
(:mod:`layers.memory`) and both backends can use them without importing each other.

Examples
--------
>>> validate_layer_name("my_sites")
'my_sites'
>>> validate_layer_name("../etc")
Traceback (most recent call last):
...
layers.errors.LayerNameError: layer name '../etc' is not allowed: use 1-64 lowercase letters, digits, '_' or '-', starting with a letter or digit
>>> validate_layer_name("sqlite_stat1")
Traceback (most recent call last):
...
layers.errors.LayerNameError: layer name 'sqlite_stat1' is reserved by the database: choose a name that does not begin with 'sqlite', 'gpkg' or 'rtree'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np

from .errors import LayerNameError, QueryError

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
#: Prefixes the databases keep for themselves (SQLite's internal tables, GeoPackage's
#: own tables and its R-tree index tables).
RESERVED_PREFIXES: tuple[str, ...] = ("sqlite", "gpkg", "rtree")

BBox = tuple[float, float, float, float]
#: ``sortby`` of a query: ``(property, ascending)`` pairs, most significant first.
SortBy = Sequence[tuple[str, bool]]
#: How exactly ``number_matched`` is counted: ``"exact"`` or the store's cheap ``"estimate"``.
CountMode = Literal["exact", "estimate"]
#: What :meth:`layers.store.Store.query` answers with: a frame, or the page as GeoJSON bytes.
OutputMode = Literal["frame", "geojson"]


def validate_layer_name(name: str) -> str:
    """Return ``name`` if it is a safe layer name, else raise :class:`LayerNameError`.

    Names become table names and URL path segments, so they are restricted to
    lowercase ASCII letters, digits, ``_`` and ``-`` (1–64 characters), and may not
    begin with a prefix the databases reserve (:data:`RESERVED_PREFIXES`).
    """
    if not isinstance(name, str) or not _NAME_RE.match(name) or "__" in name:
        shown = name if isinstance(name, str) and len(name) <= 80 else f"{str(name)[:40]}…"
        raise LayerNameError(
            f"layer name {shown!r} is not allowed: use 1-64 lowercase letters, digits, "
            "'_' or '-', starting with a letter or digit",
            "choose a name like 'my_sites_2023'",
            message_zh=f"图层名称 {shown!r} 不合规：请用 1–64 个小写字母、数字、下划线或连字符，"
                       "以字母或数字开头",
            hint_zh="例如 my_sites_2023")
    if name.startswith(RESERVED_PREFIXES):
        raise LayerNameError(
            f"layer name {name!r} is reserved by the database: choose a name that does not "
            "begin with 'sqlite', 'gpkg' or 'rtree'",
            "choose a name like 'my_sites_2023'",
            message_zh=f"图层名称 {name!r} 是数据库保留的名称（不能以 sqlite、gpkg 或 rtree 开头）",
            hint_zh="换一个名称，例如 my_sites_2023")
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
        Opaque token of the current version, different for every write ever made:
        use it for ETags and caches.
    updated : str
        ISO 8601 UTC time of the last write.
    meta : dict
        Free metadata stored with the layer (provenance, report …).
    version_number : int
        The current version's number (1, 2, …; see :meth:`layers.store.Store.versions`).
    geometry_type : str
        The one geometry type of its features in capitals (``POINT``, ``MULTIPOLYGON`` …),
        or ``GEOMETRY`` when they are mixed.
    """

    name: str
    count: int
    bounds: tuple[float, float, float, float]
    version: str
    updated: str
    meta: dict[str, Any] = field(default_factory=dict)
    version_number: int = 1
    geometry_type: str = "GEOMETRY"

    @property
    def user_layer(self) -> bool:
        """True for layers saved by users rather than loaded from the catalog."""
        return not self.meta.get("catalog", False)


@dataclass(frozen=True)
class VersionInfo:
    """One version of a layer: every write makes one; none is ever overwritten.

    Attributes
    ----------
    name : str
        The layer.
    number : int
        1, 2, … in the order written (a restore writes the next number).
    created : str
        ISO 8601 UTC time it was written.
    count : int
        Number of features.
    bounds : tuple of float
        As :attr:`LayerInfo.bounds`.
    meta : dict
        The metadata written with it (its provenance).
    current : bool
        Whether it is the version served.
    restored_from : int or None
        The version it copies, for a restore.
    token : str
        Its opaque token (what :attr:`LayerInfo.version` is while it is current).
    """

    name: str
    number: int
    created: str
    count: int
    bounds: tuple[float, float, float, float]
    meta: dict[str, Any]
    current: bool
    restored_from: int | None
    token: str


@dataclass(frozen=True)
class StoreStatus:
    """Whether a store can be written now, and the space left on its disk.

    Attributes
    ----------
    writable : bool
        Whether a write would be tried (it may still run out of space).
    reason, reason_zh : str or None
        Why not, in English and Chinese (None when writable).
    free_bytes : int or None
        Free space on the store's disk (None where the service cannot see the disk:
        PostGIS).
    min_free_bytes : int
        Space the store keeps free: writes pause below it (0: none).

    Examples
    --------
    >>> StoreStatus(writable=True, free_bytes=10 * 2**20).free_mb
    10.0
    """

    writable: bool
    reason: str | None = None
    reason_zh: str | None = None
    free_bytes: int | None = None
    min_free_bytes: int = 0

    @property
    def free_mb(self) -> float | None:
        """``free_bytes`` in MiB, rounded to 0.1 (None when unknown)."""
        return None if self.free_bytes is None else round(self.free_bytes / 2**20, 1)


@dataclass
class QueryResult:
    """Features matching a query, one page of them.

    Attributes
    ----------
    features : geopandas.GeoDataFrame or None
        The page, indexed by feature id (``fid``, 1-based, stable per version); None
        with ``output="geojson"``.
    number_matched : int
        How many features match before limit/offset.
    estimated : bool
        True when ``number_matched`` is the store's estimate (``count="estimate"``
        on a store that can only estimate cheaply), not an exact count.
    geojson : bytes or None
        With ``output="geojson"``: the page's GeoJSON Feature objects joined by commas
        (a FeatureCollection's ``features``), as :func:`geo.geojson.encode_features`
        writes them.
    returned : int or None
        With ``output="geojson"``: how many features ``geojson`` holds.
    """

    features: gpd.GeoDataFrame | None
    number_matched: int
    estimated: bool = False
    geojson: bytes | None = None
    returned: int | None = None

    @property
    def number_returned(self) -> int:
        """Number of features in this page."""
        if self.returned is not None:
            return self.returned
        return len(self.features) if self.features is not None else 0


@dataclass(frozen=True)
class TemporalExtent:
    """A layer's temporal property and the interval its values span.

    Attributes
    ----------
    property : str
        The property ``datetime`` filters on.
    kind : {"date", "datetime"}
        Its kind.
    start, end : str or None
        The earliest and latest value (``2023-05-01`` or ``2023-05-01T08:00:00Z``); None
        when no feature has one.
    """

    property: str
    kind: str
    start: str | None = None
    end: str | None = None


def parse_bbox(value: str | BBox | None) -> BBox | None:
    """Parse ``"minx,miny,maxx,maxy"`` (EPSG:4326) into a tuple, checking it.

    Examples
    --------
    >>> parse_bbox("115,43,117,44.5")
    (115.0, 43.0, 117.0, 44.5)
    >>> parse_bbox("1,2,3")
    Traceback (most recent call last):
    ...
    layers.errors.QueryError: bbox must be four numbers minx,miny,maxx,maxy in degrees, e.g. bbox=115,43,117,44.5
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
    zh_hint = "范围写作“西,南,东,北”四个经纬度数值，例如 115,43,117,44.5"
    if len(nums) != 4 or not all(np.isfinite(nums)):
        raise QueryError(
            "bbox must be four numbers minx,miny,maxx,maxy in degrees, e.g. bbox=115,43,117,44.5",
            code="bad_parameter", message_zh="地图范围应是四个数值（西、南、东、北，单位为度）",
            hint_zh=zh_hint)
    minx, miny, maxx, maxy = nums
    if miny > maxy or not (-90 <= miny <= 90 and -90 <= maxy <= 90):
        raise QueryError("bbox latitudes must lie in [-90, 90] with miny <= maxy",
                         code="bad_parameter",
                         message_zh="地图范围的纬度应在 -90 到 90 之间，且南边不大于北边",
                         hint_zh=zh_hint)
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180):
        raise QueryError("bbox longitudes must lie in [-180, 180]", code="bad_parameter",
                         message_zh="地图范围的经度应在 -180 到 180 之间", hint_zh=zh_hint)
    return (minx, miny, maxx, maxy)


def check_paging(limit: int | None, offset: int) -> None:
    """Raise :class:`QueryError` unless ``limit`` (None = all) and ``offset`` are >= 0.

    Examples
    --------
    >>> check_paging(10, 0)
    >>> check_paging(-1, 0)
    Traceback (most recent call last):
    ...
    layers.errors.QueryError: limit and offset must be zero or positive integers
    """
    if offset < 0 or (limit is not None and limit < 0):
        raise QueryError("limit and offset must be zero or positive integers",
                         code="bad_parameter", message_zh="分页的数量和起点应是零或正整数")


def prepare_for_put(name: str, gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Check ``name`` and bring ``gdf`` to EPSG:4326 (assumed when it has no CRS).

    Every store calls this first when writing, so both keep the same rules.

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


def bounds_of(gdf: gpd.GeoDataFrame) -> list[float | None]:
    """``[minx, miny, maxx, maxy]`` of ``gdf`` with None for an empty layer (for registries).

    Examples
    --------
    >>> bounds_of(gpd.GeoDataFrame(geometry=[], crs=4326))
    [None, None, None, None]
    """
    raw = gdf.total_bounds if len(gdf) else [None] * 4
    return [None if b is None or not np.isfinite(b) else float(b) for b in raw]


def geometry_type_name(gdf: gpd.GeoDataFrame) -> str:
    """The one geometry type of ``gdf`` in capitals (``POINT`` …), else ``GEOMETRY``.

    Examples
    --------
    >>> import shapely
    >>> geometry_type_name(gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)]))
    'POINT'
    """
    types = set(gdf.geom_type.dropna().str.upper())
    return types.pop() if len(types) == 1 else "GEOMETRY"


def restored_from_of(meta: dict[str, Any] | None) -> int | None:
    """The version a write's metadata says it copies (``restored_from``), else None.

    Examples
    --------
    >>> restored_from_of({"restored_from": 2}), restored_from_of({"restored_from": "x"})
    (2, None)
    """
    value = (meta or {}).get("restored_from")
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        return None
    return int(value)
