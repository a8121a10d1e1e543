"""Items API on the PostGIS backend: 100,000 and 10,000,000 points, beside GeoPackage and pygeoapi.

A throwaway PostgreSQL + PostGIS cluster (:class:`tests.pg.PgCluster`: Debian's
``initdb``/``pg_ctl`` on a loopback port, removed at the end) holds

* the same 100,000 points as the items section (:mod:`benchmarks.data`), written
  through :meth:`layers.postgis.PostGISStore.put` like any saved layer;
* 10,000,000 points made in SQL (``generate_series`` and a low-discrepancy R2
  sequence of the row number spread over the League's bbox, so the same every
  run), in a version table laid out exactly as ``put`` lays it out (``fid``
  primary key, GiST index, ``ANALYZE``) and registered in ``atlas.layers`` with the
  100k layer's column map.  ``put`` streams rows through Python and would take
  minutes for 10M.

The atlas is served by :mod:`benchmarks.serve` (waitress, 4 threads, 127.0.0.1)
with ``ATLAS_DATABASE_URL`` pointing at the database, and loaded by ``wrk`` with
the items section's two queries (same bbox, limit 100 / 1000, 8 connections).
The ratios use the GeoPackage and pygeoapi figures of the items section of the
same run when it ran first (``python -m benchmarks.run --only items,postgis``).
"""

from __future__ import annotations

import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import orjson

from geo.read import read_file
from layers.catalog import PROJECT_CATEGORIES
from layers.postgis import SCHEMA, PostGISStore
from layers.prepare import prepare_store

from .common import WORK, Servers, free_port, get, load, sequential_latency
from .data import LEAGUE_BBOX, count_in_bbox, write_gpkg
from .items_api import CONNECTIONS, LAYER, N_POINTS, QUERIES, THREADS

N_BIG = 10_000_000
LAYER_BIG = "bench_points_10m"
#: R2 sequence constants (Roberts 2018): 1/g and 1/g² for the plastic number g.
_A1, _A2 = 0.7548776662466927, 0.5698402909980532


def big_table_sql(table: str, first: int, last: int) -> str:
    """``INSERT … SELECT`` filling ``atlas."table"`` with deterministic points ``first..last``.

    Examples
    --------
    >>> "generate_series(1::bigint, 5)" in big_table_sql("t", 1, 5)
    True
    """
    minx, miny, maxx, maxy = LEAGUE_BBOX
    cats = "ARRAY[" + ", ".join(f"'{c.value}'" for c in PROJECT_CATEGORIES) + "]"
    # Fractional parts of i·α: evenly spread, no RNG state, identical on every run;
    # float arithmetic only (numeric rounding doubles the time).
    lon = f"{minx} + {maxx - minx} * (0.5 + i * {_A1} - floor(0.5 + i * {_A1}))"
    lat = f"{miny} + {maxy - miny} * (0.5 + i * {_A2} - floor(0.5 + i * {_A2}))"
    return (
        f'INSERT INTO {SCHEMA}."{table}" (fid, geom, name, category, investment, year)'
        f" SELECT i, ST_SetSRID(ST_MakePoint(round(({lon}) * 1e6) / 1e6,"
        f" round(({lat}) * 1e6) / 1e6), 4326),"
        f" 'site-' || i, ({cats})[1 + (i * 7919) % {len(PROJECT_CATEGORIES)}],"
        f" ((i * 104729) % 2000) / 100.0, 2015 + (i * 31) % 9"
        f" FROM generate_series({first}::bigint, {last}) AS i")


def _parallel(url: str, statements: list[str]) -> None:
    """Run ``statements`` at once, one connection each (the machine has 2 cores)."""
    import psycopg

    def one(statement: str) -> None:
        with psycopg.connect(url, autocommit=True) as con:
            con.execute("SET maintenance_work_mem = '512MB'")
            con.execute(statement)

    with ThreadPoolExecutor(len(statements)) as pool:
        for f in [pool.submit(one, st) for st in statements]:
            f.result()


