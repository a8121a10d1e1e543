"""Items queries on PostGIS that stay fast at ten million rows: SQL building and one round trip.

What a page of ``/items`` costs on a 10M-point table is decided here:

* **bbox** — points are tested with ``&&`` against the box (served by the GiST
  index) plus ``ST_X``/``ST_Y`` bounds: ``&&`` alone is not exact for points
  (PostGIS compares float4 boxes rounded outwards, so a point 1e-7° outside
  matches), and ``ST_Intersects`` costs five times as much per row (the bounds
  add 15 %).  Other geometries use ``ST_Intersects``.  Every number is inlined as a literal
  (:func:`bbox_sql`) and statements are sent unprepared, so no bbox query ever
  runs on a generic plan (a generic plan for a large bbox reads the table in
  fid order and takes seconds on a small one, and vice versa);
  :data:`CONNECTION_SETUP` also sets ``plan_cache_mode = force_custom_plan`` for
  any other parameterised statement.
* **count** — ``numberMatched`` is exact up to ``exact_limit`` matches: the
  page statement reads that many matches and no more, and counts them.  Above it the planner's estimate (``EXPLAIN (FORMAT
  JSON)`` rows, computed in the same round trip) is reported, flagged
  ``estimated``.  ``count="exact"`` adds a full ``count(*)``.
* **one round trip** — the registry row, the page, the capped count and the
  plan's estimate go in one psycopg pipeline, inside one read-only REPEATABLE
  READ transaction: one network round trip and one snapshot.  The page is read
  from the table the caller last saw; when the registry says the layer has moved
  on, or the table is gone, the read is done again on the new table
  (:func:`read_items`).
* **order** — ``ORDER BY fid LIMIT``: a small bbox's page is cut from its
  matches, read through the GiST index; a large one walks the primary key until
  the page is full.  Which one is decided in the statement from the matches
  counted and PostGIS's own estimate (:func:`page_sql`), not by the planner's
  costing: rows are *written* in Hilbert
  order (:func:`geo.sfc.spatial_order`, fids unchanged), so the matches of a
  small bbox sit on a few pages while walking the key reads one page per row —
  the planner, costing random reads as cheap (SSD settings), walked 230,000
  pages for a 100-feature page (1.9 s instead of 20 ms).  :func:`cluster_sql`
  reorders a table written before.
* **GeoJSON in SQL** — with ``output="geojson"`` each feature's JSON is built in
  the database (``ST_AsGeoJSON``, ``to_json``) and the page arrives as bytes to
  join: no WKB decoding, no frame, no Python encoder.

Everything is pure SQL text plus parameters except :func:`read_items`, which runs
them on a psycopg connection.

Examples
--------
>>> print(bbox_sql((116.0, 44.0, 116.2, 44.2), points=True))
(geom && ST_MakeEnvelope(116.0, 44.0, 116.2, 44.2, 4326) AND CASE WHEN ST_X(geom) BETWEEN 116.0 AND 116.2 AND ST_Y(geom) BETWEEN 44.0 AND 44.2 THEN true ELSE false END)
>>> t = VersionTable("sites", "sites__v1", [["name", "name", "TEXT", 0]], "POINT", 10)
>>> sql, params = page_sql(ItemsQuery(t, bbox=(116.0, 44.0, 116.2, 44.2), limit=10))
>>> sql.startswith("WITH m AS MATERIALIZED"), "ORDER BY fid + 0" in sql, params
(True, True, [])
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

#: Above this many matches ``numberMatched`` is the planner's estimate (count="estimate").
EXACT_COUNT_LIMIT = 10_000
#: Statements for every new connection of a store's pool.
CONNECTION_SETUP = ("SET plan_cache_mode = force_custom_plan",)
#: Registry columns :func:`read_items` reads by default (:meth:`VersionTable.from_row`).
REGISTRY_COLS = "name, table_name, feature_count, columns, geometry_type"
_PG_TYPES = {"INTEGER": "bigint", "REAL": "double precision", "BOOLEAN": "boolean",
             "DATE": "text", "DATETIME": "text",
             "TEXT": "text"}

BBox = tuple[float, float, float, float]


def quote(ident: str) -> str:
    """A double-quoted SQL identifier, ``%`` escaped for psycopg's placeholders.

    Examples
    --------
    >>> quote('a"b%')
    '"a""b%%"'
    """
    return '"' + ident.replace('"', '""').replace("%", "%%") + '"'


def _lit(v: float) -> str:
    f = float(v)
    if not math.isfinite(f):
        raise ValueError(f"not a finite number: {v!r}")
    return repr(f)


@dataclass(frozen=True)
class VersionTable:
    """One layer version's table as the registry describes it.

    Attributes
    ----------
    name : str
        Layer name.
    table : str
        Version table in ``schema``.
    columns : list
        The registry's column map, ``[[property, column, sql type, nulls], …]``.
    geometry_type : str
        ``POINT`` when every feature is a point.
    feature_count : int
    schema : str
    """

    name: str
    table: str
    columns: list
    geometry_type: str
    feature_count: int
    schema: str = "atlas"

    @classmethod
    def from_row(cls, row: Sequence[Any], schema: str = "atlas") -> VersionTable:
        """From a row of :data:`REGISTRY_COLS`."""
        name, table, count, columns, gtype = row[:5]
        if isinstance(columns, str):
            columns = json.loads(columns)
        return cls(name, table, list(columns), gtype or "GEOMETRY", int(count), schema)

    @property
    def ident(self) -> str:
        return f"{quote(self.schema)}.{quote(self.table)}"

    @property
    def points(self) -> bool:
        return self.geometry_type.upper() == "POINT"


def bbox_sql(bbox: BBox, points: bool, loose: bool = False) -> str:
    """The condition "intersects ``bbox``" (EPSG:4326; minx > maxx crosses the antimeridian).

    For points: ``&&`` (the GiST index, and the planner's good estimate) plus the
    exact coordinate test inside a ``CASE``.  Written as plain ``BETWEEN``s the
    planner would multiply in its default range selectivity (0.005 each) and
    expect one row where a million match; a ``CASE`` counts as 0.5.  ``loose``
    leaves the exact test out (for estimates: ``&&`` alone is off by float4
    rounding at the edges only).

    Examples
    --------
    >>> bbox_sql((170.0, -10.0, -170.0, 10.0), points=False)
    '(ST_Intersects(geom, ST_MakeEnvelope(170.0, -10.0, 180.0, 10.0, 4326)) OR ST_Intersects(geom, ST_MakeEnvelope(-180.0, -10.0, -170.0, 10.0, 4326)))'
    >>> bbox_sql((116.0, 44.0, 116.2, 44.2), points=True, loose=True)
    '(geom && ST_MakeEnvelope(116.0, 44.0, 116.2, 44.2, 4326))'
    """
    minx, miny, maxx, maxy = (float(v) for v in bbox)
    boxes = ([(minx, miny, 180.0, maxy), (-180.0, miny, maxx, maxy)] if minx > maxx
             else [(minx, miny, maxx, maxy)])
    parts = []
    for x0, y0, x1, y1 in boxes:
        env = f"ST_MakeEnvelope({_lit(x0)}, {_lit(y0)}, {_lit(x1)}, {_lit(y1)}, 4326)"
        if points and loose:
            parts.append(f"geom && {env}")
        elif points:
            parts.append(f"geom && {env} AND CASE WHEN ST_X(geom) BETWEEN {_lit(x0)} AND"
                         f" {_lit(x1)} AND ST_Y(geom) BETWEEN {_lit(y0)} AND {_lit(y1)}"
                         " THEN true ELSE false END")
        else:
            parts.append(f"ST_Intersects(geom, {env})")
    if len(parts) == 1:
        return f"({parts[0]})"
    return "(" + " OR ".join(f"({p})" if points else p for p in parts) + ")"


@dataclass(frozen=True)
class ItemsQuery:
    """One items request on one version table.

    Attributes
    ----------
    table : VersionTable
    bbox : tuple, optional
    conditions : sequence of (sql, params)
        Further conditions, already SQL (property filters from
        :func:`layers.postgis.text_match_sql`, CQL2 from ``layers.filter``).
    order : str
        The ``ORDER BY`` list (``layers.postgis.order_by_sql``); default ``fid``.
    properties : sequence of str, optional
        Properties in the page (default: all, in column order).
    limit : int or None
    offset : int
    count : {"exact", "estimate"}
    exact_limit : int
        With ``count="estimate"``, counted exactly up to this many matches.
    output : {"wkb", "geojson"}
        Rows ``(fid, wkb, props…)``, or the page's features as GeoJSON bytes.
    precision : int
        Decimals of GeoJSON coordinates.
    """

    table: VersionTable
    bbox: BBox | None = None
    conditions: Sequence[tuple[str, Sequence[Any]]] = ()
    order: str = "fid"
    properties: Sequence[str] | None = None
    limit: int | None = 10
    offset: int = 0
    count: Literal["exact", "estimate"] = "estimate"
    exact_limit: int = EXACT_COUNT_LIMIT
    output: Literal["wkb", "geojson"] = "wkb"
    precision: int = 6
    extra: dict = field(default_factory=dict, compare=False)

    def shown(self) -> list[list]:
        """The column-map entries of the page's properties."""
        if self.properties is None:
            return list(self.table.columns)
        by_prop = {c[0]: c for c in self.table.columns}
        missing = [p for p in self.properties if p not in by_prop]
        if missing:
            raise KeyError(missing[0])
        return [by_prop[p] for p in dict.fromkeys(self.properties)]


def where_sql(q: ItemsQuery, loose: bool = False) -> tuple[str, list[Any]]:
    """``WHERE …`` (or ``""``) and its parameters (``loose``: see :func:`bbox_sql`)."""
    conds: list[str] = []
    params: list[Any] = []
    if q.bbox is not None:
        conds.append(bbox_sql(q.bbox, q.table.points, loose))
    for cond, args in q.conditions:
        conds.append(f"({cond})")
        params += list(args)
    return ("WHERE " + " AND ".join(conds)) if conds else "", params


def _paging(q: ItemsQuery) -> str:
    limit = "" if q.limit is None else f" LIMIT {min(int(q.limit), 2**62)}"
    return f"{limit} OFFSET {min(int(q.offset), 2**62)}"


def feature_json_sql(columns: Sequence[Sequence[Any]], precision: int = 6) -> str:
    """SQL text of one GeoJSON Feature per row (as :func:`geo.geojson.encode_features` writes it).

    Properties keep the column map's order; missing values and non-finite floats
    are ``null``; numbers print in PostgreSQL's shortest form, a float with its decimal
    point as Python writes it (``3.0``, never ``3``: QGIS and GDAL type a field by its
    values, and an integer-looking float would make it an Integer field).

    Examples
    --------
    >>> print(feature_json_sql([["名", "n", "TEXT", 0]]))
    '{"type":"Feature","id":' || fid || ',"geometry":' || COALESCE(ST_AsGeoJSON(geom, 6), 'null') || ',"properties":{' || '"名":' || COALESCE(to_json("n")::text, 'null') || '}}'
    """
    props = []
    for i, (prop, col, sql_type, _) in enumerate(columns):
        key = json.dumps(str(prop), ensure_ascii=False).replace("'", "''").replace("%", "%%")
        c = quote(col)
        if sql_type == "REAL":
            # Below 1e15 PostgreSQL writes a whole float without exponent or point.
            value = (f"CASE WHEN {c} IS NULL OR {c} IN ('NaN', 'Infinity', '-Infinity')"
                     f" THEN 'null' WHEN {c} = trunc({c}) AND abs({c}) < 1e15"
                     f" THEN {c}::text || '.0' ELSE {c}::text END")
        elif sql_type in ("INTEGER", "BOOLEAN"):
            value = f"COALESCE({c}::text, 'null')"
        else:
            value = f"COALESCE(to_json({c})::text, 'null')"
        props.append(f"'{',' if i else ''}{key}:' || {value}")
    body = " || ".join(props) if props else "''"
    return ("'{\"type\":\"Feature\",\"id\":' || fid || ',\"geometry\":' ||"
            f" COALESCE(ST_AsGeoJSON(geom, {int(precision)}), 'null') ||"
            f" ',\"properties\":{{' || {body} || '}}}}'")


#: Cost of reading a row by walking the primary key in fid order (a random heap page)
#: against reading a matched row through the GiST index and sorting it; measured on
#: the 10M-point bench table stored in Hilbert order (8 µs against 2-3 µs).
_WALK_ROW_COST = 3.0


def walk_threshold(q: ItemsQuery) -> int:
    """Matches above which walking the primary key in fid order beats sorting the matches.

    ``ORDER BY fid LIMIT n`` either walks the key until ``offset + n`` rows match
    (about rows × (offset + n) / matches rows read, each on its own page when rows
    are stored in spatial order) or reads every match through the GiST index
    (clustered: few pages) and sorts them.  The walk wins once matches exceed
    ``sqrt(rows × (offset + n) × cost ratio)``.

    Examples
    --------
    >>> t = VersionTable("p", "p__v1", [], "POINT", 10_000_000)
    >>> walk_threshold(ItemsQuery(t, limit=1000)), walk_threshold(ItemsQuery(t, limit=100))
    (173205, 54772)
    """
    wanted = int(q.offset) + (int(q.limit) if q.limit is not None else q.table.feature_count)
    return int(math.sqrt(max(q.table.feature_count, 1) * max(wanted, 1) * _WALK_ROW_COST))


def _bbox_estimate_sql(q: ItemsQuery) -> str:
    """SQL of the planner's statistics' estimate of the rows in the bbox (PostGIS's 2-D histogram)."""
    minx, miny, maxx, maxy = (float(v) for v in q.bbox)
    boxes = ([(minx, miny, 180.0, maxy), (-180.0, miny, maxx, maxy)] if minx > maxx
             else [(minx, miny, maxx, maxy)])
    reg = q.table.ident.replace("'", "''")
    sel = " + ".join(
        f"_postgis_selectivity('{reg}'::regclass, 'geom', ST_MakeEnvelope({_lit(a)}, {_lit(b)},"
        f" {_lit(c)}, {_lit(d)}, 4326))" for a, b, c, d in boxes)
    return (f"SELECT ({sel}) * greatest(reltuples, 0) AS est FROM pg_class"
            f" WHERE oid = '{reg}'::regclass")


def page_sql(q: ItemsQuery) -> tuple[str, list[Any]]:
    """The page and whether its matches were counted, in one statement that picks its own plan.

    With a condition, the first ``exact_limit + 1`` matches are read once
    (materialised).  When that is all of them, the page is cut from them and their
    count is exact.  Otherwise, ordered by fid, the page walks the primary key
    when PostGIS's statistics put the matches above :func:`walk_threshold`, and
    sorts the matches read through the GiST index below it.  One-time filters
    on those numbers keep the other branches from running at all, so the plan
    follows the matches rather than the planner's guess: rows are stored in
    spatial order, where walking the key reads a page per row.

    Output ``wkb``: rows ``(fid, wkb, props…, n)`` with ``n`` NULL, then one row
    with fid NULL and ``n`` the exact count, -1 when above ``exact_limit``, NULL
    without a condition.  Output ``geojson``: one row ``(n, features, returned)``,
    the features' JSON joined by commas (bytes) and how many.
    """
    where, params = where_sql(q)
    shown = q.shown()
    ident = q.table.ident
    order, paging = q.order, _paging(q)
    if q.output == "geojson":
        cols = "".join(f", {quote(c[1])}" for c in q.table.columns)
        select = f"fid, geom{cols}"
    else:
        cols = "".join(f", {quote(c[1])}" for c in shown)
        select = f"fid, ST_AsBinary(geom, 'NDR') AS wkb{cols}"
    if not where:  # the whole layer: walk the key; the registry knows the count
        page = f"SELECT {select} FROM {ident} ORDER BY {order}{paging}"
        count, head, n_params = "NULL::bigint", "", params
    else:
        cap = int(q.exact_limit)
        every = "".join(f", {quote(c[1])}" for c in q.table.columns)
        heads = [f"m AS MATERIALIZED (SELECT fid, geom{every} FROM {ident} {where}"
                 f" LIMIT {cap + 1})", "c AS (SELECT count(*) AS n FROM m)"]
        big = f"(SELECT n FROM c) > {cap}"
        branches = [f"(SELECT {select} FROM m WHERE NOT {big} ORDER BY {order}{paging})"]
        n_params = params
        if q.bbox is not None and order.strip() == "fid":
            heads.append(f"e AS ({_bbox_estimate_sql(q)})")
            walk = f"(SELECT est FROM e) >= {walk_threshold(q)}"
            branches.append(f"(SELECT {select} FROM {ident} {where} AND {big} AND {walk}"
                            f" ORDER BY fid{paging})")
            # fid + 0: no index gives that order, so the planner reads the matches and sorts
            branches.append(f"(SELECT {select} FROM {ident} {where} AND {big} AND NOT {walk}"
                            f" ORDER BY fid + 0{paging})")
            n_params = params * 3
        else:
            branches.append(f"(SELECT {select} FROM {ident} {where} AND {big}"
                            f" ORDER BY {order}{paging})")
            n_params = params * 2
        head = "WITH " + ", ".join(heads) + " "
        page = " UNION ALL ".join(branches)
        count = f"(SELECT CASE WHEN n > {cap} THEN -1 ELSE n END FROM c)"
    if q.output == "geojson":
        feature = feature_json_sql(shown, q.precision)
        return (f"{head}SELECT {count}, convert_to(string_agg({feature}, ','"
                f" ORDER BY {order}), 'UTF8'), count(*) FROM ({page}) p", n_params)
    types = "".join(f", NULL::{_PG_TYPES[c[2]]}" for c in shown)
    return (f"{head}SELECT p.*, NULL::bigint AS n FROM ({page}) p UNION ALL"
            f" SELECT NULL::bigint, NULL::bytea{types}, {count}", n_params)


def count_sql(q: ItemsQuery) -> tuple[str, list[Any]] | None:
    """The exact ``count(*)`` of the matches (``count="exact"`` with a condition), else None.

    With ``count="estimate"`` the page's own capped count serves (:func:`page_sql`).
    """
    where, params = where_sql(q)
    if not where or q.count != "exact":
        return None
    return f"SELECT count(*) FROM {q.table.ident} {where}", params


def estimate_sql(q: ItemsQuery) -> tuple[str, list[Any]] | None:
    """``EXPLAIN (FORMAT JSON)`` of the match, whose top ``Plan Rows`` is the planner's estimate."""
    where, params = where_sql(q, loose=True)
    if not where or q.count != "estimate":
        return None
    return f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {q.table.ident} {where}", params


def plan_rows(explain: Any) -> int:
    """The estimated row count from an ``EXPLAIN (FORMAT JSON)`` result.

    Examples
    --------
    >>> plan_rows([{"Plan": {"Node Type": "Bitmap Heap Scan", "Plan Rows": 1257000}}])
    1257000
    """
    if isinstance(explain, (str, bytes)):
        explain = json.loads(explain)
    return int(round(float(explain[0]["Plan"]["Plan Rows"])))


def registry_sql(name: str, cols: str = REGISTRY_COLS, schema: str = "atlas"
                 ) -> tuple[str, list[Any]]:
    """The registry row of layer ``name``."""
    return f"SELECT {cols} FROM {quote(schema)}.layers WHERE name = %s", [name]


@dataclass
class ItemsPage:
    """What :func:`read_items` read.

    Attributes
    ----------
    registry : tuple
        The layer's registry row (of the columns asked for).
    table : VersionTable
        The version the page comes from.
    rows : list of tuple or None
        ``(fid, wkb, props…)`` rows (``output="wkb"``).
    features : bytes or None
        The page's Feature objects joined by commas (``output="geojson"``).
    number_matched : int
    estimated : bool
        True when ``number_matched`` is the planner's estimate.
    returned : int
        Features in the page.
    """

    registry: tuple
    table: VersionTable
    rows: list[tuple] | None
    features: bytes | None
    number_matched: int
    estimated: bool
    returned: int = 0

    def feature_collection(self, members: dict | None = None) -> bytes:
        """The page as a GeoJSON FeatureCollection (``output="geojson"``) with ``members``."""
        head = b'{"type":"FeatureCollection","features":[' + (self.features or b"") + b"]"
        if members:
            return head + b"," + json.dumps(members, ensure_ascii=False,
                                            separators=(",", ":"))[1:].encode()
        return head + b"}"


class LayerGone(LookupError):
    """The registry has no layer of that name."""


def read_items(con: Any, name: str, make: Callable[[VersionTable], ItemsQuery],
               guess: VersionTable | None = None, *, registry_cols: str = REGISTRY_COLS,
               to_table: Callable[[tuple], VersionTable] = VersionTable.from_row,
               attempts: int = 3) -> ItemsPage:
    """Registry row, page and count of layer ``name`` in one round trip (usually).

    Parameters
    ----------
    con : psycopg.Connection
        In autocommit mode (the store's pool gives such connections).
    name : str
        Layer name.
    make : callable
        Builds the query for a version table (called again if the version moved).
    guess : VersionTable, optional
        The version this process saw last (from an earlier answer).  Without one,
        the registry is read first (a second round trip).

    Raises
    ------
    LayerGone
        When the layer does not exist.
    """
    import psycopg
    from psycopg import errors as pg_errors

    reg_sql, reg_params = registry_sql(name, registry_cols, guess.schema if guess else "atlas")
    table = guess
    for _ in range(attempts):
        if table is None:
            row = con.execute(reg_sql, reg_params, prepare=False).fetchone()
            if row is None:
                raise LayerGone(name)
            table = to_table(row)
        q = make(table)
        page, page_params = page_sql(q)
        counted = count_sql(q)
        estimated = estimate_sql(q)
        try:
            with con.pipeline():
                con.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", prepare=False)
                # Parallel workers start before a branch's one-time filter is tested: tens
                # of ms for a branch that then reads nothing (page_sql has three).
                con.execute("SET LOCAL max_parallel_workers_per_gather = 0", prepare=False)
                c_reg = con.execute(reg_sql, reg_params, prepare=False)
                c_page = con.cursor(binary=True)
                c_page.execute(page, page_params, prepare=False)
                c_count = con.execute(*counted, prepare=False) if counted else None
                c_est = con.execute(*estimated, prepare=False) if estimated else None
                con.execute("COMMIT", prepare=False)
            row = c_reg.fetchone()
        except pg_errors.UndefinedTable:
            table = None  # dropped (its version deleted): look the layer up again
            _rollback(con, psycopg)
            continue
        if row is None:
            raise LayerGone(name)
        current = to_table(row)
        if current.table != table.table:
            table = current  # the layer moved on meanwhile: read the current version
            continue
        matched, is_estimate = table.feature_count, False
        if q.output == "geojson":
            capped, body, returned = c_page.fetchone()
            rows, features = None, bytes(body) if body else b""
        else:
            rows = c_page.fetchall()
            capped = rows.pop()[-1]  # the count row comes last
            rows = [r[:-1] for r in rows]
            features, returned = None, len(rows)
        if capped is not None:  # a condition: the page statement counted up to exact_limit
            matched = int(capped)
            if matched < 0:
                if c_count is not None:
                    matched = int(c_count.fetchone()[0])
                else:
                    (plan,) = c_est.fetchone()
                    matched, is_estimate = max(plan_rows(plan), q.exact_limit + 1), True
        return ItemsPage(row, current, rows, features, matched, is_estimate, int(returned))
    raise RuntimeError(f"layer {name!r} kept changing while it was read")


def _rollback(con: Any, psycopg: Any) -> None:
    if con.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        con.rollback()


# -- writing and reordering -----------------------------------------------------------------
def cluster_sql(table: VersionTable, order: str = "ST_GeoHash(ST_Envelope(geom), 10)"
                ) -> list[str]:
    """Statements rewriting an existing version table in spatial order (fids unchanged).

    For tables written before rows were ordered at write time (new versions are
    written in :func:`geo.sfc.spatial_order`).  The rows are copied in ``order``
    (a geohash: a Z-order curve, near enough to Hilbert for page locality) into a
    new table that then takes the old one's name and indexes; run them in one
    transaction (an exclusive lock: readers wait).
    """
    t, ident = table.table, table.ident
    tmp = quote(table.schema) + "." + quote(t + "__sorted")
    return [
        f"CREATE TABLE {tmp} (LIKE {ident} INCLUDING ALL)",
        f"INSERT INTO {tmp} SELECT * FROM {ident} ORDER BY {order}",
        f"DROP TABLE {ident}",
        f"ALTER TABLE {tmp} RENAME TO {quote(t)}",
        f"ANALYZE {ident}",
    ]
