"""Items queries built by layers/pg_sql.py, run on a real PostGIS, against NumPy and geo.geojson.

Tables are laid out as ``layers/postgis.py`` writes a version and registered in
``atlas.layers``; the expected pages are computed independently from the same
features with NumPy/pandas (inclusive bbox edges, fid order) and
:func:`geo.geojson.encode_features`.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import pytest
import shapely

from geo.geojson import encode_features
from geo.sfc import spatial_order
from layers.pg_copy import HEADER, TRAILER, Column, encode_rows
from layers.pg_sql import (
    CONNECTION_SETUP,
    ItemsQuery,
    LayerGone,
    VersionTable,
    cluster_sql,
    read_items,
)

psycopg = pytest.importorskip("psycopg")

COLUMNS = [["name", "name", "TEXT", 0], ["名称", "c1_x", "TEXT", 0],
           ["n", "n", "INTEGER", 0], ["v", "v", "REAL", 0], ["ok", "ok", "BOOLEAN", 0]]


def frame(n: int, seed: int = 3) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    lon = np.round(rng.uniform(115.5, 117.5, n), 6)
    lat = np.round(rng.uniform(43.5, 44.5, n), 6)
    names = [f'site "{i}"\n' if i % 50 else None for i in range(n)]
    return gpd.GeoDataFrame({
        "name": names,
        "名称": [f"站{i}" for i in range(n)],
        "n": pd.array(np.where(np.arange(n) % 9 == 0, None, np.arange(n) * 7), dtype="Int64"),
        "v": np.where(np.arange(n) % 11 == 0, np.nan, rng.normal(size=n)),
        "ok": pd.array(np.where(np.arange(n) % 13 == 0, None, np.arange(n) % 2 == 0),
                       dtype="boolean"),
    }, geometry=shapely.points(lon, lat), crs=4326,
        index=pd.Index(np.arange(1, n + 1), name="fid"))


def write(con, table: str, gdf: gpd.GeoDataFrame, order: np.ndarray | None = None,
          register: str | None = None) -> VersionTable:
    """Write ``gdf`` (rows in ``order``; fids kept) as a version table, optionally registered."""
    order = np.arange(len(gdf)) if order is None else order
    g = gdf.iloc[order]
    con.execute(f'CREATE TABLE atlas."{table}" (fid bigint PRIMARY KEY, geom geometry(Geometry,'
                ' 4326), name text, c1_x text, n bigint, v double precision, ok boolean)')
    cols = [Column.int8(g.index.to_numpy()), Column.points(g.geometry.x.to_numpy(),
                                                           g.geometry.y.to_numpy()),
            Column.text([None if pd.isna(v) else v for v in g["name"]]),
            Column.text(g["名称"].tolist()),
            Column.int8(g["n"].fillna(0).to_numpy(), null=g["n"].isna().to_numpy()),
            Column.float8(g["v"].to_numpy(), null=g["v"].isna().to_numpy()),
            Column.boolean(g["ok"].fillna(False).to_numpy(), null=g["ok"].isna().to_numpy())]
    with con.cursor().copy(f'COPY atlas."{table}" FROM STDIN (FORMAT BINARY)') as copy:
        copy.write(HEADER + encode_rows(cols) + TRAILER)
    con.execute(f'CREATE INDEX ON atlas."{table}" USING gist (geom)')
    con.execute(f'ANALYZE atlas."{table}"')
    vt = VersionTable(register or table, table, COLUMNS, "POINT", len(gdf))
    if register:
        con.execute("INSERT INTO atlas.layers (name, table_name, feature_count, columns,"
                    " geometry_type) VALUES (%s, %s, %s, %s::jsonb, 'POINT')"
                    " ON CONFLICT (name) DO UPDATE SET table_name = excluded.table_name,"
                    " feature_count = excluded.feature_count",
                    (register, table, len(gdf), json.dumps(COLUMNS)))
    return vt


def expected_fids(gdf, bbox) -> np.ndarray:
    minx, miny, maxx, maxy = bbox
    x, y = gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()
    if minx > maxx:
        inx = (x >= minx) | (x <= maxx)
    else:
        inx = (x >= minx) & (x <= maxx)
    return gdf.index.to_numpy()[inx & (y >= miny) & (y <= maxy)]


@pytest.fixture(scope="module")
def db(pg_cluster):
    url = pg_cluster.create_database()
    con = psycopg.connect(url, autocommit=True)
    gdf = frame(20_000)
    table = write(con, "sites__v1", gdf, register="sites")
    yield con, gdf, table
    con.close()
    pg_cluster.drop_database(url)


@pytest.mark.parametrize("bbox", [(116.0, 44.0, 116.2, 44.2), (115.0, 43.0, 118.0, 45.0),
                                  (116.5, 43.9, 116.5001, 43.9001)])
@pytest.mark.parametrize("limit,offset", [(10, 0), (1000, 0), (100, 250)])
def test_pages_equal_numpy(db, bbox, limit, offset):
    con, gdf, table = db
    want = expected_fids(gdf, bbox)
    page = read_items(con, "sites", lambda t: ItemsQuery(t, bbox=bbox, limit=limit,
                                                         offset=offset, exact_limit=50_000),
                      table)
    assert [r[0] for r in page.rows] == want[offset:offset + limit].tolist()
    assert page.number_matched == len(want) and not page.estimated
    for r in page.rows[:20]:
        row = gdf.loc[r[0]]
        assert shapely.from_wkb(r[1]).equals(row.geometry)
        assert r[2] == (None if pd.isna(row["name"]) else row["name"]) and r[3] == row["名称"]


def test_points_on_and_just_outside_the_bbox_edges(pg_cluster):
    """``&&`` alone would take a point 1e-7° outside (float4 boxes); the page must not."""
    url = pg_cluster.create_database()
    try:
        with psycopg.connect(url, autocommit=True) as con:
            lon = np.array([116.2, 116.2000001, 116.0, 115.9999999, 116.1, 116.1])
            lat = np.array([44.1, 44.1, 44.1, 44.1, 44.2, 44.2000001])
            gdf = frame(6)
            gdf = gdf.set_geometry(shapely.points(lon, lat))
            table = write(con, "edge__v1", gdf, register="edge")
            bbox = (116.0, 44.0, 116.2, 44.2)
            page = read_items(con, "edge", lambda t: ItemsQuery(t, bbox=bbox, limit=10), table)
            assert [r[0] for r in page.rows] == expected_fids(gdf, bbox).tolist() == [1, 3, 5]
            (loose,) = con.execute(
                "SELECT count(*) FROM atlas.\"edge__v1\" WHERE geom &&"
                " ST_MakeEnvelope(116.0, 44.0, 116.2, 44.2, 4326)").fetchone()
            assert loose > 3  # what the exact test guards against
    finally:
        pg_cluster.drop_database(url)


def test_counts_exact_below_the_limit_and_flagged_estimates_above(db):
    con, gdf, table = db
    small, large = (116.0, 44.0, 116.2, 44.2), (115.0, 43.0, 118.0, 45.0)
    n_small, n_large = len(expected_fids(gdf, small)), len(expected_fids(gdf, large))
    assert n_small < 1000 < n_large

    def ask(bbox, **kw):
        return read_items(con, "sites", lambda t: ItemsQuery(t, bbox=bbox, limit=5, **kw),
                          table)

    below = ask(small, exact_limit=1000)
    assert (below.number_matched, below.estimated) == (n_small, False)
    above = ask(large, exact_limit=1000)
    assert above.estimated and above.number_matched > 1000
    assert abs(above.number_matched - n_large) < 0.2 * n_large  # the planner's estimate
    exact = ask(large, count="exact")
    assert (exact.number_matched, exact.estimated) == (n_large, False)
    whole = read_items(con, "sites", lambda t: ItemsQuery(t, limit=5), table)
    assert (whole.number_matched, whole.estimated) == (len(gdf), False)  # from the registry


def test_antimeridian_bbox(pg_cluster):
    url = pg_cluster.create_database()
    try:
        with psycopg.connect(url, autocommit=True) as con:
            gdf = frame(8)
            gdf = gdf.set_geometry(shapely.points([179.5, -179.5, 170, -170, 0, 179.9, -179.9,
                                                   175], [0, 0, 0, 0, 0, 5, -5, 20]))
            table = write(con, "am__v1", gdf, register="am")
            bbox = (175.0, -10.0, -175.0, 10.0)
            page = read_items(con, "am", lambda t: ItemsQuery(t, bbox=bbox, limit=10), table)
            assert [r[0] for r in page.rows] == expected_fids(gdf, bbox).tolist() == [1, 2, 6, 7]
    finally:
        pg_cluster.drop_database(url)


def test_geojson_built_in_sql_equals_geo_geojson(db):
    con, gdf, table = db
    bbox = (116.0, 44.0, 116.4, 44.3)
    page = read_items(con, "sites", lambda t: ItemsQuery(t, bbox=bbox, limit=300,
                                                         output="geojson"), table)
    got = orjson.loads(page.feature_collection({"numberMatched": page.number_matched}))
    fids = expected_fids(gdf, bbox)[:300]
    want = [orjson.loads(b) for b in encode_features(gdf.loc[fids], precision=6)]
    assert got["numberMatched"] == len(expected_fids(gdf, bbox))
    assert len(got["features"]) == len(want) == 300
    for a, b in zip(got["features"], want, strict=True):
        assert a["id"] == b["id"] and a["type"] == b["type"] == "Feature"
        assert a["geometry"]["type"] == b["geometry"]["type"]
        assert np.allclose(a["geometry"]["coordinates"], b["geometry"]["coordinates"],
                           rtol=0, atol=1e-9)
        assert list(a["properties"]) == list(b["properties"])  # same keys, same order
        for k, v in b["properties"].items():
            w = a["properties"][k]
            if isinstance(v, float):
                assert w == pytest.approx(v, rel=1e-15)
            else:
                assert w == v


def test_a_moved_or_dropped_version_is_read_again_from_the_registry(pg_cluster):
    url = pg_cluster.create_database()
    try:
        with psycopg.connect(url, autocommit=True) as con:
            old = write(con, "mv__v1", frame(50, seed=1), register="mv")
            new_gdf = frame(60, seed=2)
            new = write(con, "mv__v2", new_gdf, register="mv")  # the registry moves to v2
            page = read_items(con, "mv", lambda t: ItemsQuery(t, limit=100), old)
            assert page.table.table == "mv__v2" and len(page.rows) == 60
            assert page.number_matched == 60
            con.execute('DROP TABLE atlas."mv__v1"')
            page = read_items(con, "mv", lambda t: ItemsQuery(t, limit=3), old)
            assert [r[0] for r in page.rows] == [1, 2, 3] and page.table == new
            with pytest.raises(LayerGone):
                read_items(con, "nope", lambda t: ItemsQuery(t, limit=3))
    finally:
        pg_cluster.drop_database(url)


def test_no_statement_is_prepared_so_no_generic_plan(db):
    """Many identical bbox queries on one connection: nothing server-side prepared."""
    con, _, table = db
    for s in CONNECTION_SETUP:
        con.execute(s)
    assert con.execute("SHOW plan_cache_mode").fetchone()[0] == "force_custom_plan"
    for _ in range(12):  # psycopg prepares after 5 executions of the same text by default
        read_items(con, "sites", lambda t: ItemsQuery(t, bbox=(116.0, 44.0, 116.2, 44.2),
                                                      limit=10), table)
    assert con.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()[0] == 0


def _pages(con, table: str, bbox) -> int:
    """Distinct heap pages holding the rows in ``bbox`` (from their ctids)."""
    (pages,) = con.execute(
        f"SELECT count(DISTINCT (ctid::text::point)[0]) FROM atlas.\"{table}\""
        f" WHERE geom && ST_MakeEnvelope({', '.join(map(str, bbox))}, 4326)").fetchone()
    return int(pages)


def test_rows_in_spatial_order_put_a_small_bbox_on_few_pages(pg_cluster):
    url = pg_cluster.create_database()
    try:
        with psycopg.connect(url, autocommit=True) as con:
            gdf = frame(50_000, seed=9)
            by_fid = write(con, "fidorder__v1", gdf)
            write(con, "hilbert__v1", gdf, order=spatial_order(gdf.geometry.values))
            bbox = (116.0, 44.0, 116.1, 44.05)
            scattered, ordered = _pages(con, "fidorder__v1", bbox), _pages(con, "hilbert__v1",
                                                                           bbox)
            assert ordered * 5 < scattered
            # the same rows either way, fids unchanged
            q = 'SELECT fid, ST_AsText(geom), name FROM atlas."{}" ORDER BY fid'
            assert con.execute(q.format("fidorder__v1")).fetchall() == \
                con.execute(q.format("hilbert__v1")).fetchall()
            # and an old table reordered in place
            before = con.execute(q.format("fidorder__v1")).fetchall()
            with con.transaction():
                for statement in cluster_sql(by_fid):
                    con.execute(statement)
            assert _pages(con, "fidorder__v1", bbox) * 5 < scattered
            assert con.execute(q.format("fidorder__v1")).fetchall() == before
    finally:
        pg_cluster.drop_database(url)


def _table_scans(plan: dict) -> list[str]:
    """Scans of the version table that ran (loops > 0) in an EXPLAIN ANALYZE JSON plan."""
    out = []
    if plan.get("Actual Loops", 0) > 0 and plan.get("Relation Name") == "sites__v1":
        out.append(f"{plan['Node Type']} {plan.get('Index Name', '')}".strip())
    for child in plan.get("Plans", []):
        out += _table_scans(child)
    return out


@pytest.mark.parametrize("bbox,limit,branch", [
    # ~400 matches, under exact_limit: the page is cut from the matches read once
    ((116.0, 44.0, 116.2, 44.2), 10, []),
    # ~2,400 matches, over it but few for a 1000-feature page: read again and sorted
    ((116.0, 43.8, 116.6, 44.2), 1000, ["Bitmap Heap Scan"]),
    # all 20,000 match a 10-feature page: walk the key in fid order
    ((115.0, 43.0, 118.0, 45.0), 10, ["Index Scan sites__v1_pkey"]),
])
def test_the_page_statement_runs_one_branch_chosen_by_the_matches(db, bbox, limit, branch):
    from layers.pg_sql import page_sql

    con, gdf, table = db
    q = ItemsQuery(table, bbox=bbox, limit=limit, exact_limit=1000)
    sql, params = page_sql(q)
    with con.transaction():
        con.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        (plan,) = con.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params).fetchone()
    ran = _table_scans(plan[0]["Plan"])
    # The first exact_limit + 1 matches are always read (any scan); then one branch at most.
    assert ran[1:] == branch, ran
    page = read_items(con, "sites", lambda t: ItemsQuery(t, bbox=bbox, limit=limit,
                                                         exact_limit=1000), table)
    assert [r[0] for r in page.rows] == expected_fids(gdf, bbox)[:limit].tolist()
