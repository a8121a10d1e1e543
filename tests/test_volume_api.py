"""Large layers through the OGC API: estimated counts flagged, pages encoded alone.

Runs on the GeoPackage store and, in the PostGIS pass, on PostGIS.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.geojson import encode_features
from tests.pg import TEST_BACKEND


@pytest.fixture()
def big_app(make_app):
    """An app whose store holds 12,000 points over 115–117 °E, 43–45 °N."""
    app = make_app()
    rng = np.random.default_rng(11)
    n = 12_000
    gdf = gpd.GeoDataFrame({"name": [f"点{i}" for i in range(n)], "v": np.arange(n)},
                           geometry=shapely.points(rng.uniform(115, 117, n),
                                                   rng.uniform(43, 45, n)), crs=4326)
    app.extensions["atlas_store"].put("many", gdf)
    app.extensions["many"] = gdf
    return app


def _truth(gdf, box) -> int:
    x, y = gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()
    return int(((x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3])).sum())


def test_number_matched_is_flagged_when_estimated(big_app):
    client = big_app.test_client()
    gdf = big_app.extensions["many"]
    wide, narrow = (115.0, 43.0, 117.0, 45.0), (115.0, 43.0, 115.5, 45.0)
    body = client.get("/ogcapi/collections/many/items?limit=7&bbox="
                      + ",".join(map(str, wide))).get_json()
    truth = _truth(gdf, wide)
    assert body["numberReturned"] == 7 and len(body["features"]) == 7
    if TEST_BACKEND == "postgis":  # above 10,000 matches: the planner's estimate, flagged
        assert body["numberMatchedEstimated"] is True
        assert abs(body["numberMatched"] - truth) <= truth / 10
    else:
        assert "numberMatchedEstimated" not in body and body["numberMatched"] == truth
    body = client.get("/ogcapi/collections/many/items?limit=7&bbox="
                      + ",".join(map(str, narrow))).get_json()
    assert body["numberMatched"] == _truth(gdf, narrow) and "numberMatchedEstimated" not in body
    # The page's features are what geo.geojson writes for those rows.
    page = client.get("/ogcapi/collections/many/items?limit=3&offset=4").get_json()
    rows = big_app.extensions["atlas_store"].get("many").iloc[4:7]
    assert page["features"] == [json.loads(f) for f in encode_features(rows)]


@pytest.mark.gpkg_only  # about the GeoPackage store's in-memory copies
def test_a_large_layer_is_paged_from_the_file_until_a_query_needs_it_whole(make_app):
    """Above cold_rows features a layer is not loaded for plain pages (read by key and
    encoded alone, byte for byte what the loaded layer answers); a bbox loads it."""
    app = make_app()
    store = app.extensions["atlas_store"]
    store.cold_rows = 1000
    rng = np.random.default_rng(3)
    n = 3000
    gdf = gpd.GeoDataFrame({"name": [f"点{i}" for i in range(n)],
                            "count": pd.array([None if i % 5 == 0 else i for i in range(n)],
                                              dtype="Int64"),
                            "ok": [None if i % 7 == 0 else bool(i % 2) for i in range(n)]},
                           geometry=shapely.points(rng.uniform(115, 117, n),
                                                   rng.uniform(43, 45, n)), crs=4326)
    store.put("cold", gdf)
    client = app.test_client()
    urls = ["/ogcapi/collections/cold/items?limit=10&offset=20",
            "/ogcapi/collections/cold/items?limit=5&offset=2995",
            "/ogcapi/collections/cold/items/17"]
    cold = [client.get(u) for u in urls]
    assert store.in_memory("cold") is None  # nothing loaded the layer
    assert store.properties("cold") == {"name": "str", "count": "int", "ok": "bool"}
    assert cold[0].get_json()["numberMatched"] == n and cold[1].get_json()["numberReturned"] == 5
    assert cold[2].get_json()["properties"]["name"] == "点16"
    box = client.get("/ogcapi/collections/cold/items?bbox=115,43,116,44&limit=3")
    assert box.status_code == 200 and store.in_memory("cold") is not None  # loaded now
    store._nulls.clear()
    for url, before in zip(urls, cold, strict=True):
        warm = client.get(url)
        assert warm.get_json()["features" if "items?" in url else "properties"] == \
            before.get_json()["features" if "items?" in url else "properties"]
        assert warm.get_data() == before.get_data()  # bytes too: the dtypes of the layer


@pytest.mark.gpkg_only
def test_loaded_layers_stay_within_the_memory_budget(make_app):
    """ATLAS_LAYER_MEMORY_MB: loading a layer beyond the budget drops the least recently
    used one (the one asked for is always kept)."""
    app = make_app(ATLAS_LAYER_MEMORY_MB=1)
    store = app.extensions["atlas_store"]
    rng = np.random.default_rng(4)
    for name in ("a", "b"):
        store.put(name, gpd.GeoDataFrame({"v": np.arange(5000)}, geometry=shapely.points(
            rng.uniform(115, 117, 5000), rng.uniform(43, 45, 5000)), crs=4326))
    a = store.in_memory("a")
    assert a.nbytes() > 2**20 / 2  # a layer of 5,000 points: most of the budget
    assert store.in_memory("a") is a
    b = store.in_memory("b")
    assert store.in_memory("b") is b
    again = store.in_memory("a")  # was dropped for b: loaded afresh, b dropped now
    assert again is not a and again.gdf.equals(a.gdf)
    assert store.in_memory("b") is not b


def test_map_features_of_a_large_layer_are_cut_before_encoding(big_app, monkeypatch):
    """/api/layers/<id>/features: above MAX_FEATURES a 413 naming tiles and pages; a large
    layer (above CACHE_ROWS) encodes the rows it returns only, the same bytes as the
    cached whole-layer encoding of a small one; bbox counts checked by hand."""
    import webmap.api.layers as layers_api

    client = big_app.test_client()
    gdf = big_app.extensions["many"]
    monkeypatch.setattr(layers_api, "MAX_FEATURES", 5000)
    r = client.get("/api/layers/many/features?zoom=9")
    assert r.status_code == 413 and r.json["code"] == "too_many_features"
    assert "/tiles/many/" in r.json["hint"] and r.json["hint_zh"]
    box = (115.2, 43.1, 115.9, 43.8)
    bbox = ",".join(map(str, box))
    urls = ["/api/layers/many/features?zoom=9&limit=700",
            f"/api/layers/many/features?zoom=12&bbox={bbox}",
            f"/api/layers/many/features?zoom=12&bbox={bbox}&limit=9"]
    cached = [client.get(u).get_json() for u in urls]
    monkeypatch.setattr(layers_api, "CACHE_ROWS", 1000)
    cut = [client.get(u, headers={"Cache-Control": "no-cache"}).get_json() for u in urls]
    assert cut == cached
    assert cached[0]["numberReturned"] == 700 and cached[1]["numberMatched"] == _truth(gdf, box)
    assert len(cached[2]["features"]) == 9


@pytest.mark.parametrize("fmt", ["geojson", "csv"])
def test_large_exports_stream_page_by_page_the_same_file(big_app, monkeypatch, fmt):
    """Above STREAM_ROWS an export is written a page at a time (gzipped on the fly when
    asked): byte for byte the file written whole, with bbox, filters and datum too; a
    revalidation answers 304 before anything is read."""
    import gzip

    import webmap.api.exports as exports

    client = big_app.test_client()
    urls = [f"/api/export/many.{fmt}", f"/api/export/many.{fmt}?bbox=115,43,116,44&datum=gcj02",
            f"/api/export/many.{fmt}?v=17"]
    whole = [client.get(u) for u in urls]
    assert all(r.status_code == 200 for r in whole)
    monkeypatch.setattr(exports, "STREAM_ROWS", 1000)
    monkeypatch.setattr(exports, "PAGE_ROWS", 777)
    for url, before in zip(urls, whole, strict=True):
        plain = client.get(url)
        assert plain.is_streamed and plain.get_data() == before.get_data()
        zipped = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert zipped.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(zipped.get_data()) == before.get_data()
        again = client.get(url, headers={"If-None-Match": plain.headers["ETag"]})
        assert again.status_code == 304
    if fmt == "geojson":
        doc = json.loads(whole[0].get_data())
        assert len(doc["features"]) == 12_000
