"""PostGIS at 100,000 and 10,000,000 points: the atlas beside tipg, items and tiles, A/B.

A throwaway PostgreSQL + PostGIS cluster (:class:`benchmarks.pg_cluster.BenchCluster`:
the tests' cluster with shared buffers, work_mem and JIT set for 10M rows) holds

* the same 100,000 points as the items section (:mod:`benchmarks.data`), written
  through :meth:`layers.postgis.PostGISStore.put` like any saved layer;
* with ``full`` (``make bench-full``), 10,000,000 points written by
  :mod:`benchmarks.pg_load` (binary COPY in Hilbert order, with the tiles' first
  zoom per row; a child process under a memory limit) and registered with the
  100k layer's column map.

Both services read the same tables with the same ids (``fid``): the atlas
(:mod:`benchmarks.serve`, waitress, 4 threads, ``ATLAS_DATABASE_URL``) and tipg
1.6.1 (:mod:`benchmarks.tipg_server`, uvicorn, installed into
``benchmarks/.work/``).  For each layer size:

* **items**, the items section's two queries (small bbox limit 100, large bbox
  limit 1000): ``wrk`` with 8 connections, services alternated A/B/B/A, plus one
  connection alone;
* **tiles**, a fixed sample of tiles z5–z13 over the League
  (:func:`benchmarks.tiles.sample_tiles`), each fetched once from each service
  (computed, nothing cached), alternating;
* **server memory**: each server's resident memory is sampled (VmRSS) while it
  works, with its kernel-recorded peak (VmHWM); a server above the memory cap
  (``ATLAS_BENCH_MEM_CAP_MB``, default 3000) is killed and the run records where
  (today's atlas loads a whole PostGIS layer into memory for its first tile);
* **prototypes** of issue 12's phase 1, run directly with psycopg on the same
  cluster (no HTTP): :func:`layers.pg_sql.read_items` (one round trip, capped
  count with the planner's estimate above it, GeoJSON built in SQL or WKB +
  :mod:`geo.geojson`) against the SQL the store runs today, and
  :func:`layers.pg_tiles.fetch_tile` for the same tiles.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time

import orjson

from geo.geojson import encode_features, feature_collection
from geo.read import read_file
from layers.catalog import PROJECT_CATEGORIES
from layers.postgis import SCHEMA, PostGISStore, _frame
from layers.prepare import prepare_store

from .common import ROOT, WORK, Servers, free_port, get, load, percentile, sequential_latency
from .data import LEAGUE_BBOX, count_in_bbox, write_gpkg
from .items_api import CONNECTIONS, LAYER, N_POINTS, QUERIES, THREADS
from .memory import MemoryWatch, hwm_mb, pss_mb, rss_mb
from .tiles import sample_tiles

N_BIG = 10_000_000
LAYER_BIG = "bench_points_10m"
PROPS = ["name", "category", "investment", "year"]
#: Resident memory (MB) above which a server is killed (today's atlas: whole-layer tiles).
MEM_CAP_MB = float(os.environ.get("ATLAS_BENCH_MEM_CAP_MB", "3000"))
#: R2 sequence constants (Roberts 2018): 1/g and 1/g² for the plastic number g.
_A1, _A2 = 0.7548776662466927, 0.5698402909980532


def big_table_sql(table: str, first: int, last: int) -> str:
    """``INSERT … SELECT`` filling ``atlas."table"`` with deterministic points ``first..last``.

    The reference for :func:`benchmarks.pg_load.r2_points`, which computes the
    same points in NumPy.

    Examples
    --------
    >>> "generate_series(1::bigint, 5)" in big_table_sql("t", 1, 5)
    True
    """
    minx, miny, maxx, maxy = LEAGUE_BBOX
    cats = "ARRAY[" + ", ".join(f"'{c.value}'" for c in PROJECT_CATEGORIES) + "]"
    lon = f"{minx} + {maxx - minx} * (0.5 + i * {_A1} - floor(0.5 + i * {_A1}))"
    lat = f"{miny} + {maxy - miny} * (0.5 + i * {_A2} - floor(0.5 + i * {_A2}))"
    return (
        f'INSERT INTO {SCHEMA}."{table}" (fid, geom, name, category, investment, year)'
        f" SELECT i, ST_SetSRID(ST_MakePoint(round(({lon}) * 1e6) / 1e6,"
        f" round(({lat}) * 1e6) / 1e6), 4326),"
        f" 'site-' || i, ({cats})[1 + (i * 7919) % {len(PROJECT_CATEGORIES)}],"
        f" ((i * 104729) % 2000) / 100.0, 2015 + (i * 31) % 9"
        f" FROM generate_series({first}::bigint, {last}) AS i")


def load_big(url: str, n: int = N_BIG) -> dict:
    """Write the ``n``-point layer with :mod:`benchmarks.pg_load` in a memory-limited child."""
    table = f"{LAYER_BIG}__vbench"
    t0 = time.monotonic()
    done = subprocess.run(
        ["prlimit", f"--as={6 * 1024 ** 3}", sys.executable, "-m", "benchmarks.pg_load", url,
         table, str(n), "--register", LAYER_BIG],
        cwd=ROOT, capture_output=True, text=True, timeout=1800, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"pg_load failed: {done.stderr[-1500:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["total_s"] = round(time.monotonic() - t0, 1)
    out["table"] = table
    return out


# -- the two services --------------------------------------------------------------------------
def _atlas_items(base: str, layer: str, bbox, limit: int) -> str:
    b = ",".join(map(str, bbox))
    return f"{base}/ogcapi/collections/{layer}/items?bbox={b}&limit={limit}&f=json"


def _tipg_items(base: str, table: str, bbox, limit: int) -> str:
    from .tipg_server import items_url

    return items_url(base, table, bbox, limit, properties=PROPS)


def _ab_items(urls: dict[str, str], watches: dict[str, MemoryWatch], seconds: float,
              rounds: int = 2) -> dict:
    """``wrk`` on each service in turn, order alternated each round (A B, B A …)."""
    names = list(urls)
    out: dict = {n: {"runs": []} for n in names}
    for n in names:  # first answer, warm-up, one connection alone
        t0 = time.monotonic()
        status, _, body = get(urls[n], timeout=120)
        out[n]["first_s"] = round(time.monotonic() - t0, 3)
        doc = orjson.loads(body) if status == 200 else {}
        out[n]["status"] = status
        out[n]["returned"] = len(doc.get("features", []))
        out[n]["matched"] = doc.get("numberMatched")
        out[n]["matched_estimated"] = doc.get("numberMatchedEstimated")
        out[n]["bytes"] = len(body)
        if status == 200:
            for _ in range(3 if out[n]["first_s"] < 1 else 0):
                get(urls[n], timeout=120)
            out[n]["latency_1conn"] = sequential_latency(urls[n], n=20, max_seconds=4)
    for r in range(rounds):
        for n in (names if r % 2 == 0 else names[::-1]):
            if out[n]["status"] == 200 and _alive(watches[n]):
                out[n]["runs"].append(load(urls[n], seconds, CONNECTIONS))
    for n in names:
        runs = out[n]["runs"]
        if runs:
            out[n]["rps"] = sum(x["rps"] for x in runs) / len(runs)
            out[n]["p50_ms"] = percentile([x["p50_ms"] for x in runs], 50)
            out[n]["errors"] = sum(x["errors"] for x in runs)
    return out


def _alive(watch: MemoryWatch) -> bool:
    return watch.killed_at_mb is None and rss_mb(watch.pid, group=False) > 0


def _ab_tiles(urls: dict[str, callable], watches: dict[str, MemoryWatch], tiles: list) -> dict:
    """Each tile fetched once from each service (computed: nothing is cached yet), alternating."""
    out: dict = {n: {"ms": [], "sizes": [], "statuses": {}, "by_zoom": {}} for n in urls}
    gz = {"Accept-Encoding": "gzip"}
    for i, (z, x, y) in enumerate(tiles):
        order = list(urls) if i % 2 == 0 else list(urls)[::-1]
        for n in order:
            if not _alive(watches[n]):
                continue
            t = time.perf_counter()
            try:
                status, _, body = get(urls[n](z, x, y), gz, timeout=120)
            except OSError as e:
                out[n]["statuses"][type(e).__name__] = out[n]["statuses"].get(
                    type(e).__name__, 0) + 1
                continue
            ms = (time.perf_counter() - t) * 1000
            out[n]["statuses"][status] = out[n]["statuses"].get(status, 0) + 1
            if status in (200, 204):
                out[n]["ms"].append(ms)
                out[n]["sizes"].append(len(body))
                out[n]["by_zoom"].setdefault(z, []).append(ms)
    for r in out.values():
        if r["ms"]:
            r.update(p50_ms=percentile(r["ms"], 50), p99_ms=percentile(r["ms"], 99),
                     max_kb=max(r["sizes"]) / 1024, n=len(r["ms"]),
                     by_zoom={z: round(percentile(v, 50), 1) for z, v in r["by_zoom"].items()})
        else:
            r["by_zoom"] = {}
    return out


# -- prototypes (psycopg, no HTTP) -------------------------------------------------------------
def _timed(fn, reps: int, max_s: float = 5.0) -> dict:
    ms = []
    stop = time.monotonic() + max_s
    result = None
    for _ in range(reps):
        t = time.perf_counter()
        result = fn()
        ms.append((time.perf_counter() - t) * 1000)
        if time.monotonic() > stop:
            break
    return {"p50_ms": percentile(ms, 50), "n": len(ms), "result": result}


def prototypes(url: str, layer: str, queries: dict, tiles: list, reps: int = 20) -> dict:
    """Today's store SQL against the phase-1 builders, one connection, in-process."""
    import psycopg

    from layers.pg_sql import CONNECTION_SETUP, ItemsQuery, VersionTable, read_items
    from layers.pg_tiles import MINZOOM_COLUMN, TileLayer, fetch_tile

    out: dict = {"items": {}, "tiles": {}}
    with psycopg.connect(url, autocommit=True) as con:
        for s in CONNECTION_SETUP:
            con.execute(s)
        row = con.execute("SELECT name, table_name, feature_count, columns, geometry_type,"
                          " minx, miny, maxx, maxy FROM atlas.layers WHERE name = %s",
                          (layer,)).fetchone()
        vt = VersionTable.from_row(row)
        ident = vt.ident
        cols = "".join(f', "{c[1]}"' for c in vt.columns)
        for qname, (bbox, limit) in queries.items():
            def today(bbox=bbox, limit=limit):
                # What PostGISStore.query runs now: the registry read three times (info,
                # properties, query), the page with ST_Intersects, an exact count.
                for _ in range(3):
                    con.execute("SELECT name, table_name, feature_count, columns FROM"
                                " atlas.layers WHERE name = %s", (layer,)).fetchone()
                env = "ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))"
                with con.cursor(binary=True) as cur:
                    rows = cur.execute(f"SELECT fid, ST_AsBinary(geom, 'NDR'){cols} FROM"
                                       f" {ident} WHERE {env} ORDER BY fid LIMIT %s OFFSET 0",
                                       [*bbox, limit]).fetchall()
                n = con.execute(f"SELECT count(*) FROM {ident} WHERE {env}",
                                list(bbox)).fetchone()[0]
                return feature_collection(encode_features(_frame(rows, vt.columns, vt.feature_count)),
                                          {"numberMatched": n})

            def wkb(bbox=bbox, limit=limit):
                page = read_items(con, layer, lambda t: ItemsQuery(t, bbox=bbox, limit=limit), vt)
                return feature_collection(encode_features(_frame(page.rows, vt.columns,
                                                                 vt.feature_count)),
                                          {"numberMatched": page.number_matched,
                                           "numberMatchedEstimated": page.estimated})

            def geojson(bbox=bbox, limit=limit):
                page = read_items(con, layer, lambda t: ItemsQuery(t, bbox=bbox, limit=limit,
                                                                   output="geojson"), vt)
                return page.feature_collection({"numberMatched": page.number_matched,
                                                "numberMatchedEstimated": page.estimated})

            row_out = {}
            for name, fn in (("today", today), ("pg_sql_wkb", wkb), ("pg_sql_geojson", geojson)):
                fn()  # warm
                r = _timed(fn, reps if name != "today" else max(3, reps // 4), max_s=8)
                doc = orjson.loads(r.pop("result"))
                r.update(returned=len(doc["features"]), matched=doc["numberMatched"],
                         estimated=doc.get("numberMatchedEstimated", False))
                row_out[name] = r
            row_out["plans"] = _plans(con, vt, bbox, limit)
            out["items"][qname] = row_out
        tl = TileLayer(table=vt.table, name=layer, properties={"name": "name",
                                                               "category": "category"},
                       geometry_type=vt.geometry_type, point_count=vt.feature_count,
                       point_bounds=tuple(row[5:9]),
                       minzoom_column=MINZOOM_COLUMN if _has_column(
                           con, vt.table, MINZOOM_COLUMN) else None)
        ms, sizes, by_zoom = [], [], {}
        for z, x, y in tiles:
            t = time.perf_counter()
            body = fetch_tile(con, tl, z, x, y)
            dt = (time.perf_counter() - t) * 1000
            ms.append(dt)
            sizes.append(len(gzip.compress(body, 6)))  # as served (gzip), like the HTTP rows
            by_zoom.setdefault(z, []).append(dt)
        out["tiles"] = {"p50_ms": percentile(ms, 50), "p99_ms": percentile(ms, 99),
                        "max_kb": max(sizes) / 1024, "n": len(ms),
                        "thin_max_zoom": tl.thin_max_zoom,
                        "minzoom_column": tl.minzoom_column is not None,
                        "by_zoom": {z: round(percentile(v, 50), 1) for z, v in by_zoom.items()}}
    return out


def _plans(con, vt, bbox, limit: int) -> dict:
    """What the planner does with the page and the counts (EXPLAIN ANALYZE, buffers)."""
    from layers.pg_sql import ItemsQuery, page_sql, where_sql

    q = ItemsQuery(vt, bbox=bbox, limit=limit)
    env = "ST_MakeEnvelope({}, {}, {}, {}, 4326)".format(*bbox)
    statements = {
        "page_and_capped_count": page_sql(q)[0],
        "count_exact_intersects": f"SELECT count(*) FROM {vt.ident} WHERE"
                                  f" ST_Intersects(geom, {env})",
        "count_exact_points": f"SELECT count(*) FROM {vt.ident} {where_sql(q)[0]}",
    }
    out = {}
    for name, sql in statements.items():
        with con.transaction():  # as read_items runs it: no parallel workers
            con.execute("SET LOCAL max_parallel_workers_per_gather = 0")
            (plan,) = con.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql).fetchone()
        top = plan[0]["Plan"]
        nodes, node = [], top
        while node is not None:
            nodes.append(node["Node Type"] + (f" {node['Index Name']}" if "Index Name" in node
                                              else ""))
            node = (node.get("Plans") or [None])[0]
        out[name] = {"ms": round(plan[0]["Execution Time"], 2), "nodes": nodes,
                     "buffers": top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0),
                     "rows_estimated": top.get("Plan Rows"), "rows": top.get("Actual Rows")}
    return out


