"""The embedded store: one GeoPackage file, every write one SQLite transaction.

Each version of a layer is its own table (``<name>__v<token>``).  The registry
table ``atlas_layers`` points each layer name at the table of its current version
and ``atlas_versions`` lists every version ever written (number, time, count,
metadata, what it was restored from).  A write creates the new table, fills it,
records the version and switches the pointer in a single SQLite transaction: a
write that fails, or a process killed half-way, is rolled back by SQLite's journal
and readers always see a whole version.  Only the current version of each layer is
registered as a GeoPackage feature table (``gpkg_contents``), so the file stays a
standard GeoPackage whose layers QGIS and GDAL open by name; older versions are
plain tables beside them until restored or deleted.

All I/O goes through Python's own ``sqlite3``.  GDAL (inside pyogrio) bundles a
second copy of SQLite; two copies writing one file in one process defeat
SQLite's POSIX locking and corrupt it, so GDAL is never used on the live file.
Geometries are encoded as GeoPackage blobs (header + WKB) with vectorised
shapely calls.

Reads are served from memory: each layer is loaded once per version as a
:class:`layers.memory.MemoryLayer` with its STRtree kept warm, so a bbox query costs
a tree lookup.

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
>>> _ = store.put("sites", gdf.iloc[:1])
>>> [(v.number, v.count, v.current) for v in store.versions("sites")]
[(2, 1, True), (1, 2, False)]
>>> store.restore("sites", 1).count
2
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import struct
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing, contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.geojson import encode_features

from .catalog import layer_ids
from .diskspace import (
    LOW_SPACE_BYTES,
    connect_for_reading,
    disk_space,
    error_kind,
    to_store_error,
)
from .encoded import page_bytes
from .errors import (
    LayerNotFound,
    StoreError,
    StoreReadOnly,
    VersionConflict,
    VersionNotFound,
    human_size,
)
from .jobs import JobStore
from .memory import (
    KIND_OF_SQL,
    LayerCache,
    MemoryLayer,
    columns_and_records,
    select_properties,
)
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
    bounds_of,
    check_paging,
    geometry_type_name,
    prepare_for_put,
    restored_from_of,
)
from .store import Store, layer_exists_error
from .temporal import declared_kinds, frame_extent, query_filter
from .tiles import memory_tile

#: Layers of more features than this are read page by page until a query needs them whole.
COLD_ROWS = 200_000
log = logging.getLogger(__name__)

#: Schema version of the atlas tables (``PRAGMA user_version`` is GeoPackage's own).
SCHEMA_VERSION = 2

# GeoPackage 1.3 core tables (OGC 12-128r18), with the two CRSs every GeoPackage
# must define plus EPSG:4326, and the atlas's registry.
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
  meta TEXT NOT NULL DEFAULT '{}', version INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS atlas_versions (
  name TEXT NOT NULL, version INTEGER NOT NULL, table_name TEXT NOT NULL UNIQUE,
  feature_count INTEGER NOT NULL, minx REAL, miny REAL, maxx REAL, maxy REAL,
  created TEXT NOT NULL, meta TEXT NOT NULL DEFAULT '{}', restored_from INTEGER,
  PRIMARY KEY (name, version));
CREATE TABLE IF NOT EXISTS atlas_schema (version INTEGER NOT NULL);
INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES
  ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
  ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
  ('WGS 84 geodetic', 4326, 'EPSG', 4326, 'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]', 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid');
"""

_REGISTRY_COLS = ("name, table_name, feature_count, minx, miny, maxx, maxy, updated, meta, "
                  "version")
#: The registry with each current version's geometry type (from the GeoPackage's own table).
_INFO_SELECT = ("SELECT l.name, l.table_name, l.feature_count, l.minx, l.miny, l.maxx, l.maxy,"
                " l.updated, l.meta, l.version, g.geometry_type_name FROM atlas_layers l"
                " LEFT JOIN gpkg_geometry_columns g ON g.table_name = l.table_name")
_VERSION_COLS = ("name, version, table_name, feature_count, minx, miny, maxx, maxy, created, "
                 "meta, restored_from")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _q(ident: str) -> str:
    """A double-quoted SQLite identifier."""
    return '"' + ident.replace('"', '""') + '"'


def _bounds(row: Sequence) -> tuple[float, float, float, float]:
    nan = float("nan")
    return tuple(nan if v is None else float(v) for v in row)  # type: ignore[return-value]


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


