"""In-memory layer machinery both backends may use: a layer version held in memory.

A :class:`MemoryLayer` is one version of a layer as a GeoDataFrame (indexed by fid)
with its STRtree spatial index kept warm and a per-version cache for derived data
(encoded features, tile sources …) that goes when the version goes.  The GeoPackage
store serves every read from one; the PostGIS store keeps one only behind
:meth:`layers.store.Store.get` (for the analyses) and answers queries in SQL.

The rules shared by both stores also live here: how a frame's columns are typed for
storage (:func:`columns_and_records`) and how query-string filters compare
(:func:`text_equal`, the same rule as :func:`layers.postgis.text_match_sql`).

Examples
--------
>>> import shapely
>>> gdf = gpd.GeoDataFrame({"name_zh": ["甲", "乙"]}, crs=4326,
...                        geometry=[shapely.Point(116, 44), shapely.Point(117, 45)],
...                        index=pd.Index([1, 2], name="fid"))
>>> layer = MemoryLayer.build(None, gdf)
>>> layer.select(bbox=(115.5, 43.5, 116.5, 44.5)).tolist()
[0]
>>> layer.kinds
{'name_zh': 'str'}
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .errors import QueryError
from .filter import GEOMETRY, CqlFilter, filter_mask
from .records import BBox, LayerInfo, QueryResult, SortBy, check_paging

#: SQL column type of a pandas dtype kind (the GeoPackage's names; PostGIS maps them).
SQL_TYPES = {"b": "BOOLEAN", "i": "INTEGER", "u": "INTEGER", "f": "REAL"}
#: Field kind (as :class:`layers.spec.Field` names them) of each SQL column type.  DATE and
#: DATETIME are GeoPackage's own column types: ISO 8601 text (``2023-05-17``,
#: ``2023-05-17T08:30:00Z``), kept as text by both stores.
KIND_OF_SQL = {"BOOLEAN": "bool", "INTEGER": "int", "REAL": "float", "TEXT": "str",
               "DATE": "date", "DATETIME": "datetime"}
#: The SQL types whose values are text in a frame and in the database.
TEXT_TYPES = frozenset({"TEXT", "DATE", "DATETIME"})
_ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_ISO_DATETIME = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?"
                 r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$")


@dataclass
class MemoryLayer:
    """A layer version held in memory with its spatial index.

    Attributes
    ----------
    info : LayerInfo or None
        Registry entry of this version (None for a frame not from a store).
    gdf : geopandas.GeoDataFrame
        The features, indexed by fid.
    tree : shapely.STRtree
        Spatial index over ``gdf.geometry``.
    kinds : dict
        Property name → field kind (``int``, ``float``, ``bool``, ``str``), from the
        stored column types (a whole-number column with gaps is still ``int``).
    cache : dict
        Per-version scratch space for derived data (encoded features, tiles …),
        dropped with the version.
    """

    info: LayerInfo | None
    gdf: gpd.GeoDataFrame
    tree: shapely.STRtree
    kinds: dict[str, str]
    cache: dict = field(default_factory=dict)

    @classmethod
    def build(cls, info: LayerInfo | None, gdf: gpd.GeoDataFrame,
              kinds: Mapping[str, str] | None = None) -> MemoryLayer:
        """Index ``gdf``; ``kinds`` default to what the frame's dtypes say."""
        if kinds is None:
            kinds = {c: kind_of_series(gdf[c]) for c in gdf.columns if c != gdf.geometry.name}
        return cls(info=info, gdf=gdf, tree=shapely.STRtree(gdf.geometry.values),
                   kinds=dict(kinds))

    @property
    def properties(self) -> list[str]:
        """Property names in column order."""
        return list(self.kinds)

    def nbytes(self) -> int:
        """Memory this version holds, estimated from its arrays (features, index, cache).

        Geometries count :data:`POINT_BYTES` a point (the GEOS object and its Python
        wrapper, measured) or that plus 16 bytes a coordinate; the index
        :data:`TREE_BYTES` a feature; text columns their strings (from a sample) and a
        pointer each; cached derived data its own ``nbytes`` where it tells it.
        The features' share is computed once per version.
        """
        base = self.cache.get("_nbytes_base")
        if base is None:
            n = len(self.gdf)
            geoms = np.asarray(self.gdf.geometry.values, dtype=object)
            coords = int(shapely.get_num_coordinates(geoms).sum()) if n else 0
            points = int((shapely.get_type_id(geoms) == 0).sum()) if n else 0
            base = n * (POINT_BYTES + TREE_BYTES + 8) + 16 * max(coords - points, 0)
            for col in self.gdf.columns:
                if col != self.gdf.geometry.name:
                    base += _column_bytes(self.gdf[col])
            self.cache["_nbytes_base"] = base
        derived = sum(int(getattr(v, "nbytes", 0) or 0) for v in list(self.cache.values())
                      if not isinstance(v, int))
        return base + derived

    def select(self, bbox: BBox | None = None,
               filters: Mapping[str, Any] | None = None,
               sortby: SortBy | None = None, where: CqlFilter | None = None) -> np.ndarray:
        """Row positions matching ``bbox``, ``filters`` and the CQL2 filter ``where``,
        ascending or by ``sortby``.

        Callers that keep per-version derived data (pre-encoded features) page
        these positions themselves instead of building a DataFrame page.  The filter
        is evaluated vectorised over the whole version (its converted columns kept in
        :attr:`cache`, spatial functions through :attr:`tree`).

        Examples
        --------
        >>> import shapely
        >>> from layers.filter import parse_filter
        >>> g = gpd.GeoDataFrame({"v": [1, 5, None]}, geometry=[shapely.Point(116, 44)] * 3,
        ...                      crs=4326, index=pd.Index([1, 2, 3], name="fid"))
        >>> MemoryLayer.build(None, g).select(where=parse_filter("v > 2 OR v IS NULL")).tolist()
        [1, 2]
        """
        positions = select_positions(self, bbox, filters)
        if where is not None:
            mask = filter_mask(where, self.gdf, {**self.kinds, GEOMETRY: "geometry"},
                               tree=self.tree, cache=self.cache)
            positions = positions[mask[positions]]
        return sort_positions(self.gdf, positions, sortby) if sortby else positions

    def query(self, bbox: BBox | None = None, filters: Mapping[str, Any] | None = None,
              sortby: SortBy | None = None, properties: Sequence[str] | None = None,
              limit: int | None = None, offset: int = 0,
              where: CqlFilter | None = None) -> QueryResult:
        """One page of matching features as a frame (counts are always exact here)."""
        check_paging(limit, offset)
        positions = self.select(bbox, filters, sortby, where)
        end = None if limit is None else offset + limit
        page = self.gdf.iloc[positions[offset:end]]
        if properties is not None:
            page = page[[*select_properties(self.properties, properties),
                         page.geometry.name]]
        return QueryResult(features=page, number_matched=len(positions))


