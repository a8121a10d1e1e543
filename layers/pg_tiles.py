"""Vector tiles made in PostGIS: the same tiles as :class:`geo.vector_tiles.TileSource`, in SQL.

One statement per tile reads only the rows of the tile's window (GiST index),
never the layer: ``ST_AsMVT`` encodes the features with their fid as feature id
and the tile properties (``id``, ``name``, ``category``:
:func:`geo.vector_tiles.tile_property_columns`).

* **Points** get their tile coordinates from the same arithmetic as the Python
  tiles (normalised Web Mercator, ``round`` = ties-to-even like ``np.rint``), so a
  point lands on the same tile unit.  Thinning follows the whole-layer rule of
  :mod:`geo.vector_tiles`: at zooms up to :func:`~geo.vector_tiles.thin_max_zoom`
  of the layer each 8×8-pixel cell of the world grid draws its lowest fid.  With
  the first zoom stored per row (column :data:`MINZOOM_COLUMN`, written with the
  rows, :func:`minzoom_values`) the tile reads ``minzoom <= z`` — a low-zoom tile of
  ten million points reads a few thousand rows (index :func:`minzoom_index_sql`);
  without it the cells are computed per tile (``DISTINCT ON`` over the window,
  exact but reading every point of the window).
* **Lines and polygons** are projected to Web Mercator, simplified to half a
  pixel with GEOS's topology-preserving simplifier (as shapely does for the
  Python tiles) and cut by ``ST_AsMVTGeom`` to the tile plus its buffer.
* At most ``max_features`` features per tile, the lowest fids (as ``TileSource``).
* ``datum="gcj02"`` (AMap/Gaode basemaps): point positions are shifted in SQL by
  the GCJ-02 formulas of :mod:`geo.crs` before the tile arithmetic; which points
  stand for a cluster is decided on WGS 84 positions on every basemap (so the
  stored first zoom serves both); lines and polygons cannot be shifted
  vertex by vertex in SQL without PL/pgSQL, so :func:`tile_sql` refuses them and
  :func:`gcj02_candidates_sql` reads the window's rows for a Python
  ``TileSource`` to shift and encode (see :func:`python_tile`).

Every number is inlined as a literal: the tile address changes every request, so
a prepared generic plan would never fit (and ``&&`` against a literal box lets the
planner see its selectivity).

Examples
--------
>>> layer = TileLayer(table="sites__v1", name="sites", properties={"name": "name"},
...                   geometry_type="POINT", point_count=10, point_bounds=(116, 44, 116, 44))
>>> sql, params = tile_sql(layer, 8, 210, 93)
>>> params
['sites']
>>> "ST_AsMVT" in sql and "DISTINCT ON" not in sql  # 10 points: never thinned
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from geo.vector_tiles import (
    BUFFER,
    EXTENT,
    MAX_FEATURES,
    MAX_LAT,
    THIN_PIXELS,
    TILE_PIXELS,
    check_tile,
    lonlat_to_world,
    thin_max_zoom,
    thin_minzoom,
    thin_scale,
    tile_bounds,
)

#: Column holding each row's first zoom (smallint); phase 2 reserves the name in the store.
MINZOOM_COLUMN = "atlas_minzoom"
_HALF_WORLD_M = 20037508.342789244  # Web Mercator half circumference, metres
#: Degrees added around a window read for GCJ-02: larger than the GCJ-02 offset anywhere
#: (under 0.01 degree), so every feature that lands in the tile after the shift is read.
_GCJ_MARGIN_DEG = 0.02
_EPS_DEG = 1e-9


def _quote(ident: str) -> str:
    """A double-quoted SQL identifier, ``%`` escaped for psycopg's placeholders."""
    return '"' + ident.replace('"', '""').replace("%", "%%") + '"'


def _num(v: float) -> str:
    """A float literal that reads back as the same double (``repr`` round-trips)."""
    f = float(v)
    if not math.isfinite(f):
        raise ValueError(f"not a finite number: {v!r}")
    return f"{f!r}::float8"