class _Prepared:
    """A frame made ready for the insert outside the write transaction (the slow part)."""

    def __init__(self, name: str, gdf: gpd.GeoDataFrame, meta: Mapping[str, Any] | None) -> None:
        gdf = prepare_for_put(name, gdf)
        self.name = name
        self.count = len(gdf)
        props = gdf.drop(columns=[gdf.geometry.name])
        self.columns, records = columns_and_records(props)
        blobs = encode_gpkg_blobs(gdf.geometry.values)
        self.rows = [(blob, *rec) for blob, rec in zip(blobs, records, strict=True)]
        self.bounds = bounds_of(gdf)
        self.geom_type = geometry_type_name(gdf)
        self.meta = dict(meta or {})


class GeoPackageStore(Store):
    """A :class:`~layers.store.Store` in one GeoPackage file.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.gpkg`` file; created (with its directory) if missing.
    memory_mb : float, optional
        Budget for the layers held in memory (``ATLAS_LAYER_MEMORY_MB``); the least
        recently used are dropped beyond it (:class:`layers.memory.LayerCache`).
    cold_rows : int
        Layers of more features are not loaded for plain pages (:meth:`in_memory`).
    min_free_mb : float
        Space kept free on the file's disk: while less is free, writes are refused with
        :class:`~layers.errors.StoreReadOnly` without being tried (0: always tried).

    Notes
    -----
    A full disk or a read-only filesystem does not take reads down.  A write that runs
    out of space raises :class:`~layers.errors.StoreFull` (SQLite has rolled it back;
    the original error is logged, never masked by a failed ``ROLLBACK``).  A file that
    cannot be written when the store opens (its disk full after a clean shutdown, when
    not even the ``-shm`` index file can be made; a read-only filesystem) is opened for
    reading through :func:`layers.diskspace.connect_for_reading` and writes are refused
    until :meth:`status` or a write finds the disk writable with room again: the store
    then reopens the file normally, without a restart.
    """

    def __init__(self, path: str | os.PathLike, *, memory_mb: float | None = None,
                 cold_rows: int = COLD_ROWS, min_free_mb: float = 0) -> None:
        self.path = os.fspath(path)
        self.min_free_bytes = int(min_free_mb * 1024 * 1024)
        self._lock = threading.RLock()  # writes, and changing how reads connect
        self._local = threading.local()
        self._loaded = LayerCache(float("inf") if memory_mb is None else memory_mb * 2**20)
        self._load_locks: dict[str, threading.Lock] = {}
        self._nulls: dict[str, dict[str, bool]] = {}
        #: Layers with more features are read page by page until a query needs their index.
        self.cold_rows = int(cold_rows)
        #: How reading connections are made (see connect_for_reading): "normal" unless the
        #: file could not be opened for writing.
        self._reading = "normal"
        #: The one connection of "exclusive" reading, shared by every thread under a lock.
        self._shared: sqlite3.Connection | None = None
        self._shared_lock = threading.Lock()
        #: Bumped whenever reading connections must be made afresh.
        self._generation = 0
        #: Why writes are refused without being tried (None: they are tried).
        self._paused: tuple[str, str, bool] | None = None
        try:
            os.makedirs(os.path.dirname(os.path.abspath(self.path)) or ".", exist_ok=True)
        except OSError as e:
            raise to_store_error(e, self.path, self.path) or StoreError(
                f"cannot create the directory of the store {self.path}: {e}",
                "set ATLAS_STORE to a path the server may write",
                message_zh=f"无法创建存储 {self.path} 所在的目录") from e
        self._open()
        # Jobs in the same file (tables made on first use), each call on its own connection.
        self._jobs = JobStore(self._job_connection, "sqlite", reading=self._reading_connection)

    def __repr__(self) -> str:
        return f"GeoPackageStore({self.path!r})"

    @property
    def location(self) -> str:
        """Where the store is, for messages."""
        return self.path

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                              check_same_thread=False)
        try:
            con.execute("PRAGMA busy_timeout = 30000")
            con.execute("PRAGMA synchronous = FULL")
        except BaseException:
            con.close()
            raise
        return con

    # -- opening, and a disk that cannot be written ---------------------------------------
    def _open(self) -> None:
        """Open the file normally (creating or migrating its tables if needed), or, when
        that needs a write the disk refuses, for reading only."""
        try:
            with closing(self._connect()) as con:
                self._init_schema(con)
            return
        except (sqlite3.Error, OSError) as e:
            kind = error_kind(e, self.path)
            if kind is None:
                raise
            first = e
        self._read_only_after(first, kind)
        log.warning("the store %s cannot be written (%s): serving reads, writes paused "
                    "until it can be written again", self.path, first)

    def _read_only_after(self, error: BaseException, kind: str) -> None:
        """Read the file another way after ``error`` (of :func:`error_kind` ``kind``)."""
        try:
            con, how = connect_for_reading(self.path)
        except sqlite3.Error as e:
            raise to_store_error(error, self.path, self.path) or StoreError(
                f"cannot open the store {self.path}: {error}") from e
        try:
            tables = {r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type='table'")}
            current = "atlas_schema" in tables and con.execute(
                "SELECT max(version) FROM atlas_schema").fetchone()[0] == SCHEMA_VERSION
        except sqlite3.Error:
            current = False
        if not current:  # its tables must be created or migrated first: that is a write
            con.close()
            raise to_store_error(error, self.path, self.path) or StoreError(
                f"cannot open the store {self.path}: {error}") from error
        with self._shared_lock:
            if self._shared is not None:
                self._shared.close()
            self._shared = con if how == "exclusive" else None
            if how != "exclusive":
                con.close()
            self._reading = how
            self._generation += 1
        full = kind == "full"
        self._paused = (("its disk was full when the store was opened", "打开存储时磁盘已满", True)
                        if full else ("its file or filesystem is read-only", "文件或文件系统只读",
                                      False))

    def _pause_reason(self) -> tuple[str, str, bool] | None:
        """Why a write would not be tried now: (English, Chinese, lack of space), or None."""
        if self._paused is not None and not self._resume():
            return self._paused
        space = disk_space(self.path)
        if space.read_only:
            return ("its filesystem is mounted read-only", "文件系统以只读方式挂载", False)
        if os.path.exists(self.path) and not os.access(self.path, os.W_OK):
            return ("the server may not write its file", "服务器无权写入存储文件", False)
        if space.free_bytes < self.min_free_bytes:
            return (f"its disk has {human_size(space.free_bytes)} free, less than the "
                    f"{human_size(self.min_free_bytes)} kept free (ATLAS_MIN_FREE_MB)",
                    f"磁盘只剩 {human_size(space.free_bytes)}，少于保留的 "
                    f"{human_size(self.min_free_bytes)}（ATLAS_MIN_FREE_MB）", True)
        return None

    def _resume(self) -> bool:
        """Open the file normally again if its disk has become writable with room."""
        with self._lock:
            if self._paused is None:
                return True
            space = disk_space(self.path)
            if space.read_only or space.free_bytes < max(self.min_free_bytes, LOW_SPACE_BYTES) \
                    or not os.access(self.path, os.W_OK):
                return False
            with self._shared_lock:
                # "exclusive" reading locks the file: let go of it before opening normally
                if self._shared is not None:
                    self._shared.close()
                    self._shared = None
                self._reading = "normal"
                self._generation += 1
            try:
                with closing(self._connect()) as con:
                    self._init_schema(con)
            except (sqlite3.Error, OSError) as e:
                kind = error_kind(e, self.path)
                if kind is None:
                    raise
                self._read_only_after(e, kind)
                return False
            self._paused = None
        log.warning("the store %s can be written again: writes resume", self.path)
        return True

    def status(self) -> StoreStatus:
        reason = self._pause_reason()
        free = disk_space(self.path).free_bytes
        if reason is None:
            return StoreStatus(writable=True, free_bytes=free, min_free_bytes=self.min_free_bytes)
        return StoreStatus(writable=False, reason=reason[0], reason_zh=reason[1], free_bytes=free,
                           min_free_bytes=self.min_free_bytes)

    @staticmethod
    def _init_schema(con: sqlite3.Connection) -> None:
        """Create the tables of a new file, or migrate an older atlas file, only if needed.

        A file that is already current is not written to (it may be read-only).
        """
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "atlas_schema" in tables:
            row = con.execute("SELECT max(version) FROM atlas_schema").fetchone()
            if row and row[0] == SCHEMA_VERSION:
                return
        with _transaction(con):
            old_registry = "atlas_layers" in tables and "atlas_versions" not in tables
            if old_registry:  # schema 1: registry without version numbers
                con.execute("ALTER TABLE atlas_layers ADD COLUMN version INTEGER NOT NULL "
                            "DEFAULT 1")
            for statement in _GPKG_DDL.split(";\n"):
                if statement.strip():
                    con.execute(statement)
            if old_registry:
                con.execute(
                    f"INSERT INTO atlas_versions ({_VERSION_COLS}) SELECT name, 1, table_name,"
                    " feature_count, minx, miny, maxx, maxy, updated, meta, NULL"
                    " FROM atlas_layers")
            con.execute("DELETE FROM atlas_schema")
            con.execute("INSERT INTO atlas_schema VALUES (?)", (SCHEMA_VERSION,))
        con.execute("PRAGMA journal_mode = WAL")

    # -- connections ----------------------------------------------------------------------
    def _reader(self) -> sqlite3.Connection:
        # Every request reads the registry (to learn the current version), so each
        # thread keeps one connection for it: opening one costs ten times the query.
        # Autocommit reads see every committed write, from this process or another.
        con = getattr(self._local, "con", None)
        if con is not None and self._local.generation == self._generation:
            return con
        if con is not None:  # made for another way of reading: the store changed modes
            con.close()
        self._local.con = None
        how, generation = self._reading, self._generation
        if how == "normal":
            con = self._connect()
        else:
            uri = "file:" + os.path.abspath(self.path).replace("?", "%3f").replace("#", "%23")
            mode = "?mode=ro&immutable=1" if how == "immutable" else "?mode=ro"
            con = sqlite3.connect(uri + mode, uri=True, timeout=30, isolation_level=None,
                                  check_same_thread=False)
        self._local.con, self._local.generation = con, generation
        return con

    @contextmanager
    def _reading_connection(self) -> Iterator[sqlite3.Connection]:
        """A connection to read with: this thread's, or the one of "exclusive" reading.

        A thread's first connection may fail on a disk that filled up while the store was
        open (SQLite cannot grow the ``-shm`` index of a WAL that a failed write left
        long): the store then reads another way, as if it had been opened on that disk,
        and pauses writes until there is room again.
        """
        for attempt in (1, 2):
            with self._shared_lock if self._reading == "exclusive" else nullcontext():
                if self._reading != "exclusive":  # (changed meanwhile, or never was)
                    try:
                        con = self._reader()
                    except (sqlite3.Error, OSError) as e:
                        if attempt == 2 or not self._read_another_way(e):
                            raise
                        continue
                    yield con
                    return
                if self._shared is None:  # closed by close(): the store reopens it when used
                    con = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                          check_same_thread=False)
                    con.execute("PRAGMA locking_mode = EXCLUSIVE")
                    self._shared = con
                yield self._shared
                return

    def _read_another_way(self, error: BaseException) -> bool:
        """After ``error`` opening a reading connection: whether the store now reads
        another way (a full or read-only disk), or the error is not about the disk."""
        kind = error_kind(error, self.path)
        if kind is None:
            return False
        with self._lock:
            if self._reading == "normal":
                self._read_only_after(error, kind)
                log.warning("the store %s cannot be read normally any more (%s): reading it "
                            "another way, writes paused until it can be written again",
                            self.path, error)
        return True

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE`` … ``COMMIT``), serialised in this process.

        Refused without trying (:class:`StoreReadOnly`) while the store cannot be written;
        a failure is rolled back only if SQLite has not done so already (it has, on a full
        disk), a failed rollback is logged rather than raised over the real error, and a
        full or read-only disk becomes :class:`StoreFull` / :class:`StoreReadOnly`.
        """
        with self._lock:
            reason = self._pause_reason()
            if reason is not None:
                raise StoreReadOnly(self.path, reason[0], reason[1], full=reason[2])
            con = None
            try:
                con = self._connect()
                with _transaction(con):
                    yield con
            except (sqlite3.Error, OSError) as e:
                mapped = to_store_error(e, self.path, self.path)
                if mapped is None:
                    raise
                log.error("a write to the store %s failed: %s", self.path, e)
                raise mapped from e
            finally:
                if con is not None:
                    con.close()

    @contextmanager
    def _job_connection(self) -> Iterator[sqlite3.Connection]:
        """A connection to change the jobs' tables with, under the rules of a layer write.

        While writes are paused, so are submitting, running and cancelling jobs
        (:class:`StoreReadOnly`: 503, not a wait on a file the store holds for reading);
        a full or read-only disk is mapped as for layers (:class:`StoreFull`: 507), the
        original error logged.  Jobs are read (status, results) as layers are, so
        finished jobs stay downloadable meanwhile.
        """
        reason = self._pause_reason()
        if reason is not None:
            raise StoreReadOnly(self.path, reason[0], reason[1], full=reason[2])
        try:
            with closing(self._connect()) as con:
                yield con
        except (sqlite3.Error, OSError) as e:
            mapped = to_store_error(e, self.path, self.path)
            if mapped is None:
                raise
            log.error("a job's write to the store %s failed: %s", self.path, e)
            raise mapped from e

    def _rows(self, where: str = "", args: tuple = ()) -> list[tuple]:
        with self._reading_connection() as con:
            return con.execute(f"{_INFO_SELECT} {where}", args).fetchall()

    @staticmethod
    def _info_from_row(row: tuple) -> LayerInfo:
        name, table, count, minx, miny, maxx, maxy, updated, meta, number, gtype = row
        return LayerInfo(name=name, count=int(count), bounds=_bounds((minx, miny, maxx, maxy)),
                         version=table, updated=updated, meta=json.loads(meta or "{}"),
                         version_number=int(number), geometry_type=gtype or "GEOMETRY")

    # -- reading --------------------------------------------------------------------------
    def list_layers(self) -> list[LayerInfo]:
        infos = [self._info_from_row(r) for r in self._rows()]
        order = {lid: i for i, lid in enumerate(layer_ids())}
        return sorted(infos, key=lambda i: (order.get(i.name, len(order)), i.name))

    def info(self, name: str) -> LayerInfo:
        rows = self._rows("WHERE l.name = ?", (name,))
        if not rows:
            raise LayerNotFound(f"no layer called {name!r}",
                                message_zh=f"没有名为 {name!r} 的图层")
        return self._info_from_row(rows[0])

    def in_memory(self, name: str) -> MemoryLayer | None:
        """The current version of a layer in memory, with its warm spatial index.

        Loaded now if need be — except a layer of more than :attr:`cold_rows` features
        that is not loaded yet: None then, and plain pages are read from the file
        (:meth:`query`) until a query that needs the index (a bbox, a filter, a sort)
        or a tile loads it.  A million points take seconds and hundreds of MB to
        load; the first page of them, milliseconds.
        """
        info = self.info(name)
        layer = self._cached(name, info)
        if layer is not None or info.count > self.cold_rows:
            return layer
        return self._load(name, info)

    def _cached(self, name: str, info: LayerInfo) -> MemoryLayer | None:
        with self._lock:
            layer = self._loaded.get(name)
        if layer is not None and layer.info is not None and layer.info.version == info.version:
            return layer
        return None

    def _layer(self, name: str) -> MemoryLayer:
        """The current version in memory, loaded whatever its size."""
        info = self.info(name)
        return self._cached(name, info) or self._load(name, info)

    def _load(self, name: str, info: LayerInfo) -> MemoryLayer:
        """Read a version into memory (one loader per layer at a time) and keep it within
        the memory budget, dropping the least recently used layers."""
        with self._lock:
            lock = self._load_locks.setdefault(name, threading.Lock())
        with lock:
            layer = self._cached(name, info)
            if layer is not None:
                return layer
            gdf, kinds = self._read_table(info.version)
            layer = MemoryLayer.build(info, gdf, declared_kinds(name, kinds))
            with self._lock:
                self._loaded.put(name, layer)
        return layer

    def _read_table(self, table: str, tail: str = "", args: tuple = ()
                    ) -> tuple[gpd.GeoDataFrame, dict[str, str]]:
        """The features of one version table and their field kinds (from the column types).

        ``tail`` (SQL after ``FROM``, with ``args``) reads some rows only; their
        columns then take the dtypes of the whole version's.
        """
        q = _q(table)
        with self._reading_connection() as con:
            cols = con.execute(f"PRAGMA table_info({q})").fetchall()
            rows = con.execute(f"SELECT * FROM {q} {tail or 'ORDER BY fid'}", args).fetchall()
        names = [c[1] for c in cols]
        types = {c[1]: (c[2] or "").upper() for c in cols}
        frame = pd.DataFrame.from_records(rows, columns=names)
        geoms = decode_gpkg_blobs(frame.pop("geom").tolist()) if "geom" in frame else None
        fids = frame.pop("fid").astype("int64").to_numpy()
        with_nulls = self._columns_with_nulls(table, types) if tail else {}
        for name in frame.columns:
            if types[name] == "BOOLEAN":
                # A missing boolean comes back as NaN (0/1 and None read as floats): keep it None.
                frame[name] = frame[name].map(lambda v: None if pd.isna(v) else bool(v)).astype(
                    "object" if frame[name].isna().any() or with_nulls.get(name) else "bool")
            elif types[name] == "INTEGER" and with_nulls.get(name):
                frame[name] = frame[name].astype("float64")  # as the whole version reads
        gdf = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=4326))
        gdf.index = pd.Index(fids, name="fid")
        kinds = {c: KIND_OF_SQL.get(types[c], "str") for c in frame.columns}
        return gdf, kinds

    def _columns_with_nulls(self, table: str, types: Mapping[str, str]) -> dict[str, bool]:
        """Which INTEGER/BOOLEAN columns of a version hold a missing value (once per version)."""
        with self._lock:
            known = self._nulls.get(table)
        if known is not None:
            return known
        cols = [c for c, t in types.items() if t in ("INTEGER", "BOOLEAN") and c != "fid"]
        found: dict[str, bool] = {}
        if cols:
            with self._reading_connection() as con:
                row = con.execute("SELECT " + ", ".join(
                    f"max({_q(c)} IS NULL)" for c in cols) + f" FROM {_q(table)}").fetchone()
            found = {c: bool(v) for c, v in zip(cols, row, strict=True)}
        with self._lock:
            self._nulls = {table: found}  # the last version asked only
        return found

    def get(self, name: str, version: int | None = None) -> gpd.GeoDataFrame:
        if version is None:
            return self._layer(name).gdf
        table = self._version_row(name, version)[2]
        if table == self.info(name).version:
            return self._layer(name).gdf
        return self._read_table(table)[0]

    def get_feature(self, name: str, fid: int) -> gpd.GeoDataFrame | None:
        info = self.info(name)
        layer = self._cached(name, info)
        if layer is None and info.count > self.cold_rows:  # one row by its key, not the layer
            try:
                key = int(fid)
            except (TypeError, ValueError):
                return None
            if not -(2**63) <= key < 2**63:
                return None
            gdf, _ = self._read_table(info.version, "WHERE fid = ?", (key,))
            return gdf if len(gdf) else None
        gdf = (layer or self._layer(name)).gdf
        if fid in gdf.index:
            return gdf.loc[[fid]]
        return None

    def properties(self, name: str) -> dict[str, str]:
        info = self.info(name)
        layer = self._cached(name, info)
        if layer is not None or info.count <= self.cold_rows:
            return dict((layer or self._layer(name)).kinds)
        with self._reading_connection() as con:  # the column types, not the features
            cols = con.execute(f"PRAGMA table_info({_q(info.version)})").fetchall()
        kinds = {c[1]: KIND_OF_SQL.get((c[2] or "").upper(), "str") for c in cols
                 if c[1] not in ("fid", "geom")}
        return dict(declared_kinds(name, kinds))

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
        info = self.info(name)
        cold = self._cached(name, info) is None and info.count > self.cold_rows
        if cold and bbox is None and not filters and where is None and datetime is None \
                and not sortby:
            return self._cold_page(info, properties, limit, offset, output)
        layer = self._layer(name)
        condition = query_filter(name, layer.kinds, where, datetime)
        if output == "geojson":
            check_paging(limit, offset)
            positions = layer.select(bbox, filters, sortby, condition)
            chosen = positions[offset:None if limit is None else offset + limit]
            columns = (None if properties is None
                       else select_properties(layer.properties, properties))
            return QueryResult(features=None, number_matched=len(positions),
                               geojson=page_bytes(layer, chosen, columns),
                               returned=len(chosen))
        return layer.query(bbox=bbox, filters=filters, sortby=sortby, properties=properties,
                           limit=limit, offset=offset, where=condition)

    def _cold_page(self, info: LayerInfo, properties: Sequence[str] | None, limit: int | None,
                   offset: int, output: OutputMode) -> QueryResult:
        """A page of a large layer not in memory, read from the file by its key."""
        check_paging(limit, offset)
        tail = "ORDER BY fid LIMIT ? OFFSET ?"
        page, kinds = self._read_table(info.version, tail,
                                       (-1 if limit is None else int(limit),
                                        min(int(offset), 2**62)))
        if properties is not None:
            page = page[[*select_properties(list(kinds), properties), page.geometry.name]]
        if output == "geojson":
            return QueryResult(features=None, number_matched=info.count,
                               geojson=b",".join(encode_features(page)), returned=len(page))
        return QueryResult(features=page, number_matched=info.count)

    def temporal(self, name: str) -> TemporalExtent | None:
        layer = self._layer(name)
        key = "temporal_extent"
        if key not in layer.cache:
            layer.cache[key] = frame_extent(name, layer.gdf, layer.kinds, layer.cache)
        return layer.cache[key]

    def tile(self, name: str, z: int, x: int, y: int, datum: str = "wgs84") -> bytes:
        return memory_tile(self._layer(name), name, z, x, y, datum)

    def jobs(self) -> JobStore:
        return self._jobs

    # -- versions -------------------------------------------------------------------------
    def _version_row(self, name: str, version: int) -> tuple:
        with self._reading_connection() as con:
            row = con.execute(
                f"SELECT {_VERSION_COLS} FROM atlas_versions WHERE name = ? AND version = ?",
                (name, int(version))).fetchone()
        if row is None:
            self.info(name)  # LayerNotFound first
            raise VersionNotFound(f"layer {name!r} has no version {version}",
                                  f"GET /api/reference/{name}/versions lists them",
                                  message_zh=f"图层 {name!r} 没有第 {version} 版")
        return row

    def versions(self, name: str) -> list[VersionInfo]:
        current = self.info(name)
        with self._reading_connection() as con:
            rows = con.execute(f"SELECT {_VERSION_COLS} FROM atlas_versions WHERE name = ?"
                               " ORDER BY version DESC", (name,)).fetchall()
        return [VersionInfo(name=r[0], number=int(r[1]), created=r[8], count=int(r[3]),
                            bounds=_bounds(r[4:8]), meta=json.loads(r[9] or "{}"),
                            current=r[2] == current.version, restored_from=r[10], token=r[2])
                for r in rows]

    def restore(self, name: str, version: int, meta: Mapping[str, Any] | None = None
                ) -> LayerInfo:
        row = self._version_row(name, version)
        merged = {**json.loads(row[9] or "{}"), **dict(meta or {}), "restored_from": int(version)}
        with self._writing() as con:
            src = row[2]
            (ddl,) = con.execute("SELECT sql FROM sqlite_master WHERE type='table' AND"
                                 " name = ?", (src,)).fetchone()
            table = self._new_table_name(name)
            # The same columns, types and key: the version is copied exactly, fids included.
            _, _, rest = ddl.partition("(")
            con.execute(f"CREATE TABLE {_q(table)} (" + rest)
            con.execute(f"INSERT INTO {_q(table)} SELECT * FROM {_q(src)}")
            (gtype,) = con.execute(
                "SELECT geometry_type_name FROM gpkg_geometry_columns WHERE table_name = ?",
                (src,)).fetchone() or ("GEOMETRY",)
            info = self._switch(con, name, table, int(row[3]), list(row[4:8]), gtype,
                                merged, restored_from=int(version))
        return info

    def delete_version(self, name: str, version: int) -> bool:
        with self._writing() as con:
            row = con.execute("SELECT v.table_name, l.table_name FROM atlas_versions v"
                              " JOIN atlas_layers l ON l.name = v.name"
                              " WHERE v.name = ? AND v.version = ?",
                              (name, int(version))).fetchone()
            if row is None:
                return False  # nothing written: the empty transaction commits
            if row[0] == row[1]:
                raise VersionConflict(
                    f"version {version} is the current version of {name!r}",
                    "restore another version first, then delete this one",
                    message_zh=f"第 {version} 版是图层 {name!r} 的当前版本，不能删除",
                    hint_zh="先恢复另一个版本，再删除这一版")
            con.execute("DELETE FROM atlas_versions WHERE name = ? AND version = ?",
                        (name, int(version)))
            con.execute(f"DROP TABLE IF EXISTS {_q(row[0])}")
        return True

    # -- writing --------------------------------------------------------------------------
    def put(self, name: str, gdf: gpd.GeoDataFrame, meta: Mapping[str, Any] | None = None,
            *, create_only: bool = False) -> LayerInfo:
        return self._write([_Prepared(name, gdf, meta)], create_only=create_only)[name]

    def put_many(self, layers: Mapping[str, tuple[gpd.GeoDataFrame, Mapping[str, Any] | None]]
                 ) -> dict[str, LayerInfo]:
        return self._write([_Prepared(n, g, m) for n, (g, m) in layers.items()])

    @staticmethod
    def _new_table_name(name: str) -> str:
        return f"{name}__v{uuid.uuid4().hex[:12]}"

    def _write(self, prepared: list[_Prepared], create_only: bool = False
               ) -> dict[str, LayerInfo]:
        """Write every prepared layer's next version in one transaction."""
        infos: dict[str, LayerInfo] = {}
        with self._writing() as con:
            for p in prepared:
                if create_only and con.execute(
                        "SELECT 1 FROM atlas_layers WHERE name = ?", (p.name,)).fetchone():
                    raise layer_exists_error(p.name)
                table = self._new_table_name(p.name)
                col_ddl = "".join(f', "{c}" {t}' for c, t in p.columns)
                col_list = "".join(f', "{c}"' for c, _ in p.columns)
                placeholders = ",".join("?" * (len(p.columns) + 1))
                con.execute(f"CREATE TABLE {_q(table)} (fid INTEGER PRIMARY KEY"
                            f" AUTOINCREMENT, geom GEOMETRY{col_ddl})")
                con.executemany(
                    f"INSERT INTO {_q(table)} (geom{col_list}) VALUES ({placeholders})",
                    p.rows)
                infos[p.name] = self._switch(con, p.name, table, p.count, p.bounds,
                                             p.geom_type, p.meta,
                                             restored_from=restored_from_of(p.meta))
        # What this write made, as it committed: a re-read could see a later writer's
        # version (and tell neither that it created the layer) or a delete since.
        return infos

    @staticmethod
    def _switch(con: sqlite3.Connection, name: str, table: str, count: int,
                bounds: list, geom_type: str, meta: dict, restored_from: int | None = None
                ) -> LayerInfo:
        """Make ``table`` the current version of ``name`` (inside the caller's transaction).

        Returns the new version's :class:`LayerInfo`, as :meth:`info` will read it.
        """
        old = con.execute("SELECT table_name FROM atlas_layers WHERE name = ?",
                          (name,)).fetchone()
        if old:
            # The old version stays as a plain table; only the current one is a registered
            # GeoPackage layer (gpkg_contents.identifier, the name QGIS shows, is unique).
            _unregister(con, old[0])
        (last,) = con.execute("SELECT max(version) FROM atlas_versions WHERE name = ?",
                              (name,)).fetchone()
        number = int(last or 0) + 1
        meta_json = json.dumps(meta, ensure_ascii=False, default=str)
        now = _now()
        con.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description,"
            " min_x, min_y, max_x, max_y, srs_id) VALUES (?, 'features', ?, ?, ?,?,?,?, 4326)",
            (table, name, str(meta.get("title", "")), *bounds))
        con.execute("INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, 4326, 0, 0)",
                    (table, geom_type))
        con.execute(
            f"INSERT INTO atlas_versions ({_VERSION_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (name, number, table, count, *bounds, now, meta_json, restored_from))
        con.execute(
            f"INSERT INTO atlas_layers ({_REGISTRY_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT(name) DO UPDATE SET table_name=excluded.table_name,"
            " feature_count=excluded.feature_count, minx=excluded.minx,"
            " miny=excluded.miny, maxx=excluded.maxx, maxy=excluded.maxy,"
            " updated=excluded.updated, meta=excluded.meta, version=excluded.version",
            (name, table, count, *bounds, now, meta_json, number))
        return LayerInfo(name=name, count=int(count), bounds=_bounds(bounds), version=table,
                         updated=now, meta=json.loads(meta_json), version_number=number,
                         geometry_type=geom_type or "GEOMETRY")

    def delete(self, name: str) -> bool:
        with self._writing() as con:
            row = con.execute("SELECT table_name FROM atlas_layers WHERE name = ?",
                              (name,)).fetchone()
            if row is None:
                return False  # nothing written: the empty transaction commits
            tables = [t for (t,) in con.execute(
                "SELECT table_name FROM atlas_versions WHERE name = ?", (name,))]
            con.execute("DELETE FROM atlas_layers WHERE name = ?", (name,))
            con.execute("DELETE FROM atlas_versions WHERE name = ?", (name,))
            _unregister(con, row[0])
            for t in {row[0], *tables}:
                con.execute(f"DROP TABLE IF EXISTS {_q(t)}")
        with self._lock:
            self._loaded.pop(name)
        return True

    def check(self) -> list[str]:
        problems: list[str] = []
        with self._reading_connection() as con:
            result = con.execute("PRAGMA integrity_check").fetchone()[0]
            if result != "ok":
                problems.append(f"SQLite integrity check: {result}")
            tables = {r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type='table'")}
            for name, table, count in con.execute(
                "SELECT name, table_name, feature_count FROM atlas_layers"
            ).fetchall():
                exists = con.execute(
                    "SELECT 1 FROM gpkg_contents WHERE table_name=?", (table,)).fetchone()
                if not exists:
                    problems.append(f"layer {name!r}: table {table!r} is missing")
                    continue
                actual = con.execute(f"SELECT COUNT(*) FROM {_q(table)}").fetchone()[0]
                if actual != count:
                    problems.append(f"layer {name!r}: {actual} rows, registry says {count}")
                if not con.execute("SELECT 1 FROM atlas_versions WHERE table_name = ?",
                                   (table,)).fetchone():
                    problems.append(f"layer {name!r}: its current table is not a version")
            for name, number, table in con.execute(
                    "SELECT name, version, table_name FROM atlas_versions").fetchall():
                if table not in tables:
                    problems.append(f"layer {name!r} version {number}: table {table!r} is "
                                    "missing")
            orphans = con.execute(
                "SELECT table_name FROM gpkg_contents WHERE table_name NOT IN"
                " (SELECT table_name FROM atlas_layers)").fetchall()
            problems += [f"table {t!r} belongs to no layer" for (t,) in orphans]
        return problems

    def close(self) -> None:
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None
        with self._shared_lock:
            if self._shared is not None:  # reopened when used again
                self._shared.close()
                self._shared = None


@contextmanager
def _transaction(con: sqlite3.Connection) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``; on failure a rollback that never hides the error.

    SQLite rolls a transaction back itself on some errors (SQLITE_FULL): a ``ROLLBACK``
    then fails with "no transaction is active", which would replace the real error.  So
    the rollback runs only while a transaction is open, and if it fails it is logged.
    """
    con.execute("BEGIN IMMEDIATE")
    try:
        yield
        con.execute("COMMIT")
    except BaseException as e:
        if con.in_transaction:
            try:
                con.execute("ROLLBACK")
            except sqlite3.Error:
                log.exception("rolling back after %r failed too", e)
        raise


def _unregister(con: sqlite3.Connection, table: str) -> None:
    """Take a table out of the GeoPackage's layer list (inside the caller's transaction)."""
    con.execute("DELETE FROM gpkg_geometry_columns WHERE table_name = ?", (table,))
    con.execute("DELETE FROM gpkg_contents WHERE table_name = ?", (table,))
