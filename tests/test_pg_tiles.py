"""Tiles made in PostGIS (layers/pg_tiles.py) against the Python tiles (geo.vector_tiles).

Each layer is written to a real PostGIS table laid out as ``layers/postgis.py``
writes a version (``fid`` key, ``geom geometry(Geometry, 4326)`` with a GiST index,
typed columns), and the same features are given to ``TileSource``.  For every
tile over the layer at every zoom tested (a fixed sample where a zoom has many),
both tiles are decoded with ``mapbox_vector_tile`` and must carry the same feature
ids with the same properties, and geometries within one tile unit.
"""

from __future__ import annotations

import os

import geopandas as gpd
import mapbox_vector_tile
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.crs import transform_geometries
from geo.vector_tiles import EXTENT, TileSource, lonlat_to_world, thin_max_zoom, tile_for_lonlat
from layers.pg_tiles import (
    MINZOOM_COLUMN,
    TileLayer,
    fetch_tile,
    gcj02_candidates_sql,
    minzoom_indexes_sql,
    minzoom_values,
    python_tile,
)

psycopg = pytest.importorskip("psycopg")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_PG = {"int64": "bigint", "float64": "double precision", "bool": "boolean"}


def write_table(url: str, table: str, gdf: gpd.GeoDataFrame, minzoom: bool) -> TileLayer:
    """Write ``gdf`` (index = fid) as a version table; return its TileLayer."""
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    types = [_PG.get(str(gdf[c].dtype), "text") for c in cols]
    ddl = "".join(f', "{c}" {t}' for c, t in zip(cols, types, strict=True))
    extra = f", {MINZOOM_COLUMN} smallint" if minzoom else ""
    is_point = (gdf.geom_type == "Point").to_numpy()
    mz = minzoom_values(shapely.get_x(gdf.geometry.values), shapely.get_y(gdf.geometry.values),
                        gdf.index.to_numpy(), is_point)
    ewkb = shapely.to_wkb(shapely.set_srid(gdf.geometry.values, 4326), hex=True,
                          include_srid=True)
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f'CREATE TABLE atlas."{table}" (fid bigint PRIMARY KEY,'
                    f" geom geometry(Geometry, 4326){ddl}{extra})")
        names = "".join(f', "{c}"' for c in cols) + (f", {MINZOOM_COLUMN}" if minzoom else "")
        with con.cursor().copy(f'COPY atlas."{table}" (fid, geom{names}) FROM STDIN') as copy:
            values = gdf[cols].astype(object).where(gdf[cols].notna(), None)
            for i, (fid, row) in enumerate(zip(gdf.index.tolist(),
                                               values.itertuples(index=False), strict=True)):
                copy.write_row((fid, ewkb[i], *row, *([int(mz[i])] if minzoom else [])))
        con.execute(f'CREATE INDEX ON atlas."{table}" USING gist (geom)')
        pts = gdf[is_point]
        layer = TileLayer(
            table=table, name="t", properties={k: k for k in ("id", "name", "category")
                                               if k in cols},
            geometry_type="POINT" if is_point.all() else "GEOMETRY",
            point_count=int(is_point.sum()),
            point_bounds=tuple(pts.total_bounds) if len(pts) else None,
            minzoom_column=MINZOOM_COLUMN if minzoom else None)
        if minzoom:
            for statement in minzoom_indexes_sql(layer, np.bincount(mz[is_point])):
                con.execute(statement)
        con.execute(f'ANALYZE atlas."{table}"')
    return layer


def decode(body: bytes) -> dict[int, dict]:
    if not body:
        return {}
    layer = mapbox_vector_tile.decode(body, default_options={"y_coord_down": True})["t"]
    return {f["id"]: f for f in layer["features"]}