@dataclass(frozen=True)
class TileLayer:
    """What the tile SQL needs to know about one layer version (all from the registry).

    Attributes
    ----------
    table : str
        The version table (``<name>__v<token>`` in ``schema``).
    name : str
        Layer name inside the tile.
    properties : mapping
        ``{tile key: SQL column}`` (:func:`geo.vector_tiles.tile_property_columns`
        applied to the registry's column map).
    geometry_type : str
        The registry's ``geometry_type``: ``POINT`` for a layer of points only.
    point_count : int
        How many features are points (the feature count for a POINT layer).
    point_bounds : tuple of float or None
        Bounds of those points (the layer's bounds for a POINT layer).
    minzoom_column : str or None
        The table's first-zoom column (:data:`MINZOOM_COLUMN`) if it was written.
    schema : str
    max_features : int
    """

    table: str
    name: str
    properties: Mapping[str, str]
    geometry_type: str
    point_count: int
    point_bounds: tuple[float, float, float, float] | None
    minzoom_column: str | None = None
    schema: str = "atlas"
    max_features: int = MAX_FEATURES
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def all_points(self) -> bool:
        return self.geometry_type.upper() == "POINT"

    @property
    def thin_max_zoom(self) -> int:
        """Deepest thinned zoom: the whole-layer rule of :func:`geo.vector_tiles.thin_max_zoom`."""
        if self.point_bounds is None or not self.point_count:
            return -1
        return thin_max_zoom(self.point_count, self.point_bounds)

    @property
    def ident(self) -> str:
        return f"{_quote(self.schema)}.{_quote(self.table)}"


def gcj02_sql(lon: str, lat: str) -> tuple[str, str]:
    """SQL expressions of the GCJ-02 position of WGS 84 ``lon, lat`` (as :func:`geo.crs.wgs84_to_gcj02`).

    Outside the rough box of mainland China the position is unchanged, as in
    :func:`geo.crs.in_china`.

    Examples
    --------
    >>> glon, glat = gcj02_sql("lon", "lat")
    >>> glon.startswith("CASE WHEN") and "sin" in glon
    True
    """
    x, y = f"({lon} - 105.0)", f"({lat} - 35.0)"
    pi = "pi()"
    dlat = (f"(-100.0 + 2.0 * {x} + 3.0 * {y} + 0.2 * {y} * {y} + 0.1 * {x} * {y}"
            f" + 0.2 * sqrt(abs({x}))"
            f" + (20.0 * sin(6.0 * {x} * {pi}) + 20.0 * sin(2.0 * {x} * {pi})) * 2.0 / 3.0"
            f" + (20.0 * sin({y} * {pi}) + 40.0 * sin({y} / 3.0 * {pi})) * 2.0 / 3.0"
            f" + (160.0 * sin({y} / 12.0 * {pi}) + 320.0 * sin({y} * {pi} / 30.0)) * 2.0 / 3.0)")
    dlon = (f"(300.0 + {x} + 2.0 * {y} + 0.1 * {x} * {x} + 0.1 * {x} * {y}"
            f" + 0.1 * sqrt(abs({x}))"
            f" + (20.0 * sin(6.0 * {x} * {pi}) + 20.0 * sin(2.0 * {x} * {pi})) * 2.0 / 3.0"
            f" + (20.0 * sin({x} * {pi}) + 40.0 * sin({x} / 3.0 * {pi})) * 2.0 / 3.0"
            f" + (150.0 * sin({x} / 12.0 * {pi}) + 300.0 * sin({x} / 30.0 * {pi})) * 2.0 / 3.0)")
    a, ee = "6378245.0", "0.00669342162296594323"
    rad = f"({lat} / 180.0 * {pi})"
    magic = f"(1.0 - {ee} * sin({rad}) ^ 2)"
    dlat_deg = f"(({dlat} * 180.0) / (({a} * (1.0 - {ee})) / ({magic} * sqrt({magic})) * {pi}))"
    dlon_deg = f"(({dlon} * 180.0) / ({a} / sqrt({magic}) * cos({rad}) * {pi}))"
    inside = (f"({lon} > 72.004 AND {lon} < 137.8347 AND {lat} > 0.8293"
              f" AND {lat} < 55.8271)")
    return (f"CASE WHEN {inside} THEN {lon} + {dlon_deg} ELSE {lon} END",
            f"CASE WHEN {inside} THEN {lat} + {dlat_deg} ELSE {lat} END")


def _envelope(z: int, x: int, y: int, grow_deg: float) -> str:
    minx, miny, maxx, maxy = tile_bounds(z, x, y, BUFFER)
    return ("ST_MakeEnvelope(" + ", ".join(_num(v) for v in (
        minx - grow_deg, miny - grow_deg, maxx + grow_deg, maxy + grow_deg)) + ", 4326)")