#: Bytes a point geometry takes in memory (GEOS geometry and shapely wrapper), and what
#: the STRtree adds per feature: measured on a million points (RSS growth of a loaded
#: layer, less its columns).
POINT_BYTES = 200
TREE_BYTES = 60


def _column_bytes(series: pd.Series) -> int:
    """Memory of a column: its array, and for Python objects their sizes (from a sample)."""
    values = series.to_numpy()
    if values.dtype != object:
        return int(values.nbytes)
    n = len(values)
    if not n:
        return 0
    sample = values[np.linspace(0, n - 1, min(n, 256)).astype("int64")]
    per = float(np.mean([sys.getsizeof(v) for v in sample]))
    return int(n * (per + 8))


class LayerCache:
    """Loaded layer versions by name, least recently used dropped beyond a memory budget.

    Both stores keep their in-memory copies here; :meth:`put` returns the names it
    dropped.  A layer larger than the budget alone is still kept (the one asked for
    is never dropped), so a request can always be answered.

    Examples
    --------
    >>> import shapely
    >>> g = gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)] * 1000)
    >>> cache = LayerCache(budget_bytes=400_000)
    >>> cache.put("a", MemoryLayer.build(None, g)), cache.put("b", MemoryLayer.build(None, g))
    ([], ['a'])
    >>> list(cache), cache.get("a") is None
    (['b'], True)
    """

    def __init__(self, budget_bytes: float = float("inf")) -> None:
        self.budget = budget_bytes
        self._layers: dict[str, MemoryLayer] = {}

    def __iter__(self):
        return iter(list(self._layers))

    def __len__(self) -> int:
        return len(self._layers)

    def get(self, name: str) -> MemoryLayer | None:
        """The layer loaded under ``name`` (now the most recently used), or None."""
        layer = self._layers.pop(name, None)
        if layer is not None:
            self._layers[name] = layer
        return layer

    def pop(self, name: str) -> MemoryLayer | None:
        return self._layers.pop(name, None)

    def put(self, name: str, layer: MemoryLayer) -> list[str]:
        """Keep ``layer`` as ``name``; drop the least recently used beyond the budget."""
        self._layers.pop(name, None)
        self._layers[name] = layer
        return self.shrink(keep=name)

    def shrink(self, keep: str | None = None) -> list[str]:
        """Drop least recently used layers (never ``keep``) until within the budget."""
        dropped = []
        while self.nbytes() > self.budget:
            victim = next((n for n in self._layers if n != keep), None)
            if victim is None:
                break
            del self._layers[victim]
            dropped.append(victim)
        return dropped

    def nbytes(self) -> int:
        """Estimated memory of every layer kept (:meth:`MemoryLayer.nbytes`)."""
        return sum(layer.nbytes() for layer in list(self._layers.values()))


