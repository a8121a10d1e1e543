"""The shared store: layers in PostgreSQL/PostGIS, for several app servers at once.

Chosen by ``ATLAS_DATABASE_URL=postgresql://…`` (see :func:`layers.open.open_store`);
it keeps the exact semantics of :class:`layers.gpkg.GeoPackageStore` (fids 1-based
and stable per version, atomic replace, versions, list order, text-equality
filters), so the API, pages and analyses cannot tell the two apart.

Layout (schema ``atlas``, created by the SQL files in ``layers/migrations/``):

* ``atlas.schema_version`` – which migrations ran;
* ``atlas.layers`` – the registry: one row per layer pointing at the table of its
  current version, with its number, count, bounds, metadata and the column map;
* ``atlas.versions`` – every version ever written, with its own metadata;
* ``atlas."<name>__v<token>"`` – one table per layer version: ``fid bigint`` primary
  key, ``geom geometry(Geometry, 4326)`` with a GiST index and one typed column per
  property.

One table per version (rather than one big features table keyed by layer and
version) because a version is written once and never changed: it is bulk-loaded
with ``COPY`` and indexed once, deleting a version drops a table instead of deleting
millions of rows (no bloat, no vacuum debt), each version gets its own planner
statistics, and typed columns give back exactly the dtypes that went in (jsonb
would turn every integer column into a float or text question).  GIS staff can
open the tables in QGIS as ordinary PostGIS layers.

A write creates and fills the new table, then, holding a per-layer advisory lock,
records the version and switches the registry row, all in one transaction:
readers see the old version or the new one, never a mix, and two writers to the
same layer end with two whole versions, the later one current.  Reads hit SQL every
time (bbox and property filters, counts, sorting, limit/offset run in the database);
:meth:`PostGISStore.in_memory` is None, so the web modules leave queries to the
database instead of holding every layer in every app server.  Only :meth:`get` (the
analyses) keeps whole layers in memory, per version.

At ten million rows (issue 12): rows are written by binary ``COPY`` in Hilbert order
(:mod:`layers.pg_copy`, :func:`geo.sfc.spatial_order`; fids stay the frame's
positions), each with its first tile zoom; an items page is one round trip with
the registry row, the page (GeoJSON built in SQL when asked) and a count exact to
10,000 matches and estimated above (:mod:`layers.pg_sql`), bbox numbers inlined so
no query runs on a generic plan; tiles are made in SQL (:mod:`layers.pg_tiles`).

Examples
--------
>>> split_url("postgresql://u@127.0.0.1:5432/atlas")
('127.0.0.1', 5432, 'atlas')
>>> text_match_sql("INTEGER", '"n"', "3")
('"n"::float8 = %s', [3.0])
>>> text_match_sql("TEXT", '"name"', "true")
('lower("name") = %s', ['true'])
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.sfc import spatial_order

from .catalog import layer_ids
from .diskspace import to_store_error
from .errors import (
    LayerNotFound,
    StoreError,
    StoreReadOnly,
    VersionConflict,
    VersionNotFound,
)
from .filter import SqlColumn, filter_sql, sql_value
from .jobs import JobStore
from .memory import (
    KIND_OF_SQL,
    TEXT_TYPES,
    LayerCache,
    MemoryLayer,
    columns_and_values,
    select_properties,
    unknown_property,
)
from .pg_copy import HEADER as COPY_HEADER
from .pg_copy import TRAILER as COPY_TRAILER
from .pg_copy import Column, encode_rows
from .pg_sql import CONNECTION_SETUP, ItemsQuery, LayerGone, VersionTable, read_items
from .pg_tiles import (
    MINZOOM_COLUMN,
    TileLayer,
    fetch_tile,
    gcj02_candidates_sql,
    minzoom_indexes_sql,
    minzoom_values,
    point_stats_sql,
    python_tile,
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
from .temporal import declared_kinds, iso_instant, query_filter, temporal_property
from .tiles import memory_tile, tile_columns

try:  # psycopg is only needed when the PostGIS store is used
    import psycopg
    from psycopg import errors as pg_errors
    from psycopg import sql
except ImportError:  # pragma: no cover - exercised only without the requirement
    psycopg = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

SCHEMA = "atlas"
MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "migrations")
#: Advisory-lock keys (first int of the two-int form): migrations, then per-layer writes.
_LOCK_MIGRATE = 0x41544C41  # "ATLA"
_LOCK_LAYER = 0x41544C42
# DATE and DATETIME columns keep their ISO 8601 text, as in the GeoPackage (filters read it
# as dates; the registry's column map says which they are).
_PG_TYPES = {"INTEGER": "bigint", "REAL": "double precision", "BOOLEAN": "boolean",
             "TEXT": "text", "DATE": "text", "DATETIME": "text"}
_NUMERIC_TEXT = r"^\s*[-+]?(([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?|inf|infinity)\s*$"
_MAX_IDENT = 63  # PostgreSQL truncates longer identifiers
#: Column names of a version table that are the store's own, never a property's.
_RESERVED_COLUMNS = ("fid", "geom", MINZOOM_COLUMN)


def split_url(url: str) -> tuple[str, int, str]:
    """``(host, port, database)`` of a ``postgresql://`` URL, for messages.

    Examples
    --------
    >>> split_url("postgresql:///atlas?host=/tmp")
    ('', 5432, 'atlas')
    """
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or 5432, parts.path.lstrip("/")


def migrations() -> list[tuple[int, str, str]]:
    """``(version, name, sql)`` of every migration file, in version order.

    Examples
    --------
    >>> [(v, n) for v, n, _ in migrations()][:1]
    [(1, '0001_registry')]
    """
    out = []
    for fname in sorted(os.listdir(MIGRATIONS_DIR)):
        m = re.match(r"^(\d{4})_[a-z0-9_]+\.sql$", fname)
        if m:
            with open(os.path.join(MIGRATIONS_DIR, fname), encoding="utf-8") as fh:
                out.append((int(m.group(1)), fname[:-4], fh.read()))
    return out


def text_match_sql(sql_type: str, column: str, wanted: Any) -> tuple[str, list[Any]]:
    """SQL condition and parameters for "``column`` equals ``wanted`` as text".

    The same rule as :func:`layers.gpkg.select_positions`, which compares the value
    as the loaded frame prints it: ``true``/``false`` match case-insensitively,
    numbers match numerically (``3`` finds ``3.0`` and ``"3"``), booleans also
    match ``1``/``0``, and a missing value matches nothing.

    Parameters
    ----------
    sql_type : str
        The store type of the column: INTEGER, REAL, BOOLEAN or TEXT.
    column : str
        The quoted column name.
    wanted : Any
        The value from the query string.

    Examples
    --------
    >>> text_match_sql("REAL", '"x"', "nan")
    ('FALSE', [])
    >>> text_match_sql("BOOLEAN", '"ok"', "1")
    ('"ok"::int::float8 = %s', [1.0])
    >>> text_match_sql("TEXT", '"name"', "a\\x00b")
    ('FALSE', [])
    """
    wanted_s = str(wanted)
    if "\x00" in wanted_s:  # PostgreSQL text cannot hold NUL, so nothing stored equals it
        return "FALSE", []
    lowered = wanted_s.lower()
    if lowered in ("true", "false"):
        if sql_type == "TEXT":
            return f"lower({column}) = %s", [lowered]
        if sql_type == "BOOLEAN":
            return f"{column} = %s", [lowered == "true"]
        return "FALSE", []
    try:
        wanted_f: float | None = float(wanted_s)
    except ValueError:
        wanted_f = None
    if wanted_f is not None and math.isnan(wanted_f):
        wanted_f = None  # NaN equals nothing, as in NumPy (PostgreSQL says NaN = NaN)
    ors: list[str] = []
    args: list[Any] = []
    if sql_type == "TEXT":
        ors.append(f"{column} = %s")
        args.append(wanted_s)
        if wanted_f is not None:
            ors.append(f"(CASE WHEN {column} ~* %s THEN {column}::float8 END) = %s")
            args += [_NUMERIC_TEXT, wanted_f]
    elif wanted_f is not None:
        cast = "::int::float8" if sql_type == "BOOLEAN" else "::float8"
        ors.append(f"{column}{cast} = %s")
        args.append(wanted_f)
    if not ors:
        return "FALSE", []
    if len(ors) == 1:
        return ors[0], args
    return "(" + " OR ".join(ors) + ")", args


#: What pandas makes of a column of strings ("str" from pandas 3 on, object before).
_TEXT_DTYPE = pd.Series(["a", None]).dtype


def _column_dtype(sql_type: str, nulls: int, count: int) -> Any:
    """The pandas dtype the GeoPackage store's reader gives such a column."""
    if count == 0 or nulls >= count:
        return "object"
    if sql_type == "INTEGER":
        return "float64" if nulls else "int64"
    if sql_type == "REAL":
        return "float64"
    if sql_type == "BOOLEAN":
        return "object" if nulls else "bool"
    return _TEXT_DTYPE