def _props_select(layer: TileLayer) -> str:
    return "".join(f", {_quote(col)} AS {_quote(key)}" for key, col in layer.properties.items())


def _point_rows(layer: TileLayer, z: int, x: int, y: int, datum: str, where: str) -> str:
    """SELECT of the point rows drawn in tile z/x/y: ``fid, <props>, geom`` (tile units).

    Thinning is decided on the WGS 84 positions whatever the basemap's datum (the
    same point stands for a cluster on every basemap); the position, and so the
    window, follow ``datum``.
    """
    thin = z <= layer.thin_max_zoom
    by_column = thin and layer.minzoom_column is not None
    keys = "".join(f", {_quote(k)}" for k in layer.properties)
    n, b = 1 << z, BUFFER / EXTENT
    cell = 1.0 / (TILE_PIXELS // THIN_PIXELS)  # one thinning cell, in tiles
    # Read the window plus a thinning cell when cells are computed here: a cell on the
    # window's edge is then read whole, so its lowest fid is known.
    grow_deg = _EPS_DEG + (2 * cell * 360.0 / n if thin and not by_column else 0.0) + (
        _GCJ_MARGIN_DEG if datum == "gcj02" else 0.0)
    minzoom = f" AND {_quote(layer.minzoom_column)} <= {int(z)}" if by_column else ""
    clamp = f"LEAST(GREATEST({{}}, {-MAX_LAT!r}::float8), {MAX_LAT!r}::float8)"
    pos = ""
    if datum == "gcj02":
        glon, glat = gcj02_sql("ST_X(geom)", "ST_Y(geom)")
        pos = f", {glon} AS glon, {clamp.format(glat)} AS glat"
    src = (f"SELECT fid{_props_select(layer)}, ST_X(geom) AS lon,"
           f" {clamp.format('ST_Y(geom)')} AS lat{pos}"
           f" FROM {layer.ident} WHERE geom && {_envelope(z, x, y, grow_deg)}{where}{minzoom}")

    def world(lon: str, lat: str) -> tuple[str, str]:  # lonlat_to_world, op for op
        return (f"{lon} / 360.0 + 0.5",
                f"0.5 - ln(tan(pi() / 4 + radians({lat}) / 2)) / (2 * pi())")

    wx, wy = ("gx", "gy") if datum == "gcj02" else ("wx", "wy")
    gpos = ""
    if datum == "gcj02":
        gx, gy = world("glon", "glat")
        gpos = f", {gx} AS gx, {gy} AS gy"
    cx, cy = world("lon", "lat")
    rows = f"SELECT fid{keys}, {cx} AS wx, {cy} AS wy{gpos} FROM ({src}) s"
    if thin and not by_column:
        s = thin_scale(z)
        rows = (f"SELECT DISTINCT ON (floor(wx * {s}), floor(wy * {s})) * FROM ({rows}) w"
                f" ORDER BY floor(wx * {s}), floor(wy * {s}), fid")
    window = (f"{wx} * {n} >= {float(x) - b!r} AND {wx} * {n} <= {float(x) + 1 + b!r}"
              f" AND {wy} * {n} >= {float(y) - b!r} AND {wy} * {n} <= {float(y) + 1 + b!r}")
    scale = EXTENT * n
    return (f"SELECT fid{keys}, ST_MakePoint(round({wx} * {scale} - {x * EXTENT}),"
            f" round({wy} * {scale} - {y * EXTENT})) AS geom FROM ({rows}) k WHERE {window}")


def _shape_rows(layer: TileLayer, z: int, x: int, y: int, where: str) -> str:
    """SELECT of the line and polygon rows of tile z/x/y, simplified and cut (tile units)."""
    tol_m = (EXTENT // TILE_PIXELS / 2) * (2 * _HALF_WORLD_M) / (EXTENT * (1 << z))
    # Web Mercator stops at 85.05°: clip anything beyond before projecting.
    merc = (f"ST_Transform(CASE WHEN ST_YMax(geom) > {MAX_LAT!r} OR ST_YMin(geom) < {-MAX_LAT!r}"
            f" THEN ST_ClipByBox2D(geom, ST_MakeEnvelope(-180, {-MAX_LAT!r}, 180, {MAX_LAT!r},"
            f" 4326)) ELSE geom END, 3857)")
    geom = (f"ST_AsMVTGeom(ST_SimplifyPreserveTopology({merc}, {tol_m!r}),"
            f" ST_TileEnvelope({z}, {x}, {y}), {EXTENT}, {BUFFER}, true)")
    return (f"SELECT fid{_props_select(layer)}, {geom} AS geom FROM {layer.ident}"
            f" WHERE geom && {_envelope(z, x, y, _EPS_DEG)}{where}")


def tile_sql(layer: TileLayer, z: int, x: int, y: int, datum: str = "wgs84"
             ) -> tuple[str, list[Any]]:
    """SQL and parameters of one tile: a single row with the MVT bytes (empty: no feature).

    Parameters
    ----------
    layer : TileLayer
    z, x, y : int
        XYZ tile address (checked: :class:`geo.vector_tiles.TileError`).
    datum : str
        ``wgs84`` (also for CGCS2000) or ``gcj02`` (point layers only).

    Raises
    ------
    ValueError
        For ``gcj02`` on a layer with lines or polygons (use :func:`gcj02_candidates_sql`).
    """
    check_tile(z, x, y)
    if datum not in ("wgs84", "gcj02"):
        raise ValueError(f"datum {datum!r}: tiles are made for wgs84 or gcj02")
    if datum == "gcj02" and not layer.all_points:
        raise ValueError("GCJ-02 tiles of lines and polygons are shifted in Python:"
                         " use gcj02_candidates_sql and python_tile")
    cap = int(layer.max_features)
    keys = "".join(f", {_quote(k)}" for k in layer.properties)
    if layer.all_points:
        rows = _point_rows(layer, z, x, y, datum, "")
        body = f"SELECT fid{keys}, geom FROM ({rows}) p ORDER BY fid LIMIT {cap}"
    else:
        points = _point_rows(layer, z, x, y, datum, " AND GeometryType(geom) = 'POINT'")
        shapes = _shape_rows(layer, z, x, y, " AND GeometryType(geom) <> 'POINT'")
        # The cap counts candidates (as TileSource does), then empty cuts are dropped.
        body = (f"SELECT * FROM (SELECT fid{keys}, geom FROM ({points}) p UNION ALL"
                f" SELECT fid{keys}, geom FROM ({shapes}) s ORDER BY fid LIMIT {cap}) c"
                " WHERE geom IS NOT NULL")
    sql = f"SELECT ST_AsMVT(t, %s, {EXTENT}, 'geom', 'fid') FROM ({body}) t"
    return sql, [layer.name]


def fetch_tile(con: Any, layer: TileLayer, z: int, x: int, y: int, datum: str = "wgs84"
               ) -> bytes:
    """Run :func:`tile_sql` on a psycopg connection: the tile's bytes (``b""`` when empty)."""
    sql, params = tile_sql(layer, z, x, y, datum)
    row = con.execute(sql, params).fetchone()
    return bytes(row[0]) if row and row[0] is not None else b""


# -- writing the first zoom with the rows ------------------------------------------------------
def minzoom_values(lon: np.ndarray, lat: np.ndarray, fids: np.ndarray,
                   is_point: np.ndarray | None = None) -> np.ndarray:
    """The :data:`MINZOOM_COLUMN` value of each row, computed in NumPy before the rows are written.

    Points get :func:`geo.vector_tiles.thin_minzoom` under the whole-layer rule;
    other rows 0 (never thinned).

    Parameters
    ----------
    lon, lat : numpy.ndarray
        Point coordinates (anything for non-points).
    fids : numpy.ndarray of int
        The rows' fids.
    is_point : numpy.ndarray of bool, optional
        Which rows are points (default: all).

    Examples
    --------
    >>> minzoom_values(np.array([116.0, 116.1]), np.array([44.0, 44.1]), np.array([1, 2])).tolist()
    [0, 0]
    """
    lon = np.asarray(lon, dtype="float64")
    lat = np.asarray(lat, dtype="float64")
    fids = np.asarray(fids)
    mask = np.ones(len(lon), bool) if is_point is None else np.asarray(is_point, bool)
    out = np.zeros(len(lon), dtype="int16")
    if not mask.any():
        return out
    plon, plat = lon[mask], lat[mask]
    zt = thin_max_zoom(int(mask.sum()), (plon.min(), plat.min(), plon.max(), plat.max()))
    wx, wy = lonlat_to_world(plon, plat)
    out[mask] = thin_minzoom(wx, wy, fids[mask], zt)
    return out


def minzoom_indexes_sql(layer: TileLayer, per_zoom: Sequence[int]) -> list[str]:
    """Partial GiST indexes for the thinned zooms: ``CREATE INDEX … WHERE minzoom <= z``.

    A tile at zoom z reads the points of its window drawn at z.  Neither index of
    the table fits that alone: the GiST index finds a low-zoom tile's window (a
    million rows at z7 over the League) and a B-tree on the first zoom finds the
    layer's points drawn at z (100,000 at z9, everywhere); ANDing both builds a
    million-entry bitmap (240 ms).  A GiST index over only the points drawn at
    or before zoom t answers any zoom z <= t directly (under 10 ms).  One index
    every second zoom, up to where it would hold a quarter of the rows (deeper
    zooms use the table's own GiST index); together under a third of its size.

    Parameters
    ----------
    layer : TileLayer
    per_zoom : sequence of int
        How many rows have each first zoom (``numpy.bincount`` of
        :func:`minzoom_values`, or ``SELECT minzoom, count(*) … GROUP BY``).

    Examples
    --------
    >>> t = TileLayer("p__v1", "p", {}, "POINT", 100, (0, 0, 1, 1), MINZOOM_COLUMN)
    >>> [s.split(" WHERE ")[1] for s in minzoom_indexes_sql(t, [1, 2, 4, 8, 16, 69])]
    ['"atlas_minzoom" <= 1', '"atlas_minzoom" <= 3']
    """
    col = _quote(layer.minzoom_column or MINZOOM_COLUMN)
    total = max(int(sum(per_zoom)), 1)
    out = []
    upto = 0
    for z, n in enumerate(per_zoom):
        upto += int(n)
        if upto > total / 4:
            break
        if z % 2 == 1:
            out.append(f"CREATE INDEX {_quote(f'{layer.table}_mz{z}')} ON {layer.ident}"
                       f" USING gist (geom) WHERE {col} <= {z}")
    return out


def point_stats_sql(layer: TileLayer) -> str:
    """Count and bounds of a mixed layer's points (for :class:`TileLayer`; once per version)."""
    return (f"SELECT count(*), min(ST_X(geom)), min(ST_Y(geom)), max(ST_X(geom)),"
            f" max(ST_Y(geom)) FROM {layer.ident} WHERE GeometryType(geom) = 'POINT'")


# -- GCJ-02 for lines and polygons: rows read in SQL, shifted and encoded in Python ------------
def gcj02_candidates_sql(layer: TileLayer, z: int, x: int, y: int) -> str:
    """Rows that may fall in tile z/x/y once shifted to GCJ-02: ``fid, <props>, wkb[, minzoom]``.

    The window is grown by more than the largest GCJ-02 offset; :func:`python_tile`
    shifts and cuts them.
    """
    check_tile(z, x, y)
    minzoom = f", {_quote(layer.minzoom_column)}" if layer.minzoom_column else ""
    return (f"SELECT fid{_props_select(layer)}, ST_AsBinary(geom, 'NDR'){minzoom}"
            f" FROM {layer.ident} WHERE geom && {_envelope(z, x, y, _GCJ_MARGIN_DEG)}"
            " ORDER BY fid")


def python_tile(layer: TileLayer, rows: Sequence[tuple], z: int, x: int, y: int,
                datum: str = "gcj02") -> bytes:
    """Encode the rows of :func:`gcj02_candidates_sql` as the tile z/x/y in ``datum``.

    Points keep the whole layer's thinning through their stored first zoom; without
    that column thinned zooms of a mixed layer cannot be served this way (ValueError).
    """
    import pandas as pd
    import shapely

    from geo.crs import transform_geometries
    from geo.vector_tiles import TileSource

    keys = list(layer.properties)
    cols = list(zip(*rows, strict=True)) if rows else [()] * (2 + len(keys))
    fids = np.asarray(cols[0], dtype="int64")
    props = pd.DataFrame({k: list(cols[1 + i]) for i, k in enumerate(keys)})
    geoms = shapely.from_wkb(np.array([bytes(b) for b in cols[1 + len(keys)]], dtype=object))
    geoms = transform_geometries(geoms, "wgs84", datum) if datum != "wgs84" else geoms
    minzoom = None
    if layer.minzoom_column:
        minzoom = np.asarray(cols[2 + len(keys)], dtype="int8")
    elif layer.thin_max_zoom >= z:
        raise ValueError("this zoom is thinned: write the first-zoom column first")
    src = TileSource(layer.name, geoms, props, ids=fids, max_features=layer.max_features,
                     thinning=(layer.thin_max_zoom, minzoom))
    return src.tile(z, x, y)