def kind_of_series(series: pd.Series) -> str:
    """Field kind of a column from its values (``int``, ``float``, ``bool`` or ``str``).

    Examples
    --------
    >>> kind_of_series(pd.Series([1, 2])), kind_of_series(pd.Series([True, None]))
    ('int', 'bool')
    """
    return KIND_OF_SQL[sql_type_of(series)]


def sql_type_of(series: pd.Series) -> str:
    """The SQL column type a column is stored as (INTEGER, REAL, BOOLEAN, DATE, DATETIME
    or TEXT).

    Dates and timestamps (pandas datetimes, ``datetime.date`` objects, or text that is
    all ISO 8601 dates or all ISO 8601 timestamps) are DATE or DATETIME: ISO text a
    ``datetime`` filter can use.  Timestamps that all fall on midnight without a time
    zone (what GDAL reads from a Shapefile or GeoPackage date) are dates.

    Examples
    --------
    >>> sql_type_of(pd.Series(["2023-05-01", None])), sql_type_of(pd.Series(["2023-5-1"]))
    ('DATE', 'TEXT')
    >>> sql_type_of(pd.Series(pd.to_datetime(["2023-05-01", "2024-01-31"])))
    'DATE'
    >>> sql_type_of(pd.Series(["2023-05-01T08:00:00Z", "2023-05-02 09:30"]))
    'DATETIME'
    """
    kind = series.dtype.kind
    if kind == "M":
        return "DATE" if _all_midnight(series) else "DATETIME"
    if kind == "O":
        non_null = series.dropna()
        if not len(non_null):
            return "TEXT"
        types = set(non_null.map(type))
        if types == {bool}:
            return "BOOLEAN"
        if types <= {dt.date}:
            return "DATE"
        if all(issubclass(t, dt.datetime) for t in types):
            return "DATETIME"
        if types == {str}:
            return _text_type(non_null)
    return SQL_TYPES.get(kind, "TEXT")


def _all_midnight(series: pd.Series) -> bool:
    values = series.dropna()
    if getattr(series.dt, "tz", None) is not None:
        return False
    return bool((values == values.dt.normalize()).all())