def tiles_over(bounds, z: int, most: int = 24) -> list[tuple[int, int]]:
    """Tiles over ``bounds`` at zoom z: all, or a seeded sample of ``most`` of them."""
    x0, y0 = tile_for_lonlat(bounds[0], bounds[3], z)
    x1, y1 = tile_for_lonlat(bounds[2], bounds[1], z)
    every = [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    if len(every) > most:
        rng = np.random.default_rng(z)
        every = [every[i] for i in sorted(rng.choice(len(every), most, replace=False))]
    return every


def drawn(geometry: dict) -> shapely.Geometry:
    """A decoded MVT geometry cut to the tile proper (0..EXTENT), what a map draws.

    The buffer around the tile is left out: there both encoders cut the shapes at
    the buffer's edge, PostGIS after snapping vertices to the grid and Python
    before, so a segment meeting that edge at a shallow angle is cut a few units
    apart along it — outside what is drawn.
    """
    return shapely.clip_by_rect(shapely.geometry.shape(geometry), 0, 0, EXTENT, EXTENT)


def simplifiers_differ(con, geom: shapely.Geometry, z: int) -> float:
    """How far PostGIS's and shapely's GEOS simplify ``geom`` apart at zoom z (tile units).

    Both use GEOS's topology-preserving simplifier at half a pixel, but GEOS 3.12
    started removing ring end points, so a PostGIS on an older GEOS than shapely's
    keeps a vertex shapely drops (at most half a pixel away).
    """
    scale = EXTENT * (1 << z)
    world = shapely.transform(geom, lambda c: np.column_stack(
        [v * scale for v in lonlat_to_world(c[:, 0], c[:, 1])]))
    ours = shapely.simplify(world, 8, preserve_topology=True)
    half = 20037508.342789244
    (wkb,) = con.execute(
        "SELECT ST_AsBinary(ST_SimplifyPreserveTopology(ST_Transform(ST_GeomFromWKB(%s, 4326),"
        " 3857), %s))", (shapely.to_wkb(geom), 8 * 2 * half / scale)).fetchone()
    theirs = shapely.transform(shapely.from_wkb(bytes(wkb)), lambda c: np.column_stack(
        [(c[:, 0] + half) / (2 * half) * scale, (half - c[:, 1]) / (2 * half) * scale]))
    return float(shapely.hausdorff_distance(ours, theirs))


def compare(con, layer: TileLayer, src: TileSource, z: int, tiles, datum="wgs84",
            shapes: gpd.GeoSeries | None = None) -> int:
    """Assert SQL and Python tiles agree on the given tiles; return the features compared."""
    seen = 0
    for x, y in tiles:
        ours = decode(src.tile(z, x, y))
        if datum == "gcj02" and not layer.all_points:
            rows = con.execute(gcj02_candidates_sql(layer, z, x, y)).fetchall()
            theirs = decode(python_tile(layer, rows, z, x, y, datum))
        else:
            theirs = decode(fetch_tile(con, layer, z, x, y, datum))
        assert set(theirs) == set(ours), (z, x, y, sorted(set(theirs) ^ set(ours))[:10])
        for fid, f in ours.items():
            g = theirs[fid]
            assert g["properties"] == f["properties"], (z, x, y, fid)
            kind = f["geometry"]["type"].replace("Multi", "")
            assert g["geometry"]["type"].replace("Multi", "") == kind, (z, x, y, fid)
            if kind == "Point":  # the same arithmetic: the same tile unit
                assert g["geometry"]["coordinates"] == f["geometry"]["coordinates"]
                continue
            a, b = drawn(g["geometry"]), drawn(f["geometry"])
            if a.is_empty or b.is_empty:  # only in the buffer: both stay within its edge
                continue
            allowed = 1.0
            if shapes is not None and shapely.hausdorff_distance(a, b) > allowed:
                allowed += simplifiers_differ(con, shapes[fid], z)
            assert shapely.hausdorff_distance(a, b) <= allowed, (z, x, y, fid)
        seen += len(ours)
    return seen


@pytest.fixture(scope="module")
def pg_tiles_db(pg_cluster):
    url = pg_cluster.create_database()
    yield url
    pg_cluster.drop_database(url)


@pytest.fixture(scope="module")
def dense_points() -> gpd.GeoDataFrame:
    """9,000 points around Xilinhot (thinned down to zoom 15), fids not in space order."""
    rng = np.random.default_rng(7)
    n = 9000
    lon = np.round(116.09 + rng.normal(0, 0.02, n), 6)
    lat = np.round(43.94 + rng.normal(0, 0.015, n), 6)
    fids = rng.permutation(n) + 1
    ids = np.arange(n, dtype="int64") * 3
    gdf = gpd.GeoDataFrame({
        "id": ids,
        "name": [f"站{i}" for i in range(n)],
        "category": rng.choice(["energy", "ecology", None], n),
        "other": rng.uniform(0, 1, n),  # not a tile property
    }, geometry=shapely.points(lon, lat), crs=4326, index=pd.Index(fids, name="fid"))
    return gdf.sort_index()


@pytest.mark.parametrize("minzoom", [True, False], ids=["minzoom-column", "cells-per-tile"])
def test_point_tiles_equal_python_at_every_zoom(pg_tiles_db, dense_points, minzoom):
    gdf = dense_points
    layer = write_table(pg_tiles_db, f"pts_{int(minzoom)}", gdf, minzoom)
    src = TileSource("t", gdf.geometry.values, gdf[list(layer.properties)],
                     ids=gdf.index.to_numpy())
    assert src.thin_max_zoom == layer.thin_max_zoom == thin_max_zoom(
        len(gdf), gdf.total_bounds) >= 12
    total = 0
    with psycopg.connect(pg_tiles_db, autocommit=True) as con:
        for z in range(0, 18):
            total += compare(con, layer, src, z, tiles_over(gdf.total_bounds, z))
    assert total > 8_000


def test_point_tiles_in_gcj02_equal_python(pg_tiles_db, dense_points):
    gdf = dense_points
    layer = write_table(pg_tiles_db, "pts_gcj", gdf, True)
    wgs = TileSource("t", gdf.geometry.values, gdf[list(layer.properties)],
                     ids=gdf.index.to_numpy())
    shifted = transform_geometries(np.asarray(gdf.geometry.values, dtype=object), "wgs84",
                                   "gcj02")
    # The Python tiles for AMap: shifted positions, thinning decided on WGS 84.
    src = TileSource("t", shifted, gdf[list(layer.properties)], ids=gdf.index.to_numpy(),
                     thinning=(wgs.thin_max_zoom, wgs.minzoom))
    bounds = gpd.GeoSeries(shifted).total_bounds
    with psycopg.connect(pg_tiles_db, autocommit=True) as con:
        for z in (3, 8, 11, 14, 17):
            compare(con, layer, src, z, tiles_over(bounds, z), datum="gcj02")
        # and the shift is real: a z14 tile differs from the WGS 84 one
        x, y = tile_for_lonlat(116.09, 43.94, 14)
        assert fetch_tile(con, layer, 14, x, y, "gcj02") != fetch_tile(con, layer, 14, x, y)


@pytest.fixture(scope="module")
def mixed() -> gpd.GeoDataFrame:
    """The League's counties (polygons), rivers and the scenic road (lines), and projects."""
    parts = []
    for name in ("admin", "rivers", "scenic_road", "projects"):
        g = gpd.read_file(os.path.join(ROOT, "data", "xilingol", f"{name}.geojson"))
        name_col = "name_zh"
        cat = g["level"] if "level" in g else g.get("category", pd.Series([name] * len(g)))
        parts.append(gpd.GeoDataFrame({"name": g[name_col], "category": cat},
                                      geometry=g.geometry, crs=4326))
    gdf = pd.concat(parts, ignore_index=True)
    # a polygon with a hole and a multipolygon, near Xilinhot
    ring = shapely.Polygon(shapely.box(116.0, 43.8, 116.3, 44.0).exterior,
                           [shapely.box(116.1, 43.85, 116.2, 43.95).exterior.coords])
    multi = shapely.MultiPolygon([shapely.box(116.4, 43.8, 116.5, 43.9),
                                  shapely.box(116.6, 43.8, 116.7, 43.9)])
    extra = gpd.GeoDataFrame({"name": ["环", "多"], "category": ["test", "test"]},
                             geometry=[ring, multi], crs=4326)
    gdf = gpd.GeoDataFrame(pd.concat([gdf, extra], ignore_index=True), crs=4326)
    gdf.index = pd.Index(np.arange(1, len(gdf) + 1), name="fid")
    return gdf


def test_mixed_layer_tiles_equal_python_at_every_zoom(pg_tiles_db, mixed):
    gdf = mixed
    layer = write_table(pg_tiles_db, "mixed", gdf, False)
    src = TileSource("t", gdf.geometry.values, gdf[list(layer.properties)],
                     ids=gdf.index.to_numpy())
    total = 0
    with psycopg.connect(pg_tiles_db, autocommit=True) as con:
        for z in range(0, 15):
            total += compare(con, layer, src, z, tiles_over(gdf.total_bounds, z, most=16),
                             shapes=gdf.geometry)
    assert total > 300


def test_mixed_layer_in_gcj02_through_python(pg_tiles_db, mixed):
    gdf = mixed
    layer = write_table(pg_tiles_db, "mixed_gcj", gdf, True)
    shifted = transform_geometries(np.asarray(gdf.geometry.values, dtype=object), "wgs84",
                                   "gcj02")
    src = TileSource("t", shifted, gdf[list(layer.properties)], ids=gdf.index.to_numpy())
    with psycopg.connect(pg_tiles_db, autocommit=True) as con:
        for z in (5, 9, 12):
            compare(con, layer, src, z, tiles_over(gpd.GeoSeries(shifted).total_bounds, z, 8),
                    datum="gcj02")


def test_feature_cap_keeps_the_lowest_fids(pg_tiles_db, dense_points):
    gdf = dense_points
    layer = write_table(pg_tiles_db, "capped", gdf, True)
    layer = TileLayer(**{**layer.__dict__, "max_features": 100})
    x, y = tile_for_lonlat(116.09, 43.94, 16)  # deeper than the thinned zooms
    with psycopg.connect(pg_tiles_db, autocommit=True) as con:
        got = decode(fetch_tile(con, layer, 16, x, y))
    wx, wy = lonlat_to_world(gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy())
    b = 256 / 4096
    inside = ((wx * 2**16 >= x - b) & (wx * 2**16 <= x + 1 + b) & (wy * 2**16 >= y - b)
              & (wy * 2**16 <= y + 1 + b))
    assert inside.sum() > 100
    assert sorted(got) == sorted(gdf.index[inside])[:100]


# -- the two stores serve the same tiles (Store.tile: GeoPackage in Python, PostGIS in SQL) ------
def compare_stores(con, a, b, name: str, z: int, tiles, datum: str = "wgs84",
                   shapes: gpd.GeoSeries | None = None) -> int:
    """Assert ``a.tile`` and ``b.tile`` agree on the given tiles (ids, properties, geometry
    within a tile unit); return the features compared."""
    seen = 0
    for x, y in tiles:
        ours = decode_layer(a.tile(name, z, x, y, datum), name)
        theirs = decode_layer(b.tile(name, z, x, y, datum), name)
        assert set(theirs) == set(ours), (z, x, y, sorted(set(theirs) ^ set(ours))[:10])
        for fid, f in ours.items():
            g = theirs[fid]
            assert g["properties"] == f["properties"], (z, x, y, fid)
            kind = f["geometry"]["type"].replace("Multi", "")
            if kind == "Point":
                assert g["geometry"]["coordinates"] == f["geometry"]["coordinates"]
                continue
            p, q = drawn(g["geometry"]), drawn(f["geometry"])
            if p.is_empty or q.is_empty:
                continue
            allowed = 1.0
            if shapes is not None and vertex_distance(p, q) > allowed:
                allowed += simplifiers_differ(con, shapes[fid], z)
            assert vertex_distance(p, q) <= allowed, (z, x, y, fid)
        seen += len(ours)
    return seen


def vertex_distance(p: shapely.Geometry, q: shapely.Geometry) -> float:
    """The farthest any vertex of one drawn geometry lies from the other, leaving out the
    points where the tile's edge cuts them.

    Both stores cut shapes at the tile's buffer after (PostGIS) or before (Python)
    snapping to the tile grid: where a line crosses the tile's edge at a shallow angle
    the crossing moves along the edge by half a unit over the sine of the angle, while
    every vertex drawn stays within a unit.
    """
    worst = 0.0
    for a, b in ((p, q), (q, p)):
        xy = shapely.get_coordinates(a)
        inside = (xy > 0).all(axis=1) & (xy < EXTENT).all(axis=1)
        if inside.any():
            d = shapely.distance(shapely.points(xy[inside]), b)
            worst = max(worst, float(d.max()))
    return worst


def decode_layer(body: bytes, name: str) -> dict[int, dict]:
    if not body:
        return {}
    layer = mapbox_vector_tile.decode(body, default_options={"y_coord_down": True})[name]
    return {f["id"]: f for f in layer["features"]}


def test_postgis_store_tiles_equal_geopackage_store_tiles(pg_empty_url, tmp_path, dense_points,
                                                         mixed):
    """The same layers put into both stores: Store.tile answers the same features with the
    same ids and properties at every zoom (points thinned by the whole-layer rule; lines
    and polygons cut and simplified), on WGS 84 and GCJ-02 basemaps."""
    from layers.open import open_store

    gpkg, pg = open_store(str(tmp_path / "t.gpkg")), open_store(pg_empty_url)
    points = dense_points.reset_index(drop=True)
    shapes = mixed.reset_index(drop=True)
    for store in (gpkg, pg):
        store.put("pts", points)
        store.put("mixed", shapes)
    by_fid = gpd.GeoSeries(shapes.geometry.values, index=np.arange(1, len(shapes) + 1))
    total = 0
    with psycopg.connect(pg_empty_url, autocommit=True) as con:
        for z in range(0, 18):
            total += compare_stores(con, gpkg, pg, "pts", z, tiles_over(points.total_bounds, z))
        for z in range(0, 15):
            total += compare_stores(con, gpkg, pg, "mixed", z,
                                    tiles_over(shapes.total_bounds, z, most=12), shapes=by_fid)
        for z in (4, 9, 13, 16):
            total += compare_stores(con, gpkg, pg, "pts", z, tiles_over(points.total_bounds, z,
                                                                        most=8), "gcj02")
        for z in (6, 11):
            total += compare_stores(con, gpkg, pg, "mixed", z,
                                    tiles_over(shapes.total_bounds, z, most=6), "gcj02")
    assert total > 9_000
    gpkg.close()
    pg.close()
