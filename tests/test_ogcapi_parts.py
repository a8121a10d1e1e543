"""OGC API – Features Parts 2 (CRS) and 3 (filtering) through the real app.

Every expectation is computed apart from the server: coordinates with pyproj's own
transformer, selections with GeoPandas on the committed GeoJSON, orders with pandas.
Runs on the GeoPackage store and again on PostGIS in the second pass of ``make test``.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

P2 = "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs"
P3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
ITEMS = "/ogcapi/collections/projects/items"


@pytest.fixture(scope="module")
def projects() -> gpd.GeoDataFrame:
    g = gpd.read_file("data/xilingol/projects.geojson")
    g.index = pd.RangeIndex(1, len(g) + 1)  # feature ids follow the file's order
    return g


@pytest.fixture(scope="module")
def xilinhot() -> shapely.Geometry:
    admin = gpd.read_file("data/xilingol/admin.geojson")
    return admin.loc[admin.name_zh == "锡林浩特市"].geometry.iloc[0].simplify(0.01)


def _ids(client, query: str) -> list[int]:
    r = client.get(f"{ITEMS}?limit=1000&{query}")
    assert r.status_code == 200, r.json
    return [f["id"] for f in r.json["features"]]


def _path(href: str) -> str:
    u = urlparse(href)
    return f"{u.path}?{u.query}"


# -- Part 2 ----------------------------------------------------------------------------------
def test_conformance_declares_parts_2_and_3(client):
    classes = client.get("/ogcapi/conformance").json["conformsTo"]
    assert P2 in classes
    for c in ("filter", "features-filter", "queryables"):
        assert P3 + c in classes
    assert "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text" in classes
    assert "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json" in classes


def test_collections_list_their_crs_and_storage_crs(client):
    doc = client.get("/ogcapi/collections/projects").json
    assert doc["storageCrs"] == CRS84 and doc["crs"][0] == CRS84
    for code in (4326, 4490, 4546, 4547, 4548, 4549, 4525, 4526, 4527, 4528, 3857):
        assert f"{EPSG}{code}" in doc["crs"]
    assert client.get("/ogcapi/collections").json["crs"] == doc["crs"]


@pytest.mark.parametrize("code", [4548, 4546, 4527, 4490, 4326, 3857])
def test_output_crs_agrees_with_pyproj_to_a_millimetre(client, projects, code):
    r = client.get(f"{ITEMS}?limit=1000&crs={EPSG}{code}")
    assert r.status_code == 200
    assert r.headers["Content-Crs"] == f"<{EPSG}{code}>"
    feats = {f["id"]: f["geometry"]["coordinates"] for f in r.json["features"]}
    # pyproj in the CRS's own axis order: EPSG:4326 in is (lat, lon).
    tr = pyproj.Transformer.from_crs(4326, code, always_xy=False)
    a, b = tr.transform(projects.geometry.y.to_numpy(), projects.geometry.x.to_numpy())
    got = np.array([feats[i] for i in projects.index])
    tol = 1e-3 if code not in (4490, 4326) else 1e-7  # 1 mm, or 1e-7 degree (~1 cm)
    assert np.abs(got[:, 0] - a).max() <= tol and np.abs(got[:, 1] - b).max() <= tol
    if code == 4548:  # Gauss-Krüger: northing first, 500 km false easting, 117°E central
        assert 4_600_000 < got[:, 0].min() and got[:, 1].max() < 1_500_000
    # The links keep the CRS, the page says which CRS it is in.
    self_link = next(lnk for lnk in r.json["links"] if lnk["rel"] == "self")
    assert parse_qs(urlparse(self_link["href"]).query)["crs"] == [f"{EPSG}{code}"]


def test_one_feature_in_another_crs(client, projects):
    r = client.get(f"{ITEMS}/5?crs={EPSG}4548")
    assert r.headers["Content-Crs"] == f"<{EPSG}4548>"
    n, e = pyproj.Transformer.from_crs(4326, 4548).transform(projects.geometry.y[5],
                                                             projects.geometry.x[5])
    assert np.allclose(r.json["geometry"]["coordinates"], [n, e], atol=1e-3)
    assert client.get(f"{ITEMS}/5").headers["Content-Crs"] == f"<{CRS84}>"
    assert client.get(f"{ITEMS}/5?crs=EPSG:9999").status_code == 400


def test_lines_and_polygons_keep_their_shape_in_gauss_kruger(client):
    fc = client.get(f"/ogcapi/collections/admin/items?limit=50&crs={EPSG}4548").json
    ours = gpd.read_file("data/xilingol/admin.geojson")
    # Areas in the projected CRS (x = northing, y = easting: the shape is mirrored, the
    # area is not) agree with GeoPandas' own projection of the same polygons.
    want = ours.to_crs(4548).area.to_numpy()
    got = np.array([shapely.geometry.shape(f["geometry"]).area for f in fc["features"]])
    assert np.allclose(got, want, rtol=1e-6)


def test_bbox_in_gauss_kruger_selects_what_geopandas_selects(client, projects):
    # A 120 km box around Xilinhot in CGCS2000 / GK CM 117E, northing first.
    e0, n0 = 420_000.0, 4_820_000.0
    box = (n0 - 60_000, e0 - 60_000, n0 + 60_000, e0 + 60_000)
    want = projects.index[projects.to_crs(4548).intersects(
        shapely.box(e0 - 60_000, n0 - 60_000, e0 + 60_000, n0 + 60_000))].tolist()
    assert len(want) > 3
    got = _ids(client, f"bbox={','.join(map(str, box))}&bbox-crs={EPSG}4548")
    assert sorted(got) == want


def test_bbox_crs_4326_is_latitude_first(client, projects):
    want = projects.index[projects.intersects(shapely.box(115, 43, 117, 44.5))].tolist()
    assert _ids(client, f"bbox=43,115,44.5,117&bbox-crs={EPSG}4326") == want
    assert _ids(client, f"bbox=115,43,117,44.5&bbox-crs={CRS84}") == want


# -- Part 3 ----------------------------------------------------------------------------------
def test_queryables_and_sortables_are_json_schema(client):
    r = client.get("/ogcapi/collections/projects/queryables")
    assert r.status_code == 200 and r.mimetype == "application/schema+json"
    doc = r.json
    assert doc["$id"].endswith("/collections/projects/queryables")
    assert doc["additionalProperties"] is False
    props = doc["properties"]
    assert props["total_investment_yi"]["type"] == "number"
    assert props["permits_complete"]["type"] == "boolean"
    assert props["category"]["type"] == "string" and "类别" in props["category"]["title"]
    assert props["geometry"]["format"] == "geometry-point"
    sortables = client.get("/ogcapi/collections/projects/sortables").json["properties"]
    assert "geometry" not in sortables and "name_zh" in sortables
    assert client.get("/ogcapi/collections/nope/queryables").status_code == 404
    links = client.get("/ogcapi/collections/projects").json["links"]
    assert any(lnk["rel"].endswith("/queryables") for lnk in links)


def test_owslib_can_read_the_queryables(live_server):
    from owslib.ogcapi.features import Features

    api = Features(f"{live_server.url}/ogcapi")
    q = api.collection_queryables("projects")
    assert q["properties"]["category"]["type"] == "string"


FILTERS = [
    ("category = 'energy' AND total_investment_yi > 10",
     lambda g, x: (g.category == "energy") & (g.total_investment_yi > 10)),
    ("county IN ('锡林浩特市', '多伦县') OR permits_complete = FALSE",
     lambda g, x: g.county.isin(["锡林浩特市", "多伦县"]) | ~g.permits_complete),
    ("total_investment_yi BETWEEN 2 AND 5 AND NOT name_en LIKE '%station%'",
     lambda g, x: g.total_investment_yi.between(2, 5) & ~g.name_en.str.contains("station")),
    ("plan_2023_yi > total_investment_yi / 1", None),  # arithmetic: refused below
]


@pytest.mark.parametrize(("text", "select"), [f for f in FILTERS if f[1]])
def test_cql2_text_and_json_select_what_geopandas_selects(client, projects, xilinhot, text,
                                                          select):
    want = projects.index[select(projects, xilinhot)].tolist()
    assert _ids(client, "filter=" + text) == want
    as_json = client.get("/ogcapi/collections/projects/items", query_string={
        "filter": json.dumps(_cql2_json(text)), "filter-lang": "cql2-json", "limit": 1000})
    assert [f["id"] for f in as_json.json["features"]] == want


def _cql2_json(text: str) -> dict:
    import cql2

    return cql2.parse_text(text).to_json()


def test_spatial_filter_with_a_literal_in_gauss_kruger(client, projects, xilinhot):
    want = projects.index[projects.intersects(xilinhot)].tolist()
    assert want
    assert _ids(client, f"filter=S_INTERSECTS(geometry, {xilinhot.wkt})") == want
    # The same polygon written in EPSG:4548 (northing, easting), with filter-crs.
    tr = pyproj.Transformer.from_crs(4326, 4548, always_xy=False)
    gk = shapely.transform(xilinhot, lambda c: np.column_stack(tr.transform(c[:, 1], c[:, 0])))
    r = client.get(ITEMS, query_string={"filter": f"S_INTERSECTS(geometry, {gk.wkt})",
                                        "filter-crs": f"{EPSG}4548", "limit": 1000})
    assert [f["id"] for f in r.json["features"]] == want
    outside = projects.index[projects.disjoint(xilinhot)].tolist()
    assert _ids(client, f"filter=S_DISJOINT(geometry, {xilinhot.wkt})") == outside


def test_s_dwithin_is_advertised_and_selects_by_geodesic_metres(client, projects):
    """A planner's question — which projects lie within 30 km of Xilinhot? — as the custom
    function listed at /functions, answered as pyproj.Geod measures it, also with the
    point given in Gauss-Krüger (northing first)."""
    listed = client.get("/ogcapi/functions").json["functions"]
    assert [f["name"] for f in listed] == ["S_DWITHIN"]
    assert [a["type"] for a in listed[0]["arguments"]] == [
        ["geometry"], ["geometry"], ["number"], ["string"]]
    links = client.get("/ogcapi").json["links"]
    assert any(lnk["href"].endswith("/ogcapi/functions") for lnk in links)
    assert "http://www.opengis.net/spec/cql2/1.0/conf/functions" in client.get(
        "/ogcapi/conformance").json["conformsTo"]
    lon, lat, metres = 116.07, 43.93, 30_000
    n = len(projects)
    d = np.asarray(pyproj.Geod(ellps="WGS84").inv(
        projects.geometry.x.to_numpy(), projects.geometry.y.to_numpy(), np.full(n, lon),
        np.full(n, lat))[2])
    assert np.abs(d - metres).min() > 10  # nothing on the edge
    want = projects.index[d <= metres].tolist()
    assert 0 < len(want) < n
    got = _ids(client, "filter=" + f"S_DWITHIN(geometry, POINT({lon} {lat}), {metres})")
    assert sorted(got) == want
    north, east = pyproj.Transformer.from_crs(4326, 4548).transform(lat, lon)
    got = _ids(client, f"filter-crs={EPSG}4548&filter=" +
               f"S_DWITHIN(geometry, POINT({north} {east}), 30, 'kilometers')")
    assert sorted(got) == want
    r = client.get(f"{ITEMS}?filter=S_DWITHIN(geometry, POINT({lon} {lat}), 0.3, 'degrees')")
    assert r.status_code == 400 and r.json["code"] == "bad_filter"
    assert "never degrees" in r.json["hint"]


@pytest.mark.parametrize(("flt", "part"), [
    ("nope = 1", "nope = 1"),
    ("total_investment_yi > 'abc'", "total_investment_yi > 'abc'"),
    ("plan_2023_yi > total_investment_yi / 1", "/"),
    ("T_AFTER(name_zh, DATE('2023-01-01'))", "T_AFTER"),
    ("category = 'energy' AND", "category = 'energy' AND"),
])
def test_a_filter_the_server_cannot_evaluate_is_a_400_naming_the_part(client, flt, part):
    r = client.get(ITEMS, query_string={"filter": flt})
    assert r.status_code == 400
    body = r.json
    assert body["code"] == "bad_filter" and body["hint"] and body["hint_zh"]
    assert part in body["error"] and body["error_zh"]


def test_bad_filter_lang_and_crs(client):
    r = client.get(ITEMS, query_string={"filter": "category = 'x'", "filter-lang": "ecql"})
    assert r.status_code == 400 and "filter-lang" in r.json["error"]
    r = client.get(ITEMS, query_string={"filter": "category = 'x'", "filter-crs": "EPSG:0"})
    assert r.status_code == 400 and "filter-crs" in r.json["error"]


def test_sortby_and_paging_walk_the_filtered_features_in_order(client, projects):
    sel = projects[projects.category == "energy"]
    want = sel.sort_values(["county", "total_investment_yi"], ascending=[True, False],
                           kind="stable").index.tolist()
    got, url = [], f"{ITEMS}?filter=category%3D%27energy%27&sortby=county,-total_investment_yi&limit=7"
    while url:
        fc = client.get(url).json
        assert fc["numberMatched"] == len(want)
        got += [f["id"] for f in fc["features"]]
        nxt = [lnk for lnk in fc["links"] if lnk["rel"] == "next"]
        url = _path(nxt[0]["href"]) if nxt else None
    assert got == want
    r = client.get(f"{ITEMS}?sortby=geometry")
    assert r.status_code == 400 and r.json["code"] == "bad_filter"


def test_properties_and_skip_geometry(client):
    fc = client.get(f"{ITEMS}?limit=3&properties=name_zh,category&skipGeometry=true").json
    for f in fc["features"]:
        assert f["geometry"] is None and list(f["properties"]) == ["name_zh", "category"]
    fc = client.get(f"{ITEMS}?limit=2&properties=").json
    assert all(f["properties"] == {} and f["geometry"] for f in fc["features"])
    assert client.get(f"{ITEMS}?properties=nope").status_code == 400
    assert client.get(f"{ITEMS}?skipGeometry=maybe").status_code == 400


def test_limit_is_capped_and_the_links_say_so(client):
    fc = client.get("/ogcapi/collections/projects/items?limit=50000").json
    assert fc["numberReturned"] == 150
    self_link = next(lnk for lnk in fc["links"] if lnk["rel"] == "self")
    assert parse_qs(urlparse(self_link["href"]).query)["limit"] == ["10000"]


def test_f_geojson_is_json(client):
    r = client.get(f"{ITEMS}?f=geojson&limit=2")
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    assert r.json["numberReturned"] == 2


@pytest.mark.parametrize("query", ["total_investment_yi=abc", "permits_complete=yes",
                                   "total_investment_yi=nan", "accuracy_m=1_000"])
def test_property_filters_are_typed(client, query):
    r = client.get(f"{ITEMS}?{query}")
    assert r.status_code == 400 and r.json["code"] == "bad_parameter"


def test_typed_property_filters_still_match(client, projects):
    assert _ids(client, "permits_complete=false") == projects.index[
        ~projects.permits_complete].tolist()
    value = projects.total_investment_yi.iloc[0]
    assert _ids(client, f"total_investment_yi={value}") == projects.index[
        projects.total_investment_yi == value].tolist()


@pytest.fixture()
def clash_app(make_app):
    """A user layer with columns named like query parameters, and a date column."""
    app = make_app()
    n = 8
    gdf = gpd.GeoDataFrame(
        {"limit": np.arange(n), "f": list("abcdefgh"), "bbox": ["x"] * n,
         "name": [f"站{i}" for i in range(n)],
         "surveyed": ["2023-04-01", "2023-05-20", None, "2022-11-30", "2023-05-20",
                      "2024-01-15", "2023-09-09", "2021-06-30"]},
        geometry=shapely.points(np.linspace(115, 117, n), np.linspace(43, 45, n)), crs=4326)
    app.extensions["atlas_store"].put("clash", gdf, meta={"title": "冲突列"})
    return app


def test_columns_named_like_parameters_are_filtered_through_cql2_only(clash_app):
    client = clash_app.test_client()
    url = "/ogcapi/collections/clash/items"
    # limit is the page size, not a filter on the column ...
    assert client.get(f"{url}?limit=3").json["numberReturned"] == 3
    # ... the column is filtered through CQL2 (quoted, as it is a reserved word nowhere).
    fc = client.get(url, query_string={"filter": '"limit" >= 5 AND "f" <> \'g\''}).json
    assert [f["id"] for f in fc["features"]] == [6, 8]
    assert client.get(f"{url}?f=b").status_code == 400  # f is the format
    doc = client.get("/ogcapi/openapi").json
    params = [p["name"] for p in doc["paths"]["/collections/clash/items"]["get"]["parameters"]
              if "name" in p]
    assert "name" in params and "limit" not in params and "bbox" not in params
    described = doc["paths"]["/collections/clash/items"]["get"]["description"]
    assert "limit" in described and "CQL2" in described


def test_datetime_filters_the_date_column_and_the_extent_gives_its_interval(clash_app):
    client = clash_app.test_client()
    url = "/ogcapi/collections/clash/items"
    fc = client.get(f"{url}?datetime=2023-01-01/2023-12-31").json
    assert [f["id"] for f in fc["features"]] == [1, 2, 5, 7]
    assert [f["id"] for f in client.get(f"{url}?datetime=2023-05-20").json["features"]] == [2, 5]
    assert [f["id"] for f in client.get(f"{url}?datetime=../2022-12-31").json["features"]] \
        == [4, 8]
    doc = client.get("/ogcapi/collections/clash").json
    assert doc["extent"]["temporal"]["interval"] == [["2021-06-30T00:00:00Z",
                                                      "2024-01-15T23:59:59Z"]]
    assert doc["temporalProperty"] == "surveyed"
    assert client.get(f"{url}?datetime=").status_code == 400
    # Catalog layers without a temporal property: no temporal extent, datetime keeps all.
    assert "temporal" not in client.get("/ogcapi/collections/ports").json["extent"]


def test_openapi_describes_parts_2_and_3(client):
    doc = client.get("/ogcapi/openapi").json
    params = doc["components"]["parameters"]
    assert f"{EPSG}4548" in params["crs"]["schema"]["enum"]
    assert f"{EPSG}4548" in params["bbox-crs"]["schema"]["enum"]
    assert params["filter-lang"]["schema"]["enum"] == ["cql2-text", "cql2-json"]
    assert "maximum" not in params["limit"]["schema"]
    assert "/collections/{collectionId}/queryables" in doc["paths"]
    names = {p.get("$ref", "").rsplit("/", 1)[-1]
             for p in doc["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]}
    assert {"crs", "bbox-crs", "filter", "filter-lang", "filter-crs", "sortby",
            "properties", "skipGeometry"} <= names


def test_datetime_on_the_catalogs_declared_temporal_field(client):
    samples = gpd.read_file("data/xilingol/wq_samples.geojson")
    day = pd.to_datetime(samples["sampled_on"]).dt.strftime("%Y-%m-%d")
    doc = client.get("/ogcapi/collections/wq_samples").json
    assert doc["temporalProperty"] == "sampled_on"
    assert doc["extent"]["temporal"]["interval"] == [[f"{day.min()}T00:00:00Z",
                                                      f"{day.max()}T23:59:59Z"]]
    fc = client.get("/ogcapi/collections/wq_samples/items?limit=1000"
                    "&datetime=2023-06-01/2023-08-31").json
    want = samples[(day >= "2023-06-01") & (day <= "2023-08-31")]
    assert fc["numberMatched"] == len(want) > 0
    assert sorted(f["properties"]["sampled_on"][:10] for f in fc["features"]) == sorted(
        day[want.index])