def _has_column(con, table: str, column: str) -> bool:
    return con.execute("SELECT 1 FROM information_schema.columns WHERE table_schema = 'atlas'"
                       " AND table_name = %s AND column_name = %s",
                       (table, column)).fetchone() is not None


# -- the section ---------------------------------------------------------------------------------
def run(budget_s: float = 180.0, sections: dict | None = None, full: bool = False) -> dict:
    """Run the PostGIS comparison; ``sections`` holds earlier sections of the same run."""
    from tests.pg import find_pg_bin

    from .pg_cluster import BenchCluster
    from .tipg_server import start_tipg, tile_url

    bindir = find_pg_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL with PostGIS is missing (`make postgis` installs it)")
    seconds = 3.0 if not full else 5.0
    result: dict = {"n_points": N_POINTS, "n_big": N_BIG if full else None, "threads": THREADS,
                    "connections": CONNECTIONS, "seconds_per_run": seconds,
                    "mem_cap_mb": MEM_CAP_MB, "runs": {}, "tiles": {}, "prototypes": {}}
    items = (sections or {}).get("items", {}).get("queries")
    if items:
        result["items_section"] = {q: {"atlas": r["atlas"], "pygeoapi": r.get("pygeoapi")}
                                   for q, r in items.items()}
    tiles = [t for t in sample_tiles() if t[0] in (5, 7, 9, 11, 13)]
    cluster = BenchCluster(bindir)
    try:
        cluster.start()
        url = cluster.create_database(name="atlas_bench")
        t0 = time.monotonic()
        points = read_file(write_gpkg(os.path.join(WORK, f"points-{N_POINTS}.gpkg"), N_POINTS,
                                      LAYER)).gdf
        store = PostGISStore(url)
        prepare_store(store)
        store.put(LAYER, points, meta={"title": "bench points", "source": "benchmarks.data"})
        table_100k = store.info(LAYER).version
        store.close()
        result["load_100k_s"] = round(time.monotonic() - t0, 1)
        result["matched_100k"] = {q: count_in_bbox(points, b) for q, (b, _) in QUERIES.items()}
        sizes = {"100k": (LAYER, table_100k)}
        if full:
            result["big_build"] = load_big(url)
            sizes["10M"] = (LAYER_BIG, result["big_build"]["table"])
        result["cluster_pss_mb_loaded"] = round(pss_mb(cluster.server_pids()), 1)
        with Servers() as servers:
            port = free_port()
            atlas = servers.start([sys.executable, "-m", "benchmarks.serve", "--store", url,
                                   "--port", str(port), "--threads", str(THREADS)],
                                  port, env={"ATLAS_DATABASE_URL": url}, ready_path="/healthz",
                                  limit_as_mb=MEM_CAP_MB * 4)
            tipg = start_tipg(servers, url, [t for _, t in sizes.values()],
                              limit_as_mb=MEM_CAP_MB * 4)
            pids = {"atlas": servers.pid(atlas), "tipg": servers.pid(tipg)}
            result["idle_rss_mb"] = {n: round(rss_mb(p), 1) for n, p in pids.items()}
            with MemoryWatch(pids["atlas"], MEM_CAP_MB) as wa, \
                    MemoryWatch(pids["tipg"], MEM_CAP_MB) as wt:
                watches = {"atlas": wa, "tipg": wt}
                for size, (layer, table) in sizes.items():
                    runs = {}
                    for qname, (bbox, limit) in QUERIES.items():
                        urls = {"atlas": _atlas_items(atlas, layer, bbox, limit),
                                "tipg": _tipg_items(tipg, table, bbox, limit)}
                        runs[qname] = {"bbox": bbox, "limit": limit,
                                       **_ab_items(urls, watches, seconds)}
                    result["runs"][size] = runs
                result["items_peak_rss_mb"] = {n: round(w.peak_mb, 1) for n, w in watches.items()}
                for size, (layer, table) in sizes.items():
                    urls = {"atlas": lambda z, x, y, layer=layer:
                            f"{atlas}/tiles/{layer}/{z}/{x}/{y}.mvt",
                            "tipg": lambda z, x, y, table=table: tile_url(
                                tipg, table, z, x, y, properties=["name", "category"])}
                    for w in watches.values():
                        w.reset()
                    before = {n: w.killed_at_mb for n, w in watches.items()}
                    result["tiles"][size] = _ab_tiles(urls, watches, tiles)
                    result["tiles"][size]["peak_rss_mb"] = {n: round(w.peak_mb, 1)
                                                             for n, w in watches.items()}
                    result["tiles"][size]["killed_at_mb"] = {
                        n: w.killed_at_mb for n, w in watches.items()
                        if w.killed_at_mb is not None and before[n] is None}
                result["killed_at_mb"] = {n: w.killed_at_mb for n, w in watches.items()}
                result["hwm_mb"] = {n: round(hwm_mb(p), 1) for n, p in pids.items()
                                    if watches[n].killed_at_mb is None}
            result["cluster_pss_mb_after"] = round(pss_mb(cluster.server_pids()), 1)
        for size, (layer, _) in sizes.items():
            try:  # a broken prototype must not lose the HTTP figures above
                result["prototypes"][size] = prototypes(url, layer, QUERIES, tiles)
            except Exception as e:  # noqa: BLE001 - recorded in the results instead
                result["prototypes_error"] = f"{type(e).__name__}: {e}"
    finally:
        cluster.stop()
    return result