def _sql_column_name(prop: str, i: int) -> str:
    """A PostgreSQL column for property ``prop``: the name itself when it fits."""
    if len(prop.encode("utf-8")) <= _MAX_IDENT and prop.lower() not in _RESERVED_COLUMNS:
        return prop
    digest = hashlib.sha1(prop.encode("utf-8")).hexdigest()[:8]
    return f"c{i}_{digest}"


class _Pool:
    """A small thread-safe pool of autocommit connections (LIFO, bounded idle)."""

    def __init__(self, url: str, size: int) -> None:
        self.url = url
        self.size = size
        self._idle: list[psycopg.Connection] = []
        self._lock = threading.Lock()

    def _connect(self) -> psycopg.Connection:
        con = psycopg.connect(self.url, autocommit=True, application_name="atlas",
                              connect_timeout=10)
        for statement in CONNECTION_SETUP:  # no generic plans for bbox queries
            con.execute(statement)
        return con

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        with self._lock:
            con = self._idle.pop() if self._idle else None
        if con is None or con.closed:
            con = self._connect()
        try:
            yield con
        finally:
            healthy = (not con.closed and not con.broken
                       and con.info.transaction_status == psycopg.pq.TransactionStatus.IDLE)
            stale: list[psycopg.Connection] = []
            with self._lock:
                if healthy and len(self._idle) < self.size:
                    self._idle.append(con)
                    con = None
                elif con.broken:
                    # The server went away (restarted, or PANICked on a full disk): the
                    # idle connections went with it, so none is handed out again.
                    stale, self._idle = self._idle, []
            for dead in ([con] if con is not None else []) + stale:
                dead.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for con in idle:
            con.close()