def make_big_layer(url: str, n: int = N_BIG) -> dict:
    """Create and register the ``n``-point layer in SQL; returns timings (s).

    Uses the column map ``put`` wrote for the 100k layer, so both layers have the
    same properties and types.
    """
    import psycopg

    timings: dict = {}
    table = f"{LAYER_BIG}__vbench"
    with psycopg.connect(url, autocommit=True) as con:
        (columns,) = con.execute(f"SELECT columns FROM {SCHEMA}.layers WHERE name = %s",
                                 (LAYER,)).fetchone()
        names = [c[1] for c in columns]
        if names != ["name", "category", "investment", "year"]:
            raise RuntimeError(f"unexpected columns of {LAYER}: {names}")
        types = {"INTEGER": "bigint", "REAL": "double precision", "TEXT": "text"}
        ddl = "".join(f', "{c[1]}" {types[c[2]]}' for c in columns)
        t0 = time.monotonic()
        con.execute(f'CREATE TABLE {SCHEMA}."{table}" (fid bigint, '
                    f"geom geometry(Geometry, 4326){ddl})")
        half = n // 2
        _parallel(url, [big_table_sql(table, 1, half), big_table_sql(table, half + 1, n)])
        timings["insert_s"] = round(time.monotonic() - t0, 1)
        t0 = time.monotonic()
        # Indexes after the rows (one sorted build each, not 10M insertions), both at
        # once: CREATE INDEX locks allow each other; the key then adopts its index.
        _parallel(url, [
            f'CREATE UNIQUE INDEX "{table}_pkey" ON {SCHEMA}."{table}" (fid)',
            f'CREATE INDEX "{table}_geom" ON {SCHEMA}."{table}" USING gist (geom)'])
        con.execute(f'ALTER TABLE {SCHEMA}."{table}" ADD PRIMARY KEY USING INDEX "{table}_pkey"')
        timings["index_s"] = round(time.monotonic() - t0, 1)
        t0 = time.monotonic()
        con.execute(f'ANALYZE {SCHEMA}."{table}"')
        bounds = con.execute(f'SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM'
                             f' (SELECT ST_Extent(geom) AS e FROM {SCHEMA}."{table}") s'
                             ).fetchone()
        big_columns = [[c[0], c[1], c[2], 0] for c in columns]
        con.execute(
            f"INSERT INTO {SCHEMA}.layers (name, table_name, feature_count, minx, miny, maxx,"
            " maxy, updated, meta, columns, geometry_type) VALUES (%s, %s, %s, %s, %s, %s, %s,"
            " clock_timestamp(), %s::json, %s::jsonb, 'POINT')",
            (LAYER_BIG, table, n, *bounds,
             json.dumps({"title": "bench points (10M)", "source": "benchmarks.postgis_api"}),
             json.dumps(big_columns)))
        timings["analyze_register_s"] = round(time.monotonic() - t0, 1)
    return timings


def _count(body: bytes) -> int:
    return len(orjson.loads(body).get("features", []))


def _measure(base: str, layer: str, seconds: float) -> dict:
    out = {}
    for qname, (bbox, limit) in QUERIES.items():
        b = ",".join(map(str, bbox))
        url = f"{base}/ogcapi/collections/{layer}/items?bbox={b}&limit={limit}&f=json"
        t0 = time.monotonic()
        status, _, body = get(url)
        first_s = time.monotonic() - t0
        doc = orjson.loads(body) if status == 200 else {}
        row: dict = {"bbox": bbox, "limit": limit,
                     "returned": len(doc.get("features", [])) if status == 200
                     else f"HTTP {status}",
                     "matched": doc.get("numberMatched")}
        for _ in range(3 if first_s < 1 else 0):  # warm: connections, plans, page cache
            get(url)
        # A lone request first: under 8 connections the 10M large query may not finish.
        row["latency_1conn"] = sequential_latency(url, n=20, max_seconds=4)
        row["atlas"] = load(url, seconds, CONNECTIONS)
        out[qname] = row
    return out


