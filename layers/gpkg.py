"""The embedded store: one GeoPackage file, every write one SQLite transaction.

Each version of a layer is its own GeoPackage feature table (``<name>__v<token>``)
and a registry table, ``atlas_layers``, points each layer name at the table of its
current version.  A write creates the new table, fills it, switches the pointer
and drops the old table in a single SQLite transaction: a write that fails, or a
process killed half-way, is rolled back by SQLite's journal and readers always
see a whole version.  The file stays a standard GeoPackage that QGIS and GDAL open.

All I/O goes through Python's own ``sqlite3``.  GDAL (inside pyogrio) bundles a
second copy of SQLite; two copies writing one file in one process defeat
SQLite's POSIX locking and corrupt it, so GDAL is never used on the live file.
Geometries are encoded as GeoPackage blobs (header + WKB) with vectorised
shapely calls.

Reads are served from memory: each layer is loaded once per version with its
STRtree spatial index kept warm, so a bbox query costs a tree lookup.

Examples
--------
>>> import tempfile, os, shapely, geopandas as gpd
>>> store = GeoPackageStore(os.path.join(tempfile.mkdtemp(), "a.gpkg"))
>>> gdf = gpd.GeoDataFrame({"name_zh": ["甲", "乙"]},
...                        geometry=[shapely.Point(116, 44), shapely.Point(117, 45)], crs=4326)
>>> store.put("sites", gdf).count
2
>>> store.query("sites", bbox=(115.5, 43.5, 116.5, 44.5)).features["name_zh"].tolist()
['甲']
"""

from __future__ import annotations

import json
import os
import sqlite3
import struct
import threading
import uuid
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .catalog import layer_ids
from .store import (
    BBox,
    LayerInfo,
    LayerNotFound,
    QueryError,
    QueryResult,
    Store,
    check_paging,
    prepare_for_put,
)

# GeoPackage 1.3 core tables (OGC 12-128r18), with the two CRSs every GeoPackage
# must define plus EPSG:4326.
_GPKG_DDL = """
PRAGMA application_id = 1196444487;
PRAGMA user_version = 10300;
CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
CREATE TABLE IF NOT EXISTS gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
  description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT
  (strftime('%Y-%m-%dT%H:%M:%fZ','now')), min_x DOUBLE, min_y DOUBLE, max_x DOUBLE,
  max_y DOUBLE, srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
CREATE TABLE IF NOT EXISTS atlas_layers (
  name TEXT PRIMARY KEY, table_name TEXT NOT NULL UNIQUE, feature_count INTEGER NOT NULL,
  minx REAL, miny REAL, maxx REAL, maxy REAL, updated TEXT NOT NULL,
  meta TEXT NOT NULL DEFAULT '{}');
INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES
  ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
  ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
  ('WGS 84 geodetic', 4326, 'EPSG', 4326, 'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]', 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid');
"""

_SQL_TYPES = {"b": "BOOLEAN", "i": "INTEGER", "u": "INTEGER", "f": "REAL"}


@dataclass
class LoadedLayer:
    """A layer version held in memory with its spatial index.

    Attributes
    ----------
    info : LayerInfo
        Registry entry of this version.
    gdf : geopandas.GeoDataFrame
        The features, indexed by fid.
    tree : shapely.STRtree
        Spatial index over ``gdf.geometry``.
    cache : dict
        Per-version scratch space for derived data (encoded features, tiles …),
        dropped with the version.
    """

    info: LayerInfo
    gdf: gpd.GeoDataFrame
    tree: shapely.STRtree
    cache: dict

    def select(self, bbox: BBox | None = None,
               filters: Mapping[str, Any] | None = None) -> np.ndarray:
        """Row positions (ascending) matching ``bbox`` and ``filters`` in this version.

        Callers that keep per-version derived data (pre-encoded features) page
        these positions themselves instead of building a DataFrame page.
        """
        return select_positions(self, bbox, filters)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def encode_gpkg_blobs(geoms: np.ndarray, srs_id: int = 4326) -> list[bytes | None]:
    """GeoPackage geometry blobs (header with XY envelope + ISO WKB) for ``geoms``.

    Examples
    --------
    >>> blob = encode_gpkg_blobs(np.array([shapely.Point(1, 2)]))[0]
    >>> blob[:2], len(blob)
    (b'GP', 61)
    """
    wkb = shapely.to_wkb(geoms, byte_order=1, flavor="iso", include_srid=False)
    bounds = shapely.bounds(geoms)
    empty = shapely.is_empty(geoms)
    out: list[bytes | None] = []
    head = struct.Struct("<2sBBi")
    env = struct.Struct("<4d")
    for w, (minx, miny, maxx, maxy), is_empty in zip(wkb, bounds, empty, strict=True):
        if w is None:
            out.append(None)
        elif is_empty:  # flags: little endian, no envelope, empty bit
            out.append(head.pack(b"GP", 0, 0b00010001, srs_id) + w)
        else:  # flags: little endian, envelope [minx, maxx, miny, maxy]
            out.append(head.pack(b"GP", 0, 0b00000011, srs_id)
                       + env.pack(minx, maxx, miny, maxy) + w)
    return out


