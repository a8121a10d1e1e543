"""Vector tiles: the right features in the right places, thinning, bad addresses.

Tiles are decoded with ``mapbox_vector_tile`` (an independent reader) and
compared with the layer in the real GeoPackage store.
"""

from __future__ import annotations

import geopandas as gpd
import mapbox_vector_tile
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.vector_tiles import (
    BUFFER,
    EXTENT,
    THIN_PIXELS,
    TILE_PIXELS,
    TileSource,
    lonlat_to_world,
    tile_bounds,
    tile_for_lonlat,
)
from layers.catalog import get_spec
from layers.open import open_store

XILINHOT = (116.09, 43.94)


def decode(body: bytes) -> dict:
    return mapbox_vector_tile.decode(body, default_options={"y_coord_down": True})


def tile_xy(lon, lat, z, x, y):
    """Tile coordinates of lon/lat in tile z/x/y (y down)."""
    wx, wy = lonlat_to_world(np.asarray(lon), np.asarray(lat))
    n = 1 << z
    return (wx * n - x) * EXTENT, (wy * n - y) * EXTENT


def get_tile(client, layer, z, x, y):
    resp = client.get(f"/tiles/{layer}/{z}/{x}/{y}.mvt")
    assert resp.status_code in (200, 204), resp.data
    return resp


@pytest.mark.parametrize("z", [5, 7, 9])
def test_point_tile_holds_exactly_the_points_in_tile_and_buffer(client, ref_store_path, z):
    projects = open_store(ref_store_path).get("projects")
    x, y = tile_for_lonlat(*XILINHOT, z)
    resp = get_tile(client, "projects", z, x, y)
    assert resp.status_code == 200
    assert resp.mimetype == "application/vnd.mapbox-vector-tile"
    features = decode(resp.data)["projects"]["features"]

    tx, ty = tile_xy(projects.geometry.x, projects.geometry.y, z, x, y)
    inside = (tx >= -BUFFER) & (tx <= EXTENT + BUFFER) & (ty >= -BUFFER) & (ty <= EXTENT + BUFFER)
    expected = set(projects.index[inside])
    assert expected, "the test tile should hold projects"
    assert {f["id"] for f in features} == expected

    spec = get_spec("projects")
    for f in features:
        row = projects.loc[f["id"]]
        i = projects.index.get_loc(f["id"])
        gx, gy = f["geometry"]["coordinates"]
        assert f["geometry"]["type"] == "Point"
        assert abs(gx - tx[i]) <= 0.5 and abs(gy - ty[i]) <= 0.5
        assert set(f["properties"]) <= {"id", "name", "category"}
        assert f["properties"]["name"] == row[spec.name_field]
        assert f["properties"]["category"] == row[spec.style.category_field]


def test_polygon_tile_is_clipped_and_carries_name_and_category(client, ref_store_path):
    admin = open_store(ref_store_path).get("admin")
    z = 8
    x, y = tile_for_lonlat(*XILINHOT, z)
    features = decode(get_tile(client, "admin", z, x, y).data)["admin"]["features"]
    box = shapely.box(*tile_bounds(z, x, y))
    expected = set(admin.index[admin.intersects(box)])
    assert expected <= {f["id"] for f in features}
    names = {f["properties"]["name"] for f in features}
    assert "锡林浩特市" in names
    for f in features:
        assert f["geometry"]["type"] in ("Polygon", "MultiPolygon")
        assert f["properties"]["category"] in ("league", "county", "management_zone")
        coords = np.array(shapely.get_coordinates(shapely.geometry.shape(f["geometry"])))
        # clipped to the tile plus its buffer (not the whole county)
        assert coords.min() >= -BUFFER - 1 and coords.max() <= EXTENT + BUFFER + 1


def test_line_tiles_of_the_scenic_road_cover_xilinhot(client):
    z = 7
    x, y = tile_for_lonlat(*XILINHOT, z)
    layer = decode(get_tile(client, "scenic_road", z, x, y).data)
    assert layer["scenic_road"]["features"]
    assert all(f["geometry"]["type"] in ("LineString", "MultiLineString")
               for f in layer["scenic_road"]["features"])


def test_empty_tile_is_204(client):
    resp = client.get("/tiles/projects/8/0/0.mvt")
    assert resp.status_code == 204
    assert resp.data == b""
    assert resp.headers["ETag"]


@pytest.mark.parametrize("path", [
    "/tiles/projects/23/0/0.mvt",
    "/tiles/projects/3/8/0.mvt",
    "/tiles/projects/3/0/-1.mvt",
    "/tiles/projects/a/0/0.mvt",
    "/tiles/projects/3/0/1.5.mvt",
])
def test_bad_tile_address_is_400_json(client, path):
    resp = client.get(path)
    assert resp.status_code == 400
    assert resp.is_json and resp.json["error"] and resp.json["hint"]


def test_unknown_or_bad_layer(client):
    assert client.get("/tiles/nosuchlayer/3/6/2.mvt").status_code == 404
    resp = client.get("/tiles/Bad..Name/3/6/2.mvt")
    assert resp.status_code in (400, 404) and resp.is_json


