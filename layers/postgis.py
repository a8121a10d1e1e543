"""The shared store: layers in PostgreSQL/PostGIS, for several app servers at once.

Chosen by ``ATLAS_DATABASE_URL=postgresql://…`` (see :func:`layers.store.open_store`);
it keeps the exact semantics of :class:`layers.gpkg.GeoPackageStore` (fids 1-based
and stable per version, atomic replace, list order, text-equality filters), so the
API, pages and analyses cannot tell the two apart.

Layout (schema ``atlas``, created by the SQL files in ``layers/migrations/``):

* ``atlas.schema_version`` – which migrations ran;
* ``atlas.layers`` – the registry: one row per layer pointing at the table of its
  current version, with count, bounds, metadata and the column map;
* ``atlas."<name>__v<token>"`` – one table per layer version: ``fid bigint`` primary
  key, ``geom geometry(Geometry, 4326)`` with a GiST index and one typed column per
  property.

One table per version (rather than one big features table keyed by layer and
version) because a version is written once and never changed: it is bulk-loaded
with ``COPY`` and indexed once, replacing a layer drops a table instead of deleting
millions of rows (no bloat, no vacuum debt), each layer gets its own planner
statistics, and typed columns give back exactly the dtypes that went in (jsonb
would turn every integer column into a float or text question).  GIS staff can
open the tables in QGIS as ordinary PostGIS layers.

A write creates and fills the new table, then, holding a per-layer advisory lock,
switches the registry row and drops the old table, all in one transaction:
readers see the old version or the new one, never a mix, and two writers to the
same layer end with one whole version.  Reads hit SQL every time (bbox and
property filters, counts, limit/offset run in the database); only :meth:`get`
keeps whole layers in memory, per version, like the GeoPackage store.  There is no
``loaded()`` (the GeoPackage store's in-memory layer with its STRtree): the web
modules then leave queries to the database instead of holding every layer in
every app server.

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
import math
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .catalog import layer_ids
from .gpkg import LoadedLayer, _columns_and_records
from .store import (
    BBox,
    LayerInfo,
    LayerNotFound,
    QueryError,
    QueryResult,
    Store,
    StoreError,
    check_paging,
    prepare_for_put,
)

try:  # psycopg is only needed when the PostGIS store is used
    import psycopg
    from psycopg import errors as pg_errors
    from psycopg import sql
except ImportError:  # pragma: no cover - exercised only without the requirement
    psycopg = None  # type: ignore[assignment]

SCHEMA = "atlas"
MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "migrations")
#: Advisory-lock keys (first int of the two-int form): migrations, then per-layer writes.
_LOCK_MIGRATE = 0x41544C41  # "ATLA"
_LOCK_LAYER = 0x41544C42
_PG_TYPES = {"INTEGER": "bigint", "REAL": "double precision", "BOOLEAN": "boolean",
             "TEXT": "text"}
_NUMERIC_TEXT = r"^\s*[-+]?(([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?|inf|infinity)\s*$"
_MAX_IDENT = 63  # PostgreSQL truncates longer identifiers


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
    if len(prop.encode("utf-8")) <= _MAX_IDENT and prop.lower() not in ("fid", "geom"):
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
        return psycopg.connect(self.url, autocommit=True, application_name="atlas",
                               connect_timeout=10)

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
            with self._lock:
                if healthy and len(self._idle) < self.size:
                    self._idle.append(con)
                    con = None
            if con is not None:
                con.close()

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
    """

    def __init__(self, url: str, pool_size: int = 8) -> None:
        if psycopg is None:
            raise StoreError("the PostGIS store needs psycopg: pip install 'psycopg[binary]'")
        self.url = url
        host, port, db = split_url(url)
        #: Shown in messages instead of the URL (which may hold a password).
        self.path = f"postgresql://{host}:{port}/{db}"
        self._pool = _Pool(url, pool_size)
        self._lock = threading.RLock()
        self._loaded: dict[str, LoadedLayer] = {}
        try:
            with self._pool.connection() as con:
                self._migrate(con)
        except psycopg.OperationalError as e:
            raise StoreError(f"cannot open the PostGIS store at {self.path}: {e}") from e

    def __repr__(self) -> str:
        return f"PostGISStore({self.path!r})"

    def close(self) -> None:
        """Close the pooled connections (the store reconnects if used again)."""
        self._pool.close()

    # -- schema ---------------------------------------------------------------------------
    def _migrate(self, con: psycopg.Connection) -> None:
        """Apply pending migrations in one transaction, one process at a time."""
        with con.transaction():
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
                        "CREATE EXTENSION postgis") from e
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
            con.execute(f"CREATE TABLE IF NOT EXISTS {SCHEMA}.schema_version ("
                        " version integer PRIMARY KEY, name text NOT NULL,"
                        " applied timestamptz NOT NULL DEFAULT now())")
            done = {v for (v,) in con.execute(f"SELECT version FROM {SCHEMA}.schema_version")}
            known = migrations()
            newest = max((v for v, _, _ in known), default=0)
            if done and max(done) > newest:
                raise StoreError(f"the database at {self.path} has schema version {max(done)},"
                                 f" newer than this code knows ({newest}): upgrade the atlas")
            for version, name, text in known:
                if version not in done:
                    con.execute(text)
                    con.execute(f"INSERT INTO {SCHEMA}.schema_version (version, name)"
                                " VALUES (%s, %s)", (version, name))

    def schema_version(self) -> int:
        """The newest migration applied to the database."""
        with self._pool.connection() as con:
            row = con.execute(f"SELECT max(version) FROM {SCHEMA}.schema_version").fetchone()
        return int(row[0] or 0)

    # -- registry -------------------------------------------------------------------------
    _INFO_COLS = ("name, table_name, feature_count, minx, miny, maxx, maxy,"
                  " to_char(updated AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
                  " meta, columns")

    def _registry(self, con: psycopg.Connection, name: str | None = None) -> list[tuple]:
        where, args = ("WHERE name = %s", (name,)) if name is not None else ("", ())
        return con.execute(f"SELECT {self._INFO_COLS} FROM {SCHEMA}.layers {where}",
                           args).fetchall()

    @staticmethod
    def _info_from_row(row: tuple) -> LayerInfo:
        name, table, count, minx, miny, maxx, maxy, updated, meta, _ = row
        nan = float("nan")
        bounds = tuple(nan if v is None else float(v) for v in (minx, miny, maxx, maxy))
        return LayerInfo(name=name, count=int(count), bounds=bounds,  # type: ignore[arg-type]
                         version=table, updated=updated, meta=meta or {})

    def _row(self, name: str) -> tuple:
        if "\x00" in name:  # PostgreSQL text cannot hold NUL, and no layer is named so
            raise LayerNotFound(f"no layer called {name!r}")
        with self._pool.connection() as con:
            rows = self._registry(con, name)
        if not rows:
            raise LayerNotFound(f"no layer called {name!r}")
        return rows[0]

    # -- reading --------------------------------------------------------------------------
    def list_layers(self) -> list[LayerInfo]:
        with self._pool.connection() as con:
            infos = [self._info_from_row(r) for r in self._registry(con)]
        order = {lid: i for i, lid in enumerate(layer_ids())}
        return sorted(infos, key=lambda i: (order.get(i.name, len(order)), i.name))

    def info(self, name: str) -> LayerInfo:
        return self._info_from_row(self._row(name))

    def properties(self, name: str) -> list[str]:
        """Property names of the current version, in order, without reading features."""
        return [c[0] for c in self._row(name)[9]]

    def _read(self, name: str, where: Callable[[list], tuple[str, list]] | None = None,
              page: str = "", page_args: list | tuple = (), count: bool = False
              ) -> tuple[gpd.GeoDataFrame, int, tuple]:
        """Rows of the current version of ``name``, and how many match.

        ``where(columns)`` gives the ``WHERE`` clause and its parameters for the
        version's column map.  A version is never changed, only dropped when
        replaced: a read that lost that race (its table vanished) looks again.
        """
        for attempt in range(3):
            row = self._row(name)
            table, total, columns = row[1], int(row[2]), row[9]
            where_sql, args = where(columns) if where is not None else ("", [])
            # Plain text with _quote (not sql.Identifier): a '%' in a property name must be
            # escaped for the placeholders.
            cols = "".join(", " + _quote(c[1]) for c in columns)
            ident = f"{_quote(SCHEMA)}.{_quote(table)}"
            select = (f"SELECT fid, ST_AsBinary(geom, 'NDR'){cols} FROM {ident} {where_sql}"
                      f" ORDER BY fid{page}")
            try:
                with self._pool.connection() as con:
                    with con.cursor(binary=True) as cur:
                        rows = cur.execute(select, [*args, *page_args]).fetchall()
                    matched = total  # the registry knows the count of a whole layer
                    if count and where_sql:
                        matched = con.execute(f"SELECT count(*) FROM {ident} {where_sql}",
                                              args).fetchone()[0]
            except pg_errors.UndefinedTable:
                if attempt == 2:
                    raise
                continue
            return _frame(rows, columns, total), int(matched), row
        raise AssertionError("unreachable")  # pragma: no cover

    def _layer(self, name: str) -> LoadedLayer:
        """The current version of a layer in memory, loaded once per version.

        Deliberately not public as ``loaded()`` (the GeoPackage store's warm copy):
        the web modules use ``loaded()`` when a store offers it, which would pull
        whole layers into every app server; without it they query SQL per request.
        """
        try:
            info = self.info(name)
        except LayerNotFound:
            with self._lock:
                self._loaded.pop(name, None)
            raise
        with self._lock:
            cached = self._loaded.get(name)
            if cached is not None and cached.info.version == info.version:
                return cached
        gdf, _, row = self._read(name)
        info = self._info_from_row(row)
        loaded = LoadedLayer(info=info, gdf=gdf, tree=shapely.STRtree(gdf.geometry.values),
                             cache={})
        with self._lock:
            self._loaded[name] = loaded
        return loaded

    def get(self, name: str) -> gpd.GeoDataFrame:
        return self._layer(name).gdf

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
        bbox: BBox | None = None,
        filters: Mapping[str, Any] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> QueryResult:
        check_paging(limit, offset)
        # Beyond any table (and beyond bigint): clamp rather than fail in the database.
        offset = min(int(offset), 2**62)
        limit = None if limit is None else min(int(limit), 2**62)

        def where(columns: list) -> tuple[str, list]:
            conds: list[str] = []
            args: list[Any] = []
            if bbox is not None:
                minx, miny, maxx, maxy = bbox
                # Across the antimeridian: two boxes.  ST_Intersects uses the GiST index (&&).
                boxes = ([(minx, miny, 180.0, maxy), (-180.0, miny, maxx, maxy)]
                         if minx > maxx else [(minx, miny, maxx, maxy)])
                conds.append("(" + " OR ".join(
                    "ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))"
                    for _ in boxes) + ")")
                args += [float(v) for b in boxes for v in b]
            by_prop = {c[0]: c for c in columns}
            for key, value in (filters or {}).items():
                if key not in by_prop:
                    raise QueryError(f"unknown property {key!r}; this layer has: "
                                     + ", ".join(c[0] for c in columns))
                _, col, sql_type, _ = by_prop[key]
                cond, cargs = text_match_sql(sql_type, _quote(col), value)
                conds.append(cond)
                args += cargs
            return ("WHERE " + " AND ".join(conds)) if conds else "", args

        page = " LIMIT %s OFFSET %s" if limit is not None else " OFFSET %s"
        page_args = [int(limit), int(offset)] if limit is not None else [int(offset)]
        gdf, matched, _ = self._read(name, where, page, page_args, count=True)
        return QueryResult(features=gdf, number_matched=matched)

    # -- writing --------------------------------------------------------------------------
    def put(self, name: str, gdf: gpd.GeoDataFrame, meta: Mapping[str, Any] | None = None
            ) -> LayerInfo:
        gdf = prepare_for_put(name, gdf)
        table = f"{name[:40]}__v{uuid.uuid4().hex[:12]}"
        props = gdf.drop(columns=[gdf.geometry.name])
        # The GeoPackage store's typing, so both stores keep the same columns and values.
        gp_columns, records = _columns_and_records(props)
        if any("\x00" in v for r in records for v in r if isinstance(v, str)):
            # PostgreSQL text cannot hold NUL: drop it (uploads are cleaned before already).
            records = [tuple(v.replace("\x00", "") if isinstance(v, str) else v for v in r)
                       for r in records]
        columns = []
        for i, (safe, sql_type) in enumerate(gp_columns):
            prop = safe.replace('""', '"').replace("\x00", "")
            nulls = int(sum(1 for r in records if r[i] is None))
            columns.append([prop, _sql_column_name(prop, i), sql_type, nulls])
        geoms = shapely.set_srid(np.asarray(gdf.geometry.values, dtype=object), 4326)
        ewkb = shapely.to_wkb(geoms, hex=True, include_srid=True)
        bounds = gdf.total_bounds if len(gdf) else [None] * 4
        bounds = [None if b is None or not np.isfinite(b) else float(b) for b in bounds]
        types = set(gdf.geom_type.dropna().str.upper())
        geom_type = types.pop() if len(types) == 1 else "GEOMETRY"
        meta_json = json.dumps(dict(meta or {}), ensure_ascii=False, default=str)
        ident = sql.Identifier(SCHEMA, table)
        col_ddl = sql.SQL("").join(
            sql.SQL(", {} {}").format(sql.Identifier(c[1]), sql.SQL(_PG_TYPES[c[2]]))
            for c in columns)
        col_list = sql.SQL("").join(sql.SQL(", ") + sql.Identifier(c[1]) for c in columns)
        with self._pool.connection() as con, con.transaction():
            con.execute(sql.SQL("CREATE TABLE {} (fid bigint PRIMARY KEY,"
                                " geom geometry(Geometry, 4326){})").format(ident, col_ddl))
            with con.cursor().copy(sql.SQL("COPY {} (fid, geom{}) FROM STDIN").format(
                    ident, col_list)) as copy:
                for fid, (g, rec) in enumerate(zip(ewkb, records, strict=True), start=1):
                    copy.write_row((fid, g, *rec))
            con.execute(sql.SQL("CREATE INDEX {} ON {} USING gist (geom)").format(
                sql.Identifier(f"{table}_geom"), ident))
            con.execute(sql.SQL("ANALYZE {}").format(ident))
            # Writers of this layer queue here; the swap sees the latest committed row.
            con.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_LOCK_LAYER, name))
            old = con.execute(f"SELECT table_name FROM {SCHEMA}.layers WHERE name = %s"
                              " FOR UPDATE", (name,)).fetchone()
            con.execute(
                f"INSERT INTO {SCHEMA}.layers (name, table_name, feature_count, minx, miny,"
                " maxx, maxy, updated, meta, columns, geometry_type) VALUES"
                " (%s, %s, %s, %s, %s, %s, %s, clock_timestamp(), %s::json, %s::jsonb, %s)"
                " ON CONFLICT (name) DO UPDATE SET table_name = excluded.table_name,"
                " feature_count = excluded.feature_count, minx = excluded.minx,"
                " miny = excluded.miny, maxx = excluded.maxx, maxy = excluded.maxy,"
                " updated = excluded.updated, meta = excluded.meta,"
                " columns = excluded.columns, geometry_type = excluded.geometry_type",
                (name, table, len(gdf), *bounds, meta_json,
                 json.dumps(columns, ensure_ascii=False), geom_type))
            if old:
                con.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(
                    sql.Identifier(SCHEMA, old[0])))
        return self.info(name)

    def delete(self, name: str) -> bool:
        with self._pool.connection() as con, con.transaction():
            con.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_LOCK_LAYER, name))
            row = con.execute(f"DELETE FROM {SCHEMA}.layers WHERE name = %s"
                              " RETURNING table_name", (name,)).fetchone()
            if row is not None:
                con.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(
                    sql.Identifier(SCHEMA, row[0])))
        with self._lock:
            self._loaded.pop(name, None)
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
            for t in sorted(tables - registered - {"layers", "schema_version"}):
                problems.append(f"table {t!r} belongs to no layer")
        return problems


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