def run(budget_s: float = 180.0, sections: dict | None = None) -> dict:
    """Run the PostGIS comparison; ``sections`` holds earlier sections of the same run."""
    from tests.pg import PgCluster, find_pg_bin

    started = time.monotonic()
    bindir = find_pg_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL with PostGIS is missing (`make postgis` installs it)")
    seconds = max(3.0, min(5.0, (budget_s - 120) / 8))  # 4 runs; shorter than items
    result: dict = {"n_points": N_POINTS, "n_big": N_BIG, "threads": THREADS,
                    "connections": CONNECTIONS, "seconds_per_run": seconds, "runs": {}}
    items = (sections or {}).get("items", {}).get("queries")
    if items:
        result["items_section"] = {q: {"atlas": r["atlas"], "pygeoapi": r.get("pygeoapi")}
                                   for q, r in items.items()}
    cluster = PgCluster(bindir)
    try:
        cluster.start()
        url = cluster.create_database(name="atlas_bench")
        t0 = time.monotonic()
        points = read_file(write_gpkg(os.path.join(WORK, f"points-{N_POINTS}.gpkg"), N_POINTS,
                                      LAYER)).gdf
        store = PostGISStore(url)
        prepare_store(store)  # as the items section's store (and the app would do it anyway)
        store.put(LAYER, points, meta={"title": "bench points", "source": "benchmarks.data"})
        store.close()
        result["load_100k_s"] = round(time.monotonic() - t0, 1)
        result["matched_100k"] = {q: count_in_bbox(points, b) for q, (b, _) in QUERIES.items()}
        with Servers() as servers:
            port = free_port()
            base = servers.start([sys.executable, "-m", "benchmarks.serve", "--store", url,
                                  "--port", str(port), "--threads", str(THREADS)],
                                 port, env={"ATLAS_DATABASE_URL": url}, ready_path="/healthz")
            result["runs"]["100k"] = _measure(base, LAYER, seconds)
            # 10M: generation + 2 runs must fit in what is left (~90 s on 2 idle cores).
            left = budget_s - (time.monotonic() - started)
            if left < 100:  # build ~60-90 s on 2 idle cores, then ~30 s of queries
                result["big_skipped"] = f"time budget spent ({left:.0f} s left)"
            else:
                t0 = time.monotonic()
                result["big_build"] = make_big_layer(url)
                result["big_build"]["total_s"] = round(time.monotonic() - t0, 1)
                result["runs"]["10M"] = _measure(base, LAYER_BIG, seconds)
    finally:
        cluster.stop()
    return result


def _fmt(m: dict, lone: dict) -> str:
    one = f"; 1 connection: p50 {lone['p50_ms']:.1f} ms" if lone.get("n") else ""
    if not m["requests"]:
        return f"no request finished in {m['tool']} (10 s timeout){one}"
    return (f"{m['rps']:.1f} req/s, p50 {m['p50_ms']:.1f} ms, p99 {m['p99_ms']:.1f} ms, "
            f"{m['errors']} errors{one}")


def table_rows(res: dict) -> list[dict]:
    """Rows for the summary table."""
    rows = []
    items = res.get("items_section") or {}
    for size, runs in res.get("runs", {}).items():
        for qname, row in runs.items():
            a = row["atlas"]
            ref = items.get(qname) or {}
            g, p = ref.get("atlas"), ref.get("pygeoapi")
            other = [f"GeoPackage backend (100k): {g['rps']:.0f} req/s" if g else
                     "GeoPackage backend: items section not in this run"]
            done = a["requests"] > 0
            ratios = [f"{a['rps'] / max(g['rps'], 1e-9):.2g}× GeoPackage" if g and done else "–"]
            if p:
                other.append(f"pygeoapi (100k): {p['rps']:.1f} req/s")
                if done:
                    ratios.append(f"{a['rps'] / max(p['rps'], 1e-9):.2g}× pygeoapi")
            matched = f", {row['matched']:,} matched" if isinstance(row["matched"], int) else ""
            note = ""
            if size == "10M":
                b = res.get("big_build", {})
                note = f"; layer built in SQL in {b.get('total_s', '?')} s"
            rows.append({
                "comparison": f"items {qname} on PostGIS ({size}) (limit {row['limit']}, "
                              f"{row['returned']} returned{matched})",
                "atlas": _fmt(a, row.get("latency_1conn", {})) + note, "other": "; ".join(other),
                "ratio": ", ".join(ratios), "target": "", "met": None})
    if res.get("big_skipped"):
        rows.append({"comparison": "items on PostGIS (10M)",
                     "atlas": f"skipped: {res['big_skipped']}", "met": None})
    return rows
