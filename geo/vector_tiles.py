"""Mapbox Vector Tiles (MVT 2.1) of a layer: clipped, simplified and thinned per zoom.

A :class:`TileSource` wraps one layer version.  It projects every geometry once
to normalised Web Mercator, simplifies lines and polygons once per zoom (half a
screen pixel), and answers ``tile(z, x, y)`` by querying the layer's STRtree,
clipping to the tile plus a buffer and encoding the result.

Points are the case that must scale (a million project sites).  In layers of
more than 5,000 points they are thinned to at most one point per 8×8 screen
pixels of a 256-pixel tile, the lowest feature id winning.  The grid is aligned
on the whole world and the decision is taken for the whole layer at each zoom
(:func:`thin_max_zoom`), never per tile, so a cluster looks the same on both
sides of a tile edge.  Grid cells nest from one zoom to the next, so a point kept
at zoom z is kept at every deeper zoom: each point gets the first zoom that
draws it (:func:`thin_minzoom`), computed once per layer version, and a tile at
zoom z draws the points whose first zoom is at most z.  The same rule runs in
SQL on PostGIS (``layers/pg_tiles.py``).  A tile carries at most
:data:`MAX_FEATURES` features (the lowest ids), a bound for dense spots of layers
too sparse overall to be thinned.
Point tiles are encoded straight into protobuf bytes
with NumPy (the per-feature Python encoder of ``mapbox_vector_tile`` spends about
0.1 ms a feature); lines and polygons, which are few, go through
``mapbox_vector_tile.encode``.  Both produce standard tiles that any MVT reader
(Leaflet.VectorGrid, ``mapbox_vector_tile.decode``, GDAL) decodes.

Examples
--------
>>> import numpy as np, pandas as pd, shapely, mapbox_vector_tile
>>> src = TileSource("sites", np.array([shapely.Point(116.09, 43.93)]),
...                  pd.DataFrame({"name": ["锡林浩特"]}), ids=np.array([7]))
>>> tile_for_lonlat(116.09, 43.93, 8)
(210, 93)
>>> layer = mapbox_vector_tile.decode(src.tile(8, 210, 93))["sites"]
>>> layer["features"][0]["id"], layer["features"][0]["properties"]
(7, {'name': '锡林浩特'})
>>> src.tile(8, 0, 0)  # nothing there
b''
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import mapbox_vector_tile
import numpy as np
import pandas as pd
import shapely

#: Tile coordinate extent (the MVT default).
EXTENT = 4096
#: Screen pixels of a tile as Leaflet draws it.
TILE_PIXELS = 256
#: Extra margin around each tile, in tile units (16 screen pixels): circle
#: markers and line widths near an edge are drawn whole by both tiles.
BUFFER = 16 * EXTENT // TILE_PIXELS
#: Deepest zoom served.
MAX_ZOOM = 22
#: Web Mercator's latitude limit.
MAX_LAT = 85.0511287798066
#: Points closer than this many screen pixels (same grid cell) are drawn once: the
#: browser draws at most about a thousand per tile, and circle markers of radius 5-6
#: pixels still cover the cell.
THIN_PIXELS = 8
#: Layers with more points than this are thinned.
THIN_ABOVE = 5000
#: A zoom is thinned while the layer's extent holds fewer grid cells than this many per point
#: (with far more cells than points, few points share a cell and thinning would remove little).
THIN_CELLS_PER_POINT = 5
#: At most this many features in a tile (the lowest ids): a bound on tiles of a dense spot in a
#: layer too sparse overall to be thinned (tipg cuts at the same number).
MAX_FEATURES = 10_000
#: Up to this many points drawn at a zoom, a tile tests them all instead of walking the tree.
_PREFIX_SCAN = 65_536
_GRID = EXTENT // TILE_PIXELS  # tile units per screen pixel


class TileError(ValueError):
    """A tile address outside the pyramid."""


def check_tile(z: int, x: int, y: int) -> None:
    """Raise :class:`TileError` unless ``z/x/y`` is a tile of the XYZ pyramid.

    Examples
    --------
    >>> check_tile(3, 7, 7)
    >>> check_tile(3, 8, 0)
    Traceback (most recent call last):
    ...
    geo.vector_tiles.TileError: at zoom 3, x and y must lie in 0..7
    """
    if not 0 <= z <= MAX_ZOOM:
        raise TileError(f"zoom must lie in 0..{MAX_ZOOM}")
    n = 1 << z
    if not (0 <= x < n and 0 <= y < n):
        raise TileError(f"at zoom {z}, x and y must lie in 0..{n - 1}")


def lonlat_to_world(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normalised Web Mercator: x and y in [0, 1], y growing southwards (like tiles).

    Examples
    --------
    >>> [round(float(v[0]), 6) for v in lonlat_to_world(np.array([0.0]), np.array([0.0]))]
    [0.5, 0.5]
    """
    lon = np.asarray(lon, dtype="float64")
    lat = np.clip(np.asarray(lat, dtype="float64"), -MAX_LAT, MAX_LAT)
    x = lon / 360.0 + 0.5
    y = 0.5 - np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)) / (2 * np.pi)
    return x, y


