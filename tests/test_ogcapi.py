"""OGC API – Features (``/ogcapi``) through the Flask test client, on a real GeoPackage store.

Every endpoint, its JSON and HTML forms, paging, filters, caching and the
errors a client can make.  GDAL's own reading of the API is in
``tests/test_oapif_gdal.py``.
"""

from __future__ import annotations

import gzip
from urllib.parse import parse_qs, urlparse

import geopandas as gpd
import numpy as np
import pytest
import shapely

from layers.catalog import SEED_PROJECT_TOTALS, get_spec, layer_ids
from layers.store import Store
from webmap.ogcapi.snapshot import select_page, snapshot

CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
XSS = "<img src=x onerror=alert(1)>"


def _store(app):
    return app.extensions["atlas_store"]


def _rel(doc: dict, rel: str, type_: str | None = None) -> list[dict]:
    return [lnk for lnk in doc["links"]
            if lnk["rel"] == rel and (type_ is None or lnk["type"] == type_)]


def _path(href: str) -> str:
    """Path and query of an absolute link, for the test client."""
    u = urlparse(href)
    return f"{u.path}?{u.query}" if u.query else u.path


@pytest.fixture()
def user_app(make_app):
    """An app whose store also holds a user layer with hostile and Chinese text."""
    app = make_app()
    rng = np.random.default_rng(7)
    n = 37
    gdf = gpd.GeoDataFrame(
        {"name_zh": [f"站点{i}" for i in range(n - 1)] + [XSS],
         "kind": (["well", "fence", "sign"] * n)[:n],
         "score": np.arange(n, dtype="int64"),
         "checked": ([True, False] * n)[:n]},
        geometry=shapely.points(rng.uniform(115, 118, n), rng.uniform(42.5, 45, n)), crs=4326)
    _store(app).put("my_sites", gdf, meta={"title": "我的站点 My sites",
                                           "description": "field survey 2023"})
    return app