def _text_type(values: pd.Series) -> str:
    """DATE, DATETIME or TEXT for a column of strings (all valid ISO dates, timestamps)."""
    text = values.astype("string")
    for pattern, sql in ((_ISO_DATE, "DATE"), (_ISO_DATETIME, "DATETIME")):
        if text.str.match(pattern).all():
            parsed = pd.to_datetime(text.str.replace(" ", "T", n=1), errors="coerce",
                                    format="ISO8601", utc=True)
            return sql if parsed.notna().all() else "TEXT"
    return "TEXT"


def select_properties(available: Sequence[str], wanted: Sequence[str]) -> list[str]:
    """``wanted`` in the order asked, checked against ``available``.

    Examples
    --------
    >>> select_properties(["a", "b"], ["b"])
    ['b']
    >>> select_properties(["a"], ["zz"])
    Traceback (most recent call last):
    ...
    layers.errors.QueryError: unknown property 'zz'; this layer has: a
    """
    for name in wanted:
        if name not in available:
            raise unknown_property(name, available)
    return list(dict.fromkeys(wanted))


def unknown_property(name: str, available: Sequence[str]) -> QueryError:
    """The error for a property the layer does not have."""
    listed = ", ".join(available)
    return QueryError(f"unknown property {name!r}; this layer has: {listed}",
                      "filter or sort on a property of the layer",
                      message_zh=f"图层没有属性 {name!r}；可用的属性：{listed}",
                      hint_zh="请使用图层已有的属性")


def columns_and_values(props: pd.DataFrame) -> tuple[list[tuple[str, str]], list[list]]:
    """SQL column declarations (name, type) and each column's plain-Python values.

    Both stores type columns with this one rule, so they keep the same columns and
    values.  Names ``fid``/``geom`` (the stores' own columns) get a trailing ``_``.

    Examples
    --------
    >>> columns_and_values(pd.DataFrame({"n": [1, None], "fid": ["a", "b"]}))
    ([('n', 'REAL'), ('fid_', 'TEXT')], [[1.0, None], ['a', 'b']])
    """
    columns: list[tuple[str, str]] = []
    arrays: list[list] = []
    for name in props.columns:
        series = props[name]
        sql = sql_type_of(series)
        safe = str(name).replace('"', '""')
        if safe.lower() in ("fid", "geom"):
            safe = f"{safe}_"
        columns.append((safe, sql))
        arrays.append([to_sql_value(v, sql) for v in series.tolist()])
    return columns, arrays


def columns_and_records(props: pd.DataFrame) -> tuple[list[tuple[str, str]], list[tuple]]:
    """:func:`columns_and_values` as plain-Python row tuples.

    Examples
    --------
    >>> columns_and_records(pd.DataFrame({"n": [1, None], "fid": ["a", "b"]}))
    ([('n', 'REAL'), ('fid_', 'TEXT')], [(1.0, 'a'), (None, 'b')])
    """
    columns, arrays = columns_and_values(props)
    records = list(zip(*arrays, strict=True)) if arrays else [()] * len(props)
    return columns, records


