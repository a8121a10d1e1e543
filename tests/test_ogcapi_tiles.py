"""OGC API – Tiles: tile matrix set, tilesets, TileJSON and the tiles, through the real app.

The grid is checked against pyproj's Web Mercator and the tiles against the XYZ route
they are served from (same bytes, row = y, column = x) and against the features the
store holds (decoded with ``mapbox_vector_tile``).
"""

from __future__ import annotations

import math

import geopandas as gpd
import mapbox_vector_tile
import numpy as np
import pyproj
import pytest

TILES = "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/"
TS = "/ogcapi/collections/projects/tiles/WebMercatorQuad"


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """(row, col) of the WebMercatorQuad tile holding a point, from pyproj's EPSG:3857."""
    x, y = pyproj.Transformer.from_crs(4326, 3857, always_xy=True).transform(lon, lat)
    half = math.pi * 6378137.0
    size = 2 * half / 2**z
    return int((half - y) // size), int((x + half) // size)


def test_conformance_declares_tiles(client):
    classes = client.get("/ogcapi/conformance").json["conformsTo"]
    for c in ("core", "tileset", "tilesets-list", "geodata-tilesets", "mvt"):
        assert TILES + c in classes


def test_tile_matrix_set_is_web_mercator_quad(client):
    listing = client.get("/ogcapi/tileMatrixSets").json["tileMatrixSets"]
    assert [t["id"] for t in listing] == ["WebMercatorQuad"]
    tms = client.get("/ogcapi/tileMatrixSets/WebMercatorQuad").json
    assert tms["crs"].endswith("/EPSG/0/3857") and tms["orderedAxes"] == ["E", "N"]
    # The origin is Web Mercator's north-west corner as pyproj computes it.
    x, y = pyproj.Transformer.from_crs(4326, 3857, always_xy=True).transform(
        -180.0, 85.0511287798066)
    for m in tms["tileMatrices"]:
        assert np.allclose(m["pointOfOrigin"], [x, y], atol=1e-3)
        z = int(m["id"])
        assert m["matrixWidth"] == m["matrixHeight"] == 2**z
        assert math.isclose(m["cellSize"] * 256 * 2**z, 2 * x * -1, rel_tol=1e-12)
        assert math.isclose(m["scaleDenominator"], m["cellSize"] / 0.00028, rel_tol=1e-12)
    assert client.get("/ogcapi/tileMatrixSets/WorldCRS84Quad").status_code == 404


def test_tilesets_and_tileset(client):
    sets = client.get("/ogcapi/collections/projects/tiles").json["tilesets"]
    assert len(sets) == 1 and sets[0]["dataType"] == "vector"
    item = [lnk for lnk in sets[0]["links"] if lnk["rel"] == "item"][0]
    assert item["href"].endswith("/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}?f=mvt")
    assert item["templated"] is True and item["type"] == "application/vnd.mapbox-vector-tile"
    ts = client.get(TS).json
    assert ts["tileMatrixSetURI"].endswith("/WebMercatorQuad") and ts["layers"][0]["id"] == \
        "projects"
    # Every project's tile at z8 lies within the advertised limits.
    projects = gpd.read_file("data/xilingol/projects.geojson")
    limits = {lim["tileMatrix"]: lim for lim in ts["tileMatrixSetLimits"]}["8"]
    for p in projects.geometry:
        row, col = _tile_of(p.x, p.y, 8)
        assert limits["minTileRow"] <= row <= limits["maxTileRow"]
        assert limits["minTileCol"] <= col <= limits["maxTileCol"]
    assert client.get("/ogcapi/collections/nope/tiles").status_code == 404


def test_tiles_are_the_xyz_tiles_row_y_col_x(client):
    projects = gpd.read_file("data/xilingol/projects.geojson")
    p = projects.geometry.iloc[0]  # fid 1
    z = 9
    row, col = _tile_of(p.x, p.y, z)
    r = client.get(f"{TS}/{z}/{row}/{col}?f=mvt")
    assert r.status_code == 200 and r.mimetype == "application/vnd.mapbox-vector-tile"
    assert r.data == client.get(f"/tiles/projects/{z}/{col}/{row}.mvt").data
    ids = {f["id"] for f in mapbox_vector_tile.decode(r.data)["projects"]["features"]}
    assert 1 in ids
    assert client.get(f"{TS}/{z}/{row}/{col}", headers={"If-None-Match": r.headers["ETag"]}
                      ).status_code == 304
    assert client.get(f"{TS}/{z}/0/0").status_code == 204  # nothing in the Pacific corner


@pytest.mark.parametrize(("path", "status"), [
    ("9/512/9999", 404), ("23/0/0", 404), ("-1/0/0", 404), ("a/0/0", 400),
    ("9/1/1?f=png", 400),
])
def test_tile_addresses_outside_the_matrix(client, path, status):
    r = client.get(f"{TS}/{path}")
    assert r.status_code == status and r.json["code"] in ("bad_tile", "unsupported_format")


def test_tilejson_points_at_the_tiles(client):
    tj = client.get(f"{TS}/tilejson.json").json
    assert tj["tilejson"] == "3.0.0" and tj["scheme"] == "xyz"
    assert tj["tiles"][0].endswith("/collections/projects/tiles/WebMercatorQuad/{z}/{y}/{x}"
                                   "?f=mvt")
    assert tj["vector_layers"][0]["id"] == "projects"
    assert set(tj["vector_layers"][0]["fields"]) == {"id", "name", "category"}
    bbox = client.get("/ogcapi/collections/projects").json["extent"]["spatial"]["bbox"][0]
    assert tj["bounds"] == bbox
    # The template filled in like a web map does gives the XYZ tile.
    projects = gpd.read_file("data/xilingol/projects.geojson")
    row, col = _tile_of(projects.geometry.iloc[3].x, projects.geometry.iloc[3].y, 7)
    url = tj["tiles"][0].split("/ogcapi", 1)[1].format(z=7, y=row, x=col)
    assert client.get("/ogcapi" + url).data == client.get(f"/tiles/projects/7/{col}/{row}.mvt"
                                                          ).data


def test_tileset_page_draws_with_self_hosted_maplibre(client):
    r = client.get(f"{TS}?f=html")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "maplibre-gl-csp.js" in html and "tilejson.json" in html
    assert "https://" not in html.split("<main>", 1)[1].split("</main>", 1)[0].replace(
        "http://www.opengis.net", "")
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]


def test_scripts_may_fetch_from_the_app_as_workers(client):
    # MapLibre's worker runs under its own script's policy: it must reach the tiles.
    r = client.get("/static/vendor/maplibre-gl/maplibre-gl-csp-worker.js")
    policy = r.headers["Content-Security-Policy"]
    assert "connect-src 'self'" in policy and "default-src 'none'" in policy
    assert "connect-src" not in client.get("/ogcapi/collections").headers[
        "Content-Security-Policy"]