def tile_for_lonlat(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The ``(x, y)`` of the tile containing a point at zoom ``z``.

    Examples
    --------
    >>> tile_for_lonlat(0.0, 0.0, 1)
    (1, 1)
    """
    wx, wy = lonlat_to_world(np.array([lon]), np.array([lat]))
    n = 1 << z
    return (int(min(n - 1, max(0, math.floor(wx[0] * n)))),
            int(min(n - 1, max(0, math.floor(wy[0] * n)))))


def tile_bounds(z: int, x: int, y: int, buffer: float = 0.0) -> tuple[float, float, float, float]:
    """``(minlon, minlat, maxlon, maxlat)`` of a tile, grown by ``buffer`` tile units.

    Examples
    --------
    >>> tile_bounds(0, 0, 0)[0], round(tile_bounds(0, 0, 0)[3], 4)
    (-180.0, 85.0511)
    """
    n = 1 << z
    b = buffer / EXTENT

    def lon(v: float) -> float:
        return v / n * 360.0 - 180.0

    def lat(v: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * v / n))))

    return (max(-180.0, lon(x - b)), max(-MAX_LAT, lat(y + 1 + b)),
            min(180.0, lon(x + 1 + b)), min(MAX_LAT, lat(y - b)))


def thin_scale(z: int) -> int:
    """Thinning grid cells per world axis at zoom ``z`` (one cell: THIN_PIXELS screen pixels).

    A point at normalised world position ``(wx, wy)`` lies in cell
    ``(floor(wx * thin_scale(z)), floor(wy * thin_scale(z)))``; the scale is a power of
    two, so the product is exact and SQL computes the same cell.

    Examples
    --------
    >>> thin_scale(0), thin_scale(3)
    (32, 256)
    """
    return (TILE_PIXELS // THIN_PIXELS) << z


def thin_max_zoom(n_points: int, bounds: Sequence[float]) -> int:
    """Deepest zoom at which a layer of ``n_points`` points over ``bounds`` is thinned (-1: none).

    The decision is taken for the whole layer (never per tile) from its point count
    and extent, which both stores know without reading the features: a zoom is
    thinned while the grid cells over the extent number fewer than
    :data:`THIN_CELLS_PER_POINT` per point.  Cells multiply by four per zoom, so the
    thinned zooms are ``0 .. thin_max_zoom``.

    Parameters
    ----------
    n_points : int
        Points in the layer (lines and polygons are never thinned).
    bounds : sequence of float
        ``(minlon, minlat, maxlon, maxlat)`` of those points (EPSG:4326).

    Examples
    --------
    >>> thin_max_zoom(4000, (111.0, 41.5, 120.0, 46.8))  # small layers are never thinned
    -1
    >>> thin_max_zoom(1_000_000, (111.0, 41.5, 120.0, 46.8))
    11
    >>> thin_max_zoom(6000, (116.0, 44.0, 116.0, 44.0))  # all at one spot: every zoom
    22
    """
    if n_points <= THIN_ABOVE:
        return -1
    minlon, minlat, maxlon, maxlat = (float(v) for v in bounds)
    wx, wy = lonlat_to_world(np.array([minlon, maxlon]), np.array([maxlat, minlat]))
    dx, dy = float(wx[1] - wx[0]), float(wy[1] - wy[0])
    limit = THIN_CELLS_PER_POINT * n_points
    for z in range(MAX_ZOOM + 1):
        scale = thin_scale(z)
        if (dx * scale + 1) * (dy * scale + 1) >= limit:
            return z - 1
    return MAX_ZOOM


def thin_minzoom(wx: np.ndarray, wy: np.ndarray, ids: np.ndarray, max_zoom: int) -> np.ndarray:
    """The first zoom that draws each point, thinning at zooms ``0 .. max_zoom``.

    At each thinned zoom every grid cell (:func:`thin_scale`) draws the point of
    lowest id among the points in it.  Cells of zoom z+1 nest in those of zoom z, so
    the lowest id of a cell is the lowest of its four children's: each zoom is
    computed from the points kept at the next deeper one, and a point kept at zoom z
    stays at every deeper zoom.  Points kept at no thinned zoom get ``max_zoom + 1``
    (the first zoom left unthinned).

    Parameters
    ----------
    wx, wy : numpy.ndarray
        Normalised Web Mercator positions (:func:`lonlat_to_world`).
    ids : numpy.ndarray of int
        Feature ids (ties broken by the lowest).
    max_zoom : int
        Deepest thinned zoom (:func:`thin_max_zoom`); -1 draws every point at every zoom.

    Returns
    -------
    numpy.ndarray of int8

    Examples
    --------
    Two points share a cell down to zoom 2 and are apart from zoom 3 on; the third
    is alone at every zoom:

    >>> wx = np.array([0.5, 0.5 + 1.5 / thin_scale(3), 0.1])
    >>> thin_minzoom(wx, np.full(3, 0.5), np.array([2, 1, 3]), 5).tolist()
    [3, 0, 0]
    """
    n = len(wx)
    if max_zoom < 0 or n == 0:
        return np.zeros(n, dtype="int8")
    out = np.full(n, max_zoom + 1, dtype="int8")
    # Candidates in id order: the first of each cell is then its lowest id.
    cand = np.argsort(np.asarray(ids), kind="stable")
    wx = np.asarray(wx, dtype="float64")
    wy = np.asarray(wy, dtype="float64")
    for z in range(max_zoom, -1, -1):
        scale = thin_scale(z)
        key = (np.floor(wy[cand] * scale).astype("int64") * (scale + 1)
               + np.floor(wx[cand] * scale).astype("int64"))
        _, first = np.unique(key, return_index=True)
        cand = cand[np.sort(first)]
        out[cand] = z
    return out


def tile_property_columns(columns: Sequence[str], name_field: str | None = None,
                          category_field: str | None = None) -> dict[str, str]:
    """Which columns a tile carries, as ``{tile key: column}``: ``id``, ``name``, ``category``.

    The catalog names a layer's name and category fields; other layers are
    matched by common column names.  Both stores use this (the GeoPackage through
    :class:`TileSource`, PostGIS in SQL), so their tiles carry the same properties.

    Examples
    --------
    >>> tile_property_columns(["id", "name_zh", "type", "x"])
    {'id': 'id', 'name': 'name_zh', 'category': 'type'}
    >>> tile_property_columns(["名称", "kind"], category_field="kind")
    {'name': '名称', 'category': 'kind'}
    """
    present = set(columns)
    out: dict[str, str] = {}
    if "id" in present:
        out["id"] = "id"
    name = name_field if name_field in present else next(
        (c for c in _NAME_COLUMNS if c in present), None)
    if name:
        out["name"] = name
    category = category_field if category_field in present else next(
        (c for c in _CATEGORY_COLUMNS if c in present), None)
    if category:
        out["category"] = category
    return out


_NAME_COLUMNS = ("name_zh", "name", "name_en", "NAME", "名称")
_CATEGORY_COLUMNS = ("category", "type", "level")


class TileSource:
    """Vector tiles of one layer version.

    Parameters
    ----------
    name : str
        Layer name inside the tile.
    geoms : numpy.ndarray of shapely geometries
        Features in EPSG:4326 (None and empty geometries are skipped).
    properties : pandas.DataFrame
        One row per feature; its columns become tile properties (keep it small:
        every value is sent).  Missing values are left out.
    ids : numpy.ndarray of int, optional
        Feature ids (non-negative); default: positions.
    tree : shapely.STRtree, optional
        A warm spatial index over ``geoms`` to reuse; built if not given.
    max_features : int, optional
        At most this many features per tile, the lowest ids (default :data:`MAX_FEATURES`).
    thinning : tuple, optional
        ``(thin_max_zoom, minzoom)`` decided elsewhere, e.g. on the WGS 84 positions
        of a layer whose ``geoms`` are shifted to GCJ-02, or stored with the rows;
        ``minzoom`` (one int per feature) may be None to compute it here under that
        deepest zoom.  Default: both from ``geoms``.
    """

    def __init__(self, name: str, geoms: np.ndarray, properties: pd.DataFrame,
                 ids: np.ndarray | None = None, tree: shapely.STRtree | None = None,
                 max_features: int = MAX_FEATURES,
                 thinning: tuple[int, np.ndarray | None] | None = None) -> None:
        self.name = name
        self.geoms = np.asarray(geoms, dtype=object)
        self.ids = (np.arange(len(self.geoms)) if ids is None
                    else np.asarray(ids)).astype("int64")
        self.tree = tree if tree is not None else shapely.STRtree(self.geoms)
        self.properties = properties.reset_index(drop=True)
        self.max_features = int(max_features)
        type_ids = shapely.get_type_id(self.geoms)
        self.is_point = type_ids == 0
        self.all_points = bool(self.is_point.all())
        # Normalised Web Mercator position of every point (NaN for other types).
        px = np.full(len(self.geoms), np.nan)
        py = np.full(len(self.geoms), np.nan)
        self.point_bounds: tuple[float, float, float, float] | None = None
        if self.is_point.any():
            pts = self.geoms[self.is_point]
            lon, lat = shapely.get_x(pts), shapely.get_y(pts)
            px[self.is_point], py[self.is_point] = lonlat_to_world(lon, lat)
            self.point_bounds = (float(lon.min()), float(lat.min()),
                                 float(lon.max()), float(lat.max()))
        self.wx, self.wy = px, py
        #: Deepest thinned zoom of this layer (-1: never thinned).
        self.thin_max_zoom = (thin_max_zoom(int(self.is_point.sum()), self.point_bounds)
                              if self.point_bounds is not None else -1)
        self._props = _PropertyTable(self.properties)
        self._by_zoom: dict[tuple[str, int], Any] = {}
        self._minzoom: np.ndarray | None = None
        self._by_first_zoom: tuple[np.ndarray, np.ndarray] | None = None
        if thinning is not None:
            self.thin_max_zoom = int(thinning[0])
            if thinning[1] is not None:
                minzoom = np.asarray(thinning[1]).astype("int8")
                if len(minzoom) != len(self.geoms):
                    raise ValueError("thinning: one first zoom per feature")
                self._minzoom = np.where(self.is_point, minzoom, 0).astype("int8")

    # -- computed once per layer version ------------------------------------------------
    @property
    def minzoom(self) -> np.ndarray:
        """First zoom that draws each feature (0 for lines and polygons): :func:`thin_minzoom`."""
        if self._minzoom is None:
            out = np.zeros(len(self.geoms), dtype="int8")
            if self.thin_max_zoom >= 0:
                pos = np.flatnonzero(self.is_point)
                out[pos] = thin_minzoom(self.wx[pos], self.wy[pos], self.ids[pos],
                                        self.thin_max_zoom)
            self._minzoom = out
        return self._minzoom

    def _kept_points(self, z: int) -> np.ndarray | None:
        """Positions of the points drawn at zoom ``z`` (any order), or None when all are."""
        if z > self.thin_max_zoom:
            return None
        if self._by_first_zoom is None:
            # Points ordered by first zoom: those drawn at zoom z are a prefix.
            pos = np.flatnonzero(self.is_point)
            order = np.argsort(self.minzoom[pos], kind="stable")
            ends = np.searchsorted(self.minzoom[pos][order],
                                   np.arange(MAX_ZOOM + 2), side="right")
            self._by_first_zoom = (pos[order], ends)
        ordered, ends = self._by_first_zoom
        return ordered[:ends[z]]

    def _simplified(self, z: int) -> np.ndarray:
        """Non-point geometries in world tile units at zoom ``z``, simplified to half a pixel."""
        key = ("shapes", z)
        if key not in self._by_zoom:
            scale = EXTENT * (1 << z)
            geoms = np.where(self.is_point, None, self.geoms)

            def project(coords: np.ndarray) -> np.ndarray:
                wx, wy = lonlat_to_world(coords[:, 0], coords[:, 1])
                return np.column_stack([wx * scale, wy * scale])

            world = shapely.transform(geoms, project)
            self._by_zoom[key] = shapely.simplify(world, _GRID / 2, preserve_topology=True)
        return self._by_zoom[key]

    # -- one tile ---------------------------------------------------------------------
    def positions(self, z: int, x: int, y: int) -> np.ndarray:
        """Sorted positions of the features drawn in tile ``z/x/y`` (buffer included).

        Points lie within the tile plus :data:`BUFFER`, and at thinned zooms are
        those the whole-layer grid keeps; lines and polygons have their envelope
        there.  Above :attr:`max_features`, the lowest ids are kept.
        """
        check_tile(z, x, y)
        kept = self._kept_points(z) if self.all_points else None
        if kept is not None and len(kept) <= _PREFIX_SCAN:
            # Few points drawn at this zoom: test them all (no tree walk over the
            # whole layer, which a low-zoom tile covers).
            scale = 1 << z
            b = BUFFER / EXTENT
            wx, wy = self.wx[kept] * scale, self.wy[kept] * scale
            inside = (wx >= x - b) & (wx <= x + 1 + b) & (wy >= y - b) & (wy <= y + 1 + b)
            pos = np.sort(kept[inside])
        else:
            pos = np.sort(self.tree.query(shapely.box(*tile_bounds(z, x, y, BUFFER))))
            if z <= self.thin_max_zoom:
                pos = pos[~self.is_point[pos] | (self.minzoom[pos] <= z)]
        if len(pos) > self.max_features:
            lowest = np.argsort(self.ids[pos], kind="stable")[:self.max_features]
            pos = np.sort(pos[lowest])
        return pos

    def tile(self, z: int, x: int, y: int) -> bytes:
        """The encoded tile ``z/x/y`` (``b""`` when nothing falls in it)."""
        pos = self.positions(z, x, y)
        if len(pos) == 0:
            return b""
        if self.all_points:
            scale = EXTENT * (1 << z)
            tx = np.rint(self.wx[pos] * scale - x * EXTENT).astype("int64")
            ty = np.rint(self.wy[pos] * scale - y * EXTENT).astype("int64")
            tags, values = self._props.for_tile(pos)
            return encode_point_layer(self.name, tx, ty, self.ids[pos], tags, self._props.keys,
                                      values)
        return self._tile_mixed(z, x, y, pos)

    def _tile_mixed(self, z: int, x: int, y: int, pos: np.ndarray) -> bytes:
        scale = EXTENT * (1 << z)
        x0, y0 = x * EXTENT, y * EXTENT
        shapes = self._simplified(z)[pos]
        is_point = self.is_point[pos]
        # Points: position in tile units; shapes: clipped to tile + buffer, shifted.
        clipped = shapely.clip_by_rect(shapes, x0 - BUFFER, y0 - BUFFER,
                                       x0 + EXTENT + BUFFER, y0 + EXTENT + BUFFER)
        local = shapely.transform(clipped, lambda c: np.rint(c - (x0, y0)))
        pts = shapely.points(np.rint(self.wx[pos] * scale - x0), np.rint(self.wy[pos] * scale - y0))
        geoms = np.where(is_point, pts, local)
        keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        if not keep.any():
            return b""
        props = self._props.records(pos)
        features = [{"geometry": g, "properties": p, "id": int(i)}
                    for g, p, i, k in zip(geoms, props, self.ids[pos], keep, strict=True) if k]
        return mapbox_vector_tile.encode(
            [{"name": self.name, "features": features}],
            default_options={"y_coord_down": True, "extents": EXTENT,
                             "on_invalid_geometry":
                             mapbox_vector_tile.encoder.on_invalid_geometry_make_valid})


class _PropertyTable:
    """Tile properties: per tile, the values of its features are factorised and encoded.

    Working per tile (a few thousand features at most) rather than once over the
    layer keeps a million-feature layer's first tile fast.
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self.keys: list[str] = [str(c) for c in frame.columns]
        self._columns = [frame[c].to_numpy() for c in frame.columns]

    def for_tile(self, pos: np.ndarray) -> tuple[np.ndarray, ValueTable]:
        """Tag matrix ``(n, 2 * nkeys)`` (key index, value index; -1 where missing) and values."""
        tags = np.full((len(pos), 2 * len(self._columns)), -1, dtype="int64")
        parts: list[ValueTable] = []
        total = 0
        for j, column in enumerate(self._columns):
            codes, uniques = pd.factorize(column[pos], use_na_sentinel=True)
            present = codes >= 0
            tags[present, 2 * j] = j
            tags[present, 2 * j + 1] = codes[present] + total
            parts.append(ValueTable(_tile_values(np.asarray(uniques))))
            total += len(uniques)
        return tags, ValueTable.concat(parts)

    def records(self, pos: np.ndarray) -> list[dict[str, Any]]:
        """Plain property dicts of the features at ``pos`` (for the generic encoder)."""
        cols = [pd.Series(c[pos], dtype=object).where(pd.notna(c[pos]), None).tolist()
                for c in self._columns]
        return ([{k: _plain(v) for k, v in zip(self.keys, row, strict=True) if v is not None}
                 for row in zip(*cols, strict=True)] if cols else [{} for _ in pos])


def _plain(v: Any) -> Any:
    """A Python scalar mapbox_vector_tile can encode."""
    if isinstance(v, (str, bool, int, float)):
        return v
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return str(v)


def _tile_values(values: np.ndarray) -> np.ndarray:
    """Distinct values of a column as MVT can carry them (bool, int, float or str).

    Examples
    --------
    >>> _tile_values(np.array([True, False], dtype=object)).dtype
    dtype('bool')
    >>> _tile_values(np.array(["a", 1], dtype=object)).tolist()
    ['a', '1']
    """
    if values.dtype.kind in "biuf":
        return values
    kinds = {type(v) for v in values}
    if kinds and kinds <= {bool, np.bool_}:
        return values.astype(bool)
    if kinds and all(issubclass(k, (int, np.integer)) and not issubclass(k, (bool, np.bool_))
                     for k in kinds):
        return values.astype("int64")
    if kinds and all(issubclass(k, (int, float, np.integer, np.floating))
                     and not issubclass(k, (bool, np.bool_)) for k in kinds):
        return values.astype("float64")
    out = np.empty(len(values), dtype=object)
    out[:] = [v if isinstance(v, str) else str(v) for v in values]
    return out


# -- protobuf, vectorised ---------------------------------------------------------------
def _varints(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Protobuf varints of non-negative ints: (flat uint8 bytes, byte length of each).

    Examples
    --------
    >>> flat, lens = _varints(np.array([1, 300]))
    >>> bytes(flat), lens.tolist()
    (b'\\x01\\xac\\x02', [1, 2])
    """
    v = np.asarray(values, dtype="uint64").ravel()
    lengths = np.ones(len(v), dtype="int64")
    for k in range(1, 10):
        lengths += v >= np.uint64(1 << (7 * k))
    width = int(lengths.max()) if len(v) else 1
    if width == 1:  # the common case: every value below 128
        return v.astype("uint8"), lengths
    mat = np.empty((len(v), width), dtype="uint8")
    for k in range(width):
        mat[:, k] = ((v >> np.uint64(7 * k)) & np.uint64(0x7F)).astype("uint8")
        mat[:, k] |= ((k < lengths - 1) * 0x80).astype("uint8")
    return mat[np.arange(width) < lengths[:, None]], lengths


def _zigzag(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype="int64")
    return ((v << 1) ^ (v >> 63)).astype("uint64")


def _rows(pieces: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate per-row byte pieces row by row: each piece is (flat bytes, row lengths)."""
    total = np.sum([lens for _, lens in pieces], axis=0)
    row_start = np.cumsum(total) - total
    out = np.empty(int(total.sum()), dtype="uint8")
    offset = row_start.copy()
    for flat, lens in pieces:
        n = int(lens.sum())
        if n:
            starts = np.cumsum(lens) - lens
            dest = np.repeat(offset, lens) + (np.arange(n) - np.repeat(starts, lens))
            out[dest] = flat
        offset = offset + lens
    return out, total


def _const(b: bytes, n: int) -> tuple[np.ndarray, np.ndarray]:
    return (np.tile(np.frombuffer(b, dtype="uint8"), n),
            np.full(n, len(b), dtype="int64"))


def _varint_bytes(v: int) -> bytes:
    """One protobuf varint (pure Python: NumPy costs more than it saves on a scalar)."""
    if v < 0x80:
        return bytes((v,))
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


class ValueTable:
    """A layer's values encoded once, from which each tile takes the ones it uses.

    Parameters
    ----------
    values : numpy.ndarray or sequence
        Values of one kind: bool, int, float (NumPy dtypes) or str (object).

    Examples
    --------
    >>> ValueTable(np.array([300])).gather(np.array([0]))
    b'"\\x03(\\xac\\x02'
    >>> ValueTable(["甲"]).gather(np.array([0]))
    b'"\\x05\\n\\x03\\xe7\\x94\\xb2'
    """

    def __init__(self, values: Any = ()) -> None:
        values = np.asarray(values) if not isinstance(values, np.ndarray) else values
        n = len(values)
        kind = values.dtype.kind
        if kind == "b":  # bool_value (field 7)
            body = (_const(b"\x38", n), (values.astype("uint8"), np.ones(n, "int64")))
        elif kind in "iu" and (n == 0 or values.min() >= 0):  # uint_value (field 5)
            body = (_const(b"\x28", n), _varints(values))
        elif kind in "iu":  # sint_value (field 6)
            body = (_const(b"\x30", n), _varints(_zigzag(values)))
        elif kind == "f":  # double_value (field 3)
            raw = values.astype("<f8").view("uint8")
            body = (_const(b"\x19", n), (raw, np.full(n, 8, "int64")))
        else:  # string_value (field 1)
            encoded = [str(v).encode() for v in values]
            slen = np.fromiter(map(len, encoded), dtype="int64", count=n)
            sflat = np.frombuffer(b"".join(encoded), dtype="uint8")
            body = (_const(b"\x0a", n), _varints(slen), (sflat, slen))
        flat, blen = _rows(body)
        self.flat, self.lens = _rows([_const(b"\x22", n), _varints(blen), (flat, blen)])
        self.starts = np.cumsum(self.lens) - self.lens

    @classmethod
    def concat(cls, tables: Sequence[ValueTable]) -> ValueTable:
        """One table holding ``tables`` one after the other."""
        out = cls()
        if tables:
            out.flat = np.concatenate([t.flat for t in tables])
            out.lens = np.concatenate([t.lens for t in tables])
            out.starts = np.cumsum(out.lens) - out.lens
        return out

    def __len__(self) -> int:
        return len(self.lens)

    def gather(self, indices: np.ndarray) -> bytes:
        """The encoded values at ``indices``, concatenated in that order."""
        lens = self.lens[indices]
        n = int(lens.sum())
        offsets = np.cumsum(lens) - lens
        src = np.repeat(self.starts[indices], lens) + (np.arange(n) - np.repeat(offsets, lens))
        return self.flat[src].tobytes()


def _field(tag: int, payload: bytes) -> bytes:
    return bytes([tag]) + _varint_bytes(len(payload)) + payload


def encode_point_layer(name: str, tx: np.ndarray, ty: np.ndarray, ids: np.ndarray,
                       tags: np.ndarray, keys: Sequence[str],
                       values: Sequence[Any] | ValueTable) -> bytes:
    """A tile with one layer of point features, encoded with NumPy.

    Parameters
    ----------
    name : str
        Layer name.
    tx, ty : numpy.ndarray of int
        Tile coordinates (0..EXTENT, y down; the buffer may go beyond).
    ids : numpy.ndarray of int
        Feature ids (non-negative).
    tags : numpy.ndarray
        ``(n, 2k)`` (key index, value index) pairs per feature, -1 where absent.
    keys : sequence of str
        The layer's keys.
    values : sequence or ValueTable
        The layer's values (pre-encoded as a :class:`ValueTable` when reused);
        only the values used are written.

    Examples
    --------
    >>> import mapbox_vector_tile
    >>> b = encode_point_layer("p", np.array([10]), np.array([20]), np.array([5]),
    ...                        np.array([[0, 0]]), ["name"], ["甲"])
    >>> mapbox_vector_tile.decode(b, default_options={"y_coord_down": True})["p"]["features"]
    [{'geometry': {'type': 'Point', 'coordinates': [10, 20]}, 'properties': {'name': '甲'}, 'id': 5, 'type': 'Feature'}]
    """
    table = values if isinstance(values, ValueTable) else ValueTable(_tile_values(
        np.asarray(values, dtype=object)))
    n = len(tx)
    present = tags >= 0
    # Only the values this tile uses go in its value table, renumbered.
    used = np.unique(tags[:, 1::2][present[:, 1::2]]) if tags.size else np.array([], "int64")
    remap = np.full(len(values) + 1, -1, dtype="int64")
    remap[used] = np.arange(len(used))
    tags = tags.copy()
    if tags.size:
        vals = tags[:, 1::2]
        tags[:, 1::2] = np.where(vals >= 0, remap[vals], -1)
    tag_flat, tag_lens_each = _varints(tags[present])
    row_of = np.repeat(np.arange(n), present.sum(axis=1))
    tag_lens = np.bincount(row_of, weights=tag_lens_each, minlength=n).astype("int64")
    # geometry: MoveTo(1) then zigzag dx, dy from the cursor at (0, 0)
    gx, gx_len = _varints(_zigzag(tx))
    gy, gy_len = _varints(_zigzag(ty))
    geom, geom_len = _rows([_const(b"\x09", n), (gx, gx_len), (gy, gy_len)])
    id_flat, id_len = _varints(ids)
    tl_flat, tl_len = _varints(tag_lens)
    gl_flat, gl_len = _varints(geom_len)
    feature, feature_len = _rows([
        _const(b"\x08", n), (id_flat, id_len),
        _const(b"\x12", n), (tl_flat, tl_len), (tag_flat, tag_lens),
        _const(b"\x18\x01", n),
        _const(b"\x22", n), (gl_flat, gl_len), (geom, geom_len),
    ])
    fl_flat, fl_len = _varints(feature_len)
    features, _ = _rows([_const(b"\x12", n), (fl_flat, fl_len), (feature, feature_len)])
    layer = b"".join([
        b"\x78\x02",  # version 2
        _field(0x0A, name.encode()),
        features.tobytes(),
        b"".join(_field(0x1A, str(k).encode()) for k in keys),
        table.gather(used),
        b"\x28" + _varint_bytes(EXTENT),
    ])
    return _field(0x1A, layer)