def decode_gpkg_blobs(blobs: list[bytes | None]) -> np.ndarray:
    """Shapely geometries from GeoPackage blobs (any envelope type).

    Examples
    --------
    >>> decode_gpkg_blobs(encode_gpkg_blobs(np.array([shapely.Point(1, 2)])))[0].wkt
    'POINT (1 2)'
    """
    env_sizes = (0, 32, 48, 48, 64, 0, 0, 0)
    wkb: list[bytes | None] = []
    for b in blobs:
        if b is None:
            wkb.append(None)
            continue
        flags = b[3]
        wkb.append(bytes(b[8 + env_sizes[(flags >> 1) & 0x07]:]))
    return shapely.from_wkb(np.array(wkb, dtype=object))


class GeoPackageStore(Store):
    """A :class:`~layers.store.Store` in one GeoPackage file.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.gpkg`` file; created (with its directory) if missing.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = os.fspath(path)
        os.makedirs(os.path.dirname(os.path.abspath(self.path)) or ".", exist_ok=True)
        self._lock = threading.RLock()
        self._local = threading.local()
        self._loaded: dict[str, LoadedLayer] = {}
        with closing(self._connect()) as con:
            con.executescript(_GPKG_DDL)
            con.execute("PRAGMA journal_mode = WAL")

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                              check_same_thread=False)
        con.execute("PRAGMA busy_timeout = 30000")
        con.execute("PRAGMA synchronous = FULL")
        return con

    def _rows(self, where: str = "", args: tuple = ()) -> list[tuple]:
        # Every request reads the registry (to learn the current version), so each
        # thread keeps one connection for it: opening one costs ten times the query.
        # Autocommit reads see every committed write, from this process or another.
        con = getattr(self._local, "con", None)
        if con is None:
            con = self._local.con = self._connect()
        return con.execute(
            "SELECT name, table_name, feature_count, minx, miny, maxx, maxy, updated, meta "
            f"FROM atlas_layers {where}",
            args,
        ).fetchall()

    @staticmethod
    def _info_from_row(row: tuple) -> LayerInfo:
        name, table, count, minx, miny, maxx, maxy, updated, meta = row
        nan = float("nan")
        bounds = tuple(nan if v is None else float(v) for v in (minx, miny, maxx, maxy))
        return LayerInfo(name=name, count=int(count), bounds=bounds,  # type: ignore[arg-type]
                         version=table, updated=updated, meta=json.loads(meta or "{}"))

    # -- reading --------------------------------------------------------------------------
    def list_layers(self) -> list[LayerInfo]:
        infos = [self._info_from_row(r) for r in self._rows()]
        order = {lid: i for i, lid in enumerate(layer_ids())}
        return sorted(infos, key=lambda i: (order.get(i.name, len(order)), i.name))

    def info(self, name: str) -> LayerInfo:
        rows = self._rows("WHERE name = ?", (name,))
        if not rows:
            raise LayerNotFound(f"no layer called {name!r}")
        return self._info_from_row(rows[0])

    def loaded(self, name: str) -> LoadedLayer:
        """The current version of a layer in memory, with its warm spatial index."""
        info = self.info(name)
        with self._lock:
            cached = self._loaded.get(name)
            if cached is not None and cached.info.version == info.version:
                return cached
        gdf = self._read_table(info.version)
        loaded = LoadedLayer(info=info, gdf=gdf, tree=shapely.STRtree(gdf.geometry.values),
                             cache={})
        with self._lock:
            self._loaded[name] = loaded
        return loaded

    def _read_table(self, table: str) -> gpd.GeoDataFrame:
        q = table.replace('"', '""')
        with closing(self._connect()) as con:
            cols = con.execute(f'PRAGMA table_info("{q}")').fetchall()
            rows = con.execute(f'SELECT * FROM "{q}" ORDER BY fid').fetchall()
        names = [c[1] for c in cols]
        types = {c[1]: (c[2] or "").upper() for c in cols}
        frame = pd.DataFrame.from_records(rows, columns=names)
        geoms = decode_gpkg_blobs(frame.pop("geom").tolist()) if "geom" in frame else None
        fids = frame.pop("fid").astype("int64").to_numpy()
        for name in frame.columns:
            if types[name] == "BOOLEAN":
                # A missing boolean comes back as NaN (0/1 and None read as floats): keep it None.
                frame[name] = frame[name].map(lambda v: None if pd.isna(v) else bool(v)).astype(
                    "object" if frame[name].isna().any() else "bool")
        gdf = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=4326))
        gdf.index = pd.Index(fids, name="fid")
        return gdf

    def get(self, name: str) -> gpd.GeoDataFrame:
        return self.loaded(name).gdf

    def query(
        self,
        name: str,
        bbox: BBox | None = None,
        filters: Mapping[str, Any] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> QueryResult:
        check_paging(limit, offset)
        layer = self.loaded(name)
        positions = select_positions(layer, bbox, filters)
        end = None if limit is None else offset + limit
        return QueryResult(features=layer.gdf.iloc[positions[offset:end]],
                           number_matched=len(positions))

    # -- writing --------------------------------------------------------------------------
    def put(self, name: str, gdf: gpd.GeoDataFrame, meta: Mapping[str, Any] | None = None
            ) -> LayerInfo:
        gdf = prepare_for_put(name, gdf)
        table = f"{name}__v{uuid.uuid4().hex[:12]}"
        props = gdf.drop(columns=[gdf.geometry.name])
        columns, records = _columns_and_records(props)
        blobs = encode_gpkg_blobs(gdf.geometry.values)
        bounds = gdf.total_bounds if len(gdf) else [None] * 4
        bounds = [None if b is None or not np.isfinite(b) else float(b) for b in bounds]
        geom_type = _geometry_type_name(gdf)
        meta_json = json.dumps(dict(meta or {}), ensure_ascii=False, default=str)
        col_ddl = "".join(f', "{c}" {t}' for c, t in columns)
        placeholders = ",".join("?" * (len(columns) + 1))
        col_list = "".join(f', "{c}"' for c, _ in columns)
        with self._lock, closing(self._connect()) as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                con.execute(f'CREATE TABLE "{table}" (fid INTEGER PRIMARY KEY AUTOINCREMENT,'
                            f" geom GEOMETRY{col_ddl})")
                con.executemany(
                    f'INSERT INTO "{table}" (geom{col_list}) VALUES ({placeholders})',
                    ((blob, *rec) for blob, rec in zip(blobs, records, strict=True)),
                )
                # The old version goes first: gpkg_contents.identifier (the name QGIS
                # shows) must stay unique.  Still one transaction, so nothing is lost.
                old = con.execute("SELECT table_name FROM atlas_layers WHERE name = ?",
                                  (name,)).fetchone()
                if old:
                    _drop_feature_table(con, old[0])
                con.execute(
                    "INSERT INTO gpkg_contents (table_name, data_type, identifier, description,"
                    " min_x, min_y, max_x, max_y, srs_id) VALUES (?, 'features', ?, ?, ?,?,?,?,"
                    " 4326)", (table, name, str((meta or {}).get("title", "")), *bounds))
                con.execute(
                    "INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, 4326, 0, 0)",
                    (table, geom_type))
                con.execute(
                    "INSERT INTO atlas_layers (name, table_name, feature_count, minx, miny,"
                    " maxx, maxy, updated, meta) VALUES (?,?,?,?,?,?,?,?,?)"
                    " ON CONFLICT(name) DO UPDATE SET table_name=excluded.table_name,"
                    " feature_count=excluded.feature_count, minx=excluded.minx,"
                    " miny=excluded.miny, maxx=excluded.maxx, maxy=excluded.maxy,"
                    " updated=excluded.updated, meta=excluded.meta",
                    (name, table, len(gdf), *bounds, _now(), meta_json))
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return self.info(name)

    def delete(self, name: str) -> bool:
        with self._lock, closing(self._connect()) as con:
            con.execute("BEGIN IMMEDIATE")
            row = con.execute("SELECT table_name FROM atlas_layers WHERE name = ?",
                              (name,)).fetchone()
            if row is None:
                con.execute("ROLLBACK")
                return False
            try:
                con.execute("DELETE FROM atlas_layers WHERE name = ?", (name,))
                _drop_feature_table(con, row[0])
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            self._loaded.pop(name, None)
        return True

    def check(self) -> list[str]:
        problems: list[str] = []
        with closing(self._connect()) as con:
            result = con.execute("PRAGMA integrity_check").fetchone()[0]
            if result != "ok":
                problems.append(f"SQLite integrity check: {result}")
            for name, table, count in con.execute(
                "SELECT name, table_name, feature_count FROM atlas_layers"
            ).fetchall():
                exists = con.execute(
                    "SELECT 1 FROM gpkg_contents WHERE table_name=?", (table,)).fetchone()
                if not exists:
                    problems.append(f"layer {name!r}: table {table!r} is missing")
                    continue
                actual = con.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
                if actual != count:
                    problems.append(f"layer {name!r}: {actual} rows, registry says {count}")
            orphans = con.execute(
                "SELECT table_name FROM gpkg_contents WHERE table_name NOT IN"
                " (SELECT table_name FROM atlas_layers)").fetchall()
            problems += [f"table {t!r} belongs to no layer" for (t,) in orphans]
        return problems


def _geometry_type_name(gdf: gpd.GeoDataFrame) -> str:
    types = set(gdf.geom_type.dropna().str.upper())
    return types.pop() if len(types) == 1 else "GEOMETRY"


def _columns_and_records(props: pd.DataFrame) -> tuple[list[tuple[str, str]], list[tuple]]:
    """SQLite column declarations and plain-Python row tuples for ``props``."""
    columns: list[tuple[str, str]] = []
    arrays: list[list] = []
    for name in props.columns:
        series = props[name]
        kind = series.dtype.kind
        if kind == "O":
            non_null = series.dropna()
            if len(non_null) and non_null.map(lambda v: isinstance(v, bool)).all():
                kind = "b"
        sql = _SQL_TYPES.get(kind, "TEXT")
        safe = str(name).replace('"', '""')
        if safe.lower() in ("fid", "geom"):
            safe = f"{safe}_"
        columns.append((safe, sql))
        arrays.append([_to_sql_value(v, sql) for v in series.tolist()])
    records = list(zip(*arrays, strict=True)) if arrays else [()] * len(props)
    return columns, records


def _to_sql_value(value: Any, sql_type: str) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if sql_type == "BOOLEAN":
        return int(bool(value))
    if sql_type in ("INTEGER", "REAL"):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def select_positions(layer: LoadedLayer, bbox: BBox | None,
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
        if key not in gdf.columns or key == gdf.geometry.name:
            raise QueryError(
                f"unknown property {key!r}; this layer has: "
                + ", ".join(c for c in gdf.columns if c != gdf.geometry.name)
            )
        positions = positions[_text_equal(gdf[key].to_numpy()[positions], value)]
    return positions


def _bbox_hits(layer: LoadedLayer, box: shapely.Geometry) -> np.ndarray:
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


def _text_equal(values: np.ndarray, wanted: Any) -> np.ndarray:
    """Elementwise equality of ``values`` with the query-string value ``wanted``."""
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


def _drop_feature_table(con: sqlite3.Connection, table: str) -> None:
    """Remove a feature table and its GeoPackage bookkeeping (inside the caller's transaction)."""
    q = table.replace('"', '""')
    con.execute(f'DROP TABLE IF EXISTS "{q}"')
    con.execute("DELETE FROM gpkg_geometry_columns WHERE table_name = ?", (table,))
    con.execute("DELETE FROM gpkg_contents WHERE table_name = ?", (table,))
