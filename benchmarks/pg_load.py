"""Millions of points into PostGIS fast: binary COPY in Hilbert order, with the tiles' first zoom.

The points are those of ``benchmarks.postgis_api.big_table_sql`` (a low-discrepancy
R2 sequence of the row number over the League, same properties), computed in
NumPy with the same float operations, so the layer is identical to the SQL-made
one row for row.  The rows are written

* in Hilbert order (:func:`geo.sfc.spatial_order`) so a small bbox reads a few
  pages, while each row keeps its fid (the row number, unrelated to place, like
  an upload's);
* with :data:`layers.pg_tiles.MINZOOM_COLUMN`, the first zoom of each point under
  the tiles' whole-layer thinning (partial GiST indexes on it serve low-zoom
  tiles, :func:`layers.pg_tiles.minzoom_indexes_sql`);
* through :mod:`layers.pg_copy` (binary ``COPY`` built with NumPy), in chunks;

then indexed (primary key and GiST at once, one connection each), analysed and
registered in ``atlas.layers`` with the given column map.

Run it in a child process under a memory limit (10M points take about 1.5 GB for
the ordering and the first zooms): ``python -m benchmarks.pg_load URL TABLE N``.
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from geo.sfc import hilbert_keys
from layers.catalog import PROJECT_CATEGORIES
from layers.pg_copy import HEADER, TRAILER, Column, encode_rows
from layers.pg_tiles import MINZOOM_COLUMN, TileLayer, minzoom_indexes_sql, minzoom_values

from .data import LEAGUE_BBOX

#: R2 sequence constants (as benchmarks.postgis_api).
_A1, _A2 = 0.7548776662466927, 0.5698402909980532
COLUMNS = [["name", "name", "TEXT", 0], ["category", "category", "TEXT", 0],
           ["investment", "investment", "REAL", 0], ["year", "year", "INTEGER", 0]]


def r2_points(first: int, last: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(fid, lon, lat)`` of rows ``first..last``: the SQL generator's arithmetic in NumPy.

    Examples
    --------
    >>> fid, lon, lat = r2_points(1, 3)
    >>> fid.tolist(), bool((lon > 111).all() and (lat < 46.8).all())
    ([1, 2, 3], True)
    """
    minx, miny, maxx, maxy = LEAGUE_BBOX
    i = np.arange(first, last + 1, dtype="int64")
    f = i.astype("float64")
    a = 0.5 + f * _A1
    b = 0.5 + f * _A2
    lon = minx + (maxx - minx) * (a - np.floor(a))
    lat = miny + (maxy - miny) * (b - np.floor(b))
    return i, np.rint(lon * 1e6) / 1e6, np.rint(lat * 1e6) / 1e6


def properties(fid: np.ndarray) -> list[Column]:
    """The rows' name, category, investment and year (as the SQL generator)."""
    cats = np.array([c.value for c in PROJECT_CATEGORIES], dtype=object)
    return [
        Column.text([f"site-{i}" for i in fid.tolist()]),
        Column.text(cats[(fid * 7919) % len(cats)].tolist()),
        Column.float8(((fid * 104729) % 2000) / 100.0),
        Column.int8(2015 + (fid * 31) % 9),
    ]


def load(url: str, table: str, n: int, register: str | None = None, chunk: int = 100_000,
         schema: str = "atlas") -> dict:
    """Create ``schema.table`` with ``n`` points and its indexes; returns timings (s)."""
    import psycopg

    timings: dict = {"n": n}
    t0 = time.monotonic()
    fid, lon, lat = r2_points(1, n)
    order = np.argsort(hilbert_keys(lon, lat, LEAGUE_BBOX), kind="stable")
    minzoom = minzoom_values(lon, lat, fid)
    timings["order_and_minzoom_s"] = round(time.monotonic() - t0, 1)
    ident = f'{schema}."{table}"'
    t0 = time.monotonic()
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f"DROP TABLE IF EXISTS {ident}")
        con.execute(f"CREATE TABLE {ident} (fid bigint, geom geometry(Geometry, 4326),"
                    ' "name" text, "category" text, "investment" double precision,'
                    f' "year" bigint, {MINZOOM_COLUMN} smallint)')
        with con.cursor().copy(f"COPY {ident} FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(HEADER)
            for start in range(0, n, chunk):
                rows = order[start:start + chunk]
                f = fid[rows]
                copy.write(encode_rows([Column.int8(f), Column.points(lon[rows], lat[rows]),
                                        *properties(f), Column.int2(minzoom[rows])]))
            copy.write(TRAILER)
        timings["copy_s"] = round(time.monotonic() - t0, 1)
        per_zoom = np.bincount(minzoom).tolist()
        del fid, lon, lat, order, minzoom
        t0 = time.monotonic()

        def one(statement: str) -> None:
            with psycopg.connect(url, autocommit=True) as c:
                c.execute("SET maintenance_work_mem = '256MB'")
                c.execute(statement)

        # Indexes after the rows (one sorted build each), two at a time on the two cores.
        tiles = TileLayer(table, "", {}, "POINT", n, None, MINZOOM_COLUMN, schema=schema)
        with ThreadPoolExecutor(2) as pool:
            for fut in [pool.submit(one, st) for st in (
                    f'CREATE UNIQUE INDEX "{table}_pkey" ON {ident} (fid)',
                    f'CREATE INDEX "{table}_geom" ON {ident} USING gist (geom)',
                    *minzoom_indexes_sql(tiles, per_zoom))]:
                fut.result()
        con.execute(f'ALTER TABLE {ident} ADD PRIMARY KEY USING INDEX "{table}_pkey"')
        timings["index_s"] = round(time.monotonic() - t0, 1)
        t0 = time.monotonic()
        con.execute(f"VACUUM (ANALYZE) {ident}")  # visibility map too: index-only scans
        if register:
            bounds = con.execute(f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM"
                                 f" (SELECT ST_Extent(geom) AS e FROM {ident}) s").fetchone()
            con.execute(f"DELETE FROM {schema}.layers WHERE name = %s", (register,))
            con.execute(
                f"INSERT INTO {schema}.layers (name, table_name, feature_count, minx, miny, maxx,"
                " maxy, updated, meta, columns, geometry_type) VALUES (%s, %s, %s, %s, %s, %s,"
                " %s, clock_timestamp(), %s::json, %s::jsonb, 'POINT')",
                (register, table, n, *bounds,
                 json.dumps({"title": f"bench points ({n:,})", "source": "benchmarks.pg_load"}),
                 json.dumps(COLUMNS)))
            # Stores with numbered versions (migration 0002) list every version too.
            if con.execute(f"SELECT to_regclass('{schema}.versions')").fetchone()[0]:
                con.execute(f"DELETE FROM {schema}.versions WHERE name = %s", (register,))
                con.execute(
                    f"INSERT INTO {schema}.versions (name, version, table_name, feature_count,"
                    " minx, miny, maxx, maxy, meta, columns, geometry_type) VALUES (%s, 1, %s,"
                    " %s, %s, %s, %s, %s, %s::json, %s::jsonb, 'POINT')",
                    (register, table, n, *bounds, json.dumps({"title": f"bench points ({n:,})"}),
                     json.dumps(COLUMNS)))
        timings["analyze_register_s"] = round(time.monotonic() - t0, 1)
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("table")
    parser.add_argument("n", type=int)
    parser.add_argument("--register", help="layer name to register the table under")
    args = parser.parse_args(argv)
    print(json.dumps(load(args.url, args.table, args.n, args.register)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