def test_replaced_layer_gets_new_tiles(make_app):
    app = make_app()
    store = app.extensions["atlas_store"]
    client = app.test_client()
    z = 9
    x, y = tile_for_lonlat(*XILINHOT, z)
    one = gpd.GeoDataFrame({"name": ["甲"]}, geometry=[shapely.Point(*XILINHOT)], crs=4326)
    store.put("my_sites", one)
    first = client.get(f"/tiles/my_sites/{z}/{x}/{y}.mvt")
    assert [f["properties"] for f in decode(first.data)["my_sites"]["features"]] == [
        {"name": "甲"}]
    two = gpd.GeoDataFrame({"name": ["乙", "丙"]}, crs=4326, geometry=[
        shapely.Point(*XILINHOT), shapely.Point(XILINHOT[0] + 0.01, XILINHOT[1])])
    store.put("my_sites", two)
    second = client.get(f"/tiles/my_sites/{z}/{x}/{y}.mvt")
    assert second.headers["ETag"] != first.headers["ETag"]
    assert sorted(f["properties"]["name"] for f in decode(second.data)["my_sites"]["features"]
                  ) == ["丙", "乙"]


def test_dense_point_layer_is_thinned_per_zoom_and_whole_when_zoomed_in(make_app):
    """6,000 points in one square km: one per 8-pixel cell at z9, every one at z18."""
    app = make_app()
    store = app.extensions["atlas_store"]
    rng = np.random.default_rng(5)
    lon = XILINHOT[0] + rng.uniform(0, 0.01, 6000)
    lat = XILINHOT[1] + rng.uniform(0, 0.007, 6000)
    gdf = gpd.GeoDataFrame({"name": [f"s{i}" for i in range(6000)],
                            "category": rng.choice(["energy", "ecology"], 6000)},
                           geometry=gpd.points_from_xy(lon, lat), crs=4326)
    store.put("dense", gdf)
    client = app.test_client()

    x, y = tile_for_lonlat(*XILINHOT, 9)
    low = decode(client.get(f"/tiles/dense/9/{x}/{y}.mvt").data)["dense"]["features"]
    assert 0 < len(low) < 6000
    cell = EXTENT // TILE_PIXELS * THIN_PIXELS
    cells = {(f["geometry"]["coordinates"][0] // cell, f["geometry"]["coordinates"][1] // cell)
             for f in low}
    assert len(cells) >= len(low) * 0.9  # about one point per cell

    # at zoom 18 the tiles over the square hold every point exactly once
    seen: list[int] = []
    x0, y1 = tile_for_lonlat(lon.min(), lat.min(), 18)
    x1, y0 = tile_for_lonlat(lon.max(), lat.max(), 18)
    for tx in range(x0, x1 + 1):
        for ty in range(y0, y1 + 1):
            resp = client.get(f"/tiles/dense/18/{tx}/{ty}.mvt")
            if resp.status_code == 200:
                tile = decode(resp.data)["dense"]["features"]
                seen += [f["id"] for f in tile
                         if 0 <= f["geometry"]["coordinates"][0] < EXTENT
                         and 0 <= f["geometry"]["coordinates"][1] < EXTENT]
    assert sorted(seen) == sorted(store.get("dense").index.tolist())


def test_tile_source_properties_of_every_kind():
    """Strings, integers (negative too), floats, booleans and missing values round-trip."""
    src = TileSource(
        "t", np.array([shapely.Point(116, 44), shapely.Point(116.001, 44)]),
        pd.DataFrame({"s": ["甲", None], "i": [-3, 7], "f": [1.5, np.nan], "b": [True, False]}),
        ids=np.array([1, 2]))
    x, y = tile_for_lonlat(116, 44, 10)
    features = decode(src.tile(10, x, y))["t"]["features"]
    props = {f["id"]: f["properties"] for f in features}
    assert props == {1: {"s": "甲", "i": -3, "f": 1.5, "b": True},
                     2: {"i": 7, "b": False}}


def test_gcj02_tiles_line_up_with_an_amap_basemap(client, ref_store_path):
    """``?datum=gcj02`` moves each point by the GCJ-02 offset (hundreds of metres)."""
    from geo.crs import wgs84_to_gcj02

    projects = open_store(ref_store_path).get("projects")
    z = 14
    fid = int(projects.index[0])
    lon, lat = projects.geometry.x[fid], projects.geometry.y[fid]
    glon, glat = (float(v) for v in wgs84_to_gcj02(lon, lat))
    x, y = tile_for_lonlat(glon, glat, z)
    resp = get_tile(client, "projects", z, x, y)
    shifted = client.get(f"/tiles/projects/{z}/{x}/{y}.mvt?datum=gcj02")
    assert shifted.status_code == 200
    assert shifted.headers["ETag"] != resp.headers["ETag"]
    feature = next(f for f in decode(shifted.data)["projects"]["features"] if f["id"] == fid)
    tx, ty = tile_xy(np.array([glon]), np.array([glat]), z, x, y)
    assert abs(feature["geometry"]["coordinates"][0] - tx[0]) <= 0.5
    assert abs(feature["geometry"]["coordinates"][1] - ty[0]) <= 0.5
    assert client.get(f"/tiles/projects/{z}/{x}/{y}.mvt?datum=bd09").status_code == 400
