"""The map pages and the layers API they load from, through the Flask test client."""

from __future__ import annotations

import gzip
import re

import geopandas as gpd
import pytest
import shapely

from geo.geojson import precision_for_zoom
from layers.catalog import CATALOG, GROUPS
from layers.open import open_store

PAGES = ("/", "/route", "/watershed")
XSS = "<img src=x onerror=alert(1)>"
URL_RE = re.compile(r"""(?:https?:)?//[A-Za-z0-9{][^\s"'<>)]*""")


def _urls(html: str) -> set[str]:
    return {u for u in URL_RE.findall(html) if not u.startswith("//#")}


@pytest.mark.parametrize("path", PAGES)
def test_page_is_small_and_links_nothing_outside(client, path):
    resp = client.get(path)
    assert resp.status_code == 200
    assert resp.mimetype == "text/html"
    html = resp.get_data(as_text=True)
    assert len(resp.data) <= 150 * 1024  # no layer is inlined
    outside = [u for u in _urls(html) if "{z}" not in u]
    assert outside == [], "only tile URL templates may point outside"
    for ref in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert client.get(ref).status_code == 200, ref


@pytest.mark.parametrize("path", PAGES)
def test_page_language_switch(client, path):
    zh = client.get(path).get_data(as_text=True)
    en = client.get(path + "?lang=en").get_data(as_text=True)
    assert "锡林郭勒草原图集" in zh and 'lang="zh-CN"' in zh
    assert "Xilingol Grassland Atlas" in en and 'lang="en"' in en
    assert 'id="atlas-lang"' in zh and "lang=en" in zh
    assert '"lang": "en"' in en


def test_pages_do_not_inline_feature_properties(make_app):
    app = make_app()
    with app.app_context():
        from webmap.core.store import get_store

        gdf = gpd.GeoDataFrame({"name": [XSS]}, geometry=[shapely.Point(116, 44)], crs=4326)
        get_store().put("xss_sites", gdf, meta={"title": XSS})
    client = app.test_client()
    for path in PAGES:
        assert XSS not in client.get(path).get_data(as_text=True)
    layers = client.get("/api/layers").json["layers"]
    user = next(layer for layer in layers if layer["id"] == "xss_sites")
    assert user["title"] == XSS and user["group"] == "user" and user["user_layer"]


def test_basemaps_follow_config(make_app):
    plain = make_app().test_client().get("/").get_data(as_text=True)
    assert "tianditu.gov.cn" not in plain and "autonavi" in plain
    own = "http://tiles.intranet.lan/{z}/{x}/{y}.png"
    html = make_app(TIANDITU_KEY="abc123", ATLAS_TILE_URL=own).test_client().get(
        "/").get_data(as_text=True)
    assert "tianditu.gov.cn" in html and "cva_w" in html and "cia_w" in html
    # the self-hosted basemap is listed first and is the default
    assert re.search(r'"basemaps": \[\{"id": "self_hosted", "url": "' + re.escape(own), html)


def test_route_page_carries_max_km_and_downloads(client):
    html = client.get("/route?max_km=250").get_data(as_text=True)
    assert '"max_km": 250.0' in html
    assert 'value="250"' in html
    assert "/api/export/scenic_road.gpx" in html and "/api/export/scenic_road.kml" in html
    # the drivers' GPX carries the stations and sights as waypoints; English labels on /en
    assert "/api/export/scenic_road.gpx?with=stations,attractions" in html
    en = client.get("/route?lang=en").get_data(as_text=True)
    assert "/api/export/scenic_road.gpx?with=stations,attractions&amp;lang=en" in en


def test_watershed_page_has_upload_and_filters(client):
    html = client.get("/watershed?lang=en").get_data(as_text=True)
    assert 'id="atlas-upload-form"' in html and 'name="datum"' in html
    assert 'value="gcj02"' in html
    assert 'value="energy"' in html and "Energy" in html


# -- /api/layers ----------------------------------------------------------------------------

def test_layers_catalog(client):
    body = client.get("/api/layers?lang=en").json
    ids = [layer["id"] for layer in body["layers"]]
    assert ids[: len(CATALOG)] == [s.id for s in CATALOG]
    assert [g["id"] for g in body["groups"]] == list(GROUPS)
    projects = body["layers"][ids.index("projects")]
    assert projects["title"] == "2023 major projects" and projects["title_zh"] == "2023年重大项目"
    assert [e["label"] for e in projects["legend"]][0] == "Energy"
    assert projects["count"] == 150
    assert len(projects["bounds"]) == 4 and projects["bounds"][0] < projects["bounds"][2]
    assert projects["provenance"]["licence"] and projects["provenance"]["datum"]
    assert any(f["name"] == "name_zh" and f["tooltip"] for f in projects["fields"])
    one = client.get("/api/layers/rivers").json
    assert one["title"] == "河流" and one["geometry_type"] == "LineString"
    assert client.get("/api/layers/nope").status_code == 404