# -- capabilities ----------------------------------------------------------------------------
def test_landing_page_links(client):
    for url in ("/ogcapi", "/ogcapi/"):
        r = client.get(url)
        assert r.status_code == 200 and r.mimetype == "application/json"
        doc = r.json
        assert doc["title"]
        rels = {lnk["rel"]: lnk for lnk in doc["links"]}
        assert rels["self"]["type"] == "application/json"
        assert rels["alternate"]["type"] == "text/html"
        assert rels["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
        assert _path(rels["service-desc"]["href"]) == "/ogcapi/openapi"
        assert _path(rels["conformance"]["href"]) == "/ogcapi/conformance"
        assert _path(rels["data"]["href"]) == "/ogcapi/collections"
        for lnk in doc["links"]:
            assert client.get(_path(lnk["href"])).status_code == 200, lnk


def test_conformance_classes(client):
    r = client.get("/ogcapi/conformance")
    assert r.status_code == 200
    assert set(r.json["conformsTo"]) >= {CORE + c for c in ("core", "geojson", "html", "oas30")}


def test_collections_list_every_layer_with_catalog_titles_and_extent(client, app):
    r = client.get("/ogcapi/collections")
    assert r.status_code == 200
    got = {c["id"]: c for c in r.json["collections"]}
    infos = _store(app).list_layers()
    assert list(got) == [i.name for i in infos]
    assert infos, "the reference store holds layers"
    for info in infos:
        c = got[info.name]
        assert c["itemType"] == "feature"
        if info.name in layer_ids():
            spec = get_spec(info.name)
            assert spec.title_zh in c["title"] and spec.title_en in c["title"]
            assert spec.description_en in c["description"]
            assert c["provenance"]["licence"] == spec.provenance.licence
        bbox = c["extent"]["spatial"]["bbox"][0]
        assert bbox == pytest.approx(list(info.bounds), abs=1e-6)
        assert c["extent"]["spatial"]["crs"].endswith("/OGC/1.3/CRS84")
        items = {lnk["type"]: lnk for lnk in _rel(c, "items")}
        assert set(items) == {"application/geo+json", "text/html"}
        assert _path(items["application/geo+json"]["href"]).startswith(
            f"/ogcapi/collections/{info.name}/items")


def test_user_layers_are_collections_too(user_app):
    client = user_app.test_client()
    ids = [c["id"] for c in client.get("/ogcapi/collections").json["collections"]]
    assert "my_sites" in ids
    c = client.get("/ogcapi/collections/my_sites").json
    assert c["title"] == "我的站点 My sites" and c["description"] == "field survey 2023"
    assert _rel(c, "self")[0]["type"] == "application/json"


def test_collection_and_unknown_collection(client):
    r = client.get("/ogcapi/collections/rivers")
    assert r.status_code == 200 and r.json["id"] == "rivers"
    for bad in ("nope", "Rivers", "a" * 100):
        r = client.get(f"/ogcapi/collections/{bad}")
        assert r.status_code == 404 and r.is_json, bad
        assert bad in r.json["error"]
        assert "/ogcapi/collections" in r.json["hint"]
    r = client.get("/ogcapi/collections/..%2Fetc")
    assert r.status_code == 404 and r.is_json
    r = client.get("/ogcapi/collections/nope/items")
    assert r.status_code == 404 and r.json["hint"]


def test_openapi_describes_paths_and_queryables(client, app):
    r = client.get("/ogcapi/openapi")
    assert r.status_code == 200
    assert r.mimetype == "application/vnd.oai.openapi+json"
    doc = r.json
    assert doc["openapi"].startswith("3.0")
    paths = doc["paths"]
    for p in ("/", "/conformance", "/collections", "/collections/{collectionId}",
              "/collections/{collectionId}/items",
              "/collections/{collectionId}/items/{featureId}"):
        assert "get" in paths[p], p
    limit = doc["components"]["parameters"]["limit"]["schema"]
    assert limit["default"] == 10 and "maximum" not in limit  # larger values are capped
    for info in _store(app).list_layers():
        params = paths[f"/collections/{info.name}/items"]["get"]["parameters"]
        names = {p.get("name") for p in params}
        columns = set(_store(app).get(info.name).columns) - {"geometry"}
        assert columns <= names, info.name  # every property can be filtered on
    params = {p.get("name"): p for p in paths["/collections/projects/items"]["get"]["parameters"]}
    assert params["category"]["schema"]["type"] == "string"
    assert params["total_investment_yi"]["schema"]["type"] == "number"
    assert params["permits_complete"]["schema"]["type"] == "boolean"
    assert "总投资" in params["total_investment_yi"]["description"]  # label from the catalog


def test_feature_schema_types_the_properties(client, user_app):
    c = client.get("/ogcapi/collections/projects").json
    described = _rel(c, "describedby", "application/schema+json")
    r = client.get(_path(described[0]["href"]))
    assert r.status_code == 200 and r.mimetype == "application/schema+json"
    props = r.json["properties"]["properties"]["properties"]
    assert props["category"]["type"] == "string"
    assert props["total_investment_yi"]["type"] == "number"
    assert props["permits_complete"]["type"] == "boolean"
    mine = user_app.test_client().get("/ogcapi/collections/my_sites/schema").json
    types = {k: v["type"] for k, v in mine["properties"]["properties"]["properties"].items()}
    assert types == {"name_zh": "string", "kind": "string", "score": "integer",
                     "checked": "boolean"}
    assert client.get("/ogcapi/collections/nope/schema").status_code == 404
    assert client.get("/ogcapi/collections/projects/schema?f=html").status_code == 400


# -- items -----------------------------------------------------------------------------------
def test_items_default_page(client, app):
    r = client.get("/ogcapi/collections/projects/items")
    assert r.status_code == 200 and r.mimetype == "application/geo+json"
    fc = r.json
    assert fc["type"] == "FeatureCollection"
    n = _store(app).info("projects").count
    assert fc["numberMatched"] == n == SEED_PROJECT_TOTALS["count"]
    assert fc["numberReturned"] == len(fc["features"]) == 10
    assert fc["timeStamp"].endswith("Z")
    f0 = fc["features"][0]
    assert f0["type"] == "Feature" and isinstance(f0["id"], int)
    assert f0["geometry"]["type"] == "Point" and "category" in f0["properties"]
    assert _rel(fc, "next") and not _rel(fc, "prev")
    assert _rel(fc, "alternate", "text/html")


@pytest.mark.parametrize("limit", [7, 50, 150, 1000])
def test_paging_links_walk_every_feature_once(client, app, limit):
    url = f"/ogcapi/collections/projects/items?limit={limit}"
    seen: list[int] = []
    pages = 0
    while url:
        fc = client.get(url).json
        pages += 1
        assert fc["numberReturned"] == len(fc["features"]) <= limit
        assert fc["numberMatched"] == 150
        seen += [f["id"] for f in fc["features"]]
        if pages > 1:
            prev = _rel(fc, "prev", "application/geo+json")
            assert prev, "pages after the first link back"
            assert client.get(_path(prev[0]["href"])).json["numberReturned"] == limit
        nxt = _rel(fc, "next")
        url = _path(nxt[0]["href"]) if nxt else None
    assert sorted(seen) == sorted(_store(app).get("projects").index.tolist())
    assert len(seen) == len(set(seen)) == 150
    assert pages == -(-150 // limit)


def test_offset_past_the_end_is_an_empty_page(client):
    fc = client.get("/ogcapi/collections/projects/items?offset=500&limit=10").json
    assert fc["features"] == [] and fc["numberReturned"] == 0 and fc["numberMatched"] == 150
    assert not _rel(fc, "next")
    assert parse_qs(urlparse(_rel(fc, "prev")[0]["href"]).query)["offset"] == ["490"]


def test_bbox_selects_intersecting_features(client, app):
    box = (115.0, 43.0, 117.0, 45.0)
    gdf = _store(app).get("projects")
    expected = set(gdf.index[gdf.intersects(shapely.box(*box))].tolist())
    assert 0 < len(expected) < len(gdf)
    fc = client.get("/ogcapi/collections/projects/items?bbox=115,43,117,45&limit=1000").json
    assert fc["numberMatched"] == len(expected)
    assert {f["id"] for f in fc["features"]} == expected
    # bbox-crs CRS84 is accepted, a 6-number box drops heights
    same = client.get("/ogcapi/collections/projects/items?bbox=115,43,0,117,45,10&limit=1000"
                      "&bbox-crs=http://www.opengis.net/def/crs/OGC/1.3/CRS84").json
    assert same["numberMatched"] == len(expected)
    nxt_query = parse_qs(urlparse(_rel(fc, "self")[0]["href"]).query)
    assert nxt_query["bbox"] == ["115,43,117,45"]


def test_property_filters_reproduce_the_seed_table(client):
    for category, (count, _) in SEED_PROJECT_TOTALS["by_category"].items():
        fc = client.get(f"/ogcapi/collections/projects/items?category={category}&limit=100").json
        assert fc["numberMatched"] == count, category
        assert {f["properties"]["category"] for f in fc["features"]} == {category}
        nxt = _rel(fc, "next")
        if nxt:  # filters travel with the paging links
            assert parse_qs(urlparse(nxt[0]["href"]).query)["category"] == [category]
    both = client.get("/ogcapi/collections/projects/items?category=energy&status=new"
                      "&limit=1000").json
    props = [f["properties"] for f in both["features"]]
    assert props and all(p["category"] == "energy" and p["status"] == "new" for p in props)
    # numbers and booleans compare by value
    permits = client.get("/ogcapi/collections/projects/items?permits_complete=true").json
    assert permits["numberMatched"] == SEED_PROJECT_TOTALS["permits_complete"]
    seq = client.get("/ogcapi/collections/scenic_road/items?seq=1").json
    assert seq["numberMatched"] == 1 and seq["features"][0]["properties"]["seq"] == 1


def test_datetime_is_accepted_and_selects_everything(client):
    fc = client.get("/ogcapi/collections/ports/items?datetime=2023-01-01T00:00:00Z/..").json
    assert fc["numberMatched"] == client.get("/ogcapi/collections/ports/items").json[
        "numberMatched"]


@pytest.mark.parametrize("query, word", [
    ("bbox=1,2,3", "bbox"),
    ("bbox=a,b,c,d", "bbox"),
    ("bbox=115,46,117,44", "bbox"),
    ("bbox=115,43,117,44&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/2000", "bbox-crs"),
    ("bbox=4800000,500000,4900000,400000&bbox-crs=EPSG:4548", "bbox"),
    ("crs=EPSG:2000", "crs"),
    ("crs=", "crs"),
    ("limit=0", "limit"),
    ("limit=abc", "limit"),
    ("limit=", "limit"),
    ("offset=-1", "offset"),
    ("offset=1.5", "offset"),
    ("f=xml", "f=json"),
    ("nope=1", "nope"),
    ("datetime=yesterday", "datetime"),
    ("category=energy&category=social", "category"),
])
def test_bad_items_queries_are_400_with_a_hint(client, query, word):
    r = client.get(f"/ogcapi/collections/projects/items?{query}")
    assert r.status_code == 400, (query, r.data[:200])
    assert r.is_json
    body = r.json
    assert body["status"] == 400 and body["hint"]
    assert word in body["error"] + body["hint"]


def test_unknown_parameter_hint_lists_the_properties(client):
    r = client.get("/ogcapi/collections/projects/items?colour=red")
    assert r.status_code == 400
    assert "category" in r.json["hint"] and "limit" in r.json["hint"]
    assert client.get("/ogcapi/collections?foo=1").status_code == 400
    assert client.get("/ogcapi/collections/projects/items/1?limit=3").status_code == 400


def test_f_xml_is_400_everywhere(client):
    for url in ("/ogcapi", "/ogcapi/conformance", "/ogcapi/collections", "/ogcapi/openapi",
                "/ogcapi/collections/ports", "/ogcapi/collections/ports/items",
                "/ogcapi/collections/ports/items/1"):
        r = client.get(url + "?f=xml")
        assert r.status_code == 400 and r.is_json, url


# -- one feature -----------------------------------------------------------------------------
def test_feature_by_id(client, app):
    fc = client.get("/ogcapi/collections/stations/items?limit=3&offset=1").json
    for f in fc["features"]:
        r = client.get(f"/ogcapi/collections/stations/items/{f['id']}")
        assert r.status_code == 200 and r.mimetype == "application/geo+json"
        one = r.json
        assert one["id"] == f["id"] and one["properties"] == f["properties"]
        assert one["geometry"] == f["geometry"]
        assert _path(_rel(one, "collection")[0]["href"]) == "/ogcapi/collections/stations"
        assert _rel(one, "self", "application/geo+json")
    gdf = _store(app).get("stations")
    fid = int(gdf.index[0])
    props = client.get(f"/ogcapi/collections/stations/items/{fid}").json["properties"]
    assert props["name_zh"] == gdf.loc[fid, "name_zh"]


@pytest.mark.parametrize("fid", ["99999", "0", "-1", "abc", "1.5"])
def test_unknown_feature_is_404_json(client, fid):
    r = client.get(f"/ogcapi/collections/stations/items/{fid}")
    assert r.status_code == 404 and r.is_json
    assert r.json["hint"] and "/ogcapi/collections/stations/items" in r.json["hint"]


# -- formats, caching ------------------------------------------------------------------------
def test_accept_header_negotiates_html_and_json(client):
    html = client.get("/ogcapi/collections/ports/items",
                      headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert html.status_code == 200 and html.mimetype == "text/html"
    assert "Accept" in html.headers["Vary"]
    js = client.get("/ogcapi/collections/ports/items",
                    headers={"Accept": "application/geo+json, application/json"})
    assert js.mimetype == "application/geo+json"
    assert html.headers["ETag"] != js.headers["ETag"]
    # f wins over Accept
    forced = client.get("/ogcapi/collections/ports/items?f=json",
                        headers={"Accept": "text/html"})
    assert forced.mimetype == "application/geo+json"


def test_items_etag_304_and_gzip(client):
    url = "/ogcapi/collections/projects/items?limit=100&bbox=115,42,118,46"
    first = client.get(url)
    etag = first.headers["ETag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    # the same query written differently is the same response
    same = client.get("/ogcapi/collections/projects/items?bbox=115.0,42,118,46.00&limit=100")
    assert same.headers["ETag"] == etag and same.data == first.data
    other = client.get(url + "&offset=5")
    assert other.headers["ETag"] != etag
    zipped = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == first.data


def test_etag_changes_when_the_layer_is_replaced(user_app):
    client = user_app.test_client()
    url = "/ogcapi/collections/my_sites/items?limit=5"
    before = client.get(url)
    assert before.json["numberMatched"] == 37
    gdf = _store(user_app).get("my_sites").iloc[:3].copy()
    _store(user_app).put("my_sites", gdf)
    after = client.get(url, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert after.json["numberMatched"] == 3
    assert after.headers["ETag"] != before.headers["ETag"]


@pytest.mark.gpkg_only  # stores without an in-memory version answer from the store
def test_page_is_served_whole_from_the_snapshot_version(user_app):
    """A layer replaced mid-request: the page is the version its ETag names, never a mix."""
    store = _store(user_app)
    old = snapshot(store, "my_sites")
    before = select_page(store, old, bbox=None, filters=None, limit=5, offset=0).body
    newer = store.get("my_sites").copy()
    newer["name_zh"] = "新版本"
    store.put("my_sites", newer)
    page = select_page(store, old, bbox=None, filters=None, limit=5, offset=0)
    assert page.body == before and page.returned == 5
    assert "新版本".encode() not in page.body
    fresh = select_page(store, snapshot(store, "my_sites"), bbox=None, filters=None, limit=5,
                        offset=0)
    assert fresh.body.count("新版本".encode()) == 5


# -- HTML ------------------------------------------------------------------------------------
def test_html_pages_escape_properties(user_app):
    client = user_app.test_client()
    fid = int(_store(user_app).get("my_sites").index[-1])
    for url in ("/ogcapi/collections/my_sites/items?f=html&limit=100",
                f"/ogcapi/collections/my_sites/items/{fid}?f=html"):
        r = client.get(url)
        assert r.status_code == 200 and r.mimetype == "text/html", url
        text = r.get_data(as_text=True)
        assert XSS not in text and "&lt;img src=x onerror=alert(1)&gt;" in text
        assert "站点" in text or "&lt;img" in text


def test_html_pages_have_no_outside_assets(client):
    for url in ("/ogcapi?f=html", "/ogcapi/conformance?f=html", "/ogcapi/collections?f=html",
                "/ogcapi/collections/projects?f=html", "/ogcapi/openapi?f=html",
                "/ogcapi/collections/projects/items?f=html&limit=20",
                "/ogcapi/collections/projects/items/1?f=html"):
        r = client.get(url)
        assert r.status_code == 200 and r.mimetype == "text/html", url
        text = r.get_data(as_text=True)
        assert "<script" not in text and "//cdn" not in text
        assert "/ogcapi/static/ogcapi.css" in text
    css = client.get("/ogcapi/static/ogcapi.css")
    assert css.status_code == 200 and b"@import" not in css.data
    page = client.get("/ogcapi/collections/projects/items?f=html&limit=20").get_data(as_text=True)
    assert 'rel="next"' in page and "150" in page


# -- a store without an in-memory copy ----------------------------------------------------------
class _PlainStore(Store):
    """The Store interface answered by delegation, without an in-memory copy (``in_memory``
    is None), like a database-backed store."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner

    location = property(lambda self: self.inner.location)

    def list_layers(self):
        return self.inner.list_layers()

    def info(self, name):
        return self.inner.info(name)

    def get(self, name, version=None):
        return self.inner.get(name, version)

    def get_feature(self, name, fid):
        return self.inner.get_feature(name, fid)

    def properties(self, name):
        return self.inner.properties(name)

    def query(self, name, **kwargs):
        return self.inner.query(name, **kwargs)

    def in_memory(self, name):
        self.inner.info(name)
        return None

    def temporal(self, name):
        return self.inner.temporal(name)

    def tile(self, name, z, x, y, datum="wgs84"):
        return self.inner.tile(name, z, x, y, datum)

    def jobs(self):
        return self.inner.jobs()

    def put(self, name, gdf, meta=None, *, create_only=False):
        return self.inner.put(name, gdf, meta, create_only=create_only)

    def put_many(self, layers):
        return self.inner.put_many(layers)

    def delete(self, name):
        return self.inner.delete(name)

    def versions(self, name):
        return self.inner.versions(name)

    def restore(self, name, version, meta=None):
        return self.inner.restore(name, version, meta)

    def delete_version(self, name, version):
        return self.inner.delete_version(name, version)

    def check(self):
        return self.inner.check()

    def status(self):
        return self.inner.status()


def test_stores_without_loaded_answer_the_same(user_app):
    client = user_app.test_client()
    urls = ["/ogcapi/collections/projects/items?limit=20&offset=3",
            "/ogcapi/collections/projects/items?category=ecology&bbox=110,40,120,47",
            "/ogcapi/collections/my_sites/items?kind=well&limit=4",
            "/ogcapi/collections/my_sites/items/5",
            "/ogcapi/collections/my_sites"]
    expected = [client.get(u).data for u in urls]
    user_app.extensions["atlas_store"] = _PlainStore(_store(user_app))
    assert [client.get(u).data for u in urls] == expected
    r = client.get("/ogcapi/collections/my_sites/items?colour=red")
    assert r.status_code == 400 and r.json["hint"]
    assert client.get("/ogcapi/openapi").status_code == 200