# -- the table ---------------------------------------------------------------------------------
def _fmt(m: dict) -> str:
    if not m.get("runs"):
        return f"no run (HTTP {m.get('status')})"
    one = m.get("latency_1conn", {})
    lone = f"; 1 conn p50 {one['p50_ms']:.1f} ms" if one.get("n") else ""
    return f"{m['rps']:.1f} req/s, p50 {m['p50_ms']:.1f} ms, {m['errors']} errors{lone}"


def table_rows(res: dict) -> list[dict]:
    """Rows for the summary table."""
    rows = []
    for size, runs in res.get("runs", {}).items():
        for qname, row in runs.items():
            a, t = row["atlas"], row["tipg"]
            ratio = (f"{a['rps'] / max(t['rps'], 1e-9):.2g}× tipg" if a.get("rps")
                     and t.get("rps") else "–")
            matched = f"{a.get('matched'):,}" if isinstance(a.get("matched"), int) else "?"
            rows.append({
                "comparison": f"items {qname} on PostGIS ({size}) (limit {row['limit']}, "
                              f"{a.get('returned')} returned, {matched} matched)",
                "atlas": _fmt(a), "other": "tipg 1.6.1: " + _fmt(t), "ratio": ratio,
                "target": "≥ 2× tipg (10M)" if size == "10M" else "", "met": (
                    a.get("rps", 0) >= 2 * t.get("rps", 1e9)) if size == "10M" else None})
    for size, tl in res.get("tiles", {}).items():
        a, t = tl["atlas"], tl["tipg"]

        def fmt(m: dict, name: str, tl: dict = tl) -> str:
            killed = tl.get("killed_at_mb", {}).get(name)
            if not m.get("n"):
                return (f"killed at {killed:.0f} MB" if killed else "no tile") + \
                    f" ({m['statuses']})"
            return (f"p50 {m['p50_ms']:.0f} ms, p99 {m['p99_ms']:.0f} ms, ≤ {m['max_kb']:.0f} KB"
                    f" ({m['n']} tiles; peak RSS {tl['peak_rss_mb'][name]:.0f} MB)"
                    + (f"; killed at {killed:.0f} MB" if killed else ""))

        rows.append({"comparison": f"tiles z5–13 on PostGIS ({size})", "atlas": fmt(a, "atlas"),
                     "other": "tipg 1.6.1: " + fmt(t, "tipg"),
                     "ratio": (f"{t['p50_ms'] / max(a['p50_ms'], 1e-9):.2g}× faster (p50)"
                               if a.get("n") and t.get("n") else "–"),
                     "target": "p50 ≤ 50 ms, ≤ 100 KB (10M)" if size == "10M" else "",
                     "met": None})
    for size, p in res.get("prototypes", {}).items():
        for qname, r in p["items"].items():
            today, wkb, gj = r["today"], r["pg_sql_wkb"], r["pg_sql_geojson"]
            est = " (estimated)" if gj["estimated"] else ""
            rows.append({
                "comparison": f"prototype items {qname} ({size}), psycopg, 1 connection",
                "atlas": f"pg_sql GeoJSON-in-SQL p50 {gj['p50_ms']:.1f} ms; WKB+geo.geojson "
                         f"{wkb['p50_ms']:.1f} ms; matched {gj['matched']:,}{est}",
                "other": f"today's store SQL + encode: p50 {today['p50_ms']:.1f} ms "
                         f"(exact {today['matched']:,})",
                "ratio": f"{today['p50_ms'] / max(gj['p50_ms'], 1e-9):.2g}× faster",
                "target": "", "met": None})
        tp = p["tiles"]
        rows.append({"comparison": f"prototype SQL tiles ({size}), psycopg",
                     "atlas": f"p50 {tp['p50_ms']:.1f} ms, p99 {tp['p99_ms']:.1f} ms, "
                              f"≤ {tp['max_kb']:.0f} KB ({tp['n']} tiles, thinned to "
                              f"z{tp['thin_max_zoom']})", "other": "", "ratio": "",
                     "target": "", "met": None})
    if res.get("big_build"):
        b = res["big_build"]
        rows.append({"comparison": "10M points written (binary COPY, Hilbert order, first zoom)",
                     "atlas": f"{b['total_s']} s (order+minzoom {b['order_and_minzoom_s']} s, "
                              f"COPY {b['copy_s']} s, indexes {b['index_s']} s)",
                     "other": "", "ratio": "", "target": "", "met": None})
    return rows