def test_features_trimmed_and_simplified_per_zoom(client):
    full = client.get("/api/layers/admin/features").json
    low = client.get("/api/layers/admin/features?zoom=5").json
    assert full["numberReturned"] == low["numberReturned"] > 0

    def n_coords(fc):
        return sum(len(shapely.get_coordinates(shapely.geometry.shape(f["geometry"])))
                   for f in fc["features"])

    assert n_coords(low) < n_coords(full)
    decimals = max(len(str(c).split(".")[1]) if "." in str(c) else 0
                   for f in low["features"]
                   for c in shapely.get_coordinates(shapely.geometry.shape(f["geometry"])).ravel())
    assert decimals <= precision_for_zoom(5)


def test_features_bbox_limit_and_datum(client):
    allp = client.get("/api/layers/projects/features?zoom=10").json
    box = client.get("/api/layers/projects/features?zoom=10&bbox=115,43,117,45").json
    assert 0 < box["numberMatched"] < allp["numberMatched"] == 150
    limited = client.get("/api/layers/projects/features?zoom=10&limit=5").json
    assert limited["numberReturned"] == 5 and limited["numberMatched"] == 150
    wgs = client.get("/api/layers/ports/features").json["features"][0]
    gcj = client.get("/api/layers/ports/features?datum=gcj02").json["features"][0]
    assert gcj["properties"] == wgs["properties"]
    dx = gcj["geometry"]["coordinates"][0] - wgs["geometry"]["coordinates"][0]
    assert 0.001 < abs(dx) < 0.02  # GCJ-02 shifts by hundreds of metres here


def test_features_cached_etag_and_gzip(client):
    url = "/api/layers/rivers/features?zoom=7"
    first = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert first.status_code == 200 and first.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(first.data).startswith(b'{"type":"FeatureCollection"')
    # revalidated as a browser does, with the same Accept-Encoding (the gzip body has its
    # own -gzip validator, RFC 9110 §8.8.3: see tests/test_encoding.py)
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"],
                                     "Accept-Encoding": "gzip"})
    assert again.status_code == 304


@pytest.mark.parametrize("query,status", [
    ("zoom=abc", 400), ("zoom=99", 400), ("datum=bd09", 400), ("datum=mars2", 400),
    ("bbox=1,2,3", 400), ("limit=-1", 400),
])
def test_features_bad_input(client, query, status):
    resp = client.get(f"/api/layers/rivers/features?{query}")
    assert resp.status_code == status
    assert resp.json["error"]


def test_measure_and_convert(client):
    m = client.post("/api/measure", json={"coordinates": [[116, 44], [117, 44], [117, 45]]}).json
    assert 190 < m["length_km"] < 193 and 4000 < m["area_km2"] < 5000
    bad = client.post("/api/measure", json={"coordinates": [[116, 44]]})
    assert bad.status_code == 400 and bad.json["hint"]
    assert client.post("/api/measure", data="x").status_code == 400
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "a", "properties": {"n": XSS},
         "geometry": {"type": "Point", "coordinates": [116.0, 44.0]}}]}
    out = client.post("/api/convert?from=wgs84&to=gcj02", json=fc).json
    assert out["features"][0]["properties"]["n"] == XSS
    assert out["features"][0]["geometry"]["coordinates"][0] != 116.0
    assert client.post("/api/convert?to=gcj02", data="nope").status_code == 400
    assert client.post("/api/convert?to=klingon", json=fc).status_code == 400


def test_km_posts(client):
    body = client.get("/api/route/km-posts?every_km=50").json
    assert body["length_km"] > 600
    kms = [f["properties"]["km"] for f in body["features"]]
    assert kms[0] == 0 and kms[1] == 50
    assert client.get("/api/route/km-posts?every_km=0").status_code == 400
    assert client.get("/api/route/km-posts?every_km=abc").status_code == 400


def test_user_layer_in_store_copy_is_listed(store_path, make_app):
    gdf = gpd.GeoDataFrame({"名称": ["甲"]}, geometry=[shapely.Point(116.1, 44.2)], crs=4326)
    open_store(store_path).put("my_sites", gdf)
    body = make_app().test_client().get("/api/layers").json
    mine = next(layer for layer in body["layers"] if layer["id"] == "my_sites")
    assert mine["name_field"] == "名称" and mine["count"] == 1
    assert mine["group_title"] == GROUPS["user"][0]