class PostGISStore(Store):
    """A :class:`~layers.store.Store` in a PostgreSQL database with PostGIS.

    Opening it applies any pending migrations (under an advisory lock, so several
    processes may open the same database at once).

    Parameters
    ----------
    url : str
        ``postgresql://user:password@host:port/database`` (libpq URL).
    pool_size : int
        Idle connections kept for reuse (one is used per call).
    memory_mb : float, optional
        Budget for the layers :meth:`get` keeps in memory (for the analyses); the least
        recently used are dropped beyond it.
    """

    def __init__(self, url: str, pool_size: int = 8, *, memory_mb: float | None = None) -> None:
        if psycopg is None:
            raise StoreError("the PostGIS store needs psycopg: pip install 'psycopg[binary]'",
                             message_zh="PostGIS 存储需要 psycopg 库")
        self.url = url
        host, port, db = split_url(url)
        #: Shown in messages instead of the URL (which may hold a password).
        self.path = f"postgresql://{host}:{port}/{db}"
        self._pool = _Pool(url, pool_size)
        self._lock = threading.RLock()
        self._loaded = LayerCache(float("inf") if memory_mb is None else memory_mb * 2**20)
        self._temporal: dict[str, TemporalExtent] = {}
        self._jobs = JobStore(self._job_connection, "postgres")
        self._tile_layers: dict[str, TileLayer | bool] = {}
        # The version table each layer had at its last query: the next query's guess
        # (read_items checks it against the registry in the same round trip).
        self._tables: dict[str, VersionTable] = {}
        try:
            with self._pool.connection() as con:
                self._migrate(con)
        except psycopg.OperationalError as e:
            raise StoreError(f"cannot open the PostGIS store at {self.path}: {e}",
                             "check ATLAS_DATABASE_URL and that the database server runs",
                             message_zh=f"无法打开 PostGIS 数据库 {self.path}") from e

    def __repr__(self) -> str:
        return f"PostGISStore({self.path!r})"

    @property
    def location(self) -> str:
        """The database's address without the password."""
        return self.path

    def close(self) -> None:
        """Close the pooled connections (the store reconnects if used again)."""
        self._pool.close()

    # -- schema ---------------------------------------------------------------------------
    def _applied(self, con: psycopg.Connection) -> set[int] | None:
        """The migrations the database has (None: no atlas schema yet), read without writing.

        Raises :class:`StoreError` for a schema newer than this code.
        """
        if con.execute("SELECT to_regclass(%s)", (f"{SCHEMA}.schema_version",)
                       ).fetchone()[0] is None:
            return None
        done = {v for (v,) in con.execute(f"SELECT version FROM {SCHEMA}.schema_version")}
        newest = max((v for v, _, _ in migrations()), default=0)
        if done and max(done) > newest:
            raise StoreError(f"the database at {self.path} has schema version {max(done)},"
                             f" newer than this code knows ({newest}): upgrade the atlas",
                             message_zh=f"数据库 {self.path} 的结构版本比本程序新，请升级图集程序")
        return done

    def _migrate(self, con: psycopg.Connection) -> None:
        """Apply pending migrations in one transaction, one process at a time.

        The schema version is read first: a database that is current is not written to
        (no lock, no ``CREATE … IF NOT EXISTS``), so an app server opens a read-only
        replica or a database whose disk is full, and serves reads from it.
        """
        done = self._applied(con)
        if done is not None and {v for v, _, _ in migrations()} <= done:
            return
        with self._write_errors(), con.transaction():
            con.execute("SELECT pg_advisory_xact_lock(%s, 0)", (_LOCK_MIGRATE,))
            has_postgis = con.execute(
                "SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone()
            if not has_postgis:
                try:
                    with con.transaction():
                        con.execute("CREATE EXTENSION IF NOT EXISTS postgis")
                except pg_errors.Error as e:
                    raise StoreError(
                        f"PostGIS is not enabled in {self.path} and this user may not enable "
                        f"it ({e.diag.message_primary}); ask the database owner to run "
                        "CREATE EXTENSION postgis",
                        message_zh=f"数据库 {self.path} 未启用 PostGIS，且当前用户无权启用",
                        hint_zh="请数据库管理员执行 CREATE EXTENSION postgis") from e
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
            con.execute(f"CREATE TABLE IF NOT EXISTS {SCHEMA}.schema_version ("
                        " version integer PRIMARY KEY, name text NOT NULL,"
                        " applied timestamptz NOT NULL DEFAULT now())")
            done = self._applied(con) or set()  # again, under the lock: another may have run
            for version, name, text in migrations():
                if version not in done:
                    con.execute(text)
                    con.execute(f"INSERT INTO {SCHEMA}.schema_version (version, name)"
                                " VALUES (%s, %s)", (version, name))

    @contextmanager
    def _write_errors(self) -> Iterator[None]:
        """A write that hits a full or read-only database raises :class:`StoreFull` /
        :class:`StoreReadOnly` (the original error logged and chained)."""
        try:
            yield
        except psycopg.Error as e:
            mapped = to_store_error(e, self.path)
            if mapped is None:
                raise
            log.error("a write to the store %s failed: %s", self.path, e)
            if isinstance(mapped, StoreReadOnly):
                # Sessions keep the read-only setting they started with: new ones will
                # see the database writable again once it is.
                self._pool.close()
            raise mapped from e

    @contextmanager
    def _job_connection(self) -> Iterator[psycopg.Connection]:
        """A pooled connection for the jobs' tables; a full or read-only database is
        mapped as for layer writes (507, 503)."""
        with self._write_errors(), self._pool.connection() as con:
            yield con

    def status(self) -> StoreStatus:
        """Writable unless the database is read-only (a standby, or
        ``default_transaction_read_only``); the free space of its disk is not visible."""
        try:
            with self._pool.connection() as con:
                standby, read_only = con.execute(
                    "SELECT pg_is_in_recovery(), current_setting('transaction_read_only')"
                ).fetchone()
        except psycopg.OperationalError as e:
            return StoreStatus(writable=False, reason=f"the database cannot be reached ({e})",
                               reason_zh="无法连接数据库")
        if standby:
            return StoreStatus(writable=False, reason="the database is a read-only standby",
                               reason_zh="数据库是只读的备用服务器")
        if read_only == "on":
            return StoreStatus(writable=False, reason="the database is read-only",
                               reason_zh="数据库处于只读状态")
        return StoreStatus(writable=True)

    def schema_version(self) -> int:
        """The newest migration applied to the database."""
        with self._pool.connection() as con:
            row = con.execute(f"SELECT max(version) FROM {SCHEMA}.schema_version").fetchone()
        return int(row[0] or 0)

    # -- registry -------------------------------------------------------------------------
    _INFO_COLS = ("name, table_name, feature_count, minx, miny, maxx, maxy,"
                  " to_char(updated AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
                  " meta, columns, version, geometry_type")

    def _registry(self, con: psycopg.Connection, name: str | None = None) -> list[tuple]:
        where, args = ("WHERE name = %s", (name,)) if name is not None else ("", ())
        return con.execute(f"SELECT {self._INFO_COLS} FROM {SCHEMA}.layers {where}",
                           args).fetchall()

    @staticmethod
    def _info_from_row(row: tuple) -> LayerInfo:
        name, table, count, minx, miny, maxx, maxy, updated, meta, _, number, gtype = row
        nan = float("nan")
        bounds = tuple(nan if v is None else float(v) for v in (minx, miny, maxx, maxy))
        return LayerInfo(name=name, count=int(count), bounds=bounds,  # type: ignore[arg-type]
                         version=table, updated=updated, meta=meta or {},
                         version_number=int(number), geometry_type=gtype or "GEOMETRY")

    def _row(self, name: str) -> tuple:
        if "\x00" in name:  # PostgreSQL text cannot hold NUL, and no layer is named so
            raise _not_found(name)
        with self._pool.connection() as con:
            rows = self._registry(con, name)
        if not rows:
            raise _not_found(name)
        return rows[0]

    # -- reading --------------------------------------------------------------------------
    def list_layers(self) -> list[LayerInfo]:
        with self._pool.connection() as con:
            infos = [self._info_from_row(r) for r in self._registry(con)]
        order = {lid: i for i, lid in enumerate(layer_ids())}
        return sorted(infos, key=lambda i: (order.get(i.name, len(order)), i.name))

    def info(self, name: str) -> LayerInfo:
        return self._info_from_row(self._row(name))

    def properties(self, name: str) -> dict[str, str]:
        """Property names and kinds of the current version, from the registry's column map."""
        return _kinds(name, self._row(name)[9])

    def temporal(self, name: str) -> TemporalExtent | None:
        """The temporal property's span, one ``min``/``max`` query per version."""
        row = self._row(name)
        table, columns = row[1], row[9]
        kinds = _kinds(name, columns)
        found = temporal_property(name, kinds)
        if found is None:
            return None
        with self._lock:
            cached = self._temporal.get(table)
        if cached is not None:
            return cached
        prop, kind = found
        expr = sql_value(_filter_columns(columns, kinds)[prop], kind)
        with self._pool.connection() as con:
            low, high = con.execute(
                f"SELECT min({expr}), max({expr}) FROM {_quote(SCHEMA)}.{_quote(table)}"
            ).fetchone()
        extent = TemporalExtent(prop, kind, iso_instant(low, kind), iso_instant(high, kind))
        with self._lock:
            self._temporal = {table: extent}  # the current version's only
        return extent

    def in_memory(self, name: str) -> None:
        """None: queries run in SQL rather than in a copy held by every app server."""
        self.info(name)  # LayerNotFound for a missing layer, as on the GeoPackage
        return None

    def _read(self, name: str, where: Callable[[list], tuple[str, list]] | None = None,
              page: str = "", page_args: list | tuple = (), count: bool = False,
              order: Callable[[list], str] | None = None,
              properties: Sequence[str] | None = None
              ) -> tuple[gpd.GeoDataFrame, int, tuple]:
        """Rows of the current version of ``name``, and how many match.

        ``where(columns)`` gives the ``WHERE`` clause and its parameters for the
        version's column map, ``order(columns)`` the ``ORDER BY`` list.  A version is
        never changed, only dropped when deleted: a read that lost that race (its table
        vanished) looks again.
        """
        for attempt in range(3):
            row = self._row(name)
            table, total, columns = row[1], int(row[2]), row[9]
            where_sql, args = where(columns) if where is not None else ("", [])
            shown = columns
            if properties is not None:
                by_prop = {c[0]: c for c in columns}
                shown = [by_prop[p] for p in select_properties(list(by_prop), properties)]
            order_sql = order(columns) if order is not None else "fid"
            try:
                gdf, matched = self._select(table, shown, total, where_sql, args, order_sql,
                                            page, page_args, count)
            except pg_errors.UndefinedTable:
                if attempt == 2:
                    raise
                continue
            return gdf, matched, row
        raise AssertionError("unreachable")  # pragma: no cover

    def _select(self, table: str, columns: list, total: int, where_sql: str = "",
                args: list | tuple = (), order_sql: str = "fid", page: str = "",
                page_args: list | tuple = (), count: bool = False
                ) -> tuple[gpd.GeoDataFrame, int]:
        # Plain text with _quote (not sql.Identifier): a '%' in a property name must be
        # escaped for the placeholders.
        cols = "".join(", " + _quote(c[1]) for c in columns)
        ident = f"{_quote(SCHEMA)}.{_quote(table)}"
        select = (f"SELECT fid, ST_AsBinary(geom, 'NDR'){cols} FROM {ident} {where_sql}"
                  f" ORDER BY {order_sql}{page}")
        with self._pool.connection() as con:
            with con.cursor(binary=True) as cur:
                rows = cur.execute(select, [*args, *page_args]).fetchall()
            matched = total  # the registry knows the count of a whole layer
            if count and where_sql:
                matched = con.execute(f"SELECT count(*) FROM {ident} {where_sql}",
                                      args).fetchone()[0]
        return _frame(rows, columns, total), int(matched)

    def _memory(self, name: str) -> MemoryLayer:
        """The current version of a layer in memory, loaded once per version (for :meth:`get`
        and :meth:`tile`; queries go to SQL)."""
        try:
            info = self.info(name)
        except LayerNotFound:
            with self._lock:
                self._loaded.pop(name)
            raise
        with self._lock:
            cached = self._loaded.get(name)
            if cached is not None and cached.info is not None \
                    and cached.info.version == info.version:
                return cached
        gdf, _, row = self._read(name)
        info = self._info_from_row(row)
        loaded = MemoryLayer.build(info, gdf, _kinds(name, row[9]))
        with self._lock:
            self._loaded.put(name, loaded)
        return loaded

    def get(self, name: str, version: int | None = None) -> gpd.GeoDataFrame:
        if version is None:
            return self._memory(name).gdf
        vrow = self._version_row(name, version)
        table, count, columns = vrow[2], int(vrow[3]), vrow[10]
        if table == self.info(name).version:
            return self._memory(name).gdf
        return self._select(table, columns, count)[0]

    def get_feature(self, name: str, fid: int) -> gpd.GeoDataFrame | None:
        try:
            fid = int(fid)
        except (TypeError, ValueError):
            return None
        if not -(2**63) <= fid < 2**63:
            return None
        gdf, _, _ = self._read(name, lambda _columns: ("WHERE fid = %s", [fid]))
        return gdf if len(gdf) else None

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
        """One page in one round trip (:func:`layers.pg_sql.read_items`): the registry row,
        the page (as rows, or as GeoJSON built in SQL) and its count, in one snapshot."""
        check_paging(limit, offset)
        if "\x00" in name:
            raise _not_found(name)

        def make(table: VersionTable) -> ItemsQuery:
            columns = table.columns
            by_prop = {c[0]: c for c in columns}
            conds: list[tuple[str, list]] = []
            for key, value in (filters or {}).items():
                if key not in by_prop:
                    raise unknown_property(key, list(by_prop))
                _, col, sql_type, _ = by_prop[key]
                conds.append(text_match_sql("TEXT" if sql_type in TEXT_TYPES else sql_type,
                                            _quote(col), value))
            # The CQL2 filter and datetime, typed against this version's columns.
            kinds = _kinds(name, columns)
            condition = query_filter(name, kinds, where, datetime)
            if condition is not None:
                conds.append(filter_sql(condition, _filter_columns(columns, kinds)))
            shown = None
            if properties is not None:
                shown = select_properties(list(by_prop), properties)
            return ItemsQuery(table, bbox=bbox, conditions=conds,
                              order=order_by_sql(columns, sortby or ()), properties=shown,
                              limit=None if limit is None else min(int(limit), 2**62),
                              offset=min(int(offset), 2**62), count=count,
                              output="geojson" if output == "geojson" else "wkb")

        with self._lock:
            guess = self._tables.get(name)
        with self._pool.connection() as con:
            try:
                page = read_items(con, name, make, guess)
            except LayerGone:
                with self._lock:
                    self._tables.pop(name, None)
                raise _not_found(name) from None
        with self._lock:
            self._tables[name] = page.table
        if output == "geojson":
            return QueryResult(features=None, number_matched=page.number_matched,
                               estimated=page.estimated, geojson=page.features,
                               returned=page.returned)
        shown = make(page.table).shown()
        gdf = _frame(page.rows or [], shown, page.table.feature_count)
        return QueryResult(features=gdf, number_matched=page.number_matched,
                           estimated=page.estimated)

    def tile(self, name: str, z: int, x: int, y: int, datum: str = "wgs84") -> bytes:
        """The tile made in SQL (:mod:`layers.pg_tiles`): one statement reading the tile's
        window, never the layer; the same features, ids and properties as the GeoPackage
        store's tiles.  GCJ-02 tiles of lines and polygons are shifted in Python from
        the window's rows."""
        layer = self._tile_layer(name)
        if layer is None:  # a version written before first zooms were stored
            return memory_tile(self._memory(name), name, z, x, y, datum)
        with self._pool.connection() as con:
            if datum == "gcj02" and not layer.all_points:
                rows = con.execute(gcj02_candidates_sql(layer, z, x, y), ()).fetchall()
                return python_tile(layer, rows, z, x, y, datum)
            return fetch_tile(con, layer, z, x, y, datum)

    def _tile_layer(self, name: str) -> TileLayer | None:
        """What the tile SQL needs of the current version (cached per version table), or
        None for a table without the first-zoom column."""
        row = self._row(name)
        table, count, columns, gtype = row[1], int(row[2]), row[9], row[11] or "GEOMETRY"
        with self._lock:
            cached = self._tile_layers.get(table)
        if cached is not None:
            return cached or None
        props = tile_columns(name, [c[0] for c in columns])
        by_prop = {c[0]: c[1] for c in columns}
        with self._pool.connection() as con:
            has_minzoom = con.execute(
                "SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = %s"
                " AND NOT attisdropped", (f"{_quote(SCHEMA)}.{_quote(table)}".replace("%%", "%"),
                                          MINZOOM_COLUMN)).fetchone() is not None
            layer = TileLayer(table=table, name=name,
                              properties={k: by_prop[c] for k, c in props.items()},
                              geometry_type=gtype, point_count=count,
                              point_bounds=None, minzoom_column=MINZOOM_COLUMN, schema=SCHEMA)
            if gtype.upper() == "POINT":
                nan = float("nan")
                bounds = tuple(nan if v is None else float(v) for v in row[3:7])
                layer = replace(layer, point_bounds=None if count == 0 else bounds)
            else:
                n, *b = con.execute(point_stats_sql(layer)).fetchone()
                layer = replace(layer, point_count=int(n),
                                point_bounds=tuple(float(v) for v in b) if n else None)
        found = layer if has_minzoom else False
        with self._lock:
            self._tile_layers = {**{k: v for k, v in self._tile_layers.items()
                                    if k != table}, table: found}
        return layer if has_minzoom else None

    def jobs(self) -> JobStore:
        return self._jobs

    # -- versions -------------------------------------------------------------------------
    _VERSION_COLS = ("name, version, table_name, feature_count, minx, miny, maxx, maxy,"
                     " to_char(created AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
                     " meta, columns, geometry_type, restored_from")

    def _version_row(self, name: str, version: int) -> tuple:
        with self._pool.connection() as con:
            row = con.execute(f"SELECT {self._VERSION_COLS} FROM {SCHEMA}.versions"
                              " WHERE name = %s AND version = %s",
                              (name, int(version))).fetchone()
        if row is None:
            self.info(name)  # LayerNotFound first
            raise VersionNotFound(f"layer {name!r} has no version {version}",
                                  f"GET /api/reference/{name}/versions lists them",
                                  message_zh=f"图层 {name!r} 没有第 {version} 版")
        return row

    def versions(self, name: str) -> list[VersionInfo]:
        current = self.info(name)
        with self._pool.connection() as con:
            rows = con.execute(f"SELECT {self._VERSION_COLS} FROM {SCHEMA}.versions"
                               " WHERE name = %s ORDER BY version DESC", (name,)).fetchall()
        nan = float("nan")
        return [VersionInfo(name=r[0], number=int(r[1]), created=r[8], count=int(r[3]),
                            bounds=tuple(nan if v is None else float(v)  # type: ignore[arg-type]
                                         for v in r[4:8]),
                            meta=r[9] or {}, current=r[2] == current.version,
                            restored_from=r[12], token=r[2])
                for r in rows]

    def restore(self, name: str, version: int, meta: Mapping[str, Any] | None = None
                ) -> LayerInfo:
        vrow = self._version_row(name, version)
        src, count, columns, geom_type = vrow[2], int(vrow[3]), vrow[10], vrow[11]
        merged = {**(vrow[9] or {}), **dict(meta or {}), "restored_from": int(version)}
        table = _new_table_name(name)
        ident = sql.Identifier(SCHEMA, table)
        with self._write_errors(), self._pool.connection() as con, con.transaction():
            # The same columns, types and fids: the version is copied exactly.
            con.execute(sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(
                ident, sql.Identifier(SCHEMA, src)))
            con.execute(sql.SQL("INSERT INTO {} SELECT * FROM {}").format(
                ident, sql.Identifier(SCHEMA, src)))
            con.execute(sql.SQL("ANALYZE {}").format(ident))
            con.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_LOCK_LAYER, name))
            info = self._switch(con, name, table, count, list(vrow[4:8]), merged, columns,
                                geom_type, restored_from=int(version))
        return info

    def delete_version(self, name: str, version: int) -> bool:
        with self._write_errors(), self._pool.connection() as con, con.transaction():
            con.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_LOCK_LAYER, name))
            row = con.execute(f"SELECT v.table_name, l.table_name FROM {SCHEMA}.versions v"
                              f" JOIN {SCHEMA}.layers l ON l.name = v.name"
                              " WHERE v.name = %s AND v.version = %s",
                              (name, int(version))).fetchone()
            if row is None:
                return False
            if row[0] == row[1]:
                raise VersionConflict(
                    f"version {version} is the current version of {name!r}",
                    "restore another version first, then delete this one",
                    message_zh=f"第 {version} 版是图层 {name!r} 的当前版本，不能删除",
                    hint_zh="先恢复另一个版本，再删除这一版")
            con.execute(f"DELETE FROM {SCHEMA}.versions WHERE name = %s AND version = %s",
                        (name, int(version)))
            con.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(
                sql.Identifier(SCHEMA, row[0])))
        return True

    # -- writing --------------------------------------------------------------------------
    def put(self, name: str, gdf: gpd.GeoDataFrame, meta: Mapping[str, Any] | None = None,
            *, create_only: bool = False) -> LayerInfo:
        return self._write({name: (gdf, meta)}, create_only=create_only)[name]

    def put_many(self, layers: Mapping[str, tuple[gpd.GeoDataFrame, Mapping[str, Any] | None]]
                 ) -> dict[str, LayerInfo]:
        return self._write(layers)

    def _write(self, layers: Mapping[str, tuple[gpd.GeoDataFrame, Mapping[str, Any] | None]],
               create_only: bool = False) -> dict[str, LayerInfo]:
        """Fill each layer's new table, then switch them all, in one transaction."""
        prepared = [_prepare(name, gdf, meta) for name, (gdf, meta) in layers.items()]
        infos: dict[str, LayerInfo] = {}
        with self._write_errors(), self._pool.connection() as con, con.transaction():
            for p in prepared:
                _create_version_table(con, p)
            # Writers of these layers queue here (in one order, so two multi-layer writes
            # cannot deadlock); the switch sees the latest committed rows.
            for name in sorted(layers):
                con.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_LOCK_LAYER, name))
            for p in prepared:
                if create_only and con.execute(f"SELECT 1 FROM {SCHEMA}.layers WHERE name = %s",
                                               (p["name"],)).fetchone():
                    raise layer_exists_error(p["name"])
                infos[p["name"]] = self._switch(con, p["name"], p["table"], p["count"],
                                                p["bounds"], p["meta"], p["columns"],
                                                p["geom_type"],
                                                restored_from=restored_from_of(p["meta"]))
        # What this write made, as it committed: a re-read could see a later writer's
        # version (and tell neither that it created the layer) or a delete since.
        return infos

    @staticmethod
    def _switch(con: psycopg.Connection, name: str, table: str, count: int, bounds: list,
                meta: Mapping[str, Any], columns: list, geom_type: str,
                restored_from: int | None = None) -> LayerInfo:
        """Record ``table`` as the next version of ``name`` and make it current.

        Returns the new version's :class:`LayerInfo`, as :meth:`info` will read it.
        """
        con.execute(f"SELECT table_name FROM {SCHEMA}.layers WHERE name = %s FOR UPDATE",
                    (name,)).fetchone()
        (last,) = con.execute(f"SELECT max(version) FROM {SCHEMA}.versions WHERE name = %s",
                              (name,)).fetchone()
        number = int(last or 0) + 1
        meta_json = json.dumps(dict(meta), ensure_ascii=False, default=str)
        columns_json = json.dumps(columns, ensure_ascii=False)
        con.execute(
            f"INSERT INTO {SCHEMA}.versions (name, version, table_name, feature_count, minx,"
            " miny, maxx, maxy, created, meta, columns, geometry_type, restored_from) VALUES"
            " (%s, %s, %s, %s, %s, %s, %s, %s, clock_timestamp(), %s::json, %s::jsonb, %s, %s)",
            (name, number, table, count, *bounds, meta_json, columns_json, geom_type,
             restored_from))
        cur = con.execute(
            f"INSERT INTO {SCHEMA}.layers (name, table_name, feature_count, minx, miny,"
            " maxx, maxy, updated, meta, columns, geometry_type, version) VALUES"
            " (%s, %s, %s, %s, %s, %s, %s, clock_timestamp(), %s::json, %s::jsonb, %s, %s)"
            " ON CONFLICT (name) DO UPDATE SET table_name = excluded.table_name,"
            " feature_count = excluded.feature_count, minx = excluded.minx,"
            " miny = excluded.miny, maxx = excluded.maxx, maxy = excluded.maxy,"
            " updated = excluded.updated, meta = excluded.meta,"
            " columns = excluded.columns, geometry_type = excluded.geometry_type,"
            " version = excluded.version"
            f" RETURNING {PostGISStore._INFO_COLS}",
            (name, table, count, *bounds, meta_json, columns_json, geom_type, number))
        return PostGISStore._info_from_row(cur.fetchone())

    def delete(self, name: str) -> bool:
        with self._write_errors(), self._pool.connection() as con, con.transaction():
            con.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_LOCK_LAYER, name))
            row = con.execute(f"DELETE FROM {SCHEMA}.layers WHERE name = %s"
                              " RETURNING table_name", (name,)).fetchone()
            tables = [t for (t,) in con.execute(
                f"DELETE FROM {SCHEMA}.versions WHERE name = %s RETURNING table_name", (name,))]
            for t in {*(tables), *((row[0],) if row else ())}:
                con.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(
                    sql.Identifier(SCHEMA, t)))
        with self._lock:
            self._loaded.pop(name)
        return row is not None

    def check(self) -> list[str]:
        problems: list[str] = []
        newest = max((v for v, _, _ in migrations()), default=0)
        with self._pool.connection() as con:
            version = con.execute(f"SELECT max(version) FROM {SCHEMA}.schema_version"
                                  ).fetchone()[0]
            if version != newest:
                problems.append(f"schema version {version}, expected {newest}")
            tables = {t for (t,) in con.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s", (SCHEMA,))}
            indexed = {t for (t,) in con.execute(
                "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid"
                " JOIN pg_class x ON x.oid = i.indexrelid JOIN pg_am a ON a.oid = x.relam"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = %s AND a.amname = 'gist'", (SCHEMA,))}
            registered = set()
            for name, table, count in con.execute(
                    f"SELECT name, table_name, feature_count FROM {SCHEMA}.layers").fetchall():
                registered.add(table)
                if table not in tables:
                    problems.append(f"layer {name!r}: table {table!r} is missing")
                    continue
                if table not in indexed:
                    problems.append(f"layer {name!r}: table {table!r} has no GiST index")
                actual = con.execute(sql.SQL("SELECT count(*) FROM {}").format(
                    sql.Identifier(SCHEMA, table))).fetchone()[0]
                if actual != count:
                    problems.append(f"layer {name!r}: {actual} rows, registry says {count}")
            for name, number, table in con.execute(
                    f"SELECT name, version, table_name FROM {SCHEMA}.versions").fetchall():
                registered.add(table)
                if table not in tables:
                    problems.append(f"layer {name!r} version {number}: table {table!r} is "
                                    "missing")
            own = {"layers", "versions", "schema_version", "jobs", "job_files"}
            for t in sorted(tables - registered - own):
                problems.append(f"table {t!r} belongs to no layer")
        return problems


def _not_found(name: str) -> LayerNotFound:
    return LayerNotFound(f"no layer called {name!r}", message_zh=f"没有名为 {name!r} 的图层")


def _new_table_name(name: str) -> str:
    return f"{name[:40]}__v{uuid.uuid4().hex[:12]}"


def _prepare(name: str, gdf: gpd.GeoDataFrame, meta: Mapping[str, Any] | None) -> dict:
    """A frame made ready for COPY outside the write transaction (the slow part).

    Rows go in Hilbert order of their geometries (:func:`geo.sfc.spatial_order`) so a
    small bbox reads a few table pages; fids stay the frame's row positions (1-based),
    whatever the order.  Each row's first tile zoom (:data:`~layers.pg_tiles.MINZOOM_COLUMN`,
    the whole-layer thinning of :mod:`geo.vector_tiles`) is written with it.
    """
    gdf = prepare_for_put(name, gdf)
    props = gdf.drop(columns=[gdf.geometry.name])
    # The GeoPackage store's typing, so both stores keep the same columns and values.
    gp_columns, values = columns_and_values(props)
    columns = []
    for i, (safe, sql_type) in enumerate(gp_columns):
        vals = values[i]
        if sql_type in TEXT_TYPES and any(isinstance(v, str) and "\x00" in v for v in vals):
            # PostgreSQL text cannot hold NUL: drop it (uploads are cleaned before already).
            values[i] = vals = [v.replace("\x00", "") if isinstance(v, str) else v
                                for v in vals]
        prop = safe.replace('""', '"').replace("\x00", "")
        nulls = int(sum(1 for v in vals if v is None))
        columns.append([prop, _sql_column_name(prop, i), sql_type, nulls])
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    n = len(geoms)
    is_point = shapely.get_type_id(geoms) == 0
    lon = np.where(is_point, shapely.get_x(np.where(is_point, geoms, None)), 0.0)
    lat = np.where(is_point, shapely.get_y(np.where(is_point, geoms, None)), 0.0)
    fids = np.arange(1, n + 1, dtype="int64")
    return {"name": name, "table": _new_table_name(name), "count": n,
            "columns": columns, "values": values, "geoms": geoms,
            "is_point": is_point, "lon": lon, "lat": lat, "fids": fids,
            "order": spatial_order(geoms) if n else np.zeros(0, dtype="int64"),
            "minzoom": minzoom_values(lon, lat, fids, is_point),
            "bounds": bounds_of(gdf), "geom_type": geometry_type_name(gdf),
            "meta": dict(meta or {})}


#: Rows per chunk of the binary COPY (bounds the encoder's index arrays).
_COPY_CHUNK = 100_000


def _copy_columns(p: dict, rows: np.ndarray) -> list[Column]:
    """The binary-COPY columns of ``rows`` (positions) of a prepared layer."""
    geoms = p["geoms"][rows]
    points = p["is_point"][rows]
    if points.all():
        geom = Column.points(p["lon"][rows], p["lat"][rows])
    else:
        srid = shapely.set_srid(geoms, 4326)
        geom = Column.bytea(list(shapely.to_wkb(srid, include_srid=True, byte_order=1)))
    cols = [Column.int8(p["fids"][rows]), geom]
    for (_, _, sql_type, _), vals in zip(p["columns"], p["values"], strict=True):
        chunk = [vals[i] for i in rows.tolist()]
        null = np.fromiter((v is None for v in chunk), dtype=bool, count=len(chunk))
        if sql_type == "INTEGER":
            cols.append(Column.int8(np.array([0 if v is None else int(v) for v in chunk],
                                             dtype="int64"), null))
        elif sql_type == "REAL":
            cols.append(Column.float8(np.array([np.nan if v is None else float(v)
                                                for v in chunk], dtype="float64"), null))
        elif sql_type == "BOOLEAN":
            cols.append(Column.boolean(np.array([bool(v) for v in chunk], dtype=bool), null))
        else:
            cols.append(Column.text(chunk))
    cols.append(Column.int2(p["minzoom"][rows]))
    return cols


def _create_version_table(con: Any, p: dict) -> None:
    """Create and fill a prepared layer's version table with its indexes (in the caller's
    transaction): binary COPY in Hilbert order, then the primary key, the GiST index and
    the partial GiST indexes of the thinned tile zooms."""
    # Statements without parameters: identifiers quoted without psycopg's %-escaping.
    def q(ident: str) -> str:
        return '"' + ident.replace('"', '""') + '"'

    ident = f"{q(SCHEMA)}.{q(p['table'])}"
    col_ddl = "".join(f", {q(c[1])} {_PG_TYPES[c[2]]}" for c in p["columns"])
    col_list = "".join(f", {q(c[1])}" for c in p["columns"])
    con.execute(f"CREATE TABLE {ident} (fid bigint NOT NULL, geom geometry(Geometry, 4326)"
                f"{col_ddl}, {q(MINZOOM_COLUMN)} smallint)")
    with con.cursor().copy(f"COPY {ident} (fid, geom{col_list}, {q(MINZOOM_COLUMN)})"
                           " FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(COPY_HEADER)
        order = p["order"]
        for start in range(0, len(order), _COPY_CHUNK):
            copy.write(encode_rows(_copy_columns(p, order[start:start + _COPY_CHUNK])))
        copy.write(COPY_TRAILER)
    con.execute(f"ALTER TABLE {ident} ADD PRIMARY KEY (fid)")
    con.execute(f"CREATE INDEX {q(p['table'] + '_geom')} ON {ident} USING gist (geom)")
    if p["is_point"].any():
        layer = TileLayer(p["table"], p["name"], {}, p["geom_type"], int(p["is_point"].sum()),
                          None, MINZOOM_COLUMN, schema=SCHEMA)
        per_zoom = np.bincount(p["minzoom"][p["is_point"]].astype("int64")).tolist()
        for statement in minzoom_indexes_sql(layer, per_zoom):
            con.execute(statement)
    con.execute(f"ANALYZE {ident}")


def order_by_sql(columns: list, sortby: SortBy) -> str:
    """``ORDER BY`` list for ``sortby`` over a version's column map, ending with fid.

    Text sorts by code point (``COLLATE "C"``), as pandas does, and missing values go
    last either way, so both stores return the same order.

    Examples
    --------
    >>> order_by_sql([["name", "name", "TEXT", 0]], [("name", False)])
    '"name" COLLATE "C" DESC NULLS LAST, fid'
    """
    by_prop = {c[0]: c for c in columns}
    parts = []
    for prop, ascending in sortby:
        if prop not in by_prop:
            raise unknown_property(prop, list(by_prop))
        _, col, sql_type, _ = by_prop[prop]
        collate = ' COLLATE "C"' if sql_type in TEXT_TYPES else ""
        parts.append(f"{_quote(col)}{collate} {'ASC' if ascending else 'DESC'} NULLS LAST")
    return ", ".join([*parts, "fid"])


def _kinds(name: str, columns: list) -> dict[str, str]:
    """Property kinds of a version from its column map (the catalog's temporal field
    read as declared)."""
    return declared_kinds(name, {c[0]: KIND_OF_SQL.get(c[2], "str") for c in columns})


def _filter_columns(columns: list, kinds: Mapping[str, str]) -> dict[str, SqlColumn]:
    """The column map :func:`layers.filter.filter_sql` types a filter against.

    DATE/DATETIME columns hold ISO text: the filter reads them as text of that kind.
    """
    return {c[0]: SqlColumn(_quote(c[1]), "TEXT" if c[2] in TEXT_TYPES else c[2],
                            kinds.get(c[0]))
            for c in columns}


def _quote(ident: str) -> str:
    """A double-quoted SQL identifier, ``%`` escaped for psycopg's placeholders."""
    return '"' + ident.replace('"', '""').replace("%", "%%") + '"'


def _frame(rows: list[tuple], columns: list[list], total: int) -> gpd.GeoDataFrame:
    """A GeoDataFrame indexed by fid from ``SELECT fid, wkb, props…`` rows.

    Column dtypes follow the whole layer (from the registry's null counts), not
    the page, so a page has the dtypes of :meth:`PostGISStore.get` as in GeoPackage.
    """
    n = len(rows)
    data = list(zip(*rows, strict=True)) if n else [()] * (2 + len(columns))
    fids = np.asarray(data[0], dtype="int64")
    geoms = shapely.from_wkb(np.array(data[1], dtype=object)) if n else np.array([], object)
    frame = pd.DataFrame(
        {c[0]: pd.Series(data[2 + i], dtype=_column_dtype(c[2], c[3], total))
         for i, c in enumerate(columns)},
        index=pd.RangeIndex(n))
    gdf = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=4326))
    gdf.index = pd.Index(fids, name="fid")
    return gdf