def to_sql_value(value: Any, sql_type: str) -> Any:
    """A plain Python value for a column of ``sql_type`` (None for missing values).

    Dates and timestamps become ISO 8601 text (UTC with ``Z`` for a timestamp with a
    time zone); text is kept as it was written.

    Examples
    --------
    >>> to_sql_value(pd.Timestamp("2023-05-01"), "DATE")
    '2023-05-01'
    >>> to_sql_value(pd.Timestamp("2023-05-01 16:00", tz="Asia/Shanghai"), "DATETIME")
    '2023-05-01T08:00:00Z'
    """
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA \
            or value is pd.NaT:
        return None
    if sql_type == "BOOLEAN":
        return int(bool(value))
    if sql_type in ("INTEGER", "REAL"):
        return value
    if sql_type == "DATE" and isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if sql_type == "DATETIME" and isinstance(value, dt.datetime):
        ts = pd.Timestamp(value)
        if ts.tzinfo is not None:
            return ts.tz_convert("UTC").isoformat().replace("+00:00", "Z")
        return ts.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def select_positions(layer: MemoryLayer, bbox: BBox | None,
                     filters: Mapping[str, Any] | None) -> np.ndarray:
    """Row positions (ascending) of features in ``layer`` matching bbox and filters.

    Property filters compare as text, so ``category=energy`` and ``seq=3`` both
    work from query strings.

    Raises
    ------
    QueryError
        For a filter on a property the layer does not have.
    """
    gdf = layer.gdf
    if bbox is not None:
        minx, miny, maxx, maxy = bbox
        if minx > maxx:  # crosses the antimeridian: two boxes
            boxes = [shapely.box(minx, miny, 180, maxy), shapely.box(-180, miny, maxx, maxy)]
        else:
            boxes = [shapely.box(minx, miny, maxx, maxy)]
        hits = [_bbox_hits(layer, b) for b in boxes]
        positions = np.unique(np.concatenate(hits)) if len(hits) > 1 else np.sort(hits[0])
    else:
        positions = np.arange(len(gdf))
    for key, value in (filters or {}).items():
        if key not in layer.kinds:
            raise unknown_property(key, layer.properties)
        positions = positions[text_equal(gdf[key].to_numpy()[positions], value)]
    return positions


def sort_positions(gdf: gpd.GeoDataFrame, positions: np.ndarray, sortby: SortBy
                   ) -> np.ndarray:
    """``positions`` reordered by ``sortby`` (stable; missing values last, fid breaks ties).

    Examples
    --------
    >>> g = gpd.GeoDataFrame({"v": [3, None, 1]}, geometry=[None] * 3)
    >>> sort_positions(g, np.arange(3), [("v", True)]).tolist()
    [2, 0, 1]
    >>> sort_positions(g, np.arange(3), [("v", False)]).tolist()
    [0, 2, 1]
    """
    order = np.arange(len(positions))
    for name, ascending in reversed(list(sortby)):
        if name not in gdf.columns or name == gdf.geometry.name:
            raise unknown_property(name, [c for c in gdf.columns if c != gdf.geometry.name])
        values = pd.Series(gdf[name].to_numpy()[positions][order])
        ranked = values.rank(method="min", ascending=ascending, na_option="bottom")
        order = order[np.argsort(ranked.to_numpy(), kind="stable")]
    return positions[order]


def _bbox_hits(layer: MemoryLayer, box: shapely.Geometry) -> np.ndarray:
    """Positions of the features intersecting the rectangle ``box`` (unordered).

    The tree's envelope test is already exact for points, which make up the big
    layers; GEOS's ``intersects`` predicate, ten times dearer per candidate, is
    left for the lines and polygons among the candidates.
    """
    candidates = layer.tree.query(box)
    is_point = layer.cache.get("_is_point")
    if is_point is None:
        is_point = layer.cache["_is_point"] = shapely.get_type_id(layer.gdf.geometry.values) == 0
    shaped = candidates[~is_point[candidates]]
    if len(shaped) == 0:
        return candidates
    keep = shapely.intersects(layer.gdf.geometry.values[shaped], box)
    return np.concatenate([candidates[is_point[candidates]], shaped[keep]])


def text_equal(values: np.ndarray, wanted: Any) -> np.ndarray:
    """Elementwise equality of ``values`` with the query-string value ``wanted``.

    Examples
    --------
    >>> text_equal(np.array([3.0, "3", None], dtype=object), "3").tolist()
    [True, True, False]
    """
    wanted_s = str(wanted)
    lowered = wanted_s.lower()
    series = pd.Series(values, dtype="object")
    if lowered in ("true", "false"):
        return series.map(lambda v: str(v).lower() == lowered).to_numpy(dtype=bool)
    out = series.astype(str).to_numpy() == wanted_s
    try:
        wanted_f = float(wanted_s)
    except ValueError:
        return out
    numeric = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64")
    return out | (numeric == wanted_f)
